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
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("select[data-autosubmit]") && e.target.form) { e.target.form.submit(); }
  });
})();
