"""JSON API of supervision (staff): a period's figures, the charts' data, and the summary tables as CSV."""
from __future__ import annotations

from flask import Blueprint, jsonify

from .. import supervision
from ..db import get_conn
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


def init_app(app) -> None:
    app.register_blueprint(bp)
