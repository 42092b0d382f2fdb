/* Impact screening pages. On the form: drawing the footprint (Leaflet.draw, self-hosted) into the hidden field
   footprint_drawn as a GeoJSON FeatureCollection in CGCS2000 lon/lat (polygons, rectangles, lines, markers; several
   parts allowed). On the report: the print button. No inline script: CSP-friendly. */
(function () {
  "use strict";
  document.querySelectorAll(".print-button").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });
  var box = document.getElementById("impact-draw-map");
  if (!box || !window.L) { return; }
  var cfg = JSON.parse(box.getAttribute("data-config"));
  var map = window[cfg.map], group = window[cfg.group];
  var input = document.getElementById(cfg.input);
  if (!map || !group || !input) { return; }
  var style = {color: "#5e3c99", weight: 3, fillOpacity: 0.2};

  function write() {
    var features = [];
    group.eachLayer(function (l) { features.push(l.toGeoJSON(false)); });
    input.value = features.length ? JSON.stringify({type: "FeatureCollection", features: features}) : "";
    box.setAttribute("data-parts", String(features.length));
  }
  if (cfg.drawn) {
    try {
      L.geoJSON(cfg.drawn, {style: style}).eachLayer(function (l) { group.addLayer(l); });
      if (group.getLayers().length) { map.fitBounds(group.getBounds(), {maxZoom: 15}); }
    } catch (e) { input.value = ""; }
  }
  map.on(L.Draw.Event.CREATED, function (e) {
    if (e.layer.setStyle) { e.layer.setStyle(style); }
    group.addLayer(e.layer);
    write();
  });
  map.on(L.Draw.Event.EDITED, write);
  map.on(L.Draw.Event.DELETED, write);
  box.setAttribute("data-ready", "1");
  write();
}());
