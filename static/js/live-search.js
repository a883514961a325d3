// Search as one types: in a form marked data-live-search, after a pause in the typing, the form is sent as its
// button would send it (the words stay in the session, never in the URL) and the page the server answers replaces
// each element marked data-live-region (found by id); its data-live-announce text (« 12 candidats ») is read out by
// the page's data-live-status region. The address keeps the filters and the sort, and drops the page number, as
// the server's answer does. Without this script, the form's button searches.
(function () {
  "use strict";
  var PAUSE_MS = 300;

  function setup(form) {
    var input = form.querySelector("input[type=search]");
    var status = document.querySelector("[data-live-status]");
    if (!input || !window.fetch || !window.DOMParser) {
      return;
    }
    var timer = null;
    var sent = 0;
    var controller = null;
    var lastValue = input.value;

    function swap(html, url) {
      var answer = new DOMParser().parseFromString(html, "text/html");
      var announced = "";
      document.querySelectorAll("[data-live-region]").forEach(function (region) {
        var fresh = answer.getElementById(region.id);
        if (!fresh) {
          return;
        }
        region.replaceWith(document.importNode(fresh, true));
        if (fresh.dataset.liveAnnounce) {
          announced = fresh.dataset.liveAnnounce;
        }
      });
      if (status && announced) {
        // Emptied first, so that the same count typed twice is announced again.
        status.textContent = "";
        window.setTimeout(function () {
          status.textContent = announced + ".";
        }, 50);
      }
      if (window.history && window.history.replaceState && url) {
        window.history.replaceState(null, "", url);
      }
    }

    function search() {
      if (input.value === lastValue) {
        return;
      }
      lastValue = input.value;
      sent += 1;
      var mine = sent;
      if (controller) {
        controller.abort();
      }
      controller = window.AbortController ? new AbortController() : null;
      var data = new FormData(form);
      data.delete("clear");
      form.setAttribute("aria-busy", "true");
      window
        .fetch(form.action, {
          method: "POST",
          body: data,
          credentials: "same-origin",
          signal: controller ? controller.signal : undefined,
        })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.text().then(function (html) {
            if (mine === sent) {
              swap(html, response.url);
            }
          });
        })
        .catch(function () {
          // A failed or aborted request leaves the page as it was: the button still searches.
        })
        .then(function () {
          if (mine === sent) {
            form.removeAttribute("aria-busy");
          }
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, PAUSE_MS);
    });
  }

  document.querySelectorAll("form[data-live-search]").forEach(setup);
})();
