// Share links on the article page, with no third-party script: "share via Zalo, Messenger…"
// opens the phone's own share sheet (the Web Share API; hidden where there is none), and
// "copy link" copies the page's address (the field beside it stays selectable where the
// clipboard is not available). Facebook is a plain link to its share page.
(function () {
  "use strict";
  var native = document.querySelector("[data-share-native]");
  if (native && navigator.share) {
    native.hidden = false;
    native.addEventListener("click", function () {
      navigator.share({ title: native.getAttribute("data-title"), url: native.getAttribute("data-url") })
        .catch(function () { /* the reader closed the sheet */ });
    });
  }
  var button = document.querySelector("[data-copy-link]");
  if (!button) return;
  var field = document.getElementById(button.getAttribute("data-copy-link"));
  button.hidden = false;
  button.addEventListener("click", function () {
    var done = function () {
      button.textContent = button.getAttribute("data-copied") || button.textContent;
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
    } else {
      field.select();
      try { if (document.execCommand("copy")) done(); } catch (e) { /* the field stays selected */ }
    }
  });
})();
