/* Geographic context under a map (fossil_registry/county_context.py): county outlines (staff pages only) and labelled
   county seats, fetched from the app itself (/map/county-*.geojson) and drawn in a pane below every other layer, so
   sites, boundaries and drawings stay on top and clickable. Labels show from zoom 8 up (the whole province at zoom 7
   would be a wall of names). Names are shown with textContent. Reads the JSON block maps.render writes. */
(function () {
  "use strict";
  var LABEL_ZOOM = 8;
  function label(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }
  function get(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (r) { if (!r.ok) { throw new Error(url + ": " + r.status); } return r.json(); });
  }
  function draw(block) {
    if (block.hasAttribute("data-drawn")) { return; }
    var config = JSON.parse(block.textContent);
    var map = window[config.map];
    if (!map || !window.L) { return; }
    block.setAttribute("data-drawn", "");
    var container = map.getContainer();
    var hintText = document.querySelector('meta[name="basemap-hint"]');
    if (config.hint && hintText && map.attributionControl) {   // no basemap: how the operator turns one on
      var hint = document.createElement("span");
      hint.className = "basemap-hint";
      hint.textContent = hintText.getAttribute("content");
      map.attributionControl.addAttribution(hint.outerHTML);
    }
    if (!map.getPane("context")) {
      map.createPane("context");
      map.getPane("context").style.zIndex = 250;          // above tiles (200), below overlays (400) and markers
      map.getPane("context").style.pointerEvents = "none";
    }
    if (config.outlines) {
      get(config.outlines).then(function (data) {
        var layer = L.geoJSON(data, { pane: "context", interactive: false,
          style: { color: "#7a6f5c", weight: 1, opacity: 0.9, fill: true, fillColor: "#efeadf", fillOpacity: 0.35 } });
        layer.addTo(map);
        container.setAttribute("data-context-counties", String(data.features.length));
      }).catch(function () { container.setAttribute("data-context-counties", "error"); });
    }
    if (config.seats) {
      get(config.seats).then(function (data) {
        var group = L.layerGroup();
        data.features.forEach(function (f) {
          var c = f.geometry.coordinates;
          var m = L.circleMarker([c[1], c[0]], { pane: "context", interactive: false, radius: 3, weight: 1,
                                                 color: "#444", fillColor: "#fff", fillOpacity: 1 });
          m.bindTooltip(label(f.properties.label), { permanent: true, direction: "right", offset: [4, 0],
                                                    className: "county-seat-label", pane: "context" });
          m.addTo(group);
        });
        group.addTo(map);
        container.setAttribute("data-context-seats", String(data.features.length));
        var toggle = function () { container.classList.toggle("context-labels-off", map.getZoom() < LABEL_ZOOM); };
        map.on("zoomend", toggle);
        toggle();
      }).catch(function () { container.setAttribute("data-context-seats", "error"); });
    }
  }
  var blocks = document.querySelectorAll('script[type="application/json"].map-context');
  for (var i = 0; i < blocks.length; i++) { draw(blocks[i]); }
}());
