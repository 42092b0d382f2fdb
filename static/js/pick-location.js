/* Pick a location on a folium map: a click (or "use my position") fills the longitude/latitude inputs named in
   #pick-config and shows a marker there; typing in the inputs moves the marker. No inline script: CSP-friendly. */
(function () {
  "use strict";
  var configEl = document.getElementById("pick-config");
  if (!configEl || !window.L) { return; }
  var cfg = JSON.parse(configEl.textContent);
  var map = window[cfg.map];
  var lonEl = document.getElementById(cfg.lon);
  var latEl = document.getElementById(cfg.lat);
  if (!map || !lonEl || !latEl) { return; }
  var marker = null;

  function show(lat, lon, pan) {
    if (!isFinite(lat) || !isFinite(lon)) { return; }
    if (marker) { marker.setLatLng([lat, lon]); }
    else { marker = L.circleMarker([lat, lon], { radius: 8, color: "#fff", weight: 2, fillColor: "#c0392b", fillOpacity: 1 }).addTo(map); }
    if (pan) { map.panTo([lat, lon]); }
  }
  function set(lat, lon) {
    lonEl.value = lon.toFixed(6);
    latEl.value = lat.toFixed(6);
    show(lat, lon, false);
  }
  map.on("click", function (e) { set(e.latlng.lat, e.latlng.lng); });
  function typed() { show(parseFloat(latEl.value), parseFloat(lonEl.value), true); }
  lonEl.addEventListener("change", typed);
  latEl.addEventListener("change", typed);
  if (lonEl.value && latEl.value) { typed(); }

  var locate = document.getElementById(cfg.locate || "pick-locate");
  if (locate && navigator.geolocation) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (pos) {
        set(pos.coords.latitude, pos.coords.longitude);
        map.setView([pos.coords.latitude, pos.coords.longitude], Math.max(map.getZoom(), 14));
      }, function () { locate.disabled = true; }, { enableHighAccuracy: true, timeout: 15000 });
    });
  }
}());
