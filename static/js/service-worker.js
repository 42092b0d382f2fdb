/* The registry's service worker (served as /sw.js by web/offline.py, which puts self.FOSSIL_OFFLINE before this text:
   the precache list, where Workbox and the queue are, the CSRF and queue pages' paths). docs/offline.md.

   - The shell (CSS, scripts, icons, Leaflet and its plugins) is precached by Workbox, loaded from static/vendor/workbox
     (no CDN); other static files are kept as they are fetched.
   - Pages (navigations) and data (GeoJSON, JSON) are fetched from the network first and kept in caches of the account
     that fetched them ("fossil-pages-<account>", "fossil-data-<account>"; the account's opaque name comes in the
     X-Offline-Account header of every page); offline, the current account's copy is served.
   - A form sent (POST) to one of the offline forms goes to the network with an Idempotency-Key; if the network fails,
     the record is queued with that same key (so a request that did arrive is never made twice) and the person is
     taken to the "waiting to send" page.
   - Background Sync ("fossil-queue"), where the browser has it, sends the queue when the connection returns. */
/* global FOSSIL_OFFLINE, FossilQueue, workbox */
"use strict";
importScripts(FOSSIL_OFFLINE.workbox + "workbox-sw.js");
workbox.setConfig({ modulePathPrefix: FOSSIL_OFFLINE.workbox, debug: false });
importScripts(FOSSIL_OFFLINE.queue);

var core = workbox.core, precaching = workbox.precaching, routing = workbox.routing, strategies = workbox.strategies;
var META = "fossil-meta";
var ACCOUNT_KEY = "/__fossil/offline-account";
var FORM_ACTIONS = [/^\/sites\/[^/]+\/inspections$/, /^\/sections\/[^/]+\/inspections$/, /^\/sites\/[^/]+\/markers$/,
                    /^\/sections\/[^/]+\/markers$/, /^\/report$/, /^\/rescues$/, /^\/rescues\/\d+\/events$/];
var NEVER_KEPT = [/^\/logout/, /^\/offline\/csrf-token/, /^\/sw\.js/, /^\/api\/?$/, /^\/login/];

self.skipWaiting();
core.clientsClaim();
precaching.cleanupOutdatedCaches();   // a precache of an older Workbox release is removed
precaching.precacheAndRoute(FOSSIL_OFFLINE.precache, { ignoreURLParametersMatching: [/.*/] });

function rememberAccount(account) {
  if (!account) { return Promise.resolve(); }
  return caches.open(META).then(function (c) { return c.put(ACCOUNT_KEY, new Response(account)); });
}

function currentAccount() {
  return caches.open(META).then(function (c) { return c.match(ACCOUNT_KEY); })
    .then(function (r) { return r ? r.text() : "public"; });
}

function never(url) { return NEVER_KEPT.some(function (re) { return re.test(url.pathname); }); }

function keep(kind, request, response) {
  var account = response.headers.get(FOSSIL_OFFLINE.header);
  var save = function (name) {
    return caches.open("fossil-" + kind + "-" + name).then(function (c) { return c.put(request, response); });
  };
  if (account) { return rememberAccount(account).then(function () { return save(account); }); }
  return currentAccount().then(save);
}

function fromCache(kind, request) {
  var url = new URL(request.url);
  return currentAccount().then(function (account) {
    return caches.open("fossil-" + kind + "-" + account).then(function (c) {
      return c.match(request, { ignoreVary: true }).then(function (found) {
        if (found || kind !== "pages") { return found; }
        url.searchParams.delete("lang");                       // a page kept in the other language is better than none
        return c.match(url.toString(), { ignoreVary: true }).then(function (plain) {
          return plain || c.match(FOSSIL_OFFLINE.offline_page, { ignoreVary: true });
        });
      });
    });
  });
}

function networkFirst(kind) {
  return function (options) {
    var request = options.request;
    var url = new URL(request.url);
    return fetch(request).then(function (response) {
      if (response.ok && response.type === "basic" && !never(url)) {
        options.event.waitUntil(keep(kind, request, response.clone()));
      }
      return response;
    }, function () {
      return fromCache(kind, request).then(function (found) {
        return found || new Response("offline", { status: 503, headers: { "Content-Type": "text/plain" } });
      });
    });
  };
}

routing.registerRoute(function (o) { return o.request.mode === "navigate"; }, networkFirst("pages"), "GET");
routing.registerRoute(function (o) { return o.sameOrigin && o.url.pathname.indexOf("/static/") === 0; },
                      new strategies.StaleWhileRevalidate({ cacheName: "fossil-static" }), "GET");
routing.registerRoute(function (o) { return o.sameOrigin && !never(o.url); }, networkFirst("data"), "GET");

/* A form of the field sent: to the network with an Idempotency-Key; queued with the same key if the network fails. */
routing.registerRoute(function (o) {
  return o.sameOrigin && o.request.mode === "navigate" &&
    FORM_ACTIONS.some(function (re) { return re.test(o.url.pathname); });
}, function (options) {
  var request = options.request;
  var key = FossilQueue.newKey();
  var type = request.headers.get("Content-Type") || "";
  return request.arrayBuffer().then(function (body) {
    var headers = { "Content-Type": type, "Idempotency-Key": key };
    return fetch(request.url, { method: "POST", body: body, headers: headers, credentials: "same-origin",
                                redirect: "manual" })
      .catch(function () {
        return new Response(body, { headers: { "Content-Type": type } }).formData().then(function (fd) {
          return currentAccount().then(function (account) {
            return FossilQueue.add(account, new URL(request.url).pathname, "", fd, key);
          });
        }).then(function () {
          if (self.registration.sync) { self.registration.sync.register("fossil-queue").catch(function () {}); }
          return Response.redirect(FOSSIL_OFFLINE.offline_page + "?queued=1", 303);
        });
      });
  });
}, "POST");

self.addEventListener("message", function (event) {
  if (event.data && event.data.type === "account") { event.waitUntil(rememberAccount(event.data.account)); }
});

self.addEventListener("sync", function (event) {
  if (event.tag === "fossil-queue") {
    event.waitUntil(currentAccount().then(function (account) {
      return FossilQueue.sendAll(account, FOSSIL_OFFLINE.csrf);
    }).then(function () {
      return self.clients.matchAll().then(function (clients) {
        clients.forEach(function (c) { c.postMessage({ type: "queue-changed" }); });
      });
    }));
  }
});
