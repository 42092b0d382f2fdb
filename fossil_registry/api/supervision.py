"""JSON API of supervision (staff): a period's figures, the charts' data, and the summary tables as CSV."""
from __future__ import annotations

from typing import Annotated, Literal

from flask import Blueprint, jsonify
from pydantic import Field

from .. import supervision
from ..db import get_conn
from ..http import openapi as api_spec
from ..http.openapi import file_response, header, json_response, op, param, path_param, problem_responses
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
def _openapi() -> tuple[dict, list]:
    """This area's paths in the OpenAPI document, and the models the document names whatever the paths do: made when
    the document is first asked for (http/openapi.register), not when the app is built."""
    from .models import supervision as m

    _YEAR = Annotated[str, Field(pattern="^\\s*([0-9]{4})?\\s*$")]
    _DAY = Annotated[str, Field(pattern="^\\s*([0-9]{4}-[0-9]{2}-[0-9]{2})?\\s*$")]
    _PERIOD_PARAMS = [
        param("year", schema=_YEAR, description=f"a calendar year from {supervision.EARLIEST.year} to this one (or "
                                                "from/to)"),
        param("from", schema=_DAY, description="the first day (with to, or to today)"),
        param("to", schema=_DAY, description="the last day (not in the future; needs from)")]
    _TAGS = ["Supervision"]
    _PERIOD_ERRORS = problem_responses(400, 403)
    PATHS = {
        "/api/supervision/summary": {"get": op(
            "A period's figures (this year so far when no period is given)", tags=_TAGS, auth=True,
            operation_id="getSupervisionSummary", params=_PERIOD_PARAMS,
            responses={"200": json_response(m.SupervisionSummary), **_PERIOD_ERRORS})},
        "/api/supervision/charts": {"get": op(
            "The dashboard's charts for today", tags=_TAGS, auth=True, operation_id="getSupervisionCharts",
            responses={"200": json_response(m.DashboardCharts), **problem_responses(403)})},
        "/api/supervision/report-charts": {"get": op(
            "The annual report's charts and its map of the period's work", tags=_TAGS, auth=True,
            operation_id="getReportCharts", params=_PERIOD_PARAMS,
            responses={"200": json_response(m.ReportCharts), **_PERIOD_ERRORS})},
        "/api/supervision/{table}.csv": {"get": op(
            "One of the report's tables, complete, as CSV (UTF-8 with BOM)", tags=_TAGS, auth=True,
            operation_id="getSupervisionTable",
            params=[path_param("table", "which table", Literal[supervision.exports.TABLES]), *_PERIOD_PARAMS],
            responses={"200": file_response("text/csv", "the table", headers={"Content-Disposition": header(
                "attachment; filename=<table>-<period>.csv", required=False)}),
                **problem_responses(403, 404), **_PERIOD_ERRORS})},
    }
    return PATHS, m.MODELS


def init_app(app) -> None:
    app.register_blueprint(bp)
    api_spec.register(app, _openapi)
