// vulnshare: progressive enhancement only. Pages are complete without this script.
(function () {
  "use strict";
  // Remember the browser's time zone so the server renders times in it.
  try {
    var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (tz && document.cookie.indexOf("vulnshare-tz=" + tz.replace("/", "%2F")) < 0) {
      document.cookie = "vulnshare-tz=" + tz.replace("/", "%2F") + "; path=/; SameSite=Strict; max-age=31536000";
    }
  } catch (e) { /* no Intl: times stay in UTC */ }

  function span(seconds) {
    var s = Math.abs(seconds), d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600),
        m = Math.floor((s % 3600) / 60);
    if (d > 0) return d + " d " + h + " h";
    if (h > 0) return h + " h " + m + " min";
    return m + " min";
  }
  // Countdowns tick against the server's clock as rendered (data-now), so a controlled test
  // clock and the real one both read right; the offset is fixed at page load.
  var offset = null;
  function tick() {
    var items = document.querySelectorAll("time.countdown[data-due]");
    for (var i = 0; i < items.length; i++) {
      var el = items[i];
      if (offset === null) offset = Date.parse(el.getAttribute("data-now")) - Date.now();
      var left = Math.floor((Date.parse(el.getAttribute("data-due")) - (Date.now() + offset)) / 1000);
      el.textContent = left >= 0 ? span(left) + " left" : span(left) + " overdue";
      el.classList.toggle("late", left < 0);
    }
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 1000); });
  // htmx posts carry the session's CSRF token from <body data-csrf>.
  document.addEventListener("htmx:configRequest", function (ev) {
    var m = document.querySelector("meta[name=csrf-token]");
    if (m) ev.detail.headers["X-CSRF-Token"] = m.getAttribute("content");
  });
})();
