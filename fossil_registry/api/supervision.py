"""JSON API of supervision (staff): a period's figures, the charts' data, and the summary tables as CSV."""
from __future__ import annotations

from flask import Blueprint, jsonify

from .. import supervision
from ..db import get_conn
from ..http import openapi as api_spec
from ..http.openapi import (BOOLEAN, DATE, NUMBER, STRING, array, enum, file_response, json_response, nullable, obj,
                            op, param, path_param, problem_responses, ref)
from ..http.responses import csv_download
from ..http.security import require
from ..http.supervision import dashboard_data, label, report_data, request_period, settings

bp = Blueprint("supervision_api", __name__, url_prefix="/api/supervision")


@bp.get("/summary")
@require("supervision.read")
def summary():
    """``?year=YYYY`` or ``?from=YYYY-MM-DD&to=YYYY-MM-DD`` (this year so far when neither)."""
    s = settings()
    return jsonify(supervision.summary(get_conn(), request_period(s), s))


@bp.get("/charts")
@require("supervision.read")
def charts():
    """The dashboard's charts (categories, series, colours; labels in the request's language)."""
    figures, charts_ = dashboard_data()
    return jsonify({"today": figures["today"], "charts": charts_})


@bp.get("/report-charts")
@require("supervision.read")
def report_charts():
    """The annual report's charts for a period, and its map of the year's work (one point per site)."""
    period = request_period()
    report = report_data(period)
    return jsonify({"period": period.to_json(), "charts": supervision.charts.report_charts(report, label),
                    "work": {"total": report["work"]["total"], "points": report["work"]["points"],
                             "legend": supervision.charts.work_legend(report["work"]["counts"], label)}})


@bp.get("/<any(" + ", ".join(supervision.exports.TABLES) + "):table>.csv")
@require("supervision.read")
def table_csv(table: str):
    """One of the report's tables, complete, as CSV (UTF-8 with BOM) for a period."""
    period = request_period()
    columns, rows = supervision.exports.table(table, report_data(period, max_rows=None), settings().timezone)
    name = "-".join([table, *period.query().values()]) + ".csv"
    return csv_download(columns, rows, name)


# ------------------------------------------------------------------------------------------------------ OpenAPI
_COUNT = {"type": "integer", "minimum": 0}
_MEDIANS = ("median_decision_days", "median_triage_hours")
_PERIOD_PARAMS = [
    param("year", schema={"type": "string", "pattern": "^\\s*([0-9]{4})?\\s*$"},
          description=f"a calendar year from {supervision.EARLIEST.year} to this one (or from/to)"),
    param("from", schema={"type": "string", "pattern": "^\\s*([0-9]{4}-[0-9]{2}-[0-9]{2})?\\s*$"},
          description="the first day (with to, or to today)"),
    param("to", schema={"type": "string", "pattern": "^\\s*([0-9]{4}-[0-9]{2}-[0-9]{2})?\\s*$"},
          description="the last day (not in the future; needs from)")]
_CHART = obj({"id": STRING, "title": STRING, "kind": enum(["stacked", "grouped", "line"]), "horizontal": BOOLEAN,
              "categories": array(STRING), "series": array(obj({"key": STRING, "name": STRING,
                                                                "data": array(NUMBER), "color": STRING})),
              "links": nullable(array(nullable(STRING))), "unit": STRING},
             description="one chart: categories, series (labels in the request's language), links to the lists")
SCHEMAS = {
    "Period": obj({"from": DATE, "to": DATE, "year": nullable({"type": "integer"}), "timezone": STRING}),
    "SupervisionSummary": obj({
        "period": ref("Period"),
        **{k: (nullable(NUMBER) if k in _MEDIANS else _COUNT) for k in supervision.SUMMARY_FIELDS},
        "sites_by_level": obj({level: _COUNT for level in ("national", "provincial", "general")})},
        description="a period's figures (docs/supervision.md says what each counts)"),
    "Chart": _CHART,
    "DashboardCharts": obj({"today": DATE, "charts": array(ref("Chart"))}),
    "ReportCharts": obj({"period": ref("Period"), "charts": array(ref("Chart")), "work": obj({
        "total": _COUNT,
        "points": array(obj({"code": STRING, "name": STRING, "kind": enum(supervision.WORK_KINDS), "lon": NUMBER,
                             "lat": NUMBER})),
        "legend": array(obj({"key": enum(supervision.WORK_KINDS), "name": STRING, "count": _COUNT,
                             "color": STRING}))})}),
}
_TAGS = ["Supervision"]
_PERIOD_ERRORS = problem_responses(400, 403)
PATHS = {
    "/api/supervision/summary": {"get": op(
        "A period's figures (this year so far when no period is given)", tags=_TAGS, auth=True,
        operation_id="getSupervisionSummary", params=_PERIOD_PARAMS,
        responses={"200": json_response(ref("SupervisionSummary")), **_PERIOD_ERRORS})},
    "/api/supervision/charts": {"get": op(
        "The dashboard's charts for today", tags=_TAGS, auth=True, operation_id="getSupervisionCharts",
        responses={"200": json_response(ref("DashboardCharts")), **problem_responses(403)})},
    "/api/supervision/report-charts": {"get": op(
        "The annual report's charts and its map of the period's work", tags=_TAGS, auth=True,
        operation_id="getReportCharts", params=_PERIOD_PARAMS,
        responses={"200": json_response(ref("ReportCharts")), **_PERIOD_ERRORS})},
    "/api/supervision/{table}.csv": {"get": op(
        "One of the report's tables, complete, as CSV (UTF-8 with BOM)", tags=_TAGS, auth=True,
        operation_id="getSupervisionTable",
        params=[path_param("table", "which table", enum(supervision.exports.TABLES)), *_PERIOD_PARAMS],
        responses={"200": file_response("text/csv", "the table", headers={"Content-Disposition": {
            "schema": STRING, "description": "attachment; filename=<table>-<period>.csv"}}),
            **problem_responses(403, 404), **_PERIOD_ERRORS})},
}


def init_app(app) -> None:
    app.register_blueprint(bp)
    api_spec.register(app, PATHS, SCHEMAS)
