// The idle warning of signed-in users. The server owns the truth: it ends sessions idle for
// longer than the limit. This script shows the warning before that happens, sends a
// keep-alive when the user clicks it or is active, and keeps every open tab in step.
(function () {
  "use strict";
  var box = document.getElementById("bantin-idle");
  if (!box) return;
  var warning = Number(box.dataset.warning) * 1000;
  var idle = Number(box.dataset.idle) * 1000;
  var csrf = box.dataset.csrf;
  var count = document.getElementById("bantin-idle-count");
  var keep = document.getElementById("bantin-idle-keep");
  var deadline = Date.now() + Number(box.dataset.remaining) * 1000;
  var lastPing = Date.now();
  // Activity sends at most one keep-alive per this many milliseconds.
  var pingEvery = Math.max(1000, Math.min(60000, idle / 4));
  var checking = false;
  var ended = false;
  var expiring = false;
  var signingOut = false;
  var leaving = false;
  var channel = "BroadcastChannel" in window ? new BroadcastChannel("bantin-session") : null;

  function tell(msg) {
    if (channel) channel.postMessage(msg);
  }

  function signInPage(reason) {
    if (ended) return;
    ended = true;
    window.location.assign("/admin/login?ly-do=" + reason + "&tiep=" +
      encodeURIComponent(window.location.pathname + window.location.search));
  }

  // Another tab ended the session; its request may still be on the way, and the sign-in
  // page sends a still-signed-in browser back. Leave once the server agrees (or after ~5 s).
  function leaveWhenEnded(reason, tries) {
    leaving = true;
    box.hidden = true;
    fetch("/admin/session", {
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
    }).then(function (res) {
      if (res.status === 401 || tries >= 15) signInPage(reason);
      else setTimeout(function () { leaveWhenEnded(reason, tries + 1); }, 300);
    }).catch(function () { signInPage(reason); });
  }

  function extend(remainingSeconds) {
    deadline = Date.now() + remainingSeconds * 1000;
    if (deadline - Date.now() > warning) box.hidden = true;
  }

  function answer(res) {
    // Signing out in this tab: the form's own navigation says so; a 401 here is expected.
    if (signingOut) return null;
    if (res.status === 401) {
      tell({ type: "ended" });
      signInPage("het-han");
      return null;
    }
    return res.ok ? res.json() : null;
  }

  function keepAlive() {
    lastPing = Date.now();
    return fetch("/admin/session", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf },
    }).then(answer).then(function (data) {
      if (!data) return;
      extend(data.remaining);
      tell({ type: "alive", deadline: deadline });
    }).catch(function () {});
  }

  // Before warning, ask the server: another tab or window may have kept the session alive.
  function check() {
    checking = true;
    fetch("/admin/session", {
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
    }).then(answer).then(function (data) {
      if (data) extend(data.remaining);
    }).catch(function () {}).then(function () { checking = false; });
  }

  // At zero the session ends here and now, not merely at the server's next look.
  function expire() {
    tell({ type: "ended" });
    fetch("/admin/logout", {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "csrf=" + encodeURIComponent(csrf) + "&reason=idle",
    }).catch(function () {}).then(function () { signInPage("het-han"); });
  }

  function tick() {
    if (ended || leaving) return;
    var left = deadline - Date.now();
    if (left <= 0) {
      if (!expiring) {
        expiring = true;
        box.hidden = true;
        expire();
      }
      return;
    }
    if (left <= warning) {
      if (box.hidden && !checking && !box.dataset.checked) {
        box.dataset.checked = "1";
        check();
        return;
      }
      count.textContent = String(Math.ceil(left / 1000));
      box.hidden = false;
    } else {
      delete box.dataset.checked;
    }
  }

  keep.addEventListener("click", function (e) {
    e.preventDefault();
    keepAlive();
  });

  function activity(e) {
    if (signingOut || (e.target && e.target.closest && e.target.closest("form[data-sign-out]"))) return;
    if (box.hidden && Date.now() - lastPing > pingEvery) keepAlive();
  }
  ["keydown", "pointerdown", "wheel", "touchstart"].forEach(function (type) {
    window.addEventListener(type, activity, { passive: true });
  });

  if (channel) {
    channel.onmessage = function (e) {
      var m = e.data || {};
      if (m.type === "alive" && typeof m.deadline === "number") {
        deadline = Math.max(deadline, m.deadline);
        if (deadline - Date.now() > warning) box.hidden = true;
      } else if (m.type === "ended") {
        leaveWhenEnded("het-han", 0);
      } else if (m.type === "signed-out") {
        leaveWhenEnded("da-thoat", 0);
      }
    };
  }
  document.querySelectorAll("form[data-sign-out]").forEach(function (f) {
    f.addEventListener("submit", function () {
      signingOut = true;
      tell({ type: "signed-out" });
    });
  });

  tick();
  setInterval(tick, 250);
})();
