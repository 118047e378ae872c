// The article edit form: keeps the edit lock alive (a heartbeat every 10 s), autosaves the
// fields to the server every 15 s and to this browser's storage on every change, and offers a
// newer local copy back when the page opens (a closed tab, a crash, a forced sign-out).
(function () {
  "use strict";
  var form = document.getElementById("article-form");
  if (!form) return;
  var id = form.getAttribute("data-article");
  var csrf = form.getAttribute("data-csrf");
  var revision = form.getAttribute("data-revision");
  var key = "bantin-article-" + (id || "new");
  var status = document.getElementById("autosave-status");

  function fields() {
    var out = {};
    new FormData(form).forEach(function (v, k) {
      if (k === "csrf") return;
      if (k in out) out[k] = [].concat(out[k], v); else out[k] = v;
    });
    return out;
  }
  function fill(values) {
    Object.keys(values).forEach(function (k) {
      var els = form.querySelectorAll("[name='" + k.replace(/'/g, "") + "']");
      els.forEach(function (el) {
        if (el.type === "checkbox") {
          el.checked = [].concat(values[k]).indexOf(el.value) >= 0;
        } else if (el.name !== "revision") {
          el.value = values[k];
          el.dispatchEvent(new Event("bantin:value"));
        }
      });
    });
  }

  var dirty = false;
  form.addEventListener("input", function () {
    dirty = true;
    try {
      localStorage.setItem(key, JSON.stringify({ at: Date.now(), revision: revision, fields: fields() }));
    } catch (e) { /* storage full or off: the server copy remains */ }
  });
  form.addEventListener("submit", function () {
    try { localStorage.removeItem(key); } catch (e) { /* nothing kept */ }
  });

  // A double click sends a form once (the server also finds a repeated save or creation
  // done, but the second answer would replace the first on screen). Back to this page from
  // the history, the forms work again.
  var sending = false;
  document.querySelectorAll("form[method='post']").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (sending) { e.preventDefault(); return; }
      sending = true;
    });
  });
  window.addEventListener("pageshow", function () { sending = false; });

  // A copy kept on this device from the same revision, newer than the page: offer it.
  try {
    var kept = JSON.parse(localStorage.getItem(key) || "null");
    if (kept && kept.revision === revision && kept.fields) {
      var bar = document.createElement("p");
      bar.className = "notice";
      bar.id = "restore-local";
      bar.textContent = form.getAttribute("data-restore") || "";
      var yes = document.createElement("button");
      yes.type = "button";
      yes.textContent = "↺";
      yes.addEventListener("click", function () { fill(kept.fields); bar.remove(); dirty = true; });
      bar.appendChild(yes);
      form.insertBefore(bar, form.firstChild);
    }
  } catch (e) { /* a broken copy is ignored */ }

  if (!id) return;
  function post(path, body) {
    return fetch("/admin/articles/" + id + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" },
      body: body || ""
    });
  }
  setInterval(function () { post("/lock"); }, 10000);
  setInterval(function () {
    if (!dirty) return;
    dirty = false;
    var body = "revision=" + encodeURIComponent(revision) + "&content=" + encodeURIComponent(JSON.stringify(fields()));
    post("/autosave", body).then(function (r) { return r.ok ? r.json() : null; }).then(function (j) {
      if (j && j.ok && status) status.textContent = new Date(j.at * 1000).toLocaleTimeString("vi-VN");
    }).catch(function () { dirty = true; });
  }, 15000);
})();
