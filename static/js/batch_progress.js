"use strict";
// Progress of issuances that are still running, polled until they finish; then the page is loaded again so that
// its counts, codes and messages all say the batch is done.
document.querySelectorAll("[data-batch]").forEach(function (item) {
  if (item.dataset.state === "done" || item.dataset.state === "failed") return;
  var timer = setInterval(function () {
    fetch(item.dataset.progressUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (data) {
      item.dataset.state = data.state;
      item.querySelector("progress").value = data.progress;
      item.querySelector(".batch-count").textContent = data.issued;
      item.querySelector(".batch-state").textContent = data.state_label;
      if (data.state === "done" || data.state === "failed") { clearInterval(timer); window.location.reload(); }
    });
  }, 1500);
});
