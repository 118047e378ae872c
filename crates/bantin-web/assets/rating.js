// Star rating without a page reload. Without JavaScript the same form posts normally and the
// server redirects back to the article, so this file only enhances.
(function () {
  "use strict";
  var form = document.querySelector("[data-rating-form]");
  if (!form || !window.fetch) return;
  var notice = document.querySelector("[data-rating-notice]");
  var summary = document.querySelector("[data-rating-summary]");
  var rank = document.querySelector("[data-rating-rank]");
  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button || !button.value) return;
    event.preventDefault();
    var body = new URLSearchParams(new FormData(form));
    body.set("point", button.value);
    form.setAttribute("aria-busy", "true");
    fetch(form.action, {
      method: "POST",
      headers: { "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString(),
      credentials: "same-origin"
    }).then(function (res) {
      return res.json();
    }).then(function (reply) {
      if (reply.summary) summary.textContent = reply.summary;
      if (reply.rank) { rank.textContent = reply.rank; rank.hidden = false; }
      if (typeof reply.average === "string") {
        var filled = Math.round(parseFloat(reply.average.replace(",", ".")));
        form.querySelectorAll("button").forEach(function (b) {
          b.classList.toggle("on", Number(b.value) <= filled);
        });
      }
      notice.textContent = reply.message;
    }).catch(function () {
      notice.textContent = form.getAttribute("data-error") || "…";
    }).finally(function () {
      form.removeAttribute("aria-busy");
    });
  });
})();
