/* Protection map: loads the site and boundary layers for the current view from the app's GeoJSON endpoints
   (bbox + zoom, so the page stays small however large the registry), with filters, search, legend and popups.
   The map and the marker-cluster group are created by folium's script; their variable names are in #map-config. */
(function () {
  "use strict";
  var configEl = document.getElementById("map-config");
  if (!configEl || !window.L) { return; }
  var cfg = JSON.parse(configEl.textContent);
  var map = window[cfg.map];
  var cluster = window[cfg.cluster];
  var labels = cfg.labels;
  var zh = cfg.lang === "zh";

  // ------------------------------------------------------------------------------------------------ controls
  function domControl(id, position) {
    var el = document.getElementById(id);
    var Control = L.Control.extend({
      onAdd: function () {
        L.DomEvent.disableClickPropagation(el);
        L.DomEvent.disableScrollPropagation(el);
        return el;
      }
    });
    new Control({ position: position }).addTo(map);
    return el;
  }
  domControl("map-panel", "topright");
  domControl("map-legend", "bottomright");
  var wide = window.matchMedia("(min-width: 700px)").matches;
  document.getElementById("map-filters").open = wide;
  document.getElementById("map-legend-details").open = wide;
  [["zoom-in", labels.zoom_in], ["zoom-out", labels.zoom_out]].forEach(function (pair) {
    var button = map.getContainer().querySelector(".leaflet-control-" + pair[0]);
    if (button) { button.title = pair[1]; button.setAttribute("aria-label", pair[1]); }
  });
  var statusEl = document.getElementById("map-status");

  var notes = { sites: "", boundaries: "", statistics: "", error: "" };
  function setStatus(kind, text) {
    notes[kind] = text || "";
    statusEl.textContent = [notes.error, notes.sites, notes.boundaries, notes.statistics].filter(Boolean).join(" · ");
  }
  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) { return values[k] === undefined ? "" : values[k]; });
  }

  // ------------------------------------------------------------------------------------------------ popups
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    if (cls) { node.className = cls; }
    return node;
  }
  function row(dl, term, value) {
    if (!value) { return; }
    dl.appendChild(el("dt", term));
    dl.appendChild(el("dd", value));
  }
  function popupContent(p) {
    var box = el("div", null, "site-popup");
    var first = zh ? p.name : (p.name_en || p.name);
    var second = zh ? p.name_en : (p.name_en ? p.name : "");
    box.appendChild(el("strong", first, "site-name"));
    if (second && second !== first) {
      var other = el("div", second, "site-name-other");
      other.lang = zh ? "en" : "zh";
      box.appendChild(other);
    }
    box.appendChild(el("div", p.code, "site-code"));
    var dl = el("dl");
    row(dl, labels.level, labels.levels[p.level] || p.level);
    var age = [labels.periods[p.period] || p.period, ageText(p)].filter(Boolean).join(" · ");
    row(dl, labels.age, age);
    var groups = (p.fossil_groups || []).map(function (g) { return labels.groups[g] || g; });
    row(dl, labels.fossil_groups, groups.join(zh ? "、" : ", "));
    if (p.sensitivity) { row(dl, "", labels.sensitivity[p.sensitivity]); }
    box.appendChild(dl);
    if (p.precision === "cell") { box.appendChild(el("p", labels.approximate, "site-approx")); }
    var link = el("a", labels.site_page + " →", "site-link");
    link.href = cfg.urls.site.replace("CODE", encodeURIComponent(p.code));
    box.appendChild(link);
    return box;
  }

  // the age as the reader reads it: the chart's Chinese names on a Chinese page (age_zh, made by the server)
  function ageText(p) { return zh ? (p.age_zh || p.age) : p.age; }

  // ------------------------------------------------------------------------------------------------ layers
  map.createPane("boundaries").style.zIndex = 350;  // below the site markers
  var boundaryLayer = L.geoJSON(null, {
    pane: "boundaries",
    style: function (f) {
      var c = cfg.colours[f.properties.level] || "#555";
      return { color: c, weight: 2, opacity: 0.9, fillColor: c, fillOpacity: 0.18 };
    },
    onEachFeature: function (f, layer) { layer.bindPopup(function () { return popupContent(f.properties); }); }
  }).addTo(map);
  var aggregateLayer = L.layerGroup().addTo(map);

  // Stratigraphic sections: their lines (approximate ones as a dashed circle at their cell's centre), own colour.
  function sectionPopup(p) {
    var box = el("div", null, "site-popup");
    box.appendChild(el("strong", zh ? p.name : (p.name_en || p.name), "site-name"));
    box.appendChild(el("div", labels.section + " · " + p.code, "site-code"));
    var dl = el("dl");
    row(dl, labels.significance, labels.significances[p.significance] || p.significance);
    row(dl, labels.age, [labels.periods[p.period] || p.period, ageText(p)].filter(Boolean).join(" · "));
    if (p.length_m) { row(dl, labels.length, Math.round(p.length_m) + " m"); }
    box.appendChild(dl);
    if (p.precision === "cell") { box.appendChild(el("p", labels.approximate, "site-approx")); }
    var link = el("a", labels.section_page + " →", "site-link");
    link.href = cfg.urls.section.replace("CODE", encodeURIComponent(p.code));
    box.appendChild(link);
    return box;
  }
  var sectionLayer = L.geoJSON(null, {
    style: function () { return { color: cfg.section_colour, weight: 5, opacity: 0.9 }; },
    pointToLayer: function (f, latlng) {
      return L.circleMarker(latlng, { radius: 10, color: cfg.section_colour, weight: 2, dashArray: "4 3",
                                      fillColor: cfg.section_colour, fillOpacity: 0.25 });
    },
    onEachFeature: function (f, layer) { layer.bindPopup(function () { return sectionPopup(f.properties); }); }
  }).addTo(map);

  function siteMarker(f) {
    var p = f.properties;
    var c = cfg.colours[p.level] || "#555";
    var latlng = L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]);
    var style = { radius: 7, color: "#ffffff", weight: 2, fillColor: c, fillOpacity: 0.95 };
    if (p.precision === "cell") {
      style = { radius: 10, color: c, weight: 2, dashArray: "4 3", fillColor: c, fillOpacity: 0.3 };
    } else if (p.sensitivity === "hidden") {
      style = { radius: 7, color: "#000000", weight: 2, dashArray: "2 2", fillColor: c, fillOpacity: 0.95 };
    }
    var marker = L.circleMarker(latlng, style);
    marker.feature = f;
    marker.bindPopup(function () { return popupContent(p); });
    return marker;
  }

  function aggregateMarker(f) {
    var n = f.properties.count;
    var size = n < 10 ? "small" : n < 100 ? "medium" : "large";
    var icon = L.divIcon({ html: "<div><span>" + Number(n) + "</span></div>",
                           className: "marker-cluster marker-cluster-" + size, iconSize: L.point(40, 40) });
    var latlng = L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]);
    var marker = L.marker(latlng, { icon: icon, title: fmt(labels.sites_here, { count: n }) });
    marker.on("click", function () {
      var b = f.properties.bbox;
      var bounds = L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
      if (bounds.getNorthEast().equals(bounds.getSouthWest())) {
        map.setView(latlng, map.getZoom() + 2);
      } else {
        map.fitBounds(bounds.pad(0.1));
      }
    });
    return marker;
  }

  // ------------------------------------------------------------------------------------------------ loading
  var loaded = { sites: null, boundaries: null, sections: null };
  var pending = { sites: null, boundaries: null, sections: null };

  function filterQuery() {
    var levels = Array.prototype.filter.call(document.querySelectorAll("#map-panel input[name=level]"),
      function (box) { return box.checked; }).map(function (box) { return box.value; });
    var q = new URLSearchParams();
    if (levels.length < 3) { q.set("level", levels.join(",")); }
    var period = document.getElementById("map-period").value;
    var group = document.getElementById("map-group").value;
    if (period) { q.set("period", period); }
    if (group) { q.set("group", group); }
    return { none: levels.length === 0, query: q.toString() };
  }

  function fetchLayer(kind, box, zoom, filters, apply) {
    if (pending[kind]) { pending[kind].abort(); }
    var controller = new AbortController();
    pending[kind] = controller;
    var b = box;
    var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(4); });
    var url = cfg.urls[kind] + "?bbox=" + bbox.join(",") + "&zoom=" + zoom + (filters.query ? "&" + filters.query : "");
    return fetch(url, { signal: controller.signal, credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (r) {
        if (!r.ok) { throw new Error(kind + " layer: HTTP " + r.status); }
        return r.json();
      })
      .then(function (data) {
        pending[kind] = null;
        loaded[kind] = { box: box, zoom: zoom, filters: filters.query, aggregated: data.aggregated };
        setStatus("error", "");
        apply(data);
      })
      .catch(function (err) {
        if (err.name === "AbortError") { return; }
        pending[kind] = null;
        loaded[kind] = null;
        setStatus("error", labels.load_failed);
      });
  }

  function showSites(data) {
    cluster.clearLayers();
    aggregateLayer.clearLayers();
    if (data.aggregated) {
      data.features.forEach(function (f) { aggregateLayer.addLayer(aggregateMarker(f)); });
    } else {
      cluster.addLayers(data.features.map(siteMarker));
    }
    setStatus("sites", fmt(labels.shown, { count: data.total }));
    map.getContainer().setAttribute("data-sites-loaded", String(data.features.length));
    performance.mark("map:sites-rendered");  // read by bench/bench_map.py
  }

  function showBoundaries(data) {
    boundaryLayer.clearLayers();
    boundaryLayer.addData(data);
    setStatus("boundaries", data.truncated ? labels.boundaries_truncated : "");
    map.getContainer().setAttribute("data-boundaries-loaded", String(data.features.length));
    performance.mark("map:boundaries-rendered");
  }

  function showSections(data) {
    sectionLayer.clearLayers();
    sectionLayer.addData(data);
    map.getContainer().setAttribute("data-sections-loaded", String(data.features.length));
  }

  function current(kind, view, zoom, filters) {
    var l = loaded[kind];
    if (!l || l.filters !== filters.query || !l.box.contains(view)) { return false; }
    if (kind !== "sites" || l.aggregated) { return l.zoom === zoom; }
    return true;  // single sites already loaded for a larger area: nothing new to fetch when zooming in
  }

  function refresh() {
    var view = map.getBounds();
    var zoom = map.getZoom();
    var filters = filterQuery();
    if (filters.none) {
      cluster.clearLayers(); aggregateLayer.clearLayers(); boundaryLayer.clearLayers();
      loaded.sites = loaded.boundaries = null;
      setStatus("sites", fmt(labels.shown, { count: 0 }));
      setStatus("boundaries", "");
      return;
    }
    var box = view.pad(0.3);
    if (!current("sites", view, zoom, filters)) { fetchLayer("sites", box, zoom, filters, showSites); }
    if (!current("boundaries", view, zoom, filters)) { fetchLayer("boundaries", box, zoom, filters, showBoundaries); }
    var all = { query: "", none: false };  // the level, age and fossil-group filters are the sites'
    if (!current("sections", view, zoom, all)) { fetchLayer("sections", box, zoom, all, showSections); }
  }

  var timer = null;
  function later() { clearTimeout(timer); timer = setTimeout(refresh, 150); }

  fetch(cfg.urls.statistics, { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (s) {
      if (!s) { return; }
      setStatus("statistics", fmt(labels.statistics, { total: s.total, hidden: (s.by_sensitivity || {}).hidden || 0 }));
    })
    .catch(function () {});

  // ------------------------------------------------------------------------------------------------ search
  var results = document.getElementById("map-results");
  var input = document.getElementById("map-q");

  function showResult(f) {
    var p = f.properties;
    var latlng = L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]);
    if (!window.matchMedia("(min-width: 700px)").matches) { document.getElementById("map-filters").open = false; }
    map.setView(latlng, p.precision === "cell" ? 11 : 14);
    L.popup({ autoPanPadding: [20, 20] }).setLatLng(latlng)
      .setContent(p.kind === "section" ? sectionPopup(p) : popupContent(p)).openOn(map);
  }

  // As people type (pinyin, initials, Chinese, English or a code): one request per pause, the latest answer wins.
  var searchTimer = null, asked = 0;
  function search(jump) {
    var q = input.value.trim();
    var ticket = ++asked;
    if (!q) { results.innerHTML = ""; results.hidden = true; return; }
    fetch(cfg.urls.search + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (ticket !== asked) { return; }
        results.innerHTML = "";
        results.hidden = false;
        if (!data.features || !data.features.length) {
          results.appendChild(el("li", labels.no_results, "none"));
          return;
        }
        data.features.forEach(function (f) {
          var li = el("li");
          var button = el("button", (zh ? f.properties.name : (f.properties.name_en || f.properties.name)) +
                          " (" + f.properties.code + ")", "link");
          button.type = "button";
          button.addEventListener("click", function () { showResult(f); });
          li.appendChild(button);
          results.appendChild(li);
        });
        if (jump && data.features.length >= 1) { showResult(data.features[0]); }
      })
      .catch(function () {
        if (ticket !== asked) { return; }
        results.innerHTML = ""; results.hidden = false; results.appendChild(el("li", labels.load_failed, "none"));
      });
  }
  // Enter or the button: the typing pause's pending search is dropped, or its answer would supersede this one's jump
  document.getElementById("map-search-go").addEventListener("click", function () {
    clearTimeout(searchTimer); search(true);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter") { e.preventDefault(); clearTimeout(searchTimer); search(true); }
  });
  input.addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () { search(false); }, 250);
  });

  document.querySelectorAll("#map-panel input[name=level], #map-panel select").forEach(function (node) {
    node.addEventListener("change", function () { loaded.sites = loaded.boundaries = null; refresh(); });
  });

  // ------------------------------------------------------------------------------------------------ start
  var r = cfg.region;
  map.fitBounds([[r[1], r[0]], [r[3], r[2]]], { animate: false });
  map.on("moveend", later);
  refresh();
})();
