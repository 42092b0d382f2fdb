"""The annual report as PDF: its HTML (the same page as the printable report, without scripts and interactive maps)
laid out by WeasyPrint with the report's stylesheets (print media). Chinese needs a CJK font on the machine (Debian's
fonts-noto-cjk, installed by .ci/run); WeasyPrint finds it through fontconfig.

The stylesheets are handed over as files; WeasyPrint may fetch nothing else: the URL fetcher refuses every address, so
no text in the report can make the server fetch a URL (and nothing leaves the machine)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence


class FetchRefused(ValueError):
    """The report referred to a URL: it may not (charts and maps are inline SVG, styles are given as files)."""


def _refuse(url: str, *args, **kwargs):
    raise FetchRefused(f"the PDF report fetches nothing (asked for {url[:80]!r})")


def html_to_pdf(html: str, *, stylesheets: Sequence[str | Path]) -> bytes:
    """PDF bytes of ``html`` laid out with the given CSS files."""
    from weasyprint import CSS, HTML

    sheets = [CSS(filename=str(path), url_fetcher=_refuse) for path in stylesheets]
    return HTML(string=html, url_fetcher=_refuse).write_pdf(stylesheets=sheets)
