"""Role matrix entries of the public map and site pages (all readable by everybody; no state-changing endpoint)."""
WEB = {
    "public.map_page": ("GET", "/", None, None),
    "public.site_page": ("GET", "/sites/GZ-0001", None, None),
    "public_map_data.sites_layer": ("GET", "/map/sites.geojson?bbox=103.6,24.6,109.6,29.2&zoom=7", None, None),
    "public_map_data.boundaries_layer": ("GET", "/map/boundaries.geojson?bbox=103.6,24.6,109.6,29.2&zoom=9", None, None),
    "public_map_data.search": ("GET", "/map/search.json?q=GZ-0001", None, None),
    "public_map_data.statistics": ("GET", "/map/statistics.json", None, None),
    "public_map_data.county_seats": ("GET", "/map/county-seats.geojson", None, None),
    # administrative outlines are for staff maps only (docs/county-context.md)
    "public.county_outlines": ("GET", "/context/county-outlines.geojson", None, "field"),
}
API = {}
