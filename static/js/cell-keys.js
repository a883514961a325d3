// Keyboard movement in a table of selects (evaluation grid, deliberation): one Tab stop into the table, the arrow
// keys between cells, a letter picks the option whose label starts with it. Without this script every select is
// its own Tab stop and works as a plain select. No framework.
(function () {
  "use strict";

  function cellsOf(table, selector) {
    // One list per body row, each select with the column it sits in (rows may skip columns).
    return Array.prototype.map.call(table.tBodies[0] ? table.tBodies[0].rows : [], function (row) {
      return Array.prototype.filter.call(row.querySelectorAll(selector), function (select) {
        return !select.disabled;
      }).map(function (select) {
        return { select: select, column: select.closest("td, th").cellIndex };
      });
    });
  }

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").trim().toUpperCase();
  }

  function optionForKey(select, key) {
    var wanted = fold(key);
    return Array.prototype.find.call(select.options, function (option) {
      return option.value && fold(option.textContent).charAt(0) === wanted;
    });
  }

  function setValue(select, value) {
    if (select.value === value) return;
    select.value = value;
    select.dispatchEvent(new Event("change", { bubbles: true }));
  }

  window.mpesCellKeys = function (table, selector) {
    var rows = cellsOf(table, selector);
    var all = [];
    rows.forEach(function (row) { all = all.concat(row.map(function (cell) { return cell.select; })); });
    if (!all.length) return null;

    function makeCurrent(select) {
      all.forEach(function (other) { other.tabIndex = other === select ? 0 : -1; });
    }
    makeCurrent(all[0]);

    function place(select) {
      for (var r = 0; r < rows.length; r++) {
        for (var c = 0; c < rows[r].length; c++) {
          if (rows[r][c].select === select) return { row: r, index: c, column: rows[r][c].column };
        }
      }
      return null;
    }

    function nearestInRow(row, column) {
      var best = null;
      row.forEach(function (cell) {
        if (!best || Math.abs(cell.column - column) < Math.abs(best.column - column)) best = cell;
      });
      return best && best.select;
    }

    function vertical(at, step) {
      for (var r = at.row + step; r >= 0 && r < rows.length; r += step) {
        if (rows[r].length) return nearestInRow(rows[r], at.column);
      }
      return null;
    }

    function target(event, at) {
      var row = rows[at.row];
      switch (event.key) {
        case "ArrowLeft": return at.index > 0 ? row[at.index - 1].select : null;
        case "ArrowRight": return at.index < row.length - 1 ? row[at.index + 1].select : null;
        case "ArrowUp": return vertical(at, -1);
        case "ArrowDown": return vertical(at, 1);
        case "Home": return event.ctrlKey ? all[0] : row[0].select;
        case "End": return event.ctrlKey ? all[all.length - 1] : row[row.length - 1].select;
        default: return undefined;
      }
    }

    table.addEventListener("focusin", function (event) {
      if (all.indexOf(event.target) >= 0) makeCurrent(event.target);
    });

    table.addEventListener("keydown", function (event) {
      var select = event.target;
      if (all.indexOf(select) < 0 || event.altKey || event.metaKey) return;
      var at = place(select);
      var next = target(event, at);
      if (next !== undefined) {
        // Arrows move between cells instead of changing the value (Space or Alt+Down opens the list).
        event.preventDefault();
        if (next) {
          makeCurrent(next);
          next.focus();
        }
        return;
      }
      if (event.ctrlKey) return;
      if (event.key === "Delete" || event.key === "Backspace") {
        event.preventDefault();
        if (select.querySelector("option[value='']")) setValue(select, "");
        return;
      }
      if (event.key.length === 1 && /\S/.test(event.key)) {
        var option = optionForKey(select, event.key);
        if (option) {
          event.preventDefault();
          setValue(select, option.value);
        }
      }
    });
    return { selects: all };
  };
})();
