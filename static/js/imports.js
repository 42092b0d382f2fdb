/* The import page while its background job runs: polls the import's state (GET /api/imports/<id>?limit=0) every
   second, moves the progress bar, and reloads the page when the state changes (analysis done, proposals made). */
(function () {
  "use strict";
  var box = document.querySelector("[data-poll]");
  if (!box) { return; }
  var url = box.getAttribute("data-poll");
  var state = box.getAttribute("data-state");
  var bar = document.getElementById("import-progress");
  var done = document.getElementById("import-done");
  var total = document.getElementById("import-total");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) { window.setTimeout(poll, 3000); return; }
        bar.max = Math.max(body.progress.total, 1);
        bar.value = body.progress.done;
        done.textContent = String(body.progress.done);
        total.textContent = String(body.progress.total);
        if (body.state !== state) { window.location.reload(); return; }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
}());
