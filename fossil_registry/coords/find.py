"""Finding coordinates in free text, for the public view's redaction: every span that holds a coordinate, or part of
one, in any notation :mod:`.text` parses.
"""
from __future__ import annotations

import re
import unicodedata

from .base import GUIZHOU_BBOX, CoordinateError
from .text import _parse_angle_norm, parse_coordinate

# One-to-one character substitutions, so that positions in the normalized text are positions in the original: full-width
# digits and points (NFKC) and the many prime and degree signs of text._normalize.
_MARK_CHARS = {"º": "°", "˚": "°", "′": "'", "‘": "'", "’": "'", "´": "'", "`": "'", "″": '"', "“": '"', "”": '"',
               "〃": '"', "〇": "0", "：": ":", "．": "."}
_CLUSTER_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
# Numbers joined by angle marks (° ' " : 度 分 秒, d m s) or spaces form one cluster: a DMS angle, or a typed pair.
_CLUSTER = re.compile(rf"(?:{_CLUSTER_NUM})(?:(?:\s*[°'\":度分秒dDmMsS]\s*|\s+)(?:{_CLUSTER_NUM}))*\s*[°'\"度分秒]?")
_UNIT_AFTER = re.compile(r"\s*(?:km|m|cm|mm|Ma|ka|kg|%|‰|m²|km²|ha|米|千米|公里|厘米|毫米|万年|亿年|公斤|平方米|公顷|亩|个|件|块|人)"
                         r"(?![A-Za-z])")
_WINDOW_MARGIN = 3.0   # degrees around the region in which a number may be a site's longitude or latitude


def _char_normalized(text: str) -> str:
    out = []
    for ch in text:
        ch = _MARK_CHARS.get(ch, ch)
        folded = unicodedata.normalize("NFKC", ch)
        out.append(folded if len(folded) == 1 else ch)
    return "".join(out)


def _in_windows(value: float, region) -> bool:
    minx, miny, maxx, maxy = region
    m = _WINDOW_MARGIN
    return minx - m <= value <= maxx + m or miny - m <= value <= maxy + m


def _coordinate_like(cluster: str, numbers: list[str], followed_by_unit: bool, region) -> bool:
    values = [float(n.replace(",", "")) for n in numbers]
    integer_digits = [len(n.split(".")[0].replace(",", "")) for n in numbers]
    if any(d >= 6 for d in integer_digits):
        return True  # Gauss-Kruger X/Y or other metres (also phone numbers): never published for these sites
    if len(numbers) == 1 and followed_by_unit and not re.search(r"[°'\":度分秒]", cluster):
        return False  # a measure: 25.5 m, 2.4 km, 242 Ma
    try:  # what the coordinate toolkit reads here: a pair of coordinates, or one angle
        point = parse_coordinate(cluster, region=None)
        if _in_windows(point.lon, region) and _in_windows(point.lat, region):
            return True
    except (CoordinateError, ValueError):
        pass
    try:
        angle = _parse_angle_norm(cluster.strip(), cluster, validate=True)
        if _in_windows(abs(angle.value), region) and (angle.parts > 1 or "." in numbers[0]):
            return True
    except (CoordinateError, ValueError):
        pass
    if len(numbers) >= 2 and _in_windows(values[0], region):
        return True  # degrees followed by minutes (and seconds), however they are written
    return any("." in n and _in_windows(v, region) for n, v in zip(numbers, values))


def find_coordinates(text: str, region=GUIZHOU_BBOX) -> list[tuple[int, int]]:
    """Spans (start, end) of ``text`` that hold a coordinate, or part of one, in any notation this module parses:
    decimal degrees or DMS with or without marks, hemisphere letters or Chinese 度分秒 (full-width too), typed pairs,
    Gauss-Kruger X/Y in metres with or without the zone prefix. A number counts when it could be a longitude or
    latitude near ``region`` more precise than whole degrees, or when it has six or more digits before the point.
    Whole degrees alone, years, and measures with a unit (25.5 m, 242 Ma) are left in place."""
    if not text:
        return []
    norm = _char_normalized(text)
    spans = []
    for m in _CLUSTER.finditer(norm):
        cluster = m.group(0)
        numbers = re.findall(_CLUSTER_NUM, cluster)
        followed_by_unit = bool(_UNIT_AFTER.match(norm, m.end()))
        if _coordinate_like(cluster, numbers, followed_by_unit, region):
            start = m.start()
            end = m.end() - (len(cluster) - len(cluster.rstrip()))
            spans.append((start, end))
    return spans
