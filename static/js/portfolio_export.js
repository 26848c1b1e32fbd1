"use strict";
// The portfolio's files for filing while they are queued or being prepared: the progress is polled and shown, and
// once the build ends the page is loaded again, showing the link to the ZIP or why it failed.
document.querySelectorAll("[data-portfolio-export]").forEach(function (box) {
  if (box.dataset.state !== "queued" && box.dataset.state !== "running") return;
  var bar = box.querySelector("progress");
  var label = box.querySelector("[data-export-label]");
  var timer = setInterval(function () {
    fetch(box.dataset.stateUrl, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        box.dataset.state = data.state;
        if (bar) { bar.value = data.progress; bar.textContent = data.progress + "%"; }
        if (label) label.textContent = data.state_label;
        if (data.state !== "queued" && data.state !== "running") { clearInterval(timer); window.location.reload(); }
      });
  }, 1500);
});
