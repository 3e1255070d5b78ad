/* The visitor kiosk: a signature drawn with a finger (pointer events) into a PNG the form sends.
   No inline script anywhere (the page's CSP forbids it): this file is the kiosk's only script. */
(function () {
  "use strict";

  function signaturePad(canvas, input, clearButton) {
    var ctx = canvas.getContext("2d");
    var drawing = false;
    var last = null;

    function setup() {
      // Draw at the screen's resolution (at most 2x: a signature needs no more, and stays small).
      var ratio = Math.min(window.devicePixelRatio || 1, 2);
      var rect = canvas.getBoundingClientRect();
      canvas.width = Math.round(rect.width * ratio);
      canvas.height = Math.round(rect.height * ratio);
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.lineWidth = 3;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#111";
    }

    function point(event) {
      var rect = canvas.getBoundingClientRect();
      return { x: event.clientX - rect.left, y: event.clientY - rect.top };
    }

    function save() {
      input.value = canvas.toDataURL("image/png");
    }

    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      drawing = true;
      last = point(event);
      ctx.beginPath();
      ctx.arc(last.x, last.y, 1.5, 0, 2 * Math.PI);
      ctx.fillStyle = "#111";
      ctx.fill();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      event.preventDefault();
      var p = point(event);
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      last = p;
    });
    function stop() {
      if (!drawing) { return; }
      drawing = false;
      save();
    }
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
    canvas.addEventListener("pointerleave", stop);

    clearButton.addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      input.value = "";
    });

    setup();
    // A form shown again (another field was missing) keeps the signature already drawn.
    if (input.value.indexOf("data:image/png;base64,") === 0) {
      var img = new Image();
      img.onload = function () {
        var rect = canvas.getBoundingClientRect();
        ctx.drawImage(img, 0, 0, rect.width, rect.height);
      };
      img.src = input.value;
    }
  }

  // Back to the empty Dutch form after data-idle seconds without a touch: a visitor who walked away
  // leaves neither a half-filled form nor another language for the next one.
  function idleReset(body) {
    var seconds = parseInt(body.getAttribute("data-idle") || "0", 10);
    var home = body.getAttribute("data-reset");
    if (!seconds || !home) { return; }
    var last = Date.now();
    ["pointerdown", "keydown", "input", "touchstart"].forEach(function (name) {
      document.addEventListener(name, function () { last = Date.now(); }, true);
    });
    function fresh() {
      var form = document.getElementById("visitor-form");
      var typed = form && Array.prototype.some.call(form.elements, function (el) {
        return (el.type === "radio" || el.type === "checkbox") ? el.checked
          : (el.type !== "hidden" && el.value) || (el.name === "signature" && el.value);
      });
      return !typed && window.location.pathname + window.location.search === home;
    }
    window.setInterval(function () {
      if (Date.now() - last >= seconds * 1000 && !fresh()) { window.location.assign(home); }
    }, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var canvas = document.getElementById("signature-pad");
    if (canvas) {
      signaturePad(canvas, document.getElementById("signature"), document.getElementById("signature-clear"));
    }
    idleReset(document.body);
    var printButton = document.getElementById("print-poster");
    if (printButton) {
      printButton.addEventListener("click", function () { window.print(); });
    }
  });
}());
