"""Reading what surveyors and curators type: one angle (:func:`parse_angle`: decimal degrees, DMS in every common
notation, Chinese 度分秒, hemisphere letters) or one coordinate pair (:func:`parse_coordinate`: geographic in either
order, or projected metres, Gauss-Kruger X/Y with or without the zone prefix, in any CRS :func:`.crs.resolve_crs`
knows) into a CGCS2000 point; and writing an angle as DMS (:func:`format_dms`).

Only this text parser follows the Chinese survey habit that X is the northing; every array function of the package
takes x, y = easting/longitude, northing/latitude.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field

from ..geometry import GEOD
from .base import GUIZHOU_BBOX, CoordinateError, _check_lat, _check_lon, _num
from .crs import CRSInfo, Helmert7, _datum_shift_note, _is_gauss_kruger, _to_cgcs, resolve_crs
from .gauss_kruger import _read_gauss_kruger
from ..messages import msg


@dataclass
class ParsedPoint:
    lon: float
    lat: float
    crs: str
    warnings: list[str] = field(default_factory=list)
    source: str = ""


def format_dms(value: float, positive: str, negative: str, decimals: int = 2) -> str:
    """25.9034 -> 25°54′12.24″N (rounding carries into minutes and degrees)."""
    if not math.isfinite(value):
        raise CoordinateError(msg("coords.number_2", "{value!r} is not a number", value=value))
    scale = 10 ** decimals
    units = round(abs(value) * 3600 * scale)
    deg, rem = divmod(units, 3600 * scale)
    minutes, sec_units = divmod(rem, 60 * scale)
    width = 3 + decimals if decimals else 2
    hemi = negative if value < 0 and units else positive
    return f"{deg}°{minutes:02d}′{sec_units / scale:0{width}.{decimals}f}″{hemi}"


def _deg(v: float, pos: str, neg: str) -> str:
    text = f"{abs(v):.6f}".rstrip("0").rstrip(".")
    return f"{text}{pos if v >= 0 else neg}"


def _lonlat_text(lon: float, lat: float) -> str:
    return f"{_deg(lon, 'E', 'W')} {_deg(lat, 'N', 'S')}"


_BEFORE_NFKC = [("º", "°"), ("˚", "°"), ("〇", "0")]  # NFKC would turn º into 'o'
_CHINESE = [("北纬", " N "), ("南纬", " S "), ("东经", " E "), ("西经", " W "), ("纬度", " lat "), ("经度", " lon "),
            ("北", " N "), ("南", " S "), ("东", " E "), ("西", " W "), ("纬", " lat "), ("经", " lon "),
            ("度", "°"), ("分", "'"), ("秒", '"'), ("、", ",")]
_AFTER_NFKC = [("′′", '"'), ("″", '"'), ("′", "'"), ("‘", "'"), ("’", "'"), ("´", "'"), ("`", "'"),
               ("“", '"'), ("”", '"'), ("〃", '"'), ("''", '"'), ("−", "-"), ("–", "-"), ("—", "-")]


def _normalize(text: str) -> str:
    s = text
    for a, b in _BEFORE_NFKC:
        s = s.replace(a, b)
    s = unicodedata.normalize("NFKC", s)  # full-width digits, letters and ，：；＝ become ASCII
    for a, b in _CHINESE + _AFTER_NFKC:
        s = s.replace(a, b)
    # 25d54m12.3s: 'd' after a number is a degree mark; 'm' only after degrees (otherwise it means metres);
    # a lowercase 's' right after the seconds number is a seconds mark (uppercase 'S' stays south).
    s = re.sub(r"(?<=[\d.])\s*[dD](?![A-Za-z])", "°", s)
    s = re.sub(r"(°\s*\d+(?:\.\d*)?)\s*[mM](?![A-Za-z])", r"\1'", s)
    s = re.sub(r"('\s*\d+(?:\.\d*)?)\s*s", r'\1"', s)
    return s.strip()


_NUM = r"(?:\d+(?:\.\d*)?|\.\d+)"
_ANGLE_ITEM = re.compile(rf"\s*({_NUM})\s*([°'\":])?\s*")
_MARK_SLOT = {"°": 0, "'": 1, '"': 2}
_HEMI = {"N": ("lat", 1), "S": ("lat", -1), "E": ("lon", 1), "W": ("lon", -1)}
_AXIS_NAME = {"lat": "latitude", "lon": "longitude", None: "angle"}


@dataclass
class _Angle:
    value: float       # signed
    axis: str | None   # 'lat', 'lon' or None
    parts: int         # 1 = decimal degrees, 2 = degrees+minutes, 3 = DMS
    marked: bool       # had °, ', " marks or a hemisphere letter


def _parse_angle_norm(s: str, shown: str, field: str | None = None, *, validate: bool = True) -> _Angle:
    body = s.strip()
    if not body:
        raise CoordinateError(msg("coords.no_angle", "no angle was entered") if not shown else
                              msg("coords.no_number", "could not read '{shown}': no number", shown=shown), field)
    hemi, sign, body = _hemisphere_and_sign(body, shown, field)
    slots, marked = _angle_slots(body, shown, field)
    deg = float(slots[0])
    minutes = float(slots[1]) if slots[1] is not None else 0.0
    seconds = float(slots[2]) if slots[2] is not None else 0.0
    axis = _HEMI[hemi][0] if hemi else None
    parts = 3 if slots[2] is not None else 2 if slots[1] is not None else 1
    if validate:
        _check_angle_parts(deg, minutes, seconds, parts, shown, field)
    value = sign * (deg + minutes / 60.0 + seconds / 3600.0)
    if hemi:
        value *= _HEMI[hemi][1]
    if validate:
        limit = 90.0 if axis == "lat" else 180.0
        if abs(value) > limit:
            raise CoordinateError(msg("coords.out_range_2", "{axis_name} {value} is out of range "
                                      "(-{limit:g}..{limit:g})", axis_name=_AXIS_NAME[axis], value=_num(value),
                                      limit=limit),
                                  _AXIS_NAME[axis] if axis else field)
    return _Angle(value, axis, parts, marked or hemi is not None)


def _hemisphere_and_sign(body: str, shown: str, field: str | None) -> tuple[str | None, int, str]:
    """Take a leading or trailing hemisphere letter and a sign off an angle: (hemisphere, sign, the rest)."""
    hemi = None
    m = re.match(r"([NSEWnsew])(?![A-Za-z])\s*", body)
    if m:
        hemi, body = m.group(1).upper(), body[m.end():]
    m = re.search(r"(?<![A-Za-z])\s*([NSEWnsew])$", body)
    if m:
        if hemi:
            raise CoordinateError(msg("coords.could_read_two_hemisphere", "could not read '{shown}': it has two "
                                      "hemisphere letters", shown=shown), field)
        hemi, body = m.group(1).upper(), body[: m.start()]
    sign = 1
    m = re.match(r"([+-])\s*", body)
    if m:
        if hemi and m.group(1) == "-":
            raise CoordinateError(msg("coords.could_read_use_either", "could not read '{shown}': use either a minus "
                                      "sign or the hemisphere letter {hemi}, not both", shown=shown, hemi=hemi), field)
        sign, body = (-1 if m.group(1) == "-" else 1), body[m.end():]
    return hemi, sign, body


def _angle_slots(body: str, shown: str, field: str | None) -> tuple[list[str | None], bool]:
    """The degrees, minutes and seconds numbers of an unsigned angle (None where absent), and whether any had a mark."""
    slots: list[str | None] = [None, None, None]
    last, pos, marked = -1, 0, False
    while pos < len(body):
        m = _ANGLE_ITEM.match(body, pos)
        if not m or m.end() == pos:
            bad = body[pos:].strip()[:1] or body[pos]
            raise CoordinateError(msg("coords.could_read_unexpected", "could not read '{shown}': unexpected '{bad}'",
                                      shown=shown, bad=bad), field)
        num, mark = m.groups()
        slot = _MARK_SLOT.get(mark, last + 1)
        if slot > 2:
            raise CoordinateError(msg("coords.could_read_too_many", "could not read '{shown}': too many numbers for "
                                      "one angle", shown=shown), field)
        if slot <= last:
            raise CoordinateError(msg("coords.could_read_expected_degrees", "could not read '{shown}': expected "
                                      "degrees, minutes and seconds in that order", shown=shown),
                                  field)
        marked = marked or mark in _MARK_SLOT
        slots[slot], last, pos = num, slot, m.end()
    if slots[0] is None:
        raise CoordinateError(msg("coords.could_read_degrees_missing", "could not read '{shown}': the degrees are "
                                  "missing", shown=shown), field)
    return slots, marked


def _check_angle_parts(deg: float, minutes: float, seconds: float, parts: int, shown: str, field: str | None):
    if parts > 1 and not deg.is_integer():
        raise CoordinateError(msg("coords.could_read_degrees_decimals", "could not read '{shown}': degrees with "
                                  "decimals cannot be followed by minutes", shown=shown),
                              field)
    if parts > 2 and not minutes.is_integer():
        raise CoordinateError(msg("coords.could_read_minutes_decimals", "could not read '{shown}': minutes with "
                                  "decimals cannot be followed by seconds", shown=shown), field)
    if minutes >= 60:
        raise CoordinateError(msg("coords.could_read_minutes_must", "could not read '{shown}': minutes must be below "
                                  "60", shown=shown), field or "minutes")
    if seconds >= 60:
        raise CoordinateError(msg("coords.could_read_seconds_must", "could not read '{shown}': seconds must be below "
                                  "60", shown=shown), field or "seconds")


def parse_angle(text: str) -> float:
    """Parse one angle (decimal, DMS, degrees + decimal minutes, Chinese 度分秒, hemisphere letters) to degrees."""
    if text is None or not str(text).strip():
        raise CoordinateError(msg("coords.angle_entered", "no angle was entered"))
    text = str(text)
    return _parse_angle_norm(_normalize(text), text.strip()).value


_TOKEN = re.compile(r"\s*([+-]?" + _NUM + r"|[°'\":]|[NSEWnsew](?![A-Za-z])|[,;/])")
_LABELS = re.compile(
    r"(?<![A-Za-z])(?:(?P<lat>latitude|lat|[Bφ](?=\s*[=:]))|(?P<lon>longitude|long|lng|lon|[Lλ](?=\s*[=:]))"
    r"|(?P<north>northing|N(?=\s*[=:]))|(?P<east>easting|E(?=\s*[=:]))|(?P<x>[Xx])|(?P<y>[Yy]))(?![A-Za-z])"
    r"\s*[=:]?\s*",
    re.IGNORECASE)


def _find_labels(s: str) -> dict[str, str] | None:
    matches = list(_LABELS.finditer(s))
    if not matches:
        return None
    if s[: matches[0].start()].strip(" ,;/"):
        raise CoordinateError(msg("coords.could_read_unexpected_before", "could not read '{s}': unexpected '{s2}' "
                                  "before '{value}'", s=s, s2=s[: matches[0].start()].strip(),
                                  value=matches[0].group(0).strip()))
    found: dict[str, str] = {}
    for i, m in enumerate(matches):
        kind = m.lastgroup
        end = matches[i + 1].start() if i + 1 < len(matches) else len(s)
        value = s[m.end(): end].strip().strip(",;/").strip()
        if kind in found:
            raise CoordinateError(msg("coords.could_read_appears_twice", "could not read '{s}': '{value}' appears "
                                      "twice", s=s, value=m.group(0).strip(' =:')))
        if not value:
            raise CoordinateError(msg("coords.could_read_value_after", "could not read '{s}': no value after "
                                      "'{value}'", s=s, value=m.group(0).strip(' =:')))
        found[kind] = value
    return found


def _tokens(s: str, shown: str):
    out, pos = [], 0
    while pos < len(s):
        m = _TOKEN.match(s, pos)
        if not m:
            rest = s[pos:].strip()
            if not rest:
                break
            raise CoordinateError(msg("coords.could_read_unexpected_2", "could not read '{shown}': unexpected "
                                      "'{rest}'", shown=shown, rest=rest[:1]))
        if m.group(1)[0] in "+-" and m.start(1) == pos and out and out[-1].group(1)[-1].isdigit():
            raise CoordinateError(msg("coords.could_read_sign_separator", "could not read '{shown}': is '{value}' a "
                                      "sign or a separator? Separate the two values with a comma or a space",
                                      shown=shown, value=m.group(1)[0]))
        out.append(m)
        pos = m.end()
    return out


def _split_pair(s: str, shown: str) -> tuple[str, str]:
    """Split a typed pair of angles into its two halves."""
    toks = _tokens(s, shown)
    seps = [t for t in toks if t.group(1) in ",;/"]
    if len(seps) > 1:
        raise CoordinateError(msg("coords.could_read_expected_two", "could not read '{shown}': expected two values "
                                  "separated by one comma", shown=shown))
    if seps:
        left, right = s[: seps[0].start(1)].strip(), s[seps[0].end():].strip()
        if not left or not right:
            raise CoordinateError(msg("coords.could_read_expected_two_3", "could not read '{shown}': expected two "
                                      "values (latitude and longitude)", shown=shown))
        return left, right
    candidates = [(s[: t.start(1)].strip(), s[t.start(1):].strip()) for t in toks[1:]]
    structural = []
    for left, right in candidates:
        try:
            a = _parse_angle_norm(left, left, validate=False)
            b = _parse_angle_norm(right, right, validate=False)
        except CoordinateError:
            continue
        structural.append((left, right, a.parts == b.parts))
    if not structural:
        n = sum(1 for t in toks if t.group(1)[-1].isdigit())
        if n < 2:
            raise CoordinateError(msg("coords.could_read_expected_two_3", "could not read '{shown}': expected two "
                                      "values (latitude and longitude)", shown=shown))
        raise CoordinateError(msg("coords.could_read_could_tell", "could not read '{shown}': could not tell where "
                                  "one value ends and the other begins; separate them with a comma", shown=shown))
    valid = []
    for left, right, same in structural:
        try:
            _parse_angle_norm(left, left)
            _parse_angle_norm(right, right)
        except CoordinateError:
            continue
        valid.append((left, right, same))
    pool = valid or structural
    if len(pool) > 1:
        pool = [c for c in pool if c[2]] or pool
    if len(pool) > 1:
        raise CoordinateError(msg("coords.could_read_could_tell", "could not read '{shown}': could not tell where "
                                  "one value ends and the other begins; separate them with a comma", shown=shown))
    return pool[0][0], pool[0][1]


def _in_region(lon: float, lat: float, region) -> bool:
    return region[0] <= lon <= region[2] and region[1] <= lat <= region[3]


def _region_text(region) -> str:
    name = "Guizhou" if tuple(region) == GUIZHOU_BBOX else "the expected area"
    return f"{name} ({region[0]:g}-{region[2]:g}E, {region[1]:g}-{region[3]:g}N)"


def _assign_lonlat(a: _Angle, b: _Angle, a_text: str, b_text: str, region, warns: list[str],
                   shown: str) -> tuple[float, float]:
    """Decide which of two angles (in typed order) is the longitude; default order is lon, lat (x, y)."""
    if a.axis and b.axis:
        if a.axis == b.axis:
            both = "latitudes (N/S)" if a.axis == "lat" else "longitudes (E/W)"
            raise CoordinateError(msg("coords.could_read_both_values", "could not read '{shown}': both values are "
                                      "{both}; one must be a {value}", shown=shown, both=both,
                                      value='longitude (E/W)' if a.axis == 'lat' else 'latitude (N/S)'))
        return (a.value, b.value) if a.axis == "lon" else (b.value, a.value)
    if a.axis or b.axis:
        known, other = (a, b) if a.axis else (b, a)
        lon, lat = (known.value, other.value) if known.axis == "lon" else (other.value, known.value)
        if abs(lat) > 90:
            raise CoordinateError(msg("coords.latitude_out_range", "latitude {lat} is out of range (-90..90)",
                                      lat=_num(lat)), "latitude")
        return lon, lat
    if abs(a.value) > 90 and abs(b.value) > 90:
        raise CoordinateError(msg("coords.could_read_neither_nor", "could not read '{shown}': neither '{a_text}' nor "
                                  "'{b_text}' can be a latitude (-90..90)", shown=shown, a_text=a_text, b_text=b_text), "latitude")
    if abs(b.value) > 90:
        lat, lon = a.value, b.value
        warns.append(msg("coords.values_looked_swapped_latitude", "values looked swapped (latitude first); read as "
                         "{lon}", lon=_lonlat_text(lon, lat)))
        return lon, lat
    if abs(a.value) > 90:
        return a.value, b.value
    # Both values could be either: let the region decide, else keep the x, y order.
    as_typed = region is not None and _in_region(a.value, b.value, region)
    swapped = region is not None and _in_region(b.value, a.value, region)
    if swapped and not as_typed:
        warns.append(msg("coords.order_inferred_read_latitude", "order inferred: read as latitude {value}, longitude "
                         "{value2} ({value3}) because only that order lies inside {region}", value=_num(a.value),
                         value2=_num(b.value), value3=_lonlat_text(b.value, a.value), region=_region_text(region)))
        return b.value, a.value
    if not as_typed:
        warns.append(msg("coords.could_tell_which_value", "could not tell which value is the latitude; read as "
                         "longitude, latitude ({value}) - add N/E letters or lat=/lon= labels to be sure",
                         value=_lonlat_text(a.value, b.value)))
    return a.value, b.value


def _parse_geographic(s: str, shown: str, labels: dict | None, region, warns: list[str]) -> tuple[float, float]:
    if labels is not None and ("lat" in labels or "lon" in labels or "north" in labels or "east" in labels):
        lat_text = labels.get("lat", labels.get("north"))
        lon_text = labels.get("lon", labels.get("east"))
        extra = set(labels) - {"lat", "lon", "north", "east"}
        if lat_text is None or lon_text is None or extra or len(labels) != 2:
            raise CoordinateError(msg("coords.could_read_expected_one", "could not read '{shown}': expected one "
                                      "latitude and one longitude", shown=shown))
        lat_a = _parse_angle_norm(lat_text, lat_text, "latitude")
        lon_a = _parse_angle_norm(lon_text, lon_text, "longitude")
        if lat_a.axis == "lon" or lon_a.axis == "lat":
            raise CoordinateError(msg("coords.could_read_hemisphere_letters", "could not read '{shown}': the "
                                      "hemisphere letters contradict the latitude/longitude labels", shown=shown))
        if abs(lat_a.value) > 90:
            raise CoordinateError(msg("coords.latitude_out_range_2", "latitude {value} is out of range (-90..90)",
                                      value=_num(lat_a.value)), "latitude")
        return lon_a.value, lat_a.value
    if labels is not None:  # X=/Y= with degrees: treated like an unlabelled pair in typed order
        if set(labels) != {"x", "y"}:
            raise CoordinateError(msg("coords.could_read_expected_one", "could not read '{shown}': expected one "
                                      "latitude and one longitude", shown=shown))
        a_text, b_text = labels["x"], labels["y"]
    else:
        a_text, b_text = _split_pair(s, shown)
    a = _parse_angle_norm(a_text, a_text)
    b = _parse_angle_norm(b_text, b_text)
    return _assign_lonlat(a, b, a_text, b_text, region, warns, shown)


_METRES = re.compile(rf"([+-]?{_NUM})\s*(?:m|米)?")


def _metres(text: str, what: str) -> float:
    m = _METRES.fullmatch(text.strip())
    if not m:
        raise CoordinateError(msg("coords.could_read_metres", "could not read '{text}' as {what} in metres", text=text,
                                  what=what), what)
    return float(m.group(1))


def _projected_pair(s: str, shown: str, labels: dict | None, gk: bool) -> tuple[float, float, bool]:
    """The two numbers of typed projected coordinates: (northing, easting, whether they were labelled)."""
    if labels is not None:
        if labels.keys() & {"lat", "lon"}:
            raise CoordinateError(msg("coords.could_read_latitude_longitude", "could not read '{shown}': "
                                      "latitude/longitude labels but the values look like metres", shown=shown))
        north_key = "north" if "north" in labels else ("x" if gk else "y")
        east_key = "east" if "east" in labels else ("y" if gk else "x")
        if set(labels) != {north_key, east_key}:
            raise CoordinateError(msg("coords.could_read_expected_x", "could not read '{shown}': expected X "
                                      "(northing) and Y (easting)", shown=shown))
        return _metres(labels[north_key], "northing"), _metres(labels[east_key], "easting"), True
    parts = re.split(r"\s*[,;/]\s*", s) if re.search(r"[,;/]", s) else s.split()
    parts = [p for p in parts if p.strip()]
    if len(parts) != 2:
        raise CoordinateError(msg("coords.could_read_expected_two_2", "could not read '{shown}': expected two "
                                  "numbers, X (northing) and Y (easting)", shown=shown))
    first, second = _metres(parts[0], "northing"), _metres(parts[1], "easting")
    # Chinese survey convention types X (northing) first; other projections are typed x (easting) first.
    return (first, second, False) if gk else (second, first, False)


def _parse_projected(s: str, shown: str, labels: dict | None, info: CRSInfo | None, region, warns: list[str],
                     helmert) -> tuple[float, float, CRSInfo]:
    gk = info is None or _is_gauss_kruger(info)
    northing, easting, labelled = _projected_pair(s, shown, labels, gk)
    if gk:
        northing, easting, info = _read_gauss_kruger(northing, easting, info, warns)

    lon, lat = _to_cgcs(easting, northing, info, helmert)
    lon, lat = float(lon), float(lat)
    if not gk and not labelled and region is not None and not _in_region(lon, lat, region):
        try:
            slon, slat = (float(v) for v in _to_cgcs(northing, easting, info, helmert))
        except CoordinateError:
            slon = slat = None
        if slon is not None and _in_region(slon, slat, region):
            warns.append(msg("coords.x_y_looked_swapped_2", "x and y looked swapped; read as x={northing} y={easting}",
                             northing=_num(northing), easting=_num(easting)))
            lon, lat = slon, slat
    return lon, lat, info


def _looks_projected(s: str, labels: dict | None) -> bool | None:
    """True for metres, False for degrees, None if mixed."""
    texts = list(labels.values()) if labels else [s]
    if re.search(r"[°'\"NSEWnsew]", " ".join(texts)):
        return False
    numbers = [abs(float(n)) for n in re.findall(rf"[+-]?{_NUM}", " ".join(texts))]
    big = [n > 360 for n in numbers]
    if all(big) and numbers:
        return True
    if any(big):
        return None
    return False


def parse_coordinate(text: str, crs=None, *, region=GUIZHOU_BBOX, helmert: Helmert7 | None = None) -> ParsedPoint:
    """Parse a typed coordinate pair into a CGCS2000 point.

    Geographic input may be decimal or DMS in either order (hemisphere letters, labels, value ranges and the region
    decide which is which).  Projected input follows the Chinese convention X = northing, Y = easting; a zone
    prefix on the easting selects the CGCS2000 Gauss-Kruger zone when no CRS is given.  ``helmert`` is passed on
    for Xian 1980 / Beijing 1954 input.  Problems that can be fixed are reported in ``warnings``.
    """
    if text is None or not str(text).strip():
        raise CoordinateError(msg("coords.coordinates_entered", "no coordinates were entered"), "text")
    source = str(text)
    shown = source.strip()
    info = None if crs is None or (isinstance(crs, str) and not crs.strip()) else resolve_crs(crs)
    s = _normalize(source)
    labels = _find_labels(s)
    warns: list[str] = []

    projected = _looks_projected(s, labels)
    if projected is None:
        raise CoordinateError(msg("coords.could_read_one_value", "could not read '{shown}': one value looks like "
                                  "degrees and the other like metres", shown=shown))
    if info is not None and info.kind == "projected" and not projected:
        raise CoordinateError(msg("coords.expects_metres_x_northing", "{key} ({label}) expects metres (X northing, Y "
                                  "easting) but '{shown}' looks like degrees; choose a geographic coordinate system "
                                  "such as EPSG:4490", key=info.key, label=info.label, shown=shown), "crs")
    if info is not None and info.kind != "projected" and projected:
        raise CoordinateError(msg("coords.looks_like_projected_metres", "'{shown}' looks like projected metres but "
                                  "{key} ({label}) is in degrees; choose the Gauss-Kruger zone / projected "
                                  "coordinate system", shown=shown, key=info.key, label=info.label), "crs")

    if projected:
        lon, lat, info = _parse_projected(s, shown, labels, info, region, warns, helmert)
    else:
        lon, lat = _parse_geographic(s, shown, labels, region, warns)
        _check_lon(lon)
        _check_lat(lat)
        if info is None:
            info = resolve_crs(None)
        if info.key != "EPSG:4490":
            src_lon, src_lat = lon, lat
            lon, lat = (float(v) for v in _to_cgcs(lon, lat, info, helmert))
            if info.kind == "offset":
                dist = GEOD.inv(src_lon, src_lat, lon, lat)[2]
                warns.append(msg("coords.converted_cgcs_moved_m", "converted from {label} to CGCS2000 (moved "
                                 "{dist:.0f} m)", label=info.label, dist=dist))
    if helmert is not None:
        warns.append(_datum_shift_note(info, helmert))

    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise CoordinateError(msg("coords.could_convert_cgcs", "could not convert '{shown}' to CGCS2000", shown=shown))
    _check_lon(lon)
    _check_lat(lat)
    if region is not None and not _in_region(lon, lat, region):
        if _in_region(lat, lon, region):
            warns.append(msg("coords.outside_region_swapped", "point {point} is outside {region}; looks like latitude "
                             "and longitude are swapped", point=_lonlat_text(lon, lat), region=_region_text(region)))
        else:
            warns.append(msg("coords.outside_region", "point {point} is outside {region}",
                             point=_lonlat_text(lon, lat), region=_region_text(region)))
    return ParsedPoint(lon=lon, lat=lat, crs=info.key, warnings=warns, source=source)


