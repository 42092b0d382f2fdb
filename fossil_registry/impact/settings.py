"""Impact screening settings, read from the app configuration (defaults and their meaning: config.py), and the two
rules every screening applies: which buffer ring a distance falls into, and the risk class of a ring and a protection
level (the rule table, printed on every report so that a result can be explained and reproduced)."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Mapping

from .. import config, features
from ..vocab import Level
from ..errors import InvalidInput
from ..formats import Limits
from .labels import RISK_CLASSES
from ..messages import msg

MAX_RINGS = 12


@dataclass(frozen=True)
class Settings:
    rings_m: tuple[float, ...]                        # ascending, starting with 0
    rules: tuple[tuple[float, Mapping[str, str]], ...]  # (ring, {level: risk class}), ascending
    max_ring_m: float
    densify_m: float
    max_extent_km: float
    max_width_m: float
    max_vertices: int
    hidden_cell_deg: float
    limits: Limits
    region_bbox: tuple[float, float, float, float]
    region_name: str
    region_max_distance_km: float
    timezone: str                                     # what a default title's time is written in

    @classmethod
    def from_config(cls, config_: Mapping[str, Any]) -> "Settings":
        c = config.settings(config_)
        max_ring = _number(c["IMPACT_MAX_RING_M"], "IMPACT_MAX_RING_M", minimum=1)
        rings = _rings(c["IMPACT_RINGS_M"], max_ring, "IMPACT_RINGS_M", ValueError)
        limits = Limits(max_file_bytes=int(c["IMPACT_MAX_FILE_BYTES"]),
                        max_unzipped_bytes=int(c["REVISION_MAX_UNZIPPED_BYTES"]),
                        ring_close_tolerance_m=float(c["REVISION_RING_CLOSE_TOLERANCE_M"]))
        return cls(rings_m=rings, rules=_rules(c["IMPACT_RULES"]), max_ring_m=max_ring,
                   densify_m=_number(c["IMPACT_DENSIFY_M"], "IMPACT_DENSIFY_M", minimum=0.1),
                   max_extent_km=_number(c["IMPACT_MAX_EXTENT_KM"], "IMPACT_MAX_EXTENT_KM", minimum=1),
                   max_width_m=_number(c["IMPACT_MAX_WIDTH_M"], "IMPACT_MAX_WIDTH_M", minimum=1),
                   max_vertices=int(_number(c["IMPACT_MAX_VERTICES"], "IMPACT_MAX_VERTICES", minimum=100)),
                   hidden_cell_deg=_number(c["IMPACT_HIDDEN_CELL_DEG"], "IMPACT_HIDDEN_CELL_DEG", minimum=0.1),
                   limits=limits, region_bbox=tuple(c["REGION_BBOX"]), region_name=c["REGION_NAME"],
                   region_max_distance_km=float(c["REGION_MAX_DISTANCE_KM"]), timezone=c["TIMEZONE"])

    @classmethod
    def defaults(cls) -> "Settings":
        return cls.from_config({})

    def with_rings(self, buffers_m: Any) -> "Settings":
        """These settings with the rings a request asks for (``buffers_m``; None keeps the configured ones).
        Ring 0 (intersection) is always part of them."""
        if buffers_m in (None, "", []):
            return self
        if isinstance(buffers_m, str):
            buffers_m = [part for part in buffers_m.replace(";", ",").replace(" ", ",").split(",") if part]
        return replace(self, rings_m=_rings(buffers_m, self.max_ring_m, "buffers_m", InvalidInput))

    @property
    def outer_ring_m(self) -> float:
        return self.rings_m[-1]

    def ring_for(self, distance_m: float, intersects: bool) -> float | None:
        """The ring a site at ``distance_m`` falls into: 0 when the footprint intersects it, else the smallest ring
        at least that far; None beyond the outer ring."""
        if intersects:
            return 0.0
        for ring in self.rings_m[1:]:
            if distance_m <= ring:
                return ring
        return None

    def risk_for(self, ring_m: float, level: str) -> str:
        """The rule table's class for a ring and a protection level: the row of the smallest table ring >= the site's
        ring (the last row beyond the table); an unknown level is read as the strictest (national)."""
        row = next((classes for ring, classes in self.rules if ring_m <= ring), self.rules[-1][1])
        return row.get(level) or row["national"]

    def rule_table(self) -> list[dict[str, Any]]:
        return [{"ring_m": ring, **{level: classes[level] for level in Level.values()}} for ring, classes in self.rules]


def _number(value: Any, name: str, *, minimum: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number (got {value!r})") from None
    if not math.isfinite(number) or number < minimum:
        raise ValueError(f"{name} must be at least {minimum:g} (got {value!r})")
    return number


def _rings(values: Any, max_ring: float, name: str, error: type[Exception]) -> tuple[float, ...]:
    """Ascending distinct ring distances in metres, 0 first; refused with ``error`` naming ``name``."""
    if not isinstance(values, (list, tuple)) or not values:
        raise error(msg("impact.must_list_distances_metres", "{name} must be a list of distances in metres, e.g. [0, "
                        "200, 500, 1000, 5000]", name=name))
    rings = set()
    for value in values:
        try:
            ring = float(value)
        except (TypeError, ValueError):
            raise error(msg("impact.distance_metres", "{name}: {value!r} is not a distance in metres", name=name,
                            value=str(value)[:20])) from None
        if isinstance(value, bool) or not math.isfinite(ring) or ring < 0 or ring > max_ring:
            raise error(msg("impact.every_ring_must_lie", "{name}: every ring must lie between 0 and {max_ring:,.0f} "
                            "m (got {value})", name=name, max_ring=max_ring, value=str(value)[:20]))
        rings.add(ring)
    rings.add(0.0)
    if len(rings) < 2:
        raise error(msg("impact.give_least_one_ring", "{name}: give at least one ring beyond 0 m (the intersection)",
                        name=name))
    if len(rings) > MAX_RINGS:
        raise error(msg("impact.most_rings", "{name}: at most {max_rings} rings", name=name, max_rings=MAX_RINGS))
    return tuple(sorted(rings))


def _rules(table: Any) -> tuple[tuple[float, Mapping[str, str]], ...]:
    """IMPACT_RULES as ascending rows; every row names a known class for every protection level."""
    if not isinstance(table, Mapping) or not table:
        raise ValueError("IMPACT_RULES must map ring distances to {level: risk class}")
    rows = []
    for ring, classes in table.items():
        ring_m = _number(ring, "IMPACT_RULES ring", minimum=0)
        if not isinstance(classes, Mapping) or set(classes) != set(Level.values()) \
                or not set(classes.values()) <= set(RISK_CLASSES):
            raise ValueError(f"IMPACT_RULES[{ring!r}] must give each level ({', '.join(Level.values())}) one of "
                             f"{', '.join(RISK_CLASSES)}")
        rows.append((ring_m, dict(classes)))
    return tuple(sorted(rows, key=lambda r: r[0]))
