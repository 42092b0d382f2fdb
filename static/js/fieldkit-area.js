/* Field kit check-out: the kit's area drawn on the map as a rectangle (Leaflet.draw, self-hosted) is written into the
   typed box field as "min lon,min lat,max lon,max lat" (CGCS2000) and chooses the box as the area; a typed box is
   drawn on the map. The typed field stays the fallback (and what the form sends). */
(function () {
  "use strict";
  var box = document.getElementById("kit-area-map");
  if (!box || !window.L) { return; }
  var cfg = JSON.parse(box.getAttribute("data-config"));
  var map = window[cfg.map], group = window[cfg.group];
  var input = document.querySelector("input[name=bbox]");
  var choice = document.querySelector("input[name=area][value=bbox]");
  if (!map || !group || !input) { return; }
  var style = {color: "#d95f02", weight: 2, fillOpacity: 0.08};

  function write(bounds) {
    input.value = [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()]
      .map(function (v) { return v.toFixed(5); }).join(",");
    if (choice) { choice.checked = true; }
    box.setAttribute("data-bbox", input.value);
  }

  function typed() {
    var v = input.value.split(/[\s,，]+/).filter(Boolean).map(Number);
    if (v.length !== 4 || v.some(isNaN) || v[0] >= v[2] || v[1] >= v[3]) { return; }
    var bounds = L.latLngBounds([v[1], v[0]], [v[3], v[2]]);
    group.clearLayers();
    group.addLayer(L.rectangle(bounds, style));
    map.fitBounds(bounds, {padding: [20, 20]});
    box.setAttribute("data-bbox", input.value);
  }

  map.on(L.Draw.Event.CREATED, function (e) {
    group.clearLayers();  // one area: a new rectangle replaces the previous one
    if (e.layer.setStyle) { e.layer.setStyle(style); }
    group.addLayer(e.layer);
    write(e.layer.getBounds());
  });
  map.on(L.Draw.Event.EDITED, function (e) {
    e.layers.eachLayer(function (l) { write(l.getBounds()); });
  });
  map.on(L.Draw.Event.DELETED, function () {
    if (!group.getLayers().length) { input.value = ""; box.removeAttribute("data-bbox"); }
  });
  input.addEventListener("change", typed);
  typed();
})();
