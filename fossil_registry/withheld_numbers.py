"""Numbers withheld from the public in the free text of sites whose location is not public (used by public_view).

A coordinate can be written in more ways than any parser reads: decimal or DMS with any marks, words between the
numbers ("25 degrees 54 minutes"), a decimal comma or an ideographic full stop, invisible characters inside, a unit
after it ("25.9123 m"), NMEA sentences, Gauss-Kruger metres grouped with spaces, Chinese numerals, or split across two
fields. So the rule is a list of what may stay, not a list of what must go: every number is withheld except a few
kinds that cannot say more about a site's place than its public 0.1-degree cell does:

* years (1800 to next year) and dates (2024-05-01, 2024年5月1日), times of day (10:15);
* measures and counts with a unit (25.5 m, 2.4 km, 242 Ma, 26 specimens, 第3层), at most one decimal and below 100,000;
* numbers of beds and members (bed 12, Member 2), up to three digits.

No Flask, no parsing of coordinates: this only decides which digits the public may read."""
from __future__ import annotations

import re
import unicodedata
from datetime import date

REDACTED = "[…]"

# One-to-one character substitutions, so that positions in the normalised text are positions in the original.
_FOLD = {"。": ".", "・": ".", "．": ".", "，": ",", "：": ":", "〇": "0"}
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CN_DIGITS = "〇零一二两三四五六七八九十百千万"
# Chinese numerals that are part of a coordinate: before 度/分/秒, or with a decimal point (点). 二叠纪 (Permian) stays.
_CN_NUMBER = re.compile(rf"[{_CN_DIGITS}]+(?:点[{_CN_DIGITS}]+)?(?=\s*[度分秒])|[{_CN_DIGITS}]+点[{_CN_DIGITS}]+")
_DATE = re.compile(r"(?<![\d.,:])(\d{4})(?:-(\d{1,2})-(\d{1,2})|/(\d{1,2})/(\d{1,2})|年(\d{1,2})月(?:(\d{1,2})日)?)"
                   r"(?![\d.,:])")
_TIME = re.compile(r"(?<![\d.,:'°])([01]?\d|2[0-3]):([0-5]\d)(?![\d:'\"°]|[.,]\d)")
_UNIT = re.compile(
    r"\s*(?:km²|m²|km|cm|mm|m|Ma|ka|kg|t|%|‰|ha|米|千米|公里|厘米|毫米|万年|亿年|公斤|吨|平方米|公顷|亩|个|件|块|具|枚|种|属|层|"
    r"次|人|specimens?|samples?|skeletons?|fossils?|individuals?|species|genera|layers?|beds?|metres?|meters?)"
    r"(?![A-Za-z\d])")
_ORDINAL_BEFORE = re.compile(r"(?:\b(?:beds?|layers?|members?|units?|horizons?|levels?|No\.?)|第|#)\s*$", re.IGNORECASE)
_AXIS_BEFORE = re.compile(r"(?:(?<![A-Za-z])[NSEWnsewXYxyBL]|lat|lon|lng|经|纬|[=:])\s*$")
# Between two withheld numbers, only marks and separators: shown as one REDACTED
_JOIN = re.compile(r"[\s°'\"′″.,:;/\\\-_度分秒dmsDMShH]*")


def _normalized(text: str) -> str:
    out = []
    for ch in text:
        ch = _FOLD.get(ch, ch)
        if unicodedata.category(ch) == "Cf":  # zero-width spaces and joiners, soft hyphens: they only hide digits
            out.append(" ")
            continue
        folded = unicodedata.normalize("NFKC", ch)
        out.append(folded if len(folded) == 1 else ch)
    return "".join(out)


def _kept_spans(norm: str) -> list[tuple[int, int]]:
    """Dates and times of day: their digits may stay."""
    this_year = date.today().year
    kept = []
    for m in _DATE.finditer(norm):
        year = int(m.group(1))
        month, day = (next((g for g in groups if g), None) for groups in ((m.group(2), m.group(4), m.group(6)),
                                                                          (m.group(3), m.group(5), m.group(7))))
        if 1800 <= year <= this_year + 1 and 1 <= int(month) <= 12 and (day is None or 1 <= int(day) <= 31):
            kept.append(m.span())
    kept += [m.span() for m in _TIME.finditer(norm)]
    return kept


def _may_stay(norm: str, m: re.Match) -> bool:
    number = m.group(0)
    before, after = norm[:m.start()], norm[m.end():]
    if re.fullmatch(r"\d{4}", number) and 1800 <= int(number) <= date.today().year + 1 \
            and not re.search(r"\d[.,:'°\-/]?\s?$", before) and not re.match(r"\s?[.,:'°\-/]?\d", after):
        return True  # a year on its own
    if re.fullmatch(r"\d{1,3}", number) and _ORDINAL_BEFORE.search(before) and not re.match(r"\s?[.,:'°\-/]?\d", after):
        return True  # bed 12, Member 2
    integer, _, fraction = number.replace(",", ".", 1).partition(".")
    return bool(_UNIT.match(after)) and len(fraction) <= 1 and len(integer) <= 5 and "," not in number[1:] \
        and not _AXIS_BEFORE.search(before) and not re.search(r"(\d|[°'\"′″度分])\s*[dDmM]?\s*$", before)


def withheld_numbers(text: str | None) -> list[tuple[int, int]]:
    """Spans of ``text`` to withhold from the public (see the module docstring), adjacent ones merged."""
    if not text:
        return []
    norm = _normalized(text)
    kept = _kept_spans(norm)
    spans = [m.span() for m in _NUMBER.finditer(norm)
             if not any(a <= m.start() and m.end() <= b for a, b in kept) and not _may_stay(norm, m)]
    spans += [m.span() for m in _CN_NUMBER.finditer(norm)]
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and _JOIN.fullmatch(norm[merged[-1][1]:start]):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def redact(text: str | None) -> str | None:
    """``text`` with the withheld numbers replaced by REDACTED."""
    if not text:
        return text
    out, last = [], 0
    for start, end in withheld_numbers(text):
        out += [text[last:start], REDACTED]
        last = end
    return "".join(out) + text[last:]
