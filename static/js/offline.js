/* The pages' side of working offline (docs/offline.md): registers the service worker, keeps the forms marked
   data-offline usable with no network (a record is queued on the phone, static/js/offline-queue.js), shows what waits
   to be sent, sends it when the connection returns (on "online", when a page opens, on the button, by Background Sync
   where the browser has it), draws the "waiting to send" and "take an area offline" pages, and clears the account's
   storage at sign-out. Texts come translated from the page (#offline-config); user text is shown with textContent. */
(function () {
  "use strict";
  var configBlock = document.getElementById("offline-config");
  if (!configBlock || !window.FossilQueue || !window.indexedDB) { return; }
  var cfg = JSON.parse(configBlock.textContent);
  var account = cfg.account;
  var T = cfg.texts;
  var Q = window.FossilQueue;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return values[k] !== undefined ? values[k] : m; });
  }

  // ------------------------------------------------------------------------------------------ the service worker
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(cfg.worker, { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (reg) {
      if (reg.active) { reg.active.postMessage({ type: "account", account: account }); }
      // the queue page, and this page if it holds an offline form, open offline from the first visit on (the
      // worker keeps every page it fetches; this one was fetched before the worker was there)
      var keepers = [cfg.urls.queue];
      if (document.querySelector("form[data-offline]")) { keepers.push(location.pathname + location.search); }
      caches.open("fossil-pages-" + account).then(function (c) {
        return Promise.all(keepers.map(function (url) {
          return c.match(url, { ignoreVary: true }).then(function (found) { return found || c.add(url); });
        }));
      }).then(function () {
        // and the layers its maps fetched (boundaries, markers, county outlines and seats: the map context)
        var layers = (performance.getEntriesByType("resource") || []).map(function (e) { return new URL(e.name); })
          .filter(function (u) {
            return u.origin === location.origin && u.pathname.indexOf("/static/") !== 0 &&
              /\.(geo)?json$/.test(u.pathname);
          }).map(function (u) { return u.pathname + u.search; });
        return caches.open("fossil-data-" + account).then(function (c) {
          return Promise.all(layers.map(function (url) {
            return c.match(url, { ignoreVary: true }).then(function (found) { return found || c.add(url); })
              .catch(function () {});
          }));
        });
      }).then(function () { document.documentElement.setAttribute("data-offline-ready", ""); }).catch(function () {});
    }).catch(function () {});
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "queue-changed") { refresh(); }
    });
  }

  // ------------------------------------------------------------------------------------------ badge and sending
  var badge = document.getElementById("offline-badge");

  function refresh() {
    return Q.list(account).then(function (records) {
      if (badge) {
        badge.hidden = records.length === 0;
        badge.textContent = fill(T.badge, { count: records.length });
      }
      if (queueBox) { drawQueue(records); }
      return records;
    });
  }

  function sendNow(options) {
    if (!navigator.onLine) { return refresh(); }
    return Q.sendAll(account, cfg.urls.csrf, options).then(function (counts) {
      if (status && counts.other_account) { status.textContent = T.other_account; }
      else if (status && (counts.sent || counts.refused || counts.waiting)) {
        status.textContent = fill(T.sent_counts, counts);
      }
      return refresh();
    }, refresh);
  }

  function askForSync() {
    if (navigator.serviceWorker && navigator.serviceWorker.ready) {
      navigator.serviceWorker.ready.then(function (reg) {
        if (reg.sync) { return reg.sync.register("fossil-queue"); }
      }).catch(function () {});
    }
  }

  window.addEventListener("online", function () { sendNow(); });

  // ------------------------------------------------------------------------------------------ the offline forms
  Array.prototype.forEach.call(document.querySelectorAll("form[data-offline]"), function (form) {
    form.addEventListener("submit", function (event) {
      if (navigator.onLine || !form.hasAttribute("data-offline")) { return; }  // online: sent as always (the worker adds a key)
      event.preventDefault();
      var title = form.getAttribute("data-offline") || document.title;
      Q.add(account, new URL(form.action, location.href).pathname, title, new FormData(form)).then(function () {
        askForSync();
        form.reset();
        var note = el("p", { "class": "flash success", role: "status", id: "offline-saved" }, T.saved);
        var link = el("a", { href: cfg.urls.queue }, T.see_queue);
        note.appendChild(document.createTextNode(" "));
        note.appendChild(link);
        var old = document.getElementById("offline-saved");
        if (old) { old.remove(); }
        form.parentNode.insertBefore(note, form);
        note.scrollIntoView();
        return refresh();
      }, function () { alert(T.not_saved); });
    });
  });

  // ------------------------------------------------------------------------------------------ sign-out
  function eraseAccount() {
    return Q.erase(account).then(function () {
      return caches.keys().then(function (names) {
        return Promise.all(names.filter(function (n) {
          return n.indexOf("-" + account) > 0 || n === "fossil-meta";
        }).map(function (n) { return caches["delete"](n); }));
      });
    }).then(function () { try { localStorage.clear(); sessionStorage.clear(); } catch (e) { /* none */ } });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-sign-out]"), function (form) {
    form.addEventListener("submit", function (event) {
      if (form.hasAttribute("data-cleared")) { return; }
      event.preventDefault();
      Q.list(account).catch(function () { return []; }).then(function (records) {
        if (records.length && !window.confirm(fill(T.sign_out_unsent, { count: records.length }))) { return; }
        eraseAccount().catch(function () {}).then(function () {
          form.setAttribute("data-cleared", "");
          form.submit();
        });
      });
    });
  });

  // ------------------------------------------------------------------------------------------ the queue page
  var queueBox = document.getElementById("offline-queue");
  var status = document.getElementById("offline-status");

  function editor(record, item) {
    var form = el("form", { "class": "stacked offline-edit" });
    record.fields.forEach(function (f, i) {
      if (typeof f[1] !== "string") { return; }
      var id = "edit-" + record.key + "-" + i;
      form.appendChild(el("label", { "for": id }, f[0]));
      var input = f[1].length > 60 ? el("textarea", { id: id, name: String(i) }) : el("input", { id: id, name: String(i) });
      input.value = f[1];
      form.appendChild(input);
    });
    var save = el("button", { type: "submit" }, T.save_and_send);
    form.appendChild(save);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      record.fields.forEach(function (f, i) {
        var input = form.elements[String(i)];
        if (input) { f[1] = input.value; }
      });
      record.state = "waiting";
      record.message = null;
      Q.put(account, record).then(function () { return sendNow(); });
    });
    item.appendChild(form);
  }

  function drawQueue(records) {
    queueBox.textContent = "";
    if (!records.length) { queueBox.appendChild(el("p", { "class": "muted", id: "offline-empty" }, T.empty)); return; }
    var list = el("ul", { "class": "offline-list" });
    records.forEach(function (record) {
      var item = el("li", { "class": "offline-record " + record.state, "data-key": record.key });
      item.appendChild(el("strong", {}, record.title));
      var photos = record.fields.filter(function (f) { return typeof f[1] !== "string"; }).length;
      item.appendChild(el("span", { "class": "muted" }, " " + fill(T.made_at, {
        time: new Date(record.created).toLocaleString(), photos: photos })));
      var state = record.state === "refused" ? fill(T.refused, { status: record.status || "" }) : T.waiting;
      item.appendChild(el("p", { "class": "state" }, state));
      if (record.message) { item.appendChild(el("p", { "class": "flash error server-message" }, record.message)); }
      var discard = el("button", { type: "button", "class": "link discard" }, T.discard);
      discard.addEventListener("click", function () {
        if (window.confirm(T.discard_confirm)) { Q.remove(account, record.key).then(refresh); }
      });
      if (record.state === "refused") {
        var edit = el("button", { type: "button", "class": "link edit" }, T.edit);
        edit.addEventListener("click", function () { edit.remove(); editor(record, item); });
        item.appendChild(edit);
      }
      item.appendChild(discard);
      list.appendChild(item);
    });
    queueBox.appendChild(list);
  }

  var sendButton = document.getElementById("offline-send");
  if (sendButton) {
    sendButton.addEventListener("click", function () {
      if (!navigator.onLine) { status.textContent = T.still_offline; return; }
      sendNow({ includeRefused: true });
    });
  }

  // ------------------------------------------------------------------------------------------ take an area offline
  var areaForm = document.getElementById("offline-area");
  if (areaForm) {
    areaForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var progress = document.getElementById("offline-area-progress");
      var query = new URLSearchParams(new FormData(areaForm)).toString();
      progress.textContent = T.area_working;
      fetch(cfg.urls.area + "?" + query, { credentials: "same-origin" }).then(function (r) {
        return r.json().then(function (body) { if (!r.ok) { throw new Error(body.detail || r.status); } return body; });
      }).then(function (plan) {
        var done = 0, failed = 0, total = plan.pages.length + plan.data.length;
        var put = function (kind) {
          return function (url) {
            return caches.open("fossil-" + kind + "-" + account).then(function (c) {
              return fetch(url, { credentials: "same-origin" }).then(function (r) {
                if (!r.ok) { throw new Error(r.status); }
                return c.put(url, r);
              });
            }).then(function () { done += 1; }, function () { failed += 1; }).then(function () {
              progress.textContent = fill(T.area_progress, { done: done, total: total });
            });
          };
        };
        var chain = Promise.resolve();
        plan.pages.forEach(function (u) { chain = chain.then(function () { return put("pages")(u); }); });
        plan.data.forEach(function (u) { chain = chain.then(function () { return put("data")(u); }); });
        return chain.then(function () {
          progress.textContent = fill(T.area_done, { sites: plan.sites.length, done: done, failed: failed });
          progress.setAttribute("data-done", String(done));
        });
      }).catch(function (e) { progress.textContent = T.area_failed + " " + e.message; });
    });
  }

  refresh().then(function (records) {
    if (records.some(function (r) { return r.state === "waiting"; })) { sendNow(); }
  });
})();
