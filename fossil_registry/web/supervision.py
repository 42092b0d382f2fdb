"""Supervision pages for staff: the province dashboard (figures linking to the lists behind them, ECharts charts, the
province map), the list of sites behind a figure, and the annual work report as a printable page and as PDF."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from flask import Blueprint, Response, current_app, g, render_template, request
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from .. import county_context, supervision
from ..db import get_conn
from ..errors import InvalidInput, NotAcceptable
from ..http.security import require
from ..http.supervision import (FIGURE_LABELS, LABELS, dashboard_data, label, report_data, report_title, request_period,
                                settings)
from ..messages import msg
from ..vocab import Level, Sensitivity

if TYPE_CHECKING:  # annotations only: folium (~0.7 s) is imported by the first map page, not the start
    from .. import maps

bp = Blueprint("supervision", __name__)

LIST_LIMIT = 500


def init_app(app) -> None:
    supervision.Settings.from_config(app.config)  # a bad setting fails at start, not on a request
    app.register_blueprint(bp)


# ------------------------------------------------------------------------------------------------ dashboard
def _overdue_colour(share: float) -> str:
    """Green (no site overdue) through orange to red (half or more overdue)."""
    steps = ((0.0, "#1a9850"), (0.1, "#91cf60"), (0.25, "#fee08b"), (0.4, "#fc8d59"), (0.5, "#d73027"))
    colour = steps[0][1]
    for limit, c in steps:
        if share >= limit:
            colour = c
    return colour


def _province_map(figures: dict) -> maps.RenderedMap:
    """Counties as circles (area by number of sites, colour by the share overdue) with their counts, and the
    threats of the last twelve months where they were seen (colour by severity)."""
    from .. import maps

    m = maps.make_map(height="100%", fit_bounds=tuple(current_app.config["REGION_BBOX"]), context=maps.STAFF_CONTEXT,
                      **maps.basemap_options(current_app.config))
    counties = []
    for c in figures["counties"]:
        text = _("%(county)s: %(sites)d sites, %(overdue)d overdue, %(never)d never inspected",
                 county=c["county"] or "—", sites=c["sites"], overdue=c["overdue"], never=c["never_inspected"])
        counties.append(maps.marker(c["lon"], c["lat"], text=text, colour="#26343a",
                                    fill=_overdue_colour(c["overdue"] / c["sites"] if c["sites"] else 0),
                                    radius=6 + 3 * c["sites"] ** 0.5, weight=1.5, fill_opacity=0.75))
    colours = supervision.charts.COLOURS["severity"]
    threats = [maps.marker(t["lon"], t["lat"], colour="#fff", fill=colours[t["severity"]], radius=4, weight=1,
                           fill_opacity=0.95,
                           text=f"{t['code']} {t['name'] or ''} · {label('threat', t['threat'])} "
                                f"({label('severity', t['severity'])}) · {t['inspected_on']}")
               for t in reversed(figures["trends"]["threat_points"]) if t["lon"] is not None]
    return maps.render(m, g.csp_nonce, overlays=[maps.Overlay("counties", counties), maps.Overlay("threats", threats)])


@bp.get("/supervision")
@require("supervision.read")
def dashboard():
    figures, charts = dashboard_data()
    return render_template("supervision/dashboard.html", d=figures, s=figures["summary"],
                           charts={"charts": charts}, map=_province_map(figures), levels=Level,
                           labels=LABELS, settings=settings(), this_year=int(figures["today"][:4]))


# ------------------------------------------------------------------------------------------------ lists
def _choice(name: str, allowed) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        raise InvalidInput(msg("web.must_one_got", "{name} must be one of {allowed} (got {value!r})", name=name,
                               allowed=', '.join(allowed), value=value[:40]), field=name)
    return value


@bp.get("/supervision/sites", endpoint="sites")
@require("supervision.read")
def sites_list():
    s = settings()
    filters = {"level": _choice("level", Level.values()), "sensitivity": _choice("sensitivity", Sensitivity.values()),
               "status": _choice("status", supervision.SCHEDULE_STATUSES),
               "county": request.args.get("county"), "never": request.args.get("never") in ("1", "true")}
    found = supervision.site_list(get_conn(), s, supervision.today_in(s), limit=LIST_LIMIT, **filters)
    return render_template("supervision/sites.html", found=found, filters=filters, labels=LABELS, limit=LIST_LIMIT)


# ------------------------------------------------------------------------------------------------ annual report
def _report_context(for_pdf: bool) -> dict:
    period = request_period()
    report = report_data(period)
    language = str(get_locale() or "en")
    titles = {}
    for lang in ("zh", "en"):
        with force_locale(lang):
            titles[lang] = report_title(period, lang)
    charts = supervision.charts.report_charts(report, label)
    s = settings()
    context = county_context.load(current_app.config)
    work_map = supervision.svg.points_svg(
        report["work"]["points"], supervision.charts.COLOURS["work"], s.region_bbox,
        labels=[{"lon": c["lon"], "lat": c["lat"], "text": (c["county"] if language == "zh" else c["county_en"])
                 or c["county"]} for c in report["counties"] if c["lon"] is not None],
        title=titles[language], **county_context.report_outlines(context))
    return {"period": period, "r": report, "s": report["summary"], "titles": titles, "title": titles[language],
            "language": language, "charts": [(c, supervision.svg.chart_svg(c)) for c in charts],
            "work_map": work_map, "work_legend": supervision.charts.work_legend(report["work"]["counts"], label),
            "labels": LABELS, "for_pdf": for_pdf, "query": period.query(),
            "years": range(supervision.today_in(s).year, supervision.first_year(get_conn(), s,
                                                                              supervision.today_in(s)) - 1, -1),
            "tables": supervision.exports.TABLES, "today": supervision.today_in(s).isoformat(),
            "figure_rows": [(k, str(FIGURE_LABELS[k])) for k in supervision.SUMMARY_FIELDS]}


REPORT_FORMATS = ("html", "pdf")


@bp.get("/supervision/annual-report")
@require("supervision.read")
def annual_report():
    """The printable page; ``?format=pdf`` answers the PDF (as /supervision/annual-report.pdf does), any other format
    is refused (406), never ignored."""
    wanted = request.args.get("format") or "html"
    if wanted == "pdf":
        return annual_report_pdf()
    if wanted not in REPORT_FORMATS:
        raise NotAcceptable(msg("web.report_format_one_got", "format must be one of {allowed} (got {value!r})",
                                allowed=", ".join(REPORT_FORMATS), value=wanted[:20]))
    return render_template("supervision/report.html", **_report_context(False))


@bp.get("/supervision/annual-report.pdf")
@require("supervision.read")
def annual_report_pdf():
    context = _report_context(True)
    html = render_template("supervision/report_pdf.html", **context)
    pdf = supervision.pdf.html_to_pdf(html, stylesheets=[Path(current_app.static_folder) / "css" / "supervision.css"])
    name = "-".join(["annual-report", *context["query"].values()]) + ".pdf"
    return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": f"attachment; filename={name}"})
