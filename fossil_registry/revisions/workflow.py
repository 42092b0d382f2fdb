"""The proposal state machine: propose, restore, amend, withdraw, comment, decide (alone or in a batch) and rebase.
Every step is one store transaction with its thread entry and audit record; an approval writes the site's next
version inside the transaction of its decision. The states and rounds are described in the package docstring."""
from __future__ import annotations

from typing import Any, Iterable

from .. import features, store
from ..errors import Conflict, Forbidden, InvalidInput, RegistryError
from ..features import UNCHANGED
from ..store import revisions as rstore
from .attachments import Attachment, write_with_attachments
from .draft import Draft, whole_number
from .model import Revision, content_snapshot, get, row_of, stale
from .policy import DECISIONS, MAX_REASON, OPEN, Policy, RoundRequired
from .validation import Prepared, boundary_value, needs_individual_review, prepare, stale_base_warning
from ..messages import msg, msg_list


def _require_reason(reason: str | None, what: str = "a proposal") -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(msg("revisions.needs_reason_why_should", "{what} needs a reason: why should the site "
                               "change (e.g. 'RTK resurvey, the old point was digitised from a 1:50,000 map')",
                               what=what))
    if len(reason) > MAX_REASON:
        raise InvalidInput(msg("revisions.reason_too_long_characters", "the reason is too long ({count} characters; "
                               "the limit is {max_reason})", count=len(reason), max_reason=MAX_REASON))
    return reason.strip()


def propose(conn, draft: Draft, *, author: str, site_code: str | None, policy: Policy | None = None,
            remote_addr: str | None = None, kind: str | None = None, restore_version: int | None = None,
            feature: features.FeatureKind | None = None) -> Revision:
    """Validate and record a proposal: a change to the feature ``site_code`` (a site's or a section's code; only of
    kind ``feature`` when given) at ``draft.base_version``, or (site_code None) a new feature of kind ``feature`` (a
    site by default). Returns the stored proposal (status 'submitted') with its warnings and metrics."""
    policy = policy or Policy.defaults()
    reason = _require_reason(draft.reason)
    p, base, feature = _checked(conn, draft, site_code, policy, kind, feature)

    def write(stored: list[Attachment], batch):
        with store.transaction(conn):
            now = store.utc_now()
            rid = rstore.insert_revision(
                conn, kind=p.kind, site_code=site_code, base_version=base.version if base else None,
                status="submitted", author=author, created_at=now, updated_at=now, round=1, reason=reason,
                method=draft.method, accuracy_m=draft.accuracy_m, survey_date=draft.survey_date, location=p.location,
                boundary_action=p.boundary_action, boundary=p.boundary, properties=p.properties, input=draft.input,
                warnings=p.warnings, metrics=p.metrics, restore_version=restore_version, feature_kind=feature.name)
            _record_attachments(conn, rid, stored, at=now, author=author)
            rstore.append_event(conn, rid, at=now, actor=author, event="submitted", comment=reason,
                                detail={"round": 1, "base_version": base.version if base else None,
                                        "warnings": [w["code"] for w in p.warnings]})
            store.append_audit(conn, actor=author, action="revision.submit", target=_target(site_code, rid), at=now,
                               remote_addr=remote_addr,
                               detail={"revision_id": rid, "kind": p.kind, "feature": feature.name,
                                       "base_version": base.version if base else None,
                                       "warnings": [w["code"] for w in p.warnings], "attachments": len(stored)})
            if batch is not None:
                store.lock_files(conn)
                batch.place()
        return rid

    rid = write_with_attachments(policy, draft.attachments, write)
    return get(conn, rid)


def check(conn, draft: Draft, *, site_code: str | None, policy: Policy | None = None) -> Prepared:
    """Everything ``propose`` checks, without writing: the proposal as it would be stored (kind, normalised content,
    warnings, metrics), or the refusal it would meet (InvalidInput, GeometryError, CoordinateError, NotFound). The
    site import shows every row's outcome before anything is proposed."""
    _require_reason(draft.reason)
    return _checked(conn, draft, site_code, policy or Policy.defaults(), None, features.SITE)[0]


def _checked(conn, draft: Draft, site_code: str | None, policy: Policy, kind: str | None,
             feature: features.FeatureKind | None) -> tuple[Prepared, features.Feature | None, features.FeatureKind]:
    """The proposal as it would be stored, its base version and the kind of feature it is about (the site's own kind
    for a change; ``feature`` or a site for a new one)."""
    if site_code is not None:
        site = features.current(conn, site_code, kind=feature)
        feature = site.kind
        if draft.base_version is None:
            raise InvalidInput(msg("revisions.base_version_required_version", "base_version is required: the version "
                                   "of {site_code} the proposal is based on (now {version})", site_code=site_code,
                                   version=site.version))
        if draft.base_version > site.version:
            raise InvalidInput(msg("revisions.site_version_yet_2", "{kind} {site_code} has no version "
                                   "{base_version} yet (it is at {version})", kind=feature.noun,
                                   site_code=site_code, base_version=draft.base_version, version=site.version))
        base = features.at_version(conn, site_code, draft.base_version, feature)
    else:
        site = base = None
        feature = feature or features.SITE
    p = prepare(conn, draft, site=site, base=base, policy=policy, kind=kind, feature=feature)
    _warn_if_stale(p, base, site)
    return p, base, feature


def _warn_if_stale(p: Prepared, base: features.Feature | None, site: features.Feature | None) -> None:
    w = stale_base_warning(base, site) if site is not None else None
    if w is not None:
        p.warnings.append(w)


def _record_attachments(conn, revision_id: int, stored: list[Attachment], *, at: str, author: str) -> None:
    for a in stored:
        rstore.insert_attachment(conn, revision_id, sha256=a.sha, filename=a.filename, content_type=a.content_type,
                                 size=len(a.data), created_at=at, uploaded_by=author)


def _target(site_code: str | None, rid: int) -> str:
    return site_code or f"revision:{rid}"


def propose_restore(conn, code: str, version: int, *, author: str, reason: str | None, policy: Policy | None = None,
                    remote_addr: str | None = None) -> Revision:
    """An admin's restoration of an old version, as a proposal a second person approves (four eyes as always)."""
    reason = _require_reason(reason, "a restoration")
    site = features.current(conn, code)
    old = features.at_version(conn, code, version)
    if version == site.version:
        raise InvalidInput(msg("revisions.version_current_version_there", "version {version} is the current version "
                               "of {code}; there is nothing to restore", version=version, code=code))
    if old.boundary is not None:
        boundary = old.boundary
    else:
        boundary = None if site.boundary is not None else UNCHANGED
    draft = Draft(reason=reason, location=old.location, boundary=boundary, properties=dict(old.properties),
                  base_version=site.version, input={"restore": {"format": "version", "version": version}})
    return propose(conn, draft, author=author, site_code=code, policy=policy, remote_addr=remote_addr,
                   kind="restore", restore_version=version)


def _open_for(conn, revision_id: int) -> rstore.RevisionRow:
    row = row_of(conn, revision_id)
    if row.status not in OPEN:
        raise Conflict(msg("revisions.proposal_longer_change", "proposal {revision_id} is {value}; it can no longer "
                           "change", revision_id=revision_id, value=row.status.replace('_', ' ')),
                       status_now=row.status)
    return row


def actions(rev: Revision, *, actor: str, may_review: bool, stale: bool) -> dict[str, bool]:
    """What ``actor`` may do with the proposal now (pages offer only these; every step checks again when taken)."""
    own = rev.author == actor
    return {"decide": may_review and not own and rev.status == "submitted",
            "reject": may_review and not own and rev.is_open,
            "rebase": rev.is_open and stale and (own or may_review),
            "amend": own and rev.is_open}


def _amendable_row(conn, revision_id: int, author: str) -> rstore.RevisionRow:
    row = row_of(conn, revision_id)
    if row.author != author:
        raise Forbidden(msg("revisions.only_proposal_s_author", "only the proposal's author can amend it; reviewers "
                            "comment, request changes or decide"))
    return _open_for(conn, revision_id)


def amendable(conn, revision_id: int, author: str) -> Revision:
    """The proposal, if ``author`` may amend it now (their own, still open); Forbidden or Conflict otherwise."""
    _amendable_row(conn, revision_id, author)
    return get(conn, revision_id)


def amend(conn, revision_id: int, draft: Draft, *, author: str, policy: Policy | None = None,
          remote_addr: str | None = None) -> Revision:
    """The author changes an open proposal (e.g. answering a change request). Fields not given keep their proposed
    values; the previous content stays in the thread. Every amendment starts a new round (a decision made on the
    previous one is refused); a proposal sent back is resubmitted."""
    policy = policy or Policy.defaults()
    row = _amendable_row(conn, revision_id, author)
    if _carries_nothing(draft):  # a new round voids what reviewers saw: never for nothing (e.g. a form of junk)
        raise InvalidInput(msg('revisions.amendment_changes_nothing_give', 'the amendment changes nothing: give a new location, boundary, field value, reason, attachment or a comment for the reviewers'))
    merged = _merged_draft(row, draft)
    feature = features.kind(row.feature_kind)
    site = features.current(conn, row.site_code, kind=feature) if row.site_code else None
    base_version = draft.base_version or row.base_version
    if site is not None and base_version > site.version:
        raise InvalidInput(msg("revisions.site_version_yet", "{kind} {code} has no version {base_version} yet (it "
                               "is at {version})", kind=feature.noun, code=site.code, base_version=base_version,
                               version=site.version))
    base = features.at_version(conn, row.site_code, base_version, feature) if site is not None else None
    p = prepare(conn, merged, site=site, base=base, policy=policy,
                kind=row.kind if row.kind in ("restore",) else None, feature=feature)
    _warn_if_stale(p, base, site)
    resubmit = row.status == "changes_requested"

    def write(stored: list[Attachment], batch):
        with store.transaction(conn):
            now = store.utc_now()
            current = _open_for(conn, revision_id)
            rstore.update_revision(
                conn, revision_id, kind=p.kind, base_version=base.version if base else None, status="submitted",
                updated_at=now, round=current.round + 1, reason=merged.reason,
                method=merged.method, accuracy_m=merged.accuracy_m, survey_date=merged.survey_date,
                location=p.location, boundary_action=p.boundary_action, boundary=p.boundary, properties=p.properties,
                input=merged.input, warnings=p.warnings, metrics=p.metrics)
            _record_attachments(conn, revision_id, stored, at=now, author=author)
            event = "resubmitted" if resubmit else "amended"
            rstore.append_event(conn, revision_id, at=now, actor=author, event=event,
                                comment=draft.comment or (draft.reason if "reason" in draft.given else None),
                                detail={"round": current.round + 1,
                                        "previous": content_snapshot(current),
                                        "warnings": [w["code"] for w in p.warnings]})
            store.append_audit(conn, actor=author, action=f"revision.{'resubmit' if resubmit else 'amend'}",
                               target=_target(row.site_code, revision_id), at=now, remote_addr=remote_addr,
                               detail={"revision_id": revision_id, "base_version": base.version if base else None})
            if batch is not None:
                store.lock_files(conn)
                batch.place()
        return revision_id

    write_with_attachments(policy, draft.attachments, write)
    return get(conn, revision_id)


def _carries_nothing(draft: Draft) -> bool:
    return (draft.location is UNCHANGED and draft.boundary is UNCHANGED and not draft.properties and not draft.retire
            and not draft.reason and not draft.comment and not draft.attachments and draft.method is None
            and draft.accuracy_m is None and draft.survey_date is None and draft.base_version is None)


def _merged_draft(row: rstore.RevisionRow, draft: Draft) -> Draft:
    given = draft.given
    merged = Draft(
        reason=draft.reason if "reason" in given and draft.reason else row.reason,
        location=draft.location if "location" in given else (row.location if row.location is not None else UNCHANGED),
        boundary=draft.boundary if "boundary" in given else boundary_value(row.boundary_action, row.boundary),
        properties={**row.properties, **draft.properties} if "properties" in given else dict(row.properties),
        retire=draft.retire, method=draft.method if "method" in given else row.method,
        accuracy_m=draft.accuracy_m if "accuracy_m" in given else row.accuracy_m,
        survey_date=draft.survey_date if "survey_date" in given else row.survey_date,
        accept_repair=draft.accept_repair, accept_simplify=draft.accept_simplify,
        input={**row.input, **draft.input}, notes=list(draft.notes))
    if row.kind == "new_site" and merged.location is UNCHANGED:
        merged.location = row.location
    # carry forward what earlier validation recorded about repairs/simplification of a geometry that is kept
    if "boundary" not in given and row.boundary_action == "set":
        merged.accept_repair = merged.accept_simplify = True
    return merged


def withdraw(conn, revision_id: int, *, actor: str, comment: str | None = None,
             remote_addr: str | None = None) -> Revision:
    with store.transaction(conn):
        row = row_of(conn, revision_id)
        if row.author != actor:
            raise Forbidden(msg("revisions.only_proposal_s_author_2", "only the proposal's author can withdraw it"))
        _open_for(conn, revision_id)
        now = store.utc_now()
        rstore.update_revision(conn, revision_id, status="withdrawn", updated_at=now)
        rstore.append_event(conn, revision_id, at=now, actor=actor, event="withdrawn", comment=comment)
        store.append_audit(conn, actor=actor, action="revision.withdraw", target=_target(row.site_code, revision_id),
                           at=now, remote_addr=remote_addr, detail={"revision_id": revision_id})
    return get(conn, revision_id)


def comment(conn, revision_id: int, *, actor: str, text: str | None, remote_addr: str | None = None) -> Revision:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(msg("revisions.comment_needs_some_text", "a comment needs some text"))
    if len(text) > MAX_REASON:
        raise InvalidInput(msg("revisions.comment_too_long_characters", "the comment is too long ({count} "
                               "characters; the limit is {max_reason})", count=len(text), max_reason=MAX_REASON))
    with store.transaction(conn):
        row = row_of(conn, revision_id)
        now = store.utc_now()
        rstore.append_event(conn, revision_id, at=now, actor=actor, event="commented", comment=text.strip())
        store.append_audit(conn, actor=actor, action="revision.comment", target=_target(row.site_code, revision_id),
                           at=now, remote_addr=remote_addr, detail={"revision_id": revision_id})
    return get(conn, revision_id)


def conflict_error(conn, row: rstore.RevisionRow, current_version: int) -> Conflict:
    base = features.at_version(conn, row.site_code, row.base_version)
    cur = features.current(conn, row.site_code)
    d = features.diff_features(base, cur)
    what = []
    if d["location_changed"]:
        what.append(cur.kind.primary)
    if d["boundary_changed"]:
        what.append("boundary")
    what += sorted(d["properties"])
    shown = msg_list([features.GEOMETRY_NOUNS.get(w, w) for w in what]) if what else \
        msg("revisions.nothing_visible", "nothing visible")
    return Conflict(
        msg("revisions.site_changed_since_proposal", "{kind} {site_code} has changed since this proposal was made "
            "(based on version {base_version}, now version {current_version}; changed: {value}). Approval refused: "
            "rebase the proposal onto version {current_version} after comparing base, current and proposed, or send "
            "it back", kind=cur.kind.noun, site_code=row.site_code, base_version=row.base_version,
            current_version=current_version, value=shown),
        code=row.site_code, base_version=row.base_version, current_version=current_version, changed=what,
        revision_id=row.id)


def checked_id(value: Any) -> int:
    number = whole_number(value, "id")
    if number is None or number < 1:
        raise InvalidInput(msg("revisions.each_proposal_named_number", "each proposal is named by its number (id)"))
    return number


def checked_round(value: Any) -> int:
    """The round a decision was made on, from a JSON number or a form field; refused (428) when not given."""
    if value in (None, ""):
        raise RoundRequired(msg("revisions.say_which_round_proposal", "say which round of the proposal you decided "
                                'on ("round", as shown when you opened it): a decision applies exactly what its '
                                "reviewer saw, so it is never guessed"))
    number = whole_number(value, "round")
    if number < 1:
        raise InvalidInput(msg("revisions.round_must_more_got", "round must be 1 or more (got {number})",
                               number=number))
    return number


def checked_decision(decision: Any, comment: Any) -> str | None:
    """The decision's comment (stripped; None for none) once the decision and the comment are valid: a known decision,
    a comment that is text within MAX_REASON, and one at all unless approving."""
    if decision not in DECISIONS:
        raise InvalidInput(msg('revisions.decision_one_join_got', 'decision must be one of {join} (got {str!r})', join=', '.join(DECISIONS), str=str(decision)[:40]),
                           field="decision")
    if comment is not None and not isinstance(comment, str):
        raise InvalidInput(msg('revisions.comment_text', 'the comment must be text'), field="comment")
    comment = (comment or "").strip() or None
    if decision != "approve" and not comment:
        what = "rejecting" if decision == "reject" else "requesting changes"
        raise InvalidInput(msg('revisions.what_needs_reason_comment', '{what} needs a reason (comment): the author must know what is wrong', what=what), field="comment")
    if comment and len(comment) > MAX_REASON:
        raise InvalidInput(msg("revisions.comment_too_long_characters", "the comment is too long ({count} characters; the limit is "
                               "{max_reason})", count=len(comment), max_reason=MAX_REASON),
                           field="comment")
    return comment


def decide(conn, revision_id: int, decision: str, *, reviewer: str, round_seen: int | None,
           comment: str | None = None, remote_addr: str | None = None,
           policy: Policy | None = None) -> tuple[Revision, features.Feature | None]:
    """Approve, reject or request changes on the round the reviewer saw (``round_seen``; 409 if the proposal has
    moved on to another round since). An approval writes the site's next version, the decision, the thread entry and
    the audit records in ONE transaction: if any step fails, nothing of it remains."""
    policy = policy or Policy.defaults()
    comment = checked_decision(decision, comment)
    if round_seen not in (None, ""):
        round_seen = checked_round(round_seen)
    applied: features.Feature | None = None
    with store.transaction(conn):
        row = row_of(conn, revision_id)
        if row.author == reviewer:
            raise Forbidden(msg("revisions.nobody_reviews_their_own", "nobody reviews their own proposal: another "
                                "expert or admin must decide on it"))
        if row.status not in OPEN:
            raise Conflict(msg("revisions.proposal_already", "proposal {revision_id} is already {value}",
                               revision_id=revision_id, value=row.status.replace('_', ' ')), status_now=row.status)
        round_seen = checked_round(round_seen)  # no round: refused (428), never guessed
        if row.round != round_seen:
            raise Conflict(msg("revisions.proposal_changed_since_you", "proposal {revision_id} has changed since you "
                               "opened it (you saw round {round_seen}; it is now at round {round}): open it again "
                               "and review what it proposes now", revision_id=revision_id, round_seen=round_seen,
                               round=row.round),
                           round_seen=round_seen, round_now=row.round, revision_id=revision_id)
        if decision != "reject" and row.status != "submitted":
            raise Conflict(msg("revisions.proposal_waiting_author_amend", "proposal {revision_id} is waiting for its "
                               "author to amend it (changes requested)", revision_id=revision_id),
                           status_now=row.status)
        now = store.utc_now()
        fields: dict[str, Any] = {"reviewer": reviewer, "decided_at": now, "decision_comment": comment,
                                  "updated_at": now}
        if decision == "approve":
            is_stale, current_version = stale(conn, row)
            if is_stale:
                raise conflict_error(conn, row, current_version)
            applied = _apply_approval(conn, row, reviewer, remote_addr, policy)
            fields.update(status="approved", applied_version=applied.version, site_code=applied.code)
        else:
            fields["status"] = "rejected" if decision == "reject" else "changes_requested"
            if decision == "request_changes":
                fields.update(reviewer=reviewer, decided_at=None)
        rstore.update_revision(conn, revision_id, **fields)
        event = {"approve": "approved", "reject": "rejected", "request_changes": "changes_requested"}[decision]
        rstore.append_event(conn, revision_id, at=now, actor=reviewer, event=event, comment=comment,
                            detail={"round": row.round, **({"site_version": applied.version, "site": applied.code}
                                                           if applied else {})})
        store.append_audit(conn, actor=reviewer, action=f"revision.{decision}",
                           target=applied.code if applied else _target(row.site_code, revision_id), at=now,
                           remote_addr=remote_addr,
                           detail={"revision_id": revision_id, "round": row.round, "comment": comment,
                                   "author": row.author, "site_version": applied.version if applied else None})
    return get(conn, revision_id), applied


def _apply_approval(conn, row: rstore.RevisionRow, reviewer: str, remote_addr: str | None,
                    policy: Policy) -> features.Feature:
    feature = features.kind(row.feature_kind)
    if row.kind == "new_site":
        code = store.next_site_code(conn, policy.prefix_for(feature), feature.layers)
        change = features.create_feature(conn, properties=row.properties, location=row.location, boundary=row.boundary,
                                   author=row.author, reason=row.reason, code=code, reviewer=reviewer,
                                   revision_id=row.id, remote_addr=remote_addr, operation="create", kind=feature)
        return change.site
    operation = {"retire": "retire", "restore": "restore"}.get(row.kind, "update")
    boundary = boundary_value(row.boundary_action, row.boundary)
    change = features.change_feature(conn, row.site_code, base_version=row.base_version, author=row.author,
                               reason=row.reason, location=row.location if row.location is not None else UNCHANGED,
                               boundary=boundary, properties=row.properties or None, operation=operation,
                               reviewer=reviewer, revision_id=row.id, remote_addr=remote_addr, kind=feature)
    return change.site


def decide_many(conn, items: Iterable[tuple[int, Any]], decision: str, *, reviewer: str, comment: str | None = None,
                remote_addr: str | None = None, policy: Policy | None = None) -> list[dict[str, Any]]:
    """Batch decisions on (proposal id, round seen) pairs: each proposal is decided in its own transaction, so one
    conflict or refusal does not hold up the others; every outcome is reported. A batch approval refuses proposals
    whose warnings need a reviewer's look (needs_individual_review) rather than approving them blind. A decision or
    comment that no proposal could take refuses the whole batch."""
    comment = checked_decision(decision, comment)
    items = list(dict.fromkeys((int(i), r) for i, r in items))
    if not items:
        raise InvalidInput(msg("revisions.choose_least_one_proposal", "choose at least one proposal"))
    if len(items) > 200:
        raise InvalidInput(msg("revisions.proposals_once_decide_most", "{count} proposals at once; decide at most "
                               "200 in one batch", count=len(items)))
    results = []
    for rid, round_seen in items:
        try:
            if decision == "approve":
                row = rstore.get_revision(conn, rid)
                codes = needs_individual_review(row) if row is not None else []
                if codes:
                    raise InvalidInput(msg("revisions.proposal_carries_warnings_open", "proposal {rid} carries "
                                           "warnings ({codes}): open it and decide on it on its own", rid=rid,
                                           codes=', '.join(codes)), warnings=codes)
            rev, applied = decide(conn, rid, decision, reviewer=reviewer, round_seen=round_seen, comment=comment,
                                  remote_addr=remote_addr, policy=policy)
            results.append({"id": rid, "ok": True, "status": rev.status, "round": rev.round,
                            "site": rev.site_code, "site_version": applied.version if applied else None})
        except RegistryError as exc:
            results.append({"id": rid, "ok": False, "error": exc.title, "http_status": exc.status,
                            "detail": exc.detail})
    return results


def rebase(conn, revision_id: int, *, actor: str, may_review: bool, policy: Policy | None = None,
           accept_repair: bool = False, remote_addr: str | None = None) -> Revision:
    """Move an open proposal onto the site's current version: its content is kept as proposed (never merged), then
    re-validated and re-measured against the current state; the thread records the old and new base."""
    policy = policy or Policy.defaults()
    row = _open_for(conn, revision_id)
    if row.author != actor and not may_review:
        raise Forbidden(msg("revisions.only_author_reviewer_rebase", "only the author or a reviewer can rebase a "
                            "proposal"))
    if row.kind == "new_site":
        raise InvalidInput(msg("revisions.new_site_proposal_base", "a new-site proposal has no base version to "
                               "rebase"))
    site = features.current(conn, row.site_code, kind=features.kind(row.feature_kind))
    if site.version == row.base_version:
        raise InvalidInput(msg("revisions.proposal_already_based_current", "proposal {revision_id} is already based "
                               "on the current version ({version})", revision_id=revision_id, version=site.version))
    draft = _merged_draft(row, Draft())
    draft.accept_repair = True
    p = prepare(conn, draft, site=site, base=site, policy=policy,
                kind=row.kind if row.kind == "restore" else None)
    with store.transaction(conn):
        now = store.utc_now()
        current = _open_for(conn, revision_id)
        if features.version_number(conn, row.site_code, site.kind) != site.version:
            raise Conflict(msg("revisions.site_changed_again_while", "{kind} {site_code} changed again while "
                               "rebasing; try again", kind=site.kind.noun, site_code=row.site_code))
        rstore.update_revision(conn, revision_id, base_version=site.version, kind=p.kind, location=p.location,
                               boundary_action=p.boundary_action, boundary=p.boundary, properties=p.properties,
                               warnings=p.warnings, metrics=p.metrics, updated_at=now, round=current.round + 1)
        rstore.append_event(conn, revision_id, at=now, actor=actor, event="rebased",
                            comment=f"rebased from version {current.base_version} onto version {site.version}",
                            detail={"from": current.base_version, "to": site.version, "round": current.round + 1,
                                    "previous": content_snapshot(current)})
        store.append_audit(conn, actor=actor, action="revision.rebase", target=row.site_code, at=now,
                           remote_addr=remote_addr,
                           detail={"revision_id": revision_id, "from": current.base_version, "to": site.version})
    return get(conn, revision_id)
