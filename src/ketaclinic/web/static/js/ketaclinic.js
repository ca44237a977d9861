"use strict";
/* Behaviour every page shares (no inline script or handler anywhere: the Content-Security-Policy forbids them). */
(function () {
  /* Automatic logoff: the server signs out after inactivity; the page follows so no record stays on screen. */
  var body = document.body, s = parseInt(body.dataset.idleLogout || "0", 10);
  if (s) {
    var t, login = body.dataset.loginUrl || "/accounts/login/";
    var arm = function () { clearTimeout(t); t = setTimeout(function () { window.location = login + "?timeout=1"; }, (s + 5) * 1000); };
    ["click", "keydown", "touchstart"].forEach(function (e) { document.addEventListener(e, arm, { passive: true }); });
    arm();
  }
  /* <button data-print> prints the page; <select data-autosubmit> submits its form when changed. */
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-print]"); if (b) { e.preventDefault(); window.print(); }
  });
  /* A form that records something is sent once: a second tap while the first is in flight does nothing.
     The button comes back if the page is shown again (back button) or nothing answered within 15 s; the
     server refuses a money form sent twice in any case (its one-time key). */
  document.addEventListener("submit", function (e) {
    var f = e.target, b = e.submitter || f.querySelector("button[type=submit]");
    if (!b || (f.method || "").toLowerCase() !== "post" || f.target || f.hasAttribute("hx-post")) return;
    setTimeout(function () { b.disabled = true; }, 0);  /* after the submitter's name and value are sent */
    setTimeout(function () { b.disabled = false; }, 15000);
  });
  window.addEventListener("pageshow", function (e) {
    if (e.persisted) document.querySelectorAll("form button[type=submit][disabled]").forEach(function (b) { b.disabled = false; });
  });
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("select[data-autosubmit]") && e.target.form) { e.target.form.submit(); }
  });
})();
