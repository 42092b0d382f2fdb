"""The revision workflow: field teams propose, a second person reviews, an approval becomes a new site version.

Pure domain code (no Flask), one module per concern: policy.py (vocabulary and settings), draft.py (what a submitter
sends, parsed from plain mappings), validation.py (errors, warnings, metrics), attachments.py, model.py (a proposal as
read), workflow.py (the state machine below), views.py (queue, inbox, review and three-way views). Other code imports
from this package only the names listed in ``__all__``.

A proposal (``revision``) names the site version it is based on and carries its reason,
survey method, stated accuracy, survey date and attachments. It is validated before anything is saved: *errors* refuse
it with a readable reason (invalid ring with the place it self-intersects and an offered repair the submitter must
accept, swapped axes, out-of-range coordinates, too many vertices unless the submitter consents to simplification...);
*warnings* are stored with it and shown to the reviewer (outside the region, far from the current location, overlapping
another site, location outside the boundary, movement below the stated accuracy...).

State machine::

    submitted --approve--> approved            (the site's next version is written in the same transaction)
    submitted --reject (reason)--> rejected
    submitted --request_changes (reason)--> changes_requested --amend (author)--> submitted (round + 1)
    submitted --amend (author)--> submitted (round + 1)
    submitted | changes_requested --withdraw (author)--> withdrawn
    submitted | changes_requested --rebase--> same state, new base version (re-validated, round + 1)

Rounds: whatever changes what an approval would write (an amendment, a rebase) starts a new round. A decision names the
round its reviewer saw and is refused (409) on any other, so a decision applies exactly what its reviewer saw; a
decision that names no round is refused (428) rather than guessed.

Four eyes: nobody decides on their own proposal (checked here, and by a CHECK constraint in the database). Conflicts:
if the site has any new version since the proposal's base, approval is refused (409) and the proposal must be rebased
onto the current version (re-validated, the reviewer sees base / current / proposed) or sent back; geometries are never
merged automatically.
"""
from __future__ import annotations

from ..errors import Conflict, Forbidden
from .attachments import IMAGE_TYPES, attachment_file, attachment_path, attachment_type
from .draft import Draft, geojson_geometry, parse_draft, to_shape, whole_number
from .model import Revision, get
from .policy import DECISIONS, KINDS, MAX_REASON, METHODS, OPEN, STATUSES, Policy, RepairOffered, RoundRequired
from .validation import INFORMATIONAL_WARNINGS, Prepared, geometry_metrics, needs_individual_review
from .views import history, inbox, proposed_state, queue, review_view, stale_flags, three_way, three_way_json
from .workflow import (actions, amend, amendable, check, checked_id, checked_round, comment, conflict_error, decide, decide_many, propose,
                       propose_restore, rebase, withdraw)

__all__ = ["Conflict", "actions", "check", "Prepared", "DECISIONS", "Draft", "Forbidden", "IMAGE_TYPES", "INFORMATIONAL_WARNINGS", "KINDS",
           "MAX_REASON", "METHODS", "OPEN", "Policy", "RepairOffered", "Revision", "RoundRequired", "STATUSES",
           "amend", "amendable", "attachment_file", "attachment_path", "attachment_type", "checked_id", "checked_round", "comment", "conflict_error", "decide",
           "decide_many", "geojson_geometry", "geometry_metrics", "get", "history", "inbox", "needs_individual_review",
           "parse_draft", "propose", "propose_restore", "proposed_state", "queue", "rebase", "review_view",
           "stale_flags", "three_way", "three_way_json", "to_shape", "whole_number", "withdraw"]
