// SAMEN Forms console: small enhancements over pages that work without script.
// Loaded from /static only (the Content-Security-Policy forbids inline script).
"use strict";

(function () {
  function onReady(callback) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", callback);
    else callback();
  }

  // Links with data-dialog="id" open that <dialog> instead of navigating (the link still works without script).
  function enhanceDialogs() {
    document.querySelectorAll("[data-dialog]").forEach(function (link) {
      var dialog = document.getElementById(link.getAttribute("data-dialog"));
      if (!dialog || typeof dialog.showModal !== "function") return;
      link.addEventListener("click", function (event) {
        event.preventDefault();
        dialog.showModal();
        var first = dialog.querySelector("input:not([type=hidden])");
        if (first) first.focus();
      });
    });
    document.querySelectorAll("[data-close-dialog]").forEach(function (button) {
      var dialog = button.closest("dialog");
      if (dialog) button.addEventListener("click", function () { dialog.close(); });
      else button.hidden = true;
    });
  }

  // The unlock banner counts down to the expiry, and reloads the page when the key locks itself.
  function startCountdown() {
    var element = document.querySelector("[data-countdown]");
    if (!element) return;
    var expires = Date.parse(element.getAttribute("datetime"));
    if (isNaN(expires)) return;
    document.querySelector("[data-countdown-fallback]").hidden = true;
    document.querySelector("[data-countdown-shown]").hidden = false;
    function tick() {
      var left = Math.max(0, Math.round((expires - Date.now()) / 1000));
      var minutes = Math.floor(left / 60), seconds = left % 60;
      element.textContent = minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
      if (left === 0) {
        clearInterval(timer);
        window.location.reload();
      }
    }
    var timer = setInterval(tick, 1000);
    tick();
  }

  function confirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (match, name) { return name in values ? values[name] : match; });
  }

  function size(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1048576) return (bytes / 1024).toFixed(0) + " kB";
    return (bytes / 1048576).toFixed(1) + " MB";
  }

  function filename(response) {
    var header = response.headers.get("Content-Disposition") || "";
    var match = /filename\*=UTF-8''([^;]+)/.exec(header);
    return match ? decodeURIComponent(match[1]) : "export";
  }

  // The export streams while it is made: show what has arrived, then hand the file to the browser.
  function enhanceExport(form) {
    if (!window.fetch || !window.ReadableStream) return;
    var box = form.querySelector(".export-progress");
    var progress = box.querySelector("progress");
    var status = form.querySelector("[data-export-status]");
    var button = form.querySelector("[data-export-start]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      box.hidden = false;
      button.disabled = true;
      progress.removeAttribute("value");
      status.textContent = status.getAttribute("data-preparing");
      fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) {
            // The server says in plain text what to change (a password too short, say); show that.
            var plain = (response.headers.get("Content-Type") || "").indexOf("text/plain") === 0;
            return response.text().then(function (text) { throw new Error(plain ? text : ""); });
          }
          var total = response.headers.get("X-Export-Total") || "?";
          var reader = response.body.getReader();
          var parts = [], received = 0;
          function pump() {
            return reader.read().then(function (step) {
              if (step.done) return new Blob(parts, { type: response.headers.get("Content-Type") });
              parts.push(step.value);
              received += step.value.length;
              status.textContent = fill(status.getAttribute("data-received"), { total: total, size: size(received) });
              return pump();
            });
          }
          return pump().then(function (blob) { return { blob: blob, name: filename(response) }; });
        })
        .then(function (file) {
          var url = URL.createObjectURL(file.blob);
          var link = document.createElement("a");
          link.href = url;
          link.download = file.name;
          document.body.appendChild(link);
          link.click();
          link.remove();
          setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
          progress.max = 1;
          progress.value = 1;
          status.textContent = status.getAttribute("data-done");
        })
        .catch(function (error) { status.textContent = error.message || status.getAttribute("data-failed"); })
        .then(function () { button.disabled = false; });
    });
  }

  onReady(function () {
    enhanceDialogs();
    startCountdown();
    confirmations();
    document.querySelectorAll("form[data-export]").forEach(enhanceExport);
  });
})();
