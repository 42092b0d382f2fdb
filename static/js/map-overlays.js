/* Markers whose text comes from users (site names, photo file names...), drawn from the JSON data blocks that
   fossil_registry.maps.render writes after a map. The text is shown with textContent: it is never HTML and never part
   of a template or a script. */
(function () {
  "use strict";
  function tooltip(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }
  function draw(block) {
    var map = window[block.getAttribute("data-map")];
    if (!map || !window.L || block.hasAttribute("data-drawn")) { return; }  // a page with two maps loads this twice
    block.setAttribute("data-drawn", "");
    var data = JSON.parse(block.textContent);
    (data.layers || []).forEach(function (layer) {
      var group = L.featureGroup();
      (layer.features || []).forEach(function (f) {
        var c = f.geometry.coordinates;
        var s = f.properties.style || {};
        var m = L.circleMarker([c[1], c[0]], { radius: s.radius, color: s.color, weight: s.weight, fill: true,
                                               fillColor: s.fillColor, fillOpacity: s.fillOpacity });
        if (f.properties.text) { m.bindTooltip(tooltip(f.properties.text)); }
        m.addTo(group);
      });
      group.addTo(map);
      map.getContainer().setAttribute("data-overlay-" + layer.name, String(group.getLayers().length));
    });
  }
  var blocks = document.querySelectorAll('script[type="application/json"].map-overlays');
  for (var i = 0; i < blocks.length; i++) { draw(blocks[i]); }
}());
