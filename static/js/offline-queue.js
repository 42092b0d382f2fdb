/* The queue of records made offline (docs/offline.md), in IndexedDB, one database per account ("fossil-offline-" +
   the opaque account name the server gives: web/offline.py). Used by the pages (static/js/offline.js) and by the
   service worker (importScripts), so it touches no DOM.

   A record: {key (its Idempotency-Key, a random UUID made when it was queued), url (the form's action), title,
   fields: [[name, value]] where a file's value is {blob, name, type} (the File itself: its original bytes, EXIF and
   all), created (ISO time), state: "waiting" | "refused", status (the last HTTP status), message (the server's
   words)}. Nothing leaves the queue but a send the server accepted (or replayed), or the person's own "discard". */
(function (scope) {
  "use strict";
  var STORE = "records";
  var VERSION = 1;

  function dbName(account) { return "fossil-offline-" + account; }

  function open(account) {
    return new Promise(function (resolve, reject) {
      var req = scope.indexedDB.open(dbName(account), VERSION);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "key" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function run(account, mode, work) {
    return open(account).then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(result && "result" in result ? result.result : result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
        tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function newKey() {
    if (scope.crypto && scope.crypto.randomUUID) { return scope.crypto.randomUUID(); }
    var b = scope.crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }

  /* The fields of a FormData, files kept as Blobs with their names (the CSRF token is not kept: a fresh one is
     fetched when the record is sent). */
  function fieldsOf(formData) {
    var fields = [];
    formData.forEach(function (value, name) {
      if (name === "csrf_token") { return; }
      if (typeof value === "string") { fields.push([name, value]); return; }
      if (!value.name && !value.size) { return; }                 // an empty file input
      fields.push([name, { blob: value, name: value.name, type: value.type }]);
    });
    return fields;
  }

  function formDataOf(fields, csrf) {
    var fd = new FormData();
    fields.forEach(function (f) {
      if (typeof f[1] === "string") { fd.append(f[0], f[1]); } else { fd.append(f[0], f[1].blob, f[1].name); }
    });
    if (csrf) { fd.append("csrf_token", csrf); }
    return fd;
  }

  function add(account, url, title, formData, key) {
    var record = { key: key || newKey(), url: url, title: title || url, fields: fieldsOf(formData),
                   created: new Date().toISOString(), state: "waiting", status: null, message: null };
    return run(account, "readwrite", function (s) { s.put(record); }).then(function () { return record; });
  }

  function list(account) {
    return run(account, "readonly", function (s) { return s.getAll(); }).then(function (all) {
      return (all || []).sort(function (a, b) { return a.created < b.created ? -1 : 1; });
    });
  }

  function put(account, record) { return run(account, "readwrite", function (s) { s.put(record); }); }

  /* Write back a record only if it is still queued (another tab or the worker may have sent it meanwhile). */
  function update(account, record) {
    return run(account, "readwrite", function (s) {
      var req = s.get(record.key);
      req.onsuccess = function () { if (req.result) { s.put(record); } };
    });
  }
  function remove(account, key) { return run(account, "readwrite", function (s) { s["delete"](key); }); }

  function erase(account) {
    return new Promise(function (resolve) {
      var req = scope.indexedDB.deleteDatabase(dbName(account));
      req.onsuccess = req.onerror = req.onblocked = function () { resolve(); };
    });
  }

  /* The words of a refusal: a problem+json's detail, or the error paragraph of a form page sent back. */
  function messageOf(response) {
    var type = response.headers.get("Content-Type") || "";
    return response.text().then(function (text) {
      if (type.indexOf("json") >= 0) {
        try { var p = JSON.parse(text); return p.detail || p.title || String(response.status); } catch (e) { /* text */ }
      }
      var m = /id="form-error"[^>]*>([\s\S]*?)<\/p>/.exec(text) || /<p class="flash error"[^>]*>([\s\S]*?)<\/p>/.exec(text);
      var found = m ? m[1] : (/<h1[^>]*>([\s\S]*?)<\/h1>/.exec(text) || [null, ""])[1];
      return found.replace(/<[^>]+>/g, "").replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">")
        .replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/\s+/g, " ").trim() || String(response.status);
    });
  }

  /* This session's CSRF token, if the session is the account's that made the records (else null: not sent). */
  function session(csrfUrl) {
    return fetch(csrfUrl, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      if (!r.ok) { throw new Error("csrf " + r.status); }
      return r.json();
    });
  }

  /* Send one record: "sent", "waiting" (no connection, busy, in progress: try later) or "refused" (kept, with the
     server's message, until corrected or discarded). */
  function sendOne(account, record, csrf) {
    var body = formDataOf(record.fields, csrf);
    return fetch(record.url, { method: "POST", body: body, credentials: "same-origin", redirect: "manual",
                               headers: { "Idempotency-Key": record.key, "Accept": "text/html" } })
      .then(function (r) {
        if (r.type === "opaqueredirect" || (r.status >= 200 && r.status < 400)) {
          return remove(account, record.key).then(function () { return "sent"; });
        }
        return messageOf(r).then(function (message) {
          var later = r.status === 409 || r.status === 429 || r.status >= 500;
          record.state = later ? "waiting" : "refused";
          record.status = r.status;
          record.message = message;
          return update(account, record).then(function () { return record.state; });
        });
      }, function () { return "waiting"; });
  }

  var sending = {};

  /* One sender at a time per account across the tabs and the worker (Web Locks, where the browser has them; the
     Idempotency-Key makes a second sender harmless anyway: the server answers it 409 or replays). */
  function exclusively(account, work) {
    var locks = scope.navigator && scope.navigator.locks;
    return locks ? locks.request("fossil-queue-" + account, work) : work();
  }

  /* Send every waiting record of ``account`` (refused ones wait for the person), one after the other. */
  function sendAll(account, csrfUrl, options) {
    if (sending[account]) { return sending[account]; }
    sending[account] = exclusively(account, function () { return sendEach(account, csrfUrl, options); })
      .then(function (c) { delete sending[account]; return c; }, function (e) { delete sending[account]; throw e; });
    return sending[account];
  }

  function sendEach(account, csrfUrl, options) {
    var includeRefused = options && options.includeRefused;
    var counts = { sent: 0, waiting: 0, refused: 0, other_account: false };
    return list(account).then(function (records) {
      var due = records.filter(function (r) { return r.state === "waiting" || includeRefused; });
      if (!due.length) { return counts; }
      return session(csrfUrl).then(function (s) {
        if (s.account !== account) { counts.other_account = true; counts.waiting = due.length; return counts; }
        return due.reduce(function (p, record) {
          return p.then(function () {
            return sendOne(account, record, s.csrf_token).then(function (state) { counts[state] += 1; });
          });
        }, Promise.resolve()).then(function () { return counts; });
      }, function () { counts.waiting = due.length; return counts; });
    });
  }

  scope.FossilQueue = { open: open, add: add, list: list, put: put, remove: remove, erase: erase, sendAll: sendAll,
                        sendOne: sendOne, newKey: newKey, formDataOf: formDataOf, fieldsOf: fieldsOf,
                        dbName: dbName };
})(self);
