// Progress of a background job: polls its JSON state every 2 seconds until it is finished, then shows the page again.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box || box.dataset.finished === "1" || !box.dataset.statusUrl) {
    return;
  }
  var bar = document.getElementById("job-bar");
  var percent = document.getElementById("job-percent");
  var message = document.getElementById("job-message");
  function update(state) {
    bar.value = state.percent;
    bar.textContent = state.percent + " %";
    bar.setAttribute("aria-valuenow", String(state.percent));
    percent.textContent = state.percent + " %";
    if (message.textContent !== state.message) {
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
