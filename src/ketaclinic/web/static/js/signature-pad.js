/* A signature pad: draw on a <canvas data-signature-pad> with a finger, pen or mouse (pointer events);
   the drawing is written into the form's hidden input (named by data-target) as a PNG data URL on submit. */
(function () {
  document.querySelectorAll("canvas[data-signature-pad]").forEach(function (canvas) {
    var ctx = canvas.getContext("2d"), drawing = false, drawn = false, last = null;
    var input = document.getElementById(canvas.dataset.target);
    function size() {
      var ratio = window.devicePixelRatio || 1, rect = canvas.getBoundingClientRect();
      canvas.width = rect.width * ratio; canvas.height = rect.height * ratio;
      ctx.scale(ratio, ratio); ctx.lineWidth = 2.5; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#111";
      ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, rect.width, rect.height); drawn = false; if (input) input.value = "";
    }
    function point(e) { var r = canvas.getBoundingClientRect(); return { x: e.clientX - r.left, y: e.clientY - r.top }; }
    canvas.addEventListener("pointerdown", function (e) {
      drawing = true; last = point(e); canvas.setPointerCapture(e.pointerId); e.preventDefault();
    });
    canvas.addEventListener("pointermove", function (e) {
      if (!drawing) return;
      var p = point(e); ctx.beginPath(); ctx.moveTo(last.x, last.y); ctx.lineTo(p.x, p.y); ctx.stroke();
      last = p; drawn = true; e.preventDefault();
    });
    ["pointerup", "pointercancel", "pointerleave"].forEach(function (t) {
      canvas.addEventListener(t, function () {
        drawing = false; if (drawn && input) input.value = canvas.toDataURL("image/png");
      });
    });
    var clear = document.querySelector("[data-clear='" + canvas.id + "']");
    if (clear) clear.addEventListener("click", function (e) { e.preventDefault(); size(); });
    size();
  });
})();
