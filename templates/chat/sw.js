{% autoescape off %}// djchat's service worker (chat/webapp.py): the page shell offline, nothing else.
// Static files are cached as they are fetched and served from the cache only when
// the network fails; a navigation that fails shows the offline screen. API responses,
// the chat page and conversation content are never stored.
const CACHE = "djchat-shell-v1";
const OFFLINE_URL = "{{ offline_url|escapejs }}";
const STATIC_PREFIX = "{{ static_prefix|escapejs }}";
const SHELL = [{% for url in shell %}"{{ url|escapejs }}", {% endfor %}OFFLINE_URL];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { credentials: "omit" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    // Pages always come from the network; the offline screen when there is none.
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE_URL)));
    return;
  }
  if (url.pathname.startsWith(STATIC_PREFIX)) {
    // Network first (the browser's HTTP cache still answers hashed files at once),
    // so a deploy or an edited file is never hidden behind an old copy; the cached
    // shell answers only when the network is gone.
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put(request, copy));
          }
          return response;
        })
        .catch(() => caches.match(request).then((hit) => hit || Response.error())),
    );
  }
  // Everything else (the API, the socket) goes to the network untouched.
});
{% endautoescape %}
