"""JSON API of the revision workflow: proposals (JSON or multipart with a file), review decisions, conflicts and
rebasing, withdrawal, amendment, restoration, attachments. Thin: parsing and authorization here, rules in
fossil_registry.revisions."""
from __future__ import annotations

from typing import Annotated

from flask import Blueprint, request, send_file, url_for
from pydantic import Field

from .. import revisions
from ..db import get_conn
from ..errors import InvalidInput
from ..http.responses import jsonify
from ..http import openapi as api_spec
from ..http.openapi import (LOCATION, file_response, json_body, json_response, op, param, path_param,
                            problem_responses)
from ..http.requests import flag_arg, int_arg, json_object, read_upload
from ..http.security import actor, can, remote_addr, require
from ..http.settings import revision_policy
from ..http.idempotency import idempotent
from ..messages import msg

bp = Blueprint("revisions_api", __name__, url_prefix="/api")


def submission() -> tuple[dict, tuple[str, bytes] | None, list[tuple[str, bytes]]]:
    """(fields, geometry file, attachments) from a JSON body or a multipart form."""
    pol = revision_policy()
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise InvalidInput(msg("api.request_body_must_json", "the request body must be a JSON object"))
        return body, None, []
    if request.mimetype not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise InvalidInput(msg("api.send_json_content_type", "send JSON (Content-Type: application/json) or a "
                               "multipart form with a file"))
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


def created(rev: revisions.Revision):
    """The answer to a new proposal: 201, the proposal, its Location."""
    response = jsonify(revision_json(rev))
    response.status_code = 201
    response.headers["Location"] = url_for("revisions_api.get_revision", revision_id=rev.id)
    return response


def _propose(site_code: str | None):
    fields, upload, attachments = submission()
    if site_code is None and fields.get("site"):
        raise InvalidInput(msg("api.change_existing_site_post", "to change an existing site, POST to "
                               "/api/sites/<code>/revisions"))
    draft = revisions.parse_draft(fields, file=upload, policy=revision_policy(), attachments=attachments)
    rev = revisions.propose(get_conn(), draft, author=actor(), site_code=site_code, policy=revision_policy(),
                            remote_addr=remote_addr())
    return created(rev)


@bp.post("/sites/<code>/revisions")
@require("revision.propose")
@idempotent
def propose_change(code: str):
    return _propose(code)


@bp.post("/revisions")
@require("revision.propose")
@idempotent
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
        raise revisions.RoundRequired(msg("api.name_round_you_saw", "name the round you saw of each proposal: "
                                          '{{"items": [{{"id": 12, "round": 1}}, ...]}} (a decision applies exactly '
                                          "what its reviewer saw)"))
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InvalidInput(msg("api.send_items_id_round", 'send {{"items": [{{"id": 12, "round": 1}}, ...], '
                               '"decision": "approve", "comment": "..."}}'))
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
    rev = revisions.amend(get_conn(), revision_id, draft, author=actor(), policy=revision_policy(),
                          remote_addr=remote_addr())
    return jsonify(revision_json(rev))


@bp.post("/revisions/<int:revision_id>/rebase")
@require("revision.propose")
def rebase(revision_id: int):
    rev = revisions.rebase(get_conn(), revision_id, actor=actor(), may_review=can("revision.review"),
                           policy=revision_policy(), remote_addr=remote_addr())
    return jsonify(revision_json(rev))


@bp.post("/revisions/<int:revision_id>/comments")
@require("revision.propose")
@idempotent
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
        raise InvalidInput(msg("api.give_version_restore", "give the version to restore"))
    rev = revisions.propose_restore(get_conn(), code, version, author=actor(), reason=body.get("reason"),
                                    policy=revision_policy(), remote_addr=remote_addr())
    return created(rev)


@bp.get("/revisions/<int:revision_id>/attachments/<int:attachment_id>")
@require("revision.propose")
def attachment(revision_id: int, attachment_id: int):
    found = revisions.attachment_file(get_conn(), revision_policy(), revision_id, attachment_id)
    inline = found.content_type in revisions.IMAGE_TYPES.values()
    return send_file(found.path, mimetype=found.content_type, as_attachment=not inline,
                     download_name=found.filename, max_age=0, etag=found.sha256)


# ------------------------------------------------------------------------------------------------------ OpenAPI
def _openapi() -> tuple[dict, list]:
    """This area's paths in the OpenAPI document, and the models the document names whatever the paths do: made when
    the document is first asked for (http/openapi.register), not when the app is built."""
    from .models import revisions as m
    from .models.common import Id

    _TAGS = ["Revisions"]
    _REVISION_ID = path_param("revision_id", "the proposal's number", Id, example=1)
    _CODE = path_param("code", "the site code, e.g. GZ-0001", example="GZ-0001")
    PROPOSAL_BODY = json_body(m.ProposalInput, form=m.ProposalForm, multipart=m.ProposalMultipart)
    CREATED = json_response(m.Proposal, "the proposal", headers=LOCATION)
    SENT = problem_responses(400, 403, 404, 409, 413, 415, 422)
    PATHS = {
        "/api/sites/{code}/revisions": {"post": op(
            "Propose a change to a site (location, boundary, attributes, retirement)", tags=_TAGS, auth=True,
            operation_id="proposeChange", params=[_CODE], body=PROPOSAL_BODY, responses={"201": CREATED, **SENT})},
        "/api/revisions": {
            "post": op("Propose a new site", tags=_TAGS, auth=True, operation_id="proposeSite", body=PROPOSAL_BODY,
                       responses={"201": CREATED, **SENT}),
            "get": op("Proposals, newest first (awaiting: the review queue, oldest first)", tags=_TAGS, auth=True,
                      operation_id="listRevisions", params=[
                          param("status", schema=list[m.Status], style="form", explode=True,
                                description="one or more states"),
                          param("kind", schema=m.Kind), param("site", description="a site code"),
                          param("author"), param("mine", description="1 or true: only my proposals"),
                          param("awaiting", description="1 or true: submitted proposals by others (what I may "
                                                        "review)"),
                          param("limit", schema=Annotated[int, Field(default=200)],
                                description="at most this many (1 to 1000; values outside are brought into range)"),
                          param("offset", schema=Annotated[int, Field(default=0)])],
                      responses={"200": json_response(m.RevisionList), **problem_responses(403, 422)})},
        "/api/revisions/inbox": {"get": op(
            "What waits for me: my proposals by state, changes requested, recent decisions", tags=_TAGS, auth=True,
            operation_id="getInbox", responses={"200": json_response(m.Inbox), **problem_responses(403)})},
        "/api/revisions/{revision_id}": {"get": op(
            "One proposal with its thread, attachments, attribute changes and (stale) three-way view", tags=_TAGS,
            auth=True, operation_id="getRevision", params=[_REVISION_ID],
            responses={"200": json_response(m.RevisionView), **problem_responses(403, 404)})},
        "/api/revisions/{revision_id}/decision": {"post": op(
            "Approve, reject or request changes (the round the reviewer saw)", tags=_TAGS, auth=True,
            operation_id="decideRevision", params=[_REVISION_ID],
            body=json_body(m.DecisionInput, form=m.DecisionForm),
            responses={"200": json_response(m.Proposal), **problem_responses(400, 403, 404, 409, 413, 422, 428)})},
        "/api/revisions/batch-decision": {"post": op(
            "Decide on several proposals at once (each in its own transaction; every outcome reported)", tags=_TAGS,
            auth=True, operation_id="decideRevisions", body=json_body(m.BatchDecisionInput),
            responses={"200": json_response(m.BatchResult), **problem_responses(400, 403, 413, 422, 428)})},
        "/api/revisions/{revision_id}/withdraw": {"post": op(
            "Withdraw one's own open proposal", tags=_TAGS, auth=True, operation_id="withdrawRevision",
            params=[_REVISION_ID], body=json_body(m.WithdrawInput, required=False, form=m.CommentForm),
            responses={"200": json_response(m.Proposal), **problem_responses(400, 403, 404, 409, 413, 422)})},
        "/api/revisions/{revision_id}/amend": {"post": op(
            "Change one's own open proposal (a new round; fields not given keep their proposed values)", tags=_TAGS,
            auth=True, operation_id="amendRevision", params=[_REVISION_ID], body=PROPOSAL_BODY,
            responses={"200": json_response(m.Proposal), **SENT})},
        "/api/revisions/{revision_id}/rebase": {"post": op(
            "Move a stale proposal onto the site's current version (a new round)", tags=_TAGS, auth=True,
            operation_id="rebaseRevision", params=[_REVISION_ID],
            responses={"200": json_response(m.Proposal), **problem_responses(403, 404, 409, 422)})},
        "/api/revisions/{revision_id}/comments": {"post": op(
            "Comment on a proposal", tags=_TAGS, auth=True, operation_id="commentRevision", params=[_REVISION_ID],
            body=json_body(m.CommentInput, form=m.CommentForm),
            responses={"201": json_response(m.Proposal), **problem_responses(400, 403, 404, 413, 422)})},
        "/api/sites/{code}/restore": {"post": op(
            "Propose restoring an old version of a site (admins; reviewed like any proposal)", tags=_TAGS, auth=True,
            operation_id="restoreSite", params=[_CODE], body=json_body(m.RestoreInput, form=m.RestoreForm),
            responses={"201": CREATED, **problem_responses(400, 403, 404, 409, 413, 422)})},
        "/api/revisions/{revision_id}/attachments/{attachment_id}": {"get": op(
            "An attachment of a proposal (images inline, other files as downloads)", tags=_TAGS, auth=True,
            operation_id="getRevisionAttachment",
            params=[_REVISION_ID, path_param("attachment_id", "the attachment's number", Id, example=1)],
            responses={"200": file_response([*revisions.IMAGE_TYPES.values(), "application/pdf",
                                             "application/octet-stream"], "the file"),
                       **problem_responses(403, 404)})},
    }
    return PATHS, m.MODELS


def init_app(app) -> None:
    app.register_blueprint(bp)
    api_spec.register(app, _openapi)
