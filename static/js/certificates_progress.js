"use strict";
// The whole event's certificates file while it is queued or being built: polled until the build ends, then the
// page is loaded again and shows the file's link (or that the build failed).
document.querySelectorAll("[data-certificates-state]").forEach(function (note) {
  var state = note.dataset.certificatesState;
  if (state !== "queued" && state !== "building") return;
  var timer = setInterval(function () {
    fetch(note.dataset.stateUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (data) {
      if (data.state !== "queued" && data.state !== "building") { clearInterval(timer); window.location.reload(); }
    });
  }, 2000);
});
