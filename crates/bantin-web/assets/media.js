// The media library: uploads (drag and drop or the file picker, several at once, one request
// per file with its own progress bar), the picker (a window the article form opens; choosing
// sends the item back to the form) and the article form's "choose from the library" buttons
// (the main image's and the editor's).
(function () {
  "use strict";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  function addCard(zone, item) {
    var grid = document.querySelector("[data-media-grid]");
    if (!grid) return;
    var empty = grid.querySelector(".media-empty");
    if (empty) empty.remove();
    var li = el("li", "media-card");
    li.setAttribute("data-media-id", item.id);
    if (item.thumb) {
      var img = el("img");
      img.src = item.thumb;
      img.alt = item.alt;
      if (item.width) { img.width = item.width; img.height = item.height; }
      li.appendChild(img);
    } else {
      li.appendChild(el("span", "media-doc", item.file_name));
    }
    li.appendChild(el("span", "media-name", item.file_name));
    if (zone.hasAttribute("data-picker")) {
      var b = el("button", "", zone.getAttribute("data-choose"));
      b.type = "button";
      b.setAttribute("data-pick", "");
      b.setAttribute("data-url", item.url);
      b.setAttribute("data-alt", item.alt);
      b.setAttribute("data-caption", item.caption);
      li.appendChild(b);
    } else {
      var a = el("a", "", zone.getAttribute("data-edit"));
      a.href = "/admin/media/" + item.id;
      li.appendChild(a);
    }
    grid.insertBefore(li, grid.firstChild);
  }

  function upload(zone, list, file) {
    var row = el("li", "upload");
    row.appendChild(el("span", "upload-name", file.name));
    var bar = el("progress");
    bar.max = 100;
    bar.value = 0;
    row.appendChild(bar);
    var status = el("span", "upload-status", zone.getAttribute("data-uploading"));
    status.setAttribute("role", "status");
    row.appendChild(status);
    list.appendChild(row);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/admin/media/upload?name=" + encodeURIComponent(file.name));
    xhr.setRequestHeader("X-CSRF-Token", zone.getAttribute("data-csrf"));
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round((e.loaded / e.total) * 100);
        if (e.loaded === e.total) status.textContent = zone.getAttribute("data-processing");
      }
    };
    xhr.onload = function () {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (_) { body = null; }
      if (xhr.status === 200 && body && body.item) {
        bar.value = 100;
        row.classList.add("ok");
        status.textContent = zone.getAttribute("data-done");
        addCard(zone, body.item);
      } else {
        row.classList.add("error");
        status.textContent = body && body.error ? body.error.message : "HTTP " + xhr.status;
      }
    };
    xhr.onerror = function () {
      row.classList.add("error");
      status.textContent = zone.getAttribute("data-network");
    };
    xhr.send(file);
  }

  var zone = document.querySelector("[data-media-upload]");
  if (zone) {
    var input = zone.querySelector("input[type=file]");
    var list = zone.querySelector("[data-upload-list]");
    var send = function (files) {
      for (var i = 0; i < files.length; i++) upload(zone, list, files[i]);
    };
    input.addEventListener("change", function () {
      send(input.files);
      input.value = "";
    });
    zone.addEventListener("dragover", function (e) {
      e.preventDefault();
      zone.classList.add("dragging");
    });
    zone.addEventListener("dragleave", function () { zone.classList.remove("dragging"); });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      zone.classList.remove("dragging");
      if (e.dataTransfer && e.dataTransfer.files) send(e.dataTransfer.files);
    });
  }

  // The picker: choosing sends the item to the article form that opened it.
  document.addEventListener("click", function (e) {
    var b = e.target.closest ? e.target.closest("[data-pick]") : null;
    if (!b) return;
    var item = {
      type: "bantin-media-pick",
      url: b.getAttribute("data-url"),
      alt: b.getAttribute("data-alt"),
      caption: b.getAttribute("data-caption")
    };
    if (window.opener && !window.opener.closed) {
      window.opener.postMessage(item, window.location.origin);
      window.close();
    }
  });

  // The article form: a `data-media-picker-open` button (the main image's, or the editor's
  // "picture from the library", added later by editor.js) opens the picker. The chosen item
  // is dispatched as `bantin:media-pick` on the button that opened it; unless a listener
  // takes it (preventDefault, as the editor does), it fills the main image fields.
  var opener = null;
  document.addEventListener("click", function (e) {
    var b = e.target.closest ? e.target.closest("[data-media-picker-open]") : null;
    if (!b) return;
    opener = b;
    window.open("/admin/media/picker", "bantin-media-picker", "width=960,height=720");
  });
  window.addEventListener("message", function (e) {
    if (e.origin !== window.location.origin || !e.data || e.data.type !== "bantin-media-pick") return;
    // No opener (the page was reloaded while the picker stayed open): the main image.
    var target = opener && opener.isConnected ? opener : null;
    opener = null;
    var item = { url: e.data.url, alt: e.data.alt, caption: e.data.caption };
    var pick = new CustomEvent("bantin:media-pick", { bubbles: true, cancelable: true, detail: item });
    if (target && !target.dispatchEvent(pick)) return;
    var set = function (id, value) {
      var f = document.getElementById(id);
      if (!f || typeof value !== "string") return;
      f.value = value;
      f.dispatchEvent(new Event("input", { bubbles: true }));
      f.dispatchEvent(new Event("change", { bubbles: true }));
    };
    set("image_url", item.url);
    set("image_alt", item.alt);
    if (item.caption) set("image_caption", item.caption);
  });
})();
