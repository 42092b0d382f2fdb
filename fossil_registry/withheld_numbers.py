"""Numbers withheld from the public in the free text of sites whose location is not public (used by public_view).

A coordinate can be written in more ways than any parser reads: decimal or DMS with any marks, words between the
numbers ("25 degrees 54 minutes"), a decimal comma or an ideographic full stop, invisible characters inside, a unit
after it ("25.9123 m"), NMEA sentences, Gauss-Kruger metres grouped with spaces, Chinese numerals, or split across two
fields. So the rule is a list of what may stay, not a list of what must go: every number is withheld except a few
kinds that cannot say more about a site's place than its public 0.1-degree cell does:

* years (1800 to next year) and dates (2024-05-01, 2024年5月1日), times of day (10:15);
* measures and counts with a unit (25.5 m, 2.4 km, 242 Ma, 26 specimens, 第3层), at most one decimal and below 100,000;
* numbers of beds and members (bed 12, Member 2), up to three digits.

A measure is no longer small when it follows an axis word (Northing, Easting, 坐标, X=...), when it is 1,000 km or more
(2866 km is a latitude to the kilometre) or when it is part of a split measure (2866 km 123.4 m, 541 公里 234 米).

Chinese numerals (一二三…十百千万, the financial 壹贰叁肆伍陆柒捌玖拾佰仟, 〇/零, mixed with digits: 一0五) cannot be
a whitelist: place names and periods hold them (三叠纪, 五里坪, 第三层). They are withheld when they are angles (before
度分秒 or °′″), decimals (二十五点九), after an axis word (北纬二十五), written digit by digit (一〇五, 二八六六; years
such as 二〇二四年 stay) or 1,000 and more (二千八百六十六).

This is the second line: the first is that the public reads no internal text of a protected feature at all
(public_view). No Flask, no parsing of coordinates: this only decides which digits the public may read."""
from __future__ import annotations

import re
import unicodedata
from datetime import date

REDACTED = "[…]"

# One-to-one character substitutions, so that positions in the normalised text are positions in the original.
_FOLD = {"。": ".", "・": ".", "．": ".", "，": ",", "：": ":"}
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_DATE = re.compile(r"(?<![\d.,:])(\d{4})(?:-(\d{1,2})-(\d{1,2})|/(\d{1,2})/(\d{1,2})|年(\d{1,2})月(?:(\d{1,2})日)?)"
                   r"(?![\d.,:])")
_TIME = re.compile(r"(?<![\d.,:'°])([01]?\d|2[0-3]):([0-5]\d)(?![\d:'\"°]|[.,]\d)")
_LENGTH = r"(?:km|cm|mm|m|千米|公里|厘米|毫米|米|metres?|meters?)"
_UNIT = re.compile(
    r"\s*(?:km²|m²|km|cm|mm|m|Ma|ka|kg|t|%|‰|ha|米|千米|公里|厘米|毫米|万年|亿年|公斤|吨|平方米|公顷|亩|个|件|块|具|枚|种|属|层|"
    r"次|人|specimens?|samples?|skeletons?|fossils?|individuals?|species|genera|layers?|beds?|metres?|meters?)"
    r"(?![A-Za-z\d])")
_KILOMETRES = re.compile(r"\s*(?:km|千米|公里)(?![A-Za-z\d])")
_ORDINAL_BEFORE = re.compile(r"(?:\b(?:beds?|layers?|members?|units?|horizons?|levels?|No\.?)|第|#)\s*$", re.IGNORECASE)
_AXIS_BEFORE = re.compile(r"(?:(?<![A-Za-z])[NSEWnsewXYxyBL]|lat|lon|lng|northings?|eastings?|经|纬|坐标|北距|东距|[=:])"
                          r"\s*(?:约|about)?\s*$", re.IGNORECASE)
# A number with a length unit before or after another one: a split measure (2866 km 123.4 m)
_SPLIT_AFTER = re.compile(rf"\s*{_LENGTH}\s*\d")
_SPLIT_BEFORE = re.compile(rf"\d\s*{_LENGTH}\s*$")
# Chinese numerals: digits (also financial and traditional forms, and ASCII digits typed among them) and magnitudes
_CN_VALUES = {**{c: 0 for c in "〇零0"}, **{c: 1 for c in "一壹1"}, **{c: 2 for c in "二两贰貳2"},
              **{c: 3 for c in "三叁參3"}, **{c: 4 for c in "四肆4"}, **{c: 5 for c in "五伍5"},
              **{c: 6 for c in "六陆陸6"}, **{c: 7 for c in "七柒7"}, **{c: 8 for c in "八捌8"},
              **{c: 9 for c in "九玖9"}}
_CN_MAGNITUDES = {**{c: 10 for c in "十拾"}, **{c: 100 for c in "百佰"}, **{c: 1000 for c in "千仟"},
                  **{c: 10000 for c in "万萬"}}
_CN_DIGIT = "".join(c for c in _CN_VALUES if not c.isdigit())
_CN_ANY = _CN_DIGIT + "".join(_CN_MAGNITUDES) + "0-9"
# A run of them is a number when it holds at least one Chinese digit (千 of 千米, 万 of 万年 alone are no numbers)
_CN_RUN = re.compile(rf"[{_CN_ANY}]+")
# How much text around a number its rules look at (the words and marks next to it), so that a long text costs linear time
_CONTEXT = 64
_CN_ANGLE_AFTER = re.compile(r"\s*[度分秒°′″'\"º]")
_CN_DECIMAL = re.compile(rf"\s*[点.]\s*[{_CN_ANY}]")
_CN_DECIMAL_BEFORE = re.compile(rf"[{_CN_ANY}]\s*[点.]\s*$")
# Between two withheld numbers, only marks and separators: shown as one REDACTED
_JOIN = re.compile(r"[\s°'\"′″.,:;/\\\-_度分秒点dmsDMShH]*")


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
    before, after = norm[max(0, m.start() - _CONTEXT):m.start()], norm[m.end():m.end() + _CONTEXT]
    if re.fullmatch(r"\d{4}", number) and 1800 <= int(number) <= date.today().year + 1 \
            and not re.search(r"\d[.,:'°\-/]?\s?$", before) and not re.match(r"\s?[.,:'°\-/]?\d", after):
        return True  # a year on its own
    if re.fullmatch(r"\d{1,3}", number) and _ORDINAL_BEFORE.search(before) and not re.match(r"\s?[.,:'°\-/]?\d", after):
        return True  # bed 12, Member 2
    integer, _, fraction = number.replace(",", ".", 1).partition(".")
    return bool(_UNIT.match(after)) and len(fraction) <= 1 and len(integer) <= 5 and "," not in number[1:] \
        and not (_KILOMETRES.match(after) and len(integer) > 3) and _whole_measure(before, after)


def _whole_measure(before: str, after: str) -> bool:
    """A measure that is not a coordinate's part: no axis word before it, no angle mark, not one piece of a split
    measure (2866 km 123.4 m)."""
    return not _AXIS_BEFORE.search(before) and not re.search(r"(\d|[°'\"′″度分])\s*[dDmM]?\s*$", before) \
        and not _SPLIT_AFTER.match(after) and not _SPLIT_BEFORE.search(before)


def _cn_value(run: str) -> int:
    """The value of a run of Chinese numerals: positional (一〇五 = 105) or with magnitudes (一百零五 = 105)."""
    if len(run) > 12:
        return 10 ** 12  # withheld whatever it says (and no huge integers made of a long run)
    if not any(ch in _CN_MAGNITUDES for ch in run):
        return int("".join(str(_CN_VALUES[ch]) for ch in run))
    total = section = digit = 0
    for ch in run:
        if ch in _CN_VALUES:
            digit = digit * 10 + _CN_VALUES[ch] if ch.isdigit() else _CN_VALUES[ch]
        elif _CN_MAGNITUDES[ch] == 10000:
            total, section, digit = (total + section + digit) * 10000, 0, 0
        else:
            section += (digit or 1) * _CN_MAGNITUDES[ch]
            digit = 0
    return total + section + digit


def _cn_may_stay(norm: str, m: re.Match) -> bool:
    """A run of Chinese numerals that names or counts (三叠纪, 五里坪, 第三层, 两公里, 二〇二四年), not a coordinate."""
    run, before, after = m.group(0), norm[max(0, m.start() - _CONTEXT):m.start()], norm[m.end():m.end() + _CONTEXT]
    value = _cn_value(run)
    if after.startswith("年") and 1800 <= value <= date.today().year + 1:
        return True  # a year, in either way of writing it
    positional = len(run) >= 3 and not any(ch in _CN_MAGNITUDES for ch in run)
    return not positional and value < 1000 and not _CN_ANGLE_AFTER.match(after) and not _CN_DECIMAL.match(after) \
        and not _CN_DECIMAL_BEFORE.search(before) and _whole_measure(before, after)


def withheld_numbers(text: str | None) -> list[tuple[int, int]]:
    """Spans of ``text`` to withhold from the public (see the module docstring), adjacent ones merged."""
    if not text:
        return []
    norm = _normalized(text)
    kept = _kept_spans(norm)
    spans = [m.span() for m in _NUMBER.finditer(norm)
             if not any(a <= m.start() and m.end() <= b for a, b in kept) and not _may_stay(norm, m)]
    spans += [m.span() for m in _CN_RUN.finditer(norm)
              if any(ch in _CN_DIGIT for ch in m.group(0)) and not _cn_may_stay(norm, m)]
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
