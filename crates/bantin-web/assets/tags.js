// Tag suggestions: while a tag is typed in a field marked data-tag-suggest, the names of
// existing tags starting with it (with or without diacritics) are fetched from
// /admin/tags/suggest and offered in a small list under the field. In a comma-separated field
// (data-tag-list) only the tag being typed, after the last comma, is looked up and replaced.
(function () {
  "use strict";
  var DELAY = 250;

  function attach(input) {
    var many = input.hasAttribute("data-tag-list");
    var list = document.createElement("ul");
    list.className = "tag-suggestions";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.insertAdjacentElement("afterend", list);
    var timer = null;
    var asked = 0;

    function parts() {
      var v = input.value;
      if (!many) return { before: "", typed: v };
      var i = v.lastIndexOf(",");
      return { before: i < 0 ? "" : v.slice(0, i + 1) + " ", typed: v.slice(i + 1) };
    }
    function close() {
      list.hidden = true;
      list.textContent = "";
    }
    function choose(name) {
      var p = parts();
      input.value = many ? p.before + name + ", " : name;
      close();
      input.focus();
      // Tell the form (autosave) the field changed; no new lookup for it.
      input.dispatchEvent(new Event("input", { bubbles: true }));
    }
    function show(names) {
      list.textContent = "";
      names.forEach(function (name) {
        var li = document.createElement("li");
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = name;
        b.setAttribute("role", "option");
        b.addEventListener("click", function () { choose(name); });
        b.addEventListener("keydown", function (e) {
          var sib = null;
          if (e.key === "ArrowDown") sib = li.nextElementSibling;
          if (e.key === "ArrowUp") sib = li.previousElementSibling;
          if (sib) { e.preventDefault(); sib.firstChild.focus(); }
          else if (e.key === "ArrowUp") { e.preventDefault(); input.focus(); }
          if (e.key === "Escape") { close(); input.focus(); }
        });
        li.appendChild(b);
        list.appendChild(li);
      });
      list.hidden = names.length === 0;
    }
    function ask() {
      var typed = parts().typed.trim();
      if (!typed) { close(); return; }
      var mine = ++asked;
      fetch("/admin/tags/suggest?q=" + encodeURIComponent(typed), {
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (r) { return r.ok ? r.json() : []; }).then(function (names) {
        // Only the answer to the latest question counts.
        if (mine !== asked || document.activeElement !== input) return;
        show(Array.isArray(names) ? names.filter(function (n) { return n !== typed; }) : []);
      }).catch(close);
    }

    input.addEventListener("input", function (e) {
      if (e.isTrusted === false && list.hidden) return;
      clearTimeout(timer);
      timer = setTimeout(ask, DELAY);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" && !list.hidden && list.firstChild) {
        e.preventDefault();
        list.firstChild.firstChild.focus();
      } else if (e.key === "Escape") {
        close();
      }
    });
    document.addEventListener("click", function (e) {
      if (e.target !== input && !list.contains(e.target)) close();
    });
  }

  document.querySelectorAll("[data-tag-suggest]").forEach(attach);
})();
