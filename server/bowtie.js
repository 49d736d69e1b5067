/* bowtie.js: first-party event collection for bowtie (no dependencies).
 *
 *   <script async src="https://STATS.EXAMPLE.COM/bowtie.js" data-write-key="WRITE_KEY"></script>
 *
 * sends a page view on load; more calls go through window.bowtie:
 *
 *   bowtie('track', 'Signed Up', {plan: 'pro'});
 *   bowtie('identify', 'user-42', {email: 'ann@example.com'});
 *   bowtie('group', 'acme', {name: 'Acme GmbH'});
 *   bowtie('page', 'Pricing');
 *
 * Calls made before the script loads are queued by the stub
 *   window.bowtie = window.bowtie || function () { (bowtie.q = bowtie.q || []).push(arguments); };
 * Attributes: data-write-key (required), data-host (default: where this script
 * came from), data-auto-page="false" (no page view on load).
 * Messages follow Segment's spec and go in batches to HOST/v1/batch; a batch
 * that fails is retried with the same messageIds, which bowtie deduplicates.
 */
(function (w, d) {
  'use strict';
  var me = d.currentScript || d.querySelector('script[data-write-key]');
  if (!me || w.__bowtie) return;
  var stub = w.bowtie, key = me.getAttribute('data-write-key');
  var host = me.getAttribute('data-host') || new URL(me.src, location.href).origin;
  var queue = [], sending = false, timer = 0, delay = 1000, userId = null;
  var CLICK = ['gclid', 'gbraid', 'wbraid', 'msclkid', 'yclid', 'fbclid', 'ttclid', 'li_fat_id'];

  function uuid() {
    if (w.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }
  function store(k, v) {
    try { if (v === undefined) return localStorage.getItem(k); localStorage.setItem(k, v); } catch (e) { return null; }
  }
  var anon = store('bowtie_aid');
  if (!anon) { anon = uuid(); store('bowtie_aid', anon); }
  userId = store('bowtie_uid');

  function context() {
    var q = new URLSearchParams(location.search), c = {}, names = {source: 1, medium: 1, campaign: 1, term: 1, content: 1};
    for (var n in names) { var v = q.get('utm_' + n); if (v) c[n === 'campaign' ? 'name' : n] = v; }
    var ctx = {
      page: {url: location.href, path: location.pathname, search: location.search, title: d.title, referrer: d.referrer},
      userAgent: navigator.userAgent, locale: navigator.language,
      library: {name: 'bowtie.js', version: '1.0.0'}
    };
    if (Object.keys(c).length) ctx.campaign = c;
    return ctx;
  }
  function enqueue(msg) {
    msg.messageId = uuid();
    msg.anonymousId = anon;
    if (userId && !msg.userId) msg.userId = userId;
    msg.timestamp = new Date().toISOString();
    msg.context = context();
    queue.push(msg);
    if (queue.length >= 20) flush(); else if (!timer) timer = setTimeout(flush, 200);
  }
  function flush(beacon) {
    clearTimeout(timer); timer = 0;
    if (!queue.length || (sending && !beacon)) return;
    var batch = queue.slice(0, 100);
    var body = JSON.stringify({batch: batch, sentAt: new Date().toISOString(), writeKey: key});
    if (beacon && navigator.sendBeacon) {
      // Leaving the page: hand the batch to the browser, which sends it
      // even after the page is gone.
      if (navigator.sendBeacon(host + '/v1/batch', new Blob([body], {type: 'text/plain'}))) queue.splice(0, batch.length);
      return;
    }
    sending = true;
    // text/plain keeps this a "simple" request: no CORS preflight.
    fetch(host + '/v1/batch', {method: 'POST', body: body, keepalive: body.length < 60000,
      headers: {'Content-Type': 'text/plain'}, credentials: 'omit'})
      .then(function (r) {
        sending = false;
        if (r.ok || (r.status >= 400 && r.status < 500 && r.status !== 429)) {
          // Stored, or refused for good (a bad key or message): drop it.
          queue.splice(0, batch.length); delay = 1000;
          if (queue.length) flush();
        } else retry();
      }, function () { sending = false; retry(); });
  }
  function retry() {
    timer = setTimeout(flush, delay);
    delay = Math.min(delay * 2, 60000);
  }
  var api = {
    page: function (name, props) { enqueue({type: 'page', name: name || undefined, properties: props || {}}); },
    track: function (event, props) { enqueue({type: 'track', event: event, properties: props || {}}); },
    identify: function (id, traits) {
      if (id && typeof id === 'object') { traits = id; id = null; }
      if (id) { userId = String(id); store('bowtie_uid', userId); }
      enqueue({type: 'identify', traits: traits || {}});
    },
    group: function (id, traits) { enqueue({type: 'group', groupId: String(id), traits: traits || {}}); },
    alias: function (id, previous) { enqueue({type: 'alias', userId: String(id), previousId: previous || anon}); },
    reset: function () { userId = null; store('bowtie_uid', ''); anon = uuid(); store('bowtie_aid', anon); },
    flush: function () { flush(); }
  };
  w.__bowtie = true;
  w.bowtie = function (name) {
    var f = api[name];
    if (f) f.apply(null, Array.prototype.slice.call(arguments, 1));
  };
  var pending = (stub && stub.q) || [];
  if (me.getAttribute('data-auto-page') !== 'false') api.page();
  for (var i = 0; i < pending.length; i++) w.bowtie.apply(null, pending[i]);
  d.addEventListener('visibilitychange', function () { if (d.visibilityState === 'hidden') flush(true); });
  w.addEventListener('pagehide', function () { flush(true); });
})(window, document);
