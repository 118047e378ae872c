// The article edit form: keeps the edit lock alive (a heartbeat every 10 s), autosaves the
// fields to the server every 15 s and to this browser's storage on every change, and offers a
// newer copy back when the page opens: this device's, or else the server's (a closed tab, a
// crash, a forced sign-out, another device).
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
      if (k === "csrf" || k === "form_key") return;
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
  var pending = null;
  function keep() {
    pending = null;
    try {
      localStorage.setItem(key, JSON.stringify({ at: Date.now(), revision: revision, fields: fields() }));
    } catch (e) { /* storage full or off: the server copy remains */ }
  }
  // The editor writes its text into the form just after the keystroke's input event, so the
  // copy is taken a moment later (and at once when the page goes away).
  form.addEventListener("input", function () {
    dirty = true;
    if (!pending) pending = setTimeout(keep, 250);
  });
  window.addEventListener("pagehide", function () { if (pending) { clearTimeout(pending); keep(); } });
  form.addEventListener("submit", function () {
    if (pending) { clearTimeout(pending); pending = null; }
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

  function offer(id_, text, values, base) {
    var bar = document.createElement("p");
    bar.className = "notice";
    bar.id = id_;
    bar.textContent = text || "";
    var yes = document.createElement("button");
    yes.type = "button";
    yes.textContent = "↺";
    yes.addEventListener("click", function () {
      fill(values);
      // Restored text keeps the revision it was started from: saving it over a newer
      // version is then refused as stale, with both texts shown.
      if (base) {
        var r = form.querySelector("[name='revision']");
        if (r) r.value = base;
        revision = base;
      }
      bar.remove();
      dirty = true;
    });
    bar.appendChild(yes);
    form.insertBefore(bar, form.firstChild);
  }

  // A copy kept on this device from the same revision, newer than the page: offer it;
  // otherwise text the server autosaved and nobody saved (another device, a forced sign-out).
  var offered = false;
  try {
    var kept = JSON.parse(localStorage.getItem(key) || "null");
    if (kept && kept.revision === revision && kept.fields) {
      offer("restore-local", form.getAttribute("data-restore"), kept.fields, null);
      offered = true;
    }
  } catch (e) { /* a broken copy is ignored */ }
  var server = form.getAttribute("data-autosaved");
  if (!offered && server) {
    try {
      offer("restore-server", form.getAttribute("data-restore-server"), JSON.parse(server),
        form.getAttribute("data-autosaved-base"));
    } catch (e) { /* a broken copy is ignored */ }
  }

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
