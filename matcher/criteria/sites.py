"""Trial sites near a patient: great-circle distances and the nearest recruiting site.

Trials carry their sites (``sites:`` in a trial file, written by ``matcher import ctgov`` from the
registry's locations and their ``geoPoint``). ``nearest_site`` finds a trial's nearest recruiting
site to a point, by the haversine formula on a sphere of the Earth's mean radius (6,371.0088 km;
the error against the ellipsoid stays under 0.5 %, far below the spread of a city's sites).

A site counts as recruiting when its own status is ``recruiting``, or when the registry gives
it no status and the trial as a whole is ``recruiting``. A site without a position is never near.
``matcher check --near LAT,LON --radius KM`` and the service's ``zipCode`` / ``travelRadius``
use this module; a postcode becomes a point through the optional ``geo`` extra (``zipcodes``,
US ZIP codes only), see ``zip_point``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from matcher.criteria.schema import Site

if TYPE_CHECKING:
    from matcher.criteria.compiler import CompiledTrial

__all__ = [
    "EARTH_RADIUS_KM",
    "KM_PER_MILE",
    "NearSite",
    "Point",
    "PostcodesUnavailableError",
    "distance_km",
    "nearest_site",
    "parse_point",
    "site_label",
    "within",
    "zip_point",
]

#: The Earth's mean radius (IUGG), in kilometres.
EARTH_RADIUS_KM: Final = 6371.0088
KM_PER_MILE: Final = 1.609344

Point = tuple[float, float]

_POINT: Final = re.compile(r"^\s*([-+]?\d{1,3}(?:\.\d+)?)\s*,\s*([-+]?\d{1,3}(?:\.\d+)?)\s*$")


class PostcodesUnavailableError(Exception):
    """The postcode table (the ``zipcodes`` package, extra ``geo``) is not installed."""


@dataclass(frozen=True, slots=True)
class NearSite:
    """A trial's nearest recruiting site to a point, and its distance in kilometres."""

    site: Site
    km: float


def parse_point(text: str) -> Point:
    """``"42.36,-71.06"`` as (latitude, longitude); ``ValueError`` with the reason otherwise."""
    match = _POINT.match(text)
    if match is None:
        raise ValueError("expected LAT,LON in decimal degrees, such as 42.36,-71.06")
    lat, lon = float(match.group(1)), float(match.group(2))
    if not -90 <= lat <= 90:
        raise ValueError("the latitude must lie between -90 and 90")
    if not -180 <= lon <= 180:
        raise ValueError("the longitude must lie between -180 and 180")
    return lat, lon


def distance_km(a: Point, b: Point) -> float:
    """Great-circle distance between two points (haversine), in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _recruiting(site: Site, trial_status: str) -> bool:
    if site.status is not None:
        return site.status.value == "recruiting"
    return trial_status == "recruiting"


def nearest_site(trial: CompiledTrial, point: Point) -> NearSite | None:
    """The trial's nearest recruiting site with a position; ties go to the first listed."""
    best: NearSite | None = None
    for site in trial.sites:
        if site.geo is None or not _recruiting(site, trial.status):
            continue
        km = distance_km(point, (site.geo.lat, site.geo.lon))
        if best is None or km < best.km:
            best = NearSite(site, km)
    return best


def within(
    trials: Iterable[CompiledTrial], point: Point, radius_km: float | None
) -> list[tuple[CompiledTrial, NearSite | None]]:
    """Each trial with its nearest recruiting site, keeping (with a radius) only the trials with
    one in range, in the order given."""
    kept = []
    for trial in trials:
        near = nearest_site(trial, point)
        if radius_km is None or (near is not None and near.km <= radius_km):
            kept.append((trial, near))
    return kept


def site_label(site: Site) -> str:
    """ "Facility, City, Country" (the parts the registry gives)."""
    parts = [p for p in (site.facility, site.city, site.country) if p]
    return ", ".join(parts) if parts else "a site without a name"


def zip_point(zip_code: str) -> Point | None:
    """The centroid of a US ZIP code, or None when the table does not know it.

    Raises ``PostcodesUnavailableError`` when the ``zipcodes`` package is not installed."""
    try:
        import zipcodes  # type: ignore[import-untyped,unused-ignore]
    except ImportError as exc:
        raise PostcodesUnavailableError(
            "postcodes need the zipcodes package: pip install 'trial-matcher[geo]'"
        ) from exc
    try:
        found = zipcodes.matching(zip_code.strip())  # type: ignore[no-untyped-call,unused-ignore]
    except (ValueError, TypeError):
        return None
    for entry in found:
        try:
            return float(entry["lat"]), float(entry["long"])
        except (KeyError, TypeError, ValueError):
            continue
    return None
