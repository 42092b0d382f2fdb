"""Checking public answers for leaked coordinates of generalized and hidden sites (shared by several test modules)."""
from __future__ import annotations

import bisect
import re

import shapely

CLOCK_TIME = re.compile(r"\d{2}:\d{2}:\d{2}\.\d+")


def true_coordinates(geom) -> list[float]:
    return [float(v) for v in shapely.get_coordinates(geom).ravel()]


def leaked_numbers(body: str, secret_values: list[float], public_values: frozenset = frozenset()) -> list[str]:
    """Numeric tokens in a response that are a secret coordinate rounded to the token's own precision (>= 3 decimals):
    an exact value, or any rounding of it that still pins the site to ~100 m or better. A token that is exactly a
    published coordinate of an open site (``public_values``) is that site's, not a leak. Seconds of a clock time
    (``08:15:25.548``, as in a time stamp) are not coordinates."""
    found = []
    secrets = sorted(secret_values)  # the nearest secret on either side of a token is the one that could match
    for token in set(re.findall(r"-?\d+\.\d{3,}", CLOCK_TIME.sub(" ", body))):
        decimals = len(token.split(".")[1])
        value = float(token)
        if value in public_values:
            continue
        i = bisect.bisect_left(secrets, value)
        if any(abs(value - v) <= 0.5 * 10 ** -decimals + 1e-12 for v in secrets[max(i - 1, 0):i + 1]):
            found.append(token)
    return found


def published_values(*features) -> frozenset:
    """Every coordinate the public is shown exactly: the location and boundary of each open feature, of every kind
    (sites, sections: an open section's line is published, and may share a digit string with a protected site)."""
    return frozenset(v for group in features for s in group if s.sensitivity == "open"
                     for v in true_coordinates(s.location) + (true_coordinates(s.boundary) if s.boundary else []))


def every_feature(conn) -> list:
    """Sites and sections as the registry holds them (exact), for published_values."""
    from fossil_registry import sites
    from fossil_registry.sections import SECTION

    return sites.list_current(conn) + sites.list_current(conn, kind=SECTION)
