"""The basemaps a map may draw under the registry's layers, and the settings that choose one (BASEMAP, TIANDITU_KEY,
OFFLINE_BASEMAP): checked when the app starts, named in the Content-Security-Policy's img-src. No folium: maps.py draws
them (and the app's start reads this without loading folium, which the first map page loads)."""
from __future__ import annotations

from typing import Any, Mapping

from .fieldkit.basemap import open_basemap

# Basemaps. "none" draws no tiles at all (the default: works offline, sends nobody the visitor's view, and draws no
# third-party administrative boundaries). Tianditu is the national platform's map (CGCS2000, so no offset against the
# registry's coordinates); its licence requires the operator's own key.
BASEMAPS: dict[str, dict[str, Any] | None] = {
    "none": None,
    "osm": {
        "tiles": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attr": '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
        "subdomains": "abc",
        "max_zoom": 19,
        "img_sources": ("https://tile.openstreetmap.org",),
    },
    "tianditu": {
        # vector map + Chinese annotation layer in the CGCS2000 geographic tile matrix set "c" (vec_c, cva_c): tiles
        # of 180/2^(n-1) degrees from (-180, 90), which is Leaflet's EPSG:4326 grid one level up (TILEMATRIX = zoom + 1)
        "tiles": ("https://t{s}.tianditu.gov.cn/{layer}_c/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                  "&LAYER={layer}&STYLE=default&TILEMATRIXSET=c&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}"
                  "&tk={key}"),
        "layers": ("vec", "cva"),
        "crs": "EPSG4326",
        "tile_options": {"zoom_offset": 1},
        "attr": '&copy; <a href="https://www.tianditu.gov.cn/">天地图 Tianditu</a>',
        "subdomains": "01234567",
        "max_zoom": 17,   # TILEMATRIX 18
        "img_sources": ("https://*.tianditu.gov.cn",),
    },
    # the operator's own MBTiles file (OFFLINE_BASEMAP), served by the app itself: no other host, works offline
    "offline": {
        "tiles": "/basemap/tiles/{z}/{x}/{y}",
        "attr": "Offline basemap",
        "subdomains": "abc",
        "max_zoom": 18,       # replaced by the file's own highest zoom level
        "img_sources": (),
    },
}


def basemap_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """make_map keyword arguments from the app configuration (BASEMAP, TIANDITU_KEY, OFFLINE_BASEMAP)."""
    return {"basemap": config.get("BASEMAP", "none"), "tianditu_key": config.get("TIANDITU_KEY"),
            "offline_basemap": config.get("OFFLINE_BASEMAP")}


def check_basemap(basemap: str, tianditu_key: str | None = None, offline_basemap: str | None = None) -> None:
    if basemap not in BASEMAPS:
        raise ValueError(f"BASEMAP must be one of {', '.join(BASEMAPS)} (got {basemap!r})")
    if basemap == "tianditu" and not tianditu_key:
        raise ValueError("BASEMAP 'tianditu' needs the operator's key in TIANDITU_KEY")
    if basemap == "offline":
        if not offline_basemap:
            raise ValueError("BASEMAP 'offline' needs the operator's MBTiles file in OFFLINE_BASEMAP")
        open_basemap(offline_basemap)  # BasemapError (a ValueError) for a missing or unusable file


def basemap_img_sources(basemap: str) -> tuple[str, ...]:
    """The image hosts the chosen basemap loads tiles from (for the CSP img-src)."""
    spec = BASEMAPS.get(basemap)
    return tuple(spec["img_sources"]) if spec else ()
