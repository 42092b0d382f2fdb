"""Rescue cases: opening one, recording what was done when, and the cases with their legal clock."""
from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field, create_model

from ... import rescues, revisions
from ...http.openapi import Answer, ClosedBody, form
from ...vocab import RescueEvent, RescueSource
from .common import Count, DateTime, Id, Point, PointIn

Text = Annotated[str, Field(max_length=rescues.MAX_TEXT)]
Number = Annotated[Union[Id, str], Field(description="a number (or its digits as text)")]
Amount = Union[Annotated[int, Field(ge=0, le=rescues.MAX_COUNT)], str]
Outcome = Literal[rescues.OUTCOMES]
ProposalStatus = Literal[revisions.STATUSES]


# ------------------------------------------------------------------------------------------------------ requests
class RescueCaseInput(ClosedBody):
    """a rescue case (other fields are refused; a public report or project case gives the defaults)"""
    source: RescueSource | Literal[""] | None = None
    report_id: Annotated[Number | None, Field(description="the public report it comes from (place, time, "
                                                          "text)")] = None
    impact_case_id: Annotated[Number | None, Field(description="the construction project's case")] = None
    reported_by: Text | None = None
    contact: Annotated[Text | None, Field(description="private")] = None
    reported_at: Annotated[str | None, Field(description="when the find was reported (not in the future): the legal "
                                                         "clock starts")] = None
    point: PointIn | None = None
    lon: Union[float, str, None] = None
    lat: Union[float, str, None] = None
    county: Text | None = None
    description: Text | None = None


class RescueEventInput(ClosedBody):
    """what was done when (other fields are refused)"""
    kind: RescueEvent
    done_at: Annotated[str | None, Field(description="when it was done (default now; never in the future)")] = None
    note: Text | None = None
    specimens: Amount | None = None
    samples: Amount | None = None
    field_numbers: Text | None = None
    kept_at: Text | None = None
    reason: Text | None = None
    site: Annotated[dict[str, Any] | None, Field(
        description="new_site_proposed: the new site's properties (and boundary, location), as a new-site proposal "
                    "takes them")] = None


def _forms(name: str, model) -> tuple[type, type]:
    """JSON's fields as a form (or a data part of JSON text), and multipart with photos too."""
    fields = sorted([*model.model_fields, "data"])
    return (form(f"{name}Form", optional=fields),
            form(f"{name}Multipart", optional=fields,
                 photos=Annotated[list[bytes], Field(description="JPEG/PNG photos")]))


RescueCaseForm, RescueCaseMultipart = _forms("RescueCase", RescueCaseInput)
RescueEventForm, RescueEventMultipart = _forms("RescueEvent", RescueEventInput)


# ------------------------------------------------------------------------------------------------------ answers
class Clock(Answer):
    due: DateTime
    done_at: DateTime | None
    status: Literal["met", "missed", "open"]


class Clocks(Answer):
    on_site: Clock
    opinion: Clock


class _Case(Answer):
    id: Id
    source: RescueSource
    report_id: Id | None
    impact_case_id: Id | None
    reported_by: str
    reported_at: DateTime
    county: str | None
    description: str | None
    location: Point
    opened_at: DateTime
    opened_by: str
    status: Literal["open", "closed"]
    outcome: Outcome | None
    closed_at: DateTime | None
    closed_by: str | None
    clock: Clocks
    specimens: Count
    samples: Count
    url: str


class RescueCaseSummary(_Case):
    pass


class RescueProposal(Answer):
    id: Id
    status: ProposalStatus
    site: str | None
    url: str


class RescueEventDone(Answer):
    id: Id
    kind: RescueEvent
    done_at: DateTime
    recorded_at: DateTime
    recorded_by: str
    note: str | None
    specimens: Count | None
    samples: Count | None
    field_numbers: str | None
    kept_at: str | None
    revision_id: Id | None
    photo_count: Count


class RescuePhoto(Answer):
    sha256: str
    name: str
    url: str
    thumbnail_url: str


class RescueCase(_Case):
    """a rescue case with its legal clock (one case: its events and photos too)"""
    contact: Annotated[str | None, Field(description="private: for those who may record")] = None
    proposal: RescueProposal | None = None
    events: list[RescueEventDone] = None
    photos: list[RescuePhoto] = None


Met = create_model("ClockCounts", __base__=Answer, **{k: (Count, ...) for k in ("met", "missed", "open")})
BySource = create_model("CasesBySource", __base__=Answer, **{k.value: (Count, ...) for k in RescueSource})
ByOutcome = create_model("CasesByOutcome", __base__=Answer, **{k: (Count, ...) for k in rescues.OUTCOMES})


class RescueFigures(Answer):
    cases: Count
    open: Count
    closed: Count
    by_source: BySource
    by_outcome: ByOutcome
    on_site: Met
    opinion: Met
    specimens: Count
    samples: Count


class RescueCases(Answer):
    cases: list[RescueCaseSummary]
    figures: RescueFigures


MODELS = [RescueCase, RescueCases, RescueCaseInput, RescueEventInput]
