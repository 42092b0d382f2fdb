/* "Use my position" (templates/_position.html): ask the device for its position, show it with its stated accuracy and
   fill the form only after the user confirms. Browsers share the position only in a secure context (HTTPS, or
   localhost): elsewhere the user is told why, instead of a button that silently does nothing. */
(function () {
  "use strict";
  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }
  function byId(id) { return id ? document.getElementById(id) : null; }
  function fill(input, value) {
    if (!input) { return; }
    input.value = value;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.querySelectorAll(".use-position").forEach(function (box) {
    var d = box.dataset;
    var button = box.querySelector(".use-position-button");
    var status = box.querySelector(".use-position-status");
    var confirm = box.querySelector(".use-position-confirm");
    var found = null;

    function say(text) { status.textContent = text; }

    button.addEventListener("click", function () {
      confirm.hidden = true;
      found = null;
      if (!window.isSecureContext) { say(d.msgInsecure); return; }
      if (!navigator.geolocation) { say(d.msgUnsupported); return; }
      say(d.msgAsking);
      navigator.geolocation.getCurrentPosition(function (pos) {
        found = pos.coords;
        say(fmt(d.msgFound, { lat: found.latitude.toFixed(6), lon: found.longitude.toFixed(6),
                              acc: Math.round(found.accuracy * 10) / 10 }));
        confirm.hidden = false;
        box.querySelector(".use-position-accept").focus();
      }, function () { say(d.msgDenied); }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
    });

    box.querySelector(".use-position-cancel").addEventListener("click", function () {
      confirm.hidden = true; found = null; say(""); button.focus();
    });

    box.querySelector(".use-position-accept").addEventListener("click", function () {
      if (!found) { return; }
      var lat = found.latitude, lon = found.longitude, acc = Math.round(found.accuracy * 10) / 10;
      fill(byId(d.lon), lon.toFixed(6));
      fill(byId(d.lat), lat.toFixed(6));
      // longitude first, as every coordinate field of the registry asks (the letters keep it unambiguous)
      fill(byId(d.text), Math.abs(lon).toFixed(6) + (lon < 0 ? "W" : "E") + ", " +
                         Math.abs(lat).toFixed(6) + (lat < 0 ? "S" : "N"));
      fill(byId(d.accuracy), String(acc));
      var method = byId(d.method);
      if (method && !method.value) { fill(method, "handheld_gnss"); }  // the device's GNSS, WGS84: no map-app offset
      confirm.hidden = true;
      say(fmt(d.msgFilled, { acc: acc }));
      button.focus();
    });
  });
})();
