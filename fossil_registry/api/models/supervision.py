"""Supervision: a period's figures and the charts of the dashboard and the annual report."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, create_model

from ... import supervision
from ...http.openapi import Answer
from ...vocab import Level
from .common import Count, Date

_MEDIANS = ("median_decision_days", "median_triage_hours")
WorkKind = Literal[supervision.WORK_KINDS]


class Period(Answer):
    from_: Annotated[Date, Field(alias="from")]
    to: Date
    year: int | None
    timezone: str


SitesByLevel = create_model("SitesByLevel", __base__=Answer, **{lv.value: (Count, ...) for lv in Level})
SupervisionSummary = create_model(
    "SupervisionSummary", __base__=Answer, __doc__="a period's figures (docs/supervision.md says what each counts)",
    period=(Period, ...), sites_by_level=(SitesByLevel, ...),
    **{k: ((float | None) if k in _MEDIANS else Count, ...) for k in supervision.SUMMARY_FIELDS})


class Series(Answer):
    key: str
    name: str
    data: list[float]
    color: str


class Chart(Answer):
    """one chart: categories, series (labels in the request's language), links to the lists"""
    id: str
    title: str
    kind: Literal["stacked", "grouped", "line"]
    horizontal: bool
    categories: list[str]
    series: list[Series]
    links: list[str | None] | None
    unit: str


class DashboardCharts(Answer):
    today: Date
    charts: list[Chart]


class WorkPoint(Answer):
    code: str
    name: str
    kind: WorkKind
    lon: float
    lat: float


class WorkLegend(Answer):
    key: WorkKind
    name: str
    count: Count
    color: str


class Work(Answer):
    total: Count
    points: list[WorkPoint]
    legend: list[WorkLegend]


class ReportCharts(Answer):
    period: Period
    charts: list[Chart]
    work: Work


MODELS = [Period, SupervisionSummary, Chart, DashboardCharts, ReportCharts]
