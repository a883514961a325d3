// Progress of a session's document batch: polls its JSON state every 2 seconds until it is finished.
(function () {
  "use strict";
  var box = document.getElementById("batch");
  if (!box || box.dataset.finished === "1" || !box.dataset.statusUrl) {
    return;
  }
  var bar = document.getElementById("batch-bar");
  var percent = document.getElementById("batch-percent");
  var message = document.getElementById("batch-message");
  var links = document.getElementById("batch-links");
  function update(state) {
    bar.value = state.percent;
    bar.textContent = state.percent + " %";
    bar.setAttribute("aria-valuenow", String(state.percent));
    percent.textContent = state.percent + " %";
    message.textContent = state.message;
    if (state.status === "done") {
      document.getElementById("batch-zip").href = state.zip_url;
      document.getElementById("batch-pdf").href = state.pdf_url;
      if (state.certificates_url) {
        var certificates = document.getElementById("batch-certificates");
        certificates.href = state.certificates_url;
        certificates.classList.remove("d-none");
      }
      links.classList.remove("d-none");
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
