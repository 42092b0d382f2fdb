/* Proposal form: drawing or editing the boundary and placing the location on the map (Leaflet.draw, self-hosted).
   What is drawn goes into the hidden fields boundary_drawn / location_drawn as GeoJSON in CGCS2000 lon/lat; they are
   only filled when the user actually draws, edits or deletes, so an untouched map proposes nothing. */
(function () {
  "use strict";
  var box = document.getElementById("revision-map");
  if (!box || !window.L) { return; }
  var cfg = JSON.parse(box.getAttribute("data-config"));
  var map = window[cfg.map], group = window[cfg.group];
  if (!map || !group) { return; }
  var boundaryInput = document.getElementById(cfg.boundary_input);
  var locationInput = document.getElementById(cfg.location_input);
  var boundaryTouched = !!cfg.drawn, locationTouched = !!cfg.location_drawn;
  var drawnStyle = {color: "#d95f02", weight: 3, fillOpacity: 0.1};

  function isPolygon(layer) { return layer instanceof L.Polygon; }
  function isMarker(layer) { return layer instanceof L.Marker; }
  function layers(test) { var out = []; group.eachLayer(function (l) { if (test(l)) { out.push(l); } }); return out; }

  function write() {
    if (boundaryInput && boundaryTouched) {
      var parts = [];
      layers(isPolygon).forEach(function (p) {
        var geom = p.toGeoJSON(false).geometry;
        if (geom.type === "Polygon") { parts.push(geom.coordinates); }
        else if (geom.type === "MultiPolygon") { parts = parts.concat(geom.coordinates); }
      });
      boundaryInput.value = parts.length ? JSON.stringify({type: "MultiPolygon", coordinates: parts}) : "";
      var remove = document.querySelector("input[name=remove_boundary]");
      if (remove && !parts.length) { remove.checked = true; }
    }
    if (locationInput && locationTouched) {
      var markers = layers(isMarker);
      locationInput.value = markers.length ? JSON.stringify(markers[markers.length - 1].toGeoJSON(false).geometry) : "";
    }
    box.setAttribute("data-boundary-parts", String(layers(isPolygon).length));
  }

  if (cfg.boundary) {
    L.geoJSON(cfg.boundary, {style: drawnStyle}).eachLayer(function (l) { group.addLayer(l); });
  }
  if (cfg.location) {
    var c = cfg.location.coordinates;
    group.addLayer(L.marker([c[1], c[0]]));
  }

  map.on(L.Draw.Event.CREATED, function (e) {
    if (e.layerType === "marker") {
      layers(isMarker).forEach(function (m) { if (m !== e.layer) { group.removeLayer(m); } });
      locationTouched = true;
    } else {
      // a newly drawn outline replaces the previous one (edit it instead to keep it)
      layers(isPolygon).forEach(function (p) { if (p !== e.layer) { group.removeLayer(p); } });
      if (e.layer.setStyle) { e.layer.setStyle(drawnStyle); }
      boundaryTouched = true;
    }
    write();
  });
  map.on(L.Draw.Event.EDITED, function (e) {
    e.layers.eachLayer(function (l) {
      if (isMarker(l)) { locationTouched = true; } else { boundaryTouched = true; }
    });
    write();
  });
  map.on(L.Draw.Event.DELETED, function (e) {
    e.layers.eachLayer(function (l) {
      if (isMarker(l)) { locationTouched = true; } else { boundaryTouched = true; }
    });
    write();
  });
  box.setAttribute("data-ready", "1");
  write();
}());
