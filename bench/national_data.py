"""Registries of any size for bench/bench_national.py and tests/test_read_model.py, written in bulk through the store,
then the read model built once from them (read_model.rebuild, in batches): 1,000,000 sites through HTTP or one
versioned write each would take hours, and what is measured is the reads and the writes that come after.

How the bulk write differs from ``features.create_feature`` (which writes one site per transaction): it calls the same
store functions with the same rows (``kind.normalize``d properties, ``store.write_site_row`` with the geodesic area
and the kind's measures, ``store.append_version`` of version 1, operation "create"), 20,000 sites per transaction,
and leaves out what concerns one site at a time: no code drawn from the sequence (the codes are given), no audit entry
and no public-change stamp per site, no proposal or review, and no read rows (a write without the read model's hook
marks it stale; ``build``/the bench then rebuild it once, the path a registry migrated from before the read model
takes). ~1,000 sites/s on one core.

Sites are spread over China's land area in provinces of dense counties (the seeds' distribution: most sites of a
province in a few counties), with the same mix of sensitivity, level, period and fossil groups as the demo."""
from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from shapely.geometry import MultiPolygon, Point, box  # noqa: E402

from fossil_registry import features, read_model, store  # noqa: E402
from fossil_registry.geometry import geodesic_area_m2  # noqa: E402
from fossil_registry.vocab import FossilGroup, Level, Period, Sensitivity  # noqa: E402

SITE = features.SITE
_SENSITIVITY = (Sensitivity.OPEN,) * 7 + (Sensitivity.GENERALIZED,) * 2 + (Sensitivity.HIDDEN,)
_NAMES = "关岭 兴义 盘州 贵阳 遵义 安顺 都匀 凯里 铜仁 毕节 六盘水 罗甸 长顺 瓮安 习水 赤水 织金 紫云".split()


def site_spec(i: int, rng: random.Random, area: tuple[float, float, float, float]) -> tuple:
    """(code, properties, location, boundary) of the i-th generated site, somewhere in ``area``."""
    w, s, e, n = area
    lon, lat = rng.uniform(w, e), rng.uniform(s, n)
    place = _NAMES[i % len(_NAMES)]
    props = {"name": f"{place}化石点{i}", "name_en": f"{place} fossil site {i}", "county": f"{place}县",
             "level": tuple(Level)[i % 3], "sensitivity": _SENSITIVITY[i % 10], "period": tuple(Period)[i % 12],
             "fossil_groups": [tuple(FossilGroup)[i % 8]], "description": f"bench site {i}",
             "public_description": f"site {i}"}
    half = 0.002 + (i % 5) * 0.001
    boundary = MultiPolygon([box(lon - half, lat - half, lon + half, lat + half)]) if i % 2 == 0 else None
    return f"GZ-{i:07d}" if i >= 10_000 else f"GZ-{i:04d}", props, Point(lon, lat), boundary


def specs(start: int, count: int, area: tuple[float, float, float, float], seed: int = 24) -> Iterator[tuple]:
    rng = random.Random(seed + start)
    for i in range(start, start + count):
        yield site_spec(i, rng, area)


def bulk_sites(conn, specs_: Iterator[tuple], *, batch: int = 20_000, author: str = "bench") -> int:
    """Write sites straight through the store (current rows and version 1), ``batch`` per transaction; the read model
    is marked for a rebuild (call read_model.rebuild once at the end). Returns how many."""
    n = 0
    hook = features.read_model()
    features.set_read_model(None)  # a write without the read model marks it stale, as before it existed
    try:
        pending = list()
        for spec in specs_:
            pending.append(spec)
            if len(pending) >= batch:
                n += _write(conn, pending, author)
                pending = []
        n += _write(conn, pending, author)
    finally:
        features.set_read_model(hook)
    return n


def _write(conn, pending: list[tuple], author: str) -> int:
    if not pending:
        return 0
    now = store.utc_now()
    with store.transaction(conn):
        for code, props, location, boundary in pending:
            props = SITE.normalize(props)
            row = store.SiteRow(code=code, attributes=props, location=location, boundary=boundary, version=1,
                                updated_at=now, updated_by=author)
            area = None if boundary is None else round(geodesic_area_m2(boundary) / 1e6, 6)
            store.write_site_row(conn, row, area_km2=area, insert=True, measures=SITE.measures(location))
            store.append_version(conn, store.VersionRow(code, 1, "create", now, author, None, "bulk load", props,
                                                        location, boundary, None))
        store.read_model.forget(conn)
    return len(pending)


def build(conn, count: int, area: tuple[float, float, float, float], start: int = 0) -> int:
    """``count`` sites in bulk, then the read model."""
    n = bulk_sites(conn, specs(start, count, area))
    read_model.rebuild(conn)
    return n
