// Birth places chosen from the code lists: beside each code field marked data-place-search, a search box works as a
// combobox (ARIA 1.2 pattern: listbox, aria-expanded, aria-activedescendant). Typing a name lists the matches from
// the JSON endpoint; choosing one writes its code in the code field (and, for a commune, its name, its single postal
// code and France as the country). Without this script the code is typed and checked by the server.
(function () {
  "use strict";
  var counter = 0;

  function setup(codeInput) {
    counter += 1;
    var listId = "place-list-" + counter;
    var input = document.createElement("input");
    input.type = "search";
    input.id = codeInput.id + "_search";
    input.className = "form-control mb-1";
    input.autocomplete = "off";
    input.spellcheck = false;
    input.placeholder = codeInput.dataset.placeLabel || "Rechercher";
    input.setAttribute("aria-label", codeInput.dataset.placeLabel || "Rechercher");
    input.dataset.placeSearch = codeInput.dataset.placeSearch;
    codeInput.insertAdjacentElement("beforebegin", input);
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "list-group position-absolute shadow-sm";
    list.style.zIndex = "1050";
    list.style.maxHeight = "18rem";
    list.style.overflowY = "auto";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.insertAdjacentElement("afterend", list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    var items = [];
    var active = -1;
    var timer = null;
    var lastQuery = "";

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var options = list.children;
      for (var i = 0; i < options.length; i += 1) {
        options[i].classList.toggle("active", i === index);
        options[i].setAttribute("aria-selected", i === index ? "true" : "false");
      }
      active = index;
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      var item = items[index];
      if (!item) {
        return;
      }
      codeInput.value = item.code;
      input.value = item.label;
      var name = codeInput.dataset.placeName && document.getElementById(codeInput.dataset.placeName);
      if (name) {
        name.value = item.name;
      }
      var postal = codeInput.dataset.placePostal && document.getElementById(codeInput.dataset.placePostal);
      if (postal && item.postal) {
        postal.value = item.postal.length === 1 ? item.postal[0] : "";
      }
      var country = codeInput.dataset.placeCountry && document.getElementById(codeInput.dataset.placeCountry);
      if (country && codeInput.dataset.placeCountryCode) {
        country.value = codeInput.dataset.placeCountryCode;
      }
      lastQuery = item.label;
      close();
    }

    function render(results) {
      items = results;
      list.textContent = "";
      results.forEach(function (item, index) {
        var option = document.createElement("li");
        option.id = listId + "-" + index;
        option.className = "list-group-item list-group-item-action";
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.textContent = item.label;
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(index);
        });
        list.appendChild(option);
      });
      if (results.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        highlight(-1);
      } else {
        close();
      }
    }

    function search() {
      var query = input.value.trim();
      if (query === lastQuery) {
        return;
      }
      lastQuery = query;
      if (query.length < 2) {
        render([]);
        return;
      }
      var url = input.dataset.placeSearch + "?q=" + encodeURIComponent(query);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.ok ? response.json() : { results: [] };
        })
        .then(function (data) {
          if (input.value.trim() === query) {
            render(data.results || []);
          }
        })
        .catch(function () {
          render([]);
        });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, 200);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && items.length) {
        event.preventDefault();
        if (list.hidden) {
          list.hidden = false;
          input.setAttribute("aria-expanded", "true");
        }
        highlight(Math.min(active + 1, items.length - 1));
      } else if (event.key === "ArrowUp" && items.length) {
        event.preventDefault();
        highlight(Math.max(active - 1, 0));
      } else if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault();
        choose(active);
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", close);
  }

  document.querySelectorAll("input[data-place-search]").forEach(setup);
})();
