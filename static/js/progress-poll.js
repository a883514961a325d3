// Progress of work done in the background (a document batch, a background job): polls the JSON state named by the
// box's data-status-url every 2 seconds, shows its percentage and message, and shows the page again once the work is
// finished (its links and files are then in the page itself).
(function () {
  "use strict";
  var box = document.querySelector("[data-progress][data-status-url]");
  if (!box || box.dataset.finished === "1" || !box.dataset.statusUrl) {
    return;
  }
  var bar = box.querySelector("[data-progress-bar]");
  var percent = box.querySelector("[data-progress-percent]");
  var message = box.querySelector("[data-progress-message]");
  function update(state) {
    if (bar) {
      bar.value = state.percent;
      bar.textContent = state.percent + " %";
      bar.setAttribute("aria-valuenow", String(state.percent));
    }
    if (percent) {
      percent.textContent = state.percent + " %";
    }
    if (message && message.textContent !== state.message) {
      message.textContent = state.message;
    }
    if (state.finished) {
      window.setTimeout(function () { window.location.reload(); }, 800);
      return;
    }
    window.setTimeout(poll, 2000);
  }
  function poll() {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(update)
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
