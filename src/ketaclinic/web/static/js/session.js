"use strict";
/* The live session page (loaded by infusions/session.html; no inline script: the Content-Security-Policy forbids it). */
/* Each vitals form gets a fresh client id (a retried or double-clicked post is stored once); htmx may swap 400/409
   pages in so refusals show where they happened. */
(function () {
  function ids(root) {
    (root || document).querySelectorAll("input[data-client-id]").forEach(function (el) {
      if (el.form && el.form.dataset.bound === "1") return;
      if (window.crypto && crypto.randomUUID) el.value = crypto.randomUUID();
    });
  }
  document.addEventListener("DOMContentLoaded", function () { ids(document); });
  document.body.addEventListener("htmx:afterSwap", function (e) { ids(e.target); });
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.xhr.status === 400 || e.detail.xhr.status === 409) { e.detail.shouldSwap = true; e.detail.isError = false; }
  });
  /* A new alert (from a reading just saved or from the poll) is brought into view: the status box sits above the
     vitals form, so a nurse typing below would not see it. role="alert" has the screen reader announce it. */
  var seen = {};
  function showNewAlerts(first) {
    var fresh = null;
    document.querySelectorAll("#status [data-alert]").forEach(function (el) {
      if (!seen[el.dataset.alert]) { seen[el.dataset.alert] = true; if (!fresh) fresh = el; }
    });
    if (fresh && !first) fresh.scrollIntoView({block: "center"});
  }
  document.addEventListener("DOMContentLoaded", function () { showNewAlerts(false); });
  document.body.addEventListener("htmx:afterSettle", function () { showNewAlerts(false); });
  /* The poll never replaces what is being typed: while a field inside the status box has the focus (an
     acknowledgement note), that cycle's poll is skipped. */
  document.body.addEventListener("htmx:beforeRequest", function (e) {
    var box = document.getElementById("status");
    if (e.detail.elt === box && box.contains(document.activeElement) && document.activeElement.tagName === "INPUT") {
      e.preventDefault();
    }
  });
  document.body.addEventListener("submit", function (e) {  /* a second tap while the first is in flight does nothing */
    var b = e.target.querySelector("button[type=submit]"); if (b) { setTimeout(function () { b.disabled = true; }, 0); }
  });
})();
