"use strict";
// The portfolio's files for filing while they are queued or being prepared: the progress is polled and shown, and
// once the build ends the page is loaded again, showing the link to the ZIP or why it failed. Polling stops after a
// few failed requests (a session that ended, the server gone) or half an hour, and the page says so.
document.querySelectorAll("[data-portfolio-export]").forEach(function (box) {
  if (box.dataset.state !== "queued" && box.dataset.state !== "running") return;
  var bar = box.querySelector("progress");
  var label = box.querySelector("[data-export-label]");
  var failures = 0;
  var deadline = Date.now() + 30 * 60 * 1000;
  function stop() {
    clearInterval(timer);
    if (label) label.textContent = box.dataset.stalledText || "";
  }
  var timer = setInterval(function () {
    if (Date.now() > deadline) { stop(); return; }
    fetch(box.dataset.stateUrl, {credentials: "same-origin", headers: {Accept: "application/json"}, redirect: "error"})
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (data) {
        failures = 0;
        box.dataset.state = data.state;
        if (bar) { bar.value = data.progress; bar.textContent = data.progress + "%"; }
        if (label) label.textContent = data.state_label;
        if (data.state !== "queued" && data.state !== "running") { clearInterval(timer); window.location.reload(); }
      })
      .catch(function () { failures += 1; if (failures >= 5) stop(); });
  }, 1500);
});
