"""JSON API of the revision workflow: proposals (JSON or multipart with a file), review decisions, conflicts and
rebasing, withdrawal, amendment, restoration, attachments. Thin: parsing and authorization here, rules in
fossil_registry.revisions."""
from __future__ import annotations

from flask import Blueprint, jsonify, request, send_file, url_for

from .. import revisions
from ..db import get_conn
from ..errors import InvalidInput
from ..http.requests import flag_arg, int_arg, json_object, read_upload
from ..http.security import actor, can, remote_addr, require
from ..http.settings import revision_policy

bp = Blueprint("revisions_api", __name__, url_prefix="/api")


def submission() -> tuple[dict, tuple[str, bytes] | None, list[tuple[str, bytes]]]:
    """(fields, geometry file, attachments) from a JSON body or a multipart form."""
    pol = revision_policy()
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise InvalidInput("the request body must be a JSON object")
        return body, None, []
    if request.mimetype not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise InvalidInput("send JSON (Content-Type: application/json) or a multipart form with a file")
    fields = {k: v for k, v in request.form.items()}
    file = request.files.get("file")
    upload = read_upload(file, pol.limits.max_file_bytes) if file and file.filename else None
    attachments = [read_upload(f, pol.max_attachment_bytes) for f in request.files.getlist("attachments")
                   if f and f.filename]
    return fields, upload, attachments


def revision_json(rev: revisions.Revision, **extra) -> dict:
    body = rev.to_json()
    body["url"] = url_for("revisions_api.get_revision", revision_id=rev.id)
    for a in body.get("attachments", []):
        a["url"] = url_for("revisions_api.attachment", revision_id=rev.id, attachment_id=a["fid"])
    body.update(extra)
    return body


def _created(rev: revisions.Revision):
    response = jsonify(revision_json(rev))
    response.status_code = 201
    response.headers["Location"] = url_for("revisions_api.get_revision", revision_id=rev.id)
    return response


def _propose(site_code: str | None):
    fields, upload, attachments = submission()
    if site_code is None and fields.get("site"):
        raise InvalidInput("to change an existing site, POST to /api/sites/<code>/revisions")
    draft = revisions.parse_draft(fields, file=upload, policy=revision_policy(), attachments=attachments)
    rev = revisions.propose(get_conn(), draft, author=actor(), site_code=site_code, policy=revision_policy(),
                            remote_addr=remote_addr())
    return _created(rev)


@bp.post("/sites/<code>/revisions")
@require("revision.propose")
def propose_change(code: str):
    return _propose(code)


@bp.post("/revisions")
@require("revision.propose")
def propose_site():
    return _propose(None)


@bp.get("/revisions")
@require("revision.propose")
def list_revisions():
    args = request.args
    mine, awaiting = flag_arg("mine"), flag_arg("awaiting")
    limit, offset = int_arg("limit", 200), int_arg("offset", 0)
    conn = get_conn()
    revs = revisions.queue(conn, status="submitted" if awaiting else (args.getlist("status") or None),
                           site=args.get("site") or None, kind=args.get("kind") or None,
                           author=actor() if mine else (args.get("author") or None),
                           exclude_author=actor() if awaiting else None, limit=limit, offset=offset)
    stale = revisions.stale_flags(conn, revs)
    items = []
    for r in revs:
        item = r.to_json(full=False)
        item["url"] = url_for("revisions_api.get_revision", revision_id=r.id)
        item["stale"] = r.id in stale
        items.append(item)
    return jsonify({"revisions": items, "count": len(items),
                    "inbox": revisions.inbox(conn, actor(), can_review=can("revision.review"))})


@bp.get("/revisions/inbox")
@require("revision.propose")
def inbox():
    return jsonify(revisions.inbox(get_conn(), actor(), can_review=can("revision.review")))


@bp.get("/revisions/<int:revision_id>")
@require("revision.propose")
def get_revision(revision_id: int):
    conn = get_conn()
    rev = revisions.get(conn, revision_id)
    body = revision_json(rev)
    view = revisions.review_view(conn, rev)
    body["stale"] = view["stale"]
    body["current_version"] = view["current_version"]
    body["attribute_changes"] = [a for a in view["attributes"] if a["changed"]]
    if view["stale"]:
        body["conflict"] = revisions.three_way_json(view["three_way"])
    return jsonify(body)


@bp.post("/revisions/<int:revision_id>/decision")
@require("revision.review")
def decide(revision_id: int):
    body = json_object("the request body must be a JSON object with decision, round and comment", required=True)
    rev, applied = revisions.decide(get_conn(), revision_id, body.get("decision"), reviewer=actor(),
                                    round_seen=body.get("round"), comment=body.get("comment"),
                                    remote_addr=remote_addr(), policy=revision_policy())
    extra = {"site_state": applied.to_json()} if applied is not None else {}
    return jsonify(revision_json(rev, **extra))


@bp.post("/revisions/batch-decision")
@require("revision.review")
def decide_batch():
    body = json_object('send {"items": [{"id": 12, "round": 1}, ...], "decision": "approve", "comment": "..."}',
                        required=True)
    items = body.get("items")
    if items is None and isinstance(body.get("ids"), list):
        raise revisions.RoundRequired('name the round you saw of each proposal: {"items": [{"id": 12, "round": 1}, '
                                      '...]} (a decision applies exactly what its reviewer saw)')
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InvalidInput('send {"items": [{"id": 12, "round": 1}, ...], "decision": "approve", "comment": "..."}')
    pairs = [(revisions.checked_id(i.get("id")), revisions.checked_round(i.get("round"))) for i in items]
    results = revisions.decide_many(get_conn(), pairs, body.get("decision", "approve"), reviewer=actor(),
                                    comment=body.get("comment"), remote_addr=remote_addr(), policy=revision_policy())
    return jsonify({"results": results, "approved": sum(1 for r in results if r["ok"] and r["status"] == "approved"),
                    "failed": sum(1 for r in results if not r["ok"])})


@bp.post("/revisions/<int:revision_id>/withdraw")
@require("revision.propose")
def withdraw(revision_id: int):
    body = json_object('send {"comment": "..."} or no body', required=False)
    rev = revisions.withdraw(get_conn(), revision_id, actor=actor(), comment=body.get("comment"),
                             remote_addr=remote_addr())
    return jsonify(revision_json(rev))


@bp.post("/revisions/<int:revision_id>/amend")
@require("revision.propose")
def amend(revision_id: int):
    fields, upload, attachments = submission()
    draft = revisions.parse_draft(fields, file=upload, policy=revision_policy(), attachments=attachments)
    rev = revisions.amend(get_conn(), revision_id, draft, author=actor(), policy=revision_policy(), remote_addr=remote_addr())
    return jsonify(revision_json(rev))


@bp.post("/revisions/<int:revision_id>/rebase")
@require("revision.propose")
def rebase(revision_id: int):
    rev = revisions.rebase(get_conn(), revision_id, actor=actor(), may_review=can("revision.review"),
                           policy=revision_policy(), remote_addr=remote_addr())
    return jsonify(revision_json(rev))


@bp.post("/revisions/<int:revision_id>/comments")
@require("revision.propose")
def add_comment(revision_id: int):
    body = json_object('send {"comment": "..."}', required=False)
    rev = revisions.comment(get_conn(), revision_id, actor=actor(), text=body.get("comment"),
                            remote_addr=remote_addr())
    return jsonify(revision_json(rev)), 201


@bp.post("/sites/<code>/restore")
@require("site.restore")
def restore(code: str):
    body = json_object('send {"version": N, "reason": "..."}', required=True)
    version = revisions.whole_number(body.get("version"), "version")
    if version is None:
        raise InvalidInput("give the version to restore")
    rev = revisions.propose_restore(get_conn(), code, version, author=actor(), reason=body.get("reason"),
                                    policy=revision_policy(), remote_addr=remote_addr())
    return _created(rev)


@bp.get("/revisions/<int:revision_id>/attachments/<int:attachment_id>")
@require("revision.propose")
def attachment(revision_id: int, attachment_id: int):
    found = revisions.attachment_file(get_conn(), revision_policy(), revision_id, attachment_id)
    inline = found.content_type in revisions.IMAGE_TYPES.values()
    return send_file(found.path, mimetype=found.content_type, as_attachment=not inline,
                     download_name=found.filename, max_age=0, etag=found.sha256)


def init_app(app) -> None:
    app.register_blueprint(bp)
