// The article editor: every `<textarea data-editor>` in a form becomes a WYSIWYG editor
// (Tiptap on ProseMirror). The textarea stays in the form, hidden, and holds the editor's HTML
// after every change, so the form posts HTML as it does without JavaScript.
//
// Written for the site's Content-Security-Policy (`style-src 'self'`, no `unsafe-eval`): no
// injected `<style>`, no `style` attribute from parsed or rendered HTML (see clean.js), all
// styling in editor.css.

import { Editor, Extension, mergeAttributes } from "@tiptap/core";
import StarterKit from "@tiptap/starter-kit";
import { Table, TableCell, TableHeader, TableRow } from "@tiptap/extension-table";
import Image from "@tiptap/extension-image";

import { allowedHref, allowedImageSrc, cleanHtml } from "./clean.js";
import { Embed } from "./embed.js";
import { Figure } from "./figure.js";

const T = {
  toolbar: "Định dạng văn bản",
  tableTools: "Sửa bảng",
  linkPrompt:
    "Địa chỉ liên kết (https://…, mailto:… hoặc đường dẫn trong trang như /tin-tuc/). Để trống để bỏ liên kết.",
  linkRefused: "Chỉ dùng được liên kết http://, https://, mailto: hoặc đường dẫn trong trang.",
  imageSrc: "Địa chỉ ảnh (https://… hoặc /media/…):",
  imageRefused: "Địa chỉ ảnh phải bắt đầu bằng https:// hoặc / (ảnh trên trang này).",
  imageAlt: "Mô tả ảnh cho người không xem được ảnh:",
  imageCaption: "Chú thích ảnh (sửa được sau, ngay dưới ảnh):",
  captionPlaceholder: "Nhập chú thích ảnh…",
  imageLibrary: "Ảnh từ thư viện",
  imageLibraryTitle: "Chọn ảnh trong thư viện ảnh để chèn vào chỗ con trỏ",
  imageNotPicture: "Mục này không phải ảnh: hãy chọn một ảnh trong thư viện.",
  imageAddress: "Ảnh theo địa chỉ",
  imageAddressTitle: "Chèn ảnh theo địa chỉ (ảnh trên trang khác), có mô tả và chú thích",
  embed: "Video nhúng",
};

// Table cells: their width and alignment would be written as `style` attributes, which the
// CSP refuses to apply in the editor and the sanitiser drops from the article anyway.
const noStyleAttrs = {
  colwidth: { default: null, rendered: false, parseHTML: () => null },
  align: { default: null, rendered: false, parseHTML: () => null },
};
const Cell = TableCell.extend({
  addAttributes() {
    return { ...this.parent?.(), ...noStyleAttrs };
  },
});
const Header = TableHeader.extend({
  addAttributes() {
    return { ...this.parent?.(), ...noStyleAttrs };
  },
});
// The table without its `<colgroup>` and `style="min-width: …"`, and without the column
// resizing view (which styles the table it draws).
const PlainTable = Table.extend({
  renderHTML({ HTMLAttributes }) {
    return ["table", mergeAttributes(this.options.HTMLAttributes, HTMLAttributes), ["tbody", 0]];
  },
});

// Alignment an existing article already has (`<p style="text-align:center">`, which the
// sanitiser allows) is kept through an edit: shown in the editor from `data-align` by the
// stylesheet, written back as the style attribute only in the textarea's text (see `output`).
const KeepAlign = Extension.create({
  name: "keepAlign",
  addGlobalAttributes() {
    return [
      {
        types: ["paragraph", "heading"],
        attributes: {
          align: {
            default: null,
            parseHTML: (el) => el.getAttribute("data-bantin-align"),
            renderHTML: (attrs) => (attrs.align ? { "data-align": attrs.align } : {}),
          },
        },
      },
    ];
  },
});

/** The editor's HTML as the form should post it. */
function output(editor) {
  if (editor.isEmpty) return "";
  return (
    editor
      .getHTML()
      // Only our own renderer writes `data-align` right after the tag name; text cannot
      // contain `<`, so this touches markup only.
      .replace(/<(p|h[2-4]) data-align="(left|center|right|justify)">/g, '<$1 style="text-align:$2">')
      // Empty paragraphs show nothing on the page: the one the editor keeps after a final
      // table or picture, and those left by pressing Enter twice.
      .replace(/<p><\/p>/g, "")
  );
}

function editLink(editor) {
  const current = editor.getAttributes("link").href || "";
  const input = window.prompt(T.linkPrompt, current);
  if (input === null) return;
  const href = input.trim();
  const chain = editor.chain().focus().extendMarkRange("link");
  if (!href) {
    chain.unsetLink().run();
    return;
  }
  if (!allowedHref(href)) {
    window.alert(T.linkRefused);
    return;
  }
  if (editor.state.selection.empty && !editor.isActive("link")) {
    // Nothing selected: the address itself becomes the linked text.
    chain.insertContent({ type: "text", text: href, marks: [{ type: "link", attrs: { href } }] }).run();
  } else {
    chain.setLink({ href }).run();
  }
}

/** A picture from its address, for pictures on other sites (and pages without the library). */
function insertFigure(editor) {
  const input = window.prompt(T.imageSrc, "");
  if (input === null) return;
  const src = input.trim();
  if (!allowedImageSrc(src)) {
    window.alert(T.imageRefused);
    return;
  }
  const alt = window.prompt(T.imageAlt, "");
  if (alt === null) return;
  const caption = window.prompt(T.imageCaption, "") || "";
  editor.chain().focus().insertFigure({ src, alt: alt.trim(), caption: caption.trim() }).run();
}

/**
 * A picture from the media library. The button carries `data-media-picker-open`: media.js
 * (the article form's script) opens the picker window on its click and, when an item is
 * chosen there, dispatches `bantin:media-pick` on the button with the item's `url`, `alt` and
 * `caption`; taking the event (preventDefault) keeps media.js from filling the main image.
 */
function libraryButton(b, editor) {
  b.setAttribute("data-media-picker-open", "editor");
  b.addEventListener("bantin:media-pick", (e) => {
    // The pick is the editor's, whatever it is: never the main image's.
    e.preventDefault();
    const item = e.detail || {};
    const src = typeof item.url === "string" ? item.url.trim() : "";
    if (!allowedImageSrc(src)) {
      window.alert(T.imageRefused);
      return;
    }
    // The library also holds documents (PDF, Word, …), which are no pictures.
    if (!/\.(jpe?g|png|webp|gif|avif)$/i.test(src.split(/[?#]/)[0])) {
      window.alert(T.imageNotPicture);
      return;
    }
    const text = (v) => (typeof v === "string" ? v.trim() : "");
    // ProseMirror keeps the selection while the picker window has the focus: the picture
    // goes where the cursor was.
    editor.chain().focus().insertFigure({ src, alt: text(item.alt), caption: text(item.caption) }).run();
  });
}

/**
 * The toolbar: `run` gets a focused command chain, `act` the editor (for prompts), `setup` the
 * button and the editor once; `library` buttons are only there when the page offers the media
 * library (`data-editor-library` on the textarea).
 */
const BUTTONS = [
  { id: "bold", label: "Đậm", keys: "Ctrl+B", run: (c) => c.toggleBold(), on: ["bold"] },
  { id: "italic", label: "Nghiêng", keys: "Ctrl+I", run: (c) => c.toggleItalic(), on: ["italic"] },
  { id: "h2", label: "Tiêu đề 2", run: (c) => c.toggleHeading({ level: 2 }), on: ["heading", { level: 2 }] },
  { id: "h3", label: "Tiêu đề 3", run: (c) => c.toggleHeading({ level: 3 }), on: ["heading", { level: 3 }] },
  { id: "bullet-list", label: "Danh sách", run: (c) => c.toggleBulletList(), on: ["bulletList"] },
  { id: "ordered-list", label: "Danh sách số", run: (c) => c.toggleOrderedList(), on: ["orderedList"] },
  { id: "blockquote", label: "Trích dẫn", run: (c) => c.toggleBlockquote(), on: ["blockquote"] },
  { id: "link", label: "Liên kết", act: editLink, on: ["link"] },
  { id: "table", label: "Bảng", run: (c) => c.insertTable({ rows: 2, cols: 2, withHeaderRow: false }) },
  { id: "figure-library", label: T.imageLibrary, title: T.imageLibraryTitle, setup: libraryButton, library: true },
  { id: "figure", label: T.imageAddress, title: T.imageAddressTitle, act: insertFigure },
  { id: "undo", label: "Hoàn tác", keys: "Ctrl+Z", run: (c) => c.undo(), can: (e) => e.can().undo() },
  { id: "redo", label: "Làm lại", keys: "Ctrl+Y", run: (c) => c.redo(), can: (e) => e.can().redo() },
];

/** Shown while the cursor is in a table. */
const TABLE_BUTTONS = [
  { id: "row-add", label: "Thêm hàng", run: (c) => c.addRowAfter() },
  { id: "column-add", label: "Thêm cột", run: (c) => c.addColumnAfter() },
  { id: "header-row", label: "Hàng tiêu đề", run: (c) => c.toggleHeaderRow() },
  { id: "row-delete", label: "Xóa hàng", run: (c) => c.deleteRow() },
  { id: "column-delete", label: "Xóa cột", run: (c) => c.deleteColumn() },
  { id: "table-delete", label: "Xóa bảng", run: (c) => c.deleteTable() },
];

function button(spec, editor) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "bantin-editor-button";
  b.dataset.action = spec.id;
  b.textContent = spec.label;
  b.title = spec.title || (spec.keys ? `${spec.label} (${spec.keys})` : spec.label);
  if (spec.on) b.setAttribute("aria-pressed", "false");
  // Keep the editor's selection when the button is pressed with a mouse or finger.
  b.addEventListener("mousedown", (e) => e.preventDefault());
  b.addEventListener("click", () => {
    if (spec.act) spec.act(editor);
    else if (spec.run) spec.run(editor.chain().focus()).run();
  });
  if (spec.setup) spec.setup(b, editor);
  return b;
}

function group(label, specs, editor) {
  const g = document.createElement("div");
  g.className = "bantin-editor-toolbar";
  g.setAttribute("role", "toolbar");
  g.setAttribute("aria-label", label);
  const buttons = specs.map((spec) => {
    const b = button(spec, editor);
    g.append(b);
    return [spec, b];
  });
  return { g, buttons };
}

/** The accessible name of the textarea, for the editable area that replaces it. */
function labelOf(textarea) {
  if (textarea.getAttribute("aria-label")) return textarea.getAttribute("aria-label");
  const label = textarea.labels && textarea.labels[0];
  return label ? label.textContent.trim() : "";
}

function enhance(textarea) {
  const form = textarea.form;
  if (!form || textarea.dataset.editorReady) return;
  textarea.dataset.editorReady = "true";

  const wrapper = document.createElement("div");
  wrapper.className = "bantin-editor";
  const mount = document.createElement("div");
  const attributes = { class: "bantin-editor-content", role: "textbox", "aria-multiline": "true" };
  const label = labelOf(textarea);
  if (label) attributes["aria-label"] = label;

  const editor = new Editor({
    element: mount,
    // Tiptap would add a `<style>` element, which the CSP blocks: editor.css has its rules.
    injectCSS: false,
    content: cleanHtml(textarea.value, { keepAlign: true }),
    extensions: [
      StarterKit.configure({
        heading: { levels: [2, 3, 4] },
        link: {
          openOnClick: false,
          autolink: true,
          defaultProtocol: "https",
          // No `target` or `rel`: the sanitiser sets `rel` on every link itself.
          HTMLAttributes: { target: null, rel: null, class: null },
          isAllowedUri: (url) => allowedHref(url),
          // Only what is unmistakably an address: "Đoạn.Giữa" run together is no link to
          // Gibraltar.
          shouldAutoLink: (url) => /^(https?:\/\/|www\.)/i.test(url),
        },
      }),
      PlainTable.configure({ resizable: false, View: null }),
      TableRow,
      Header,
      Cell,
      Image.configure({ inline: false, allowBase64: false }),
      Figure.configure({ placeholder: T.captionPlaceholder }),
      Embed.configure({ label: T.embed }),
      KeepAlign,
    ],
    editorProps: {
      attributes,
      // Word, Google Docs and web pages, cleaned before ProseMirror parses them (dropped
      // HTML, as from another page, comes through here too).
      transformPastedHTML: (html) => cleanHtml(html),
    },
  });

  const library = textarea.hasAttribute("data-editor-library");
  const main = group(
    T.toolbar,
    BUTTONS.filter((spec) => library || !spec.library),
    editor,
  );
  const table = group(T.tableTools, TABLE_BUTTONS, editor);
  table.g.hidden = true;
  wrapper.append(main.g, table.g, mount);
  textarea.after(wrapper);
  textarea.hidden = true;

  const refresh = () => {
    for (const [spec, b] of main.buttons) {
      if (spec.on) b.setAttribute("aria-pressed", String(editor.isActive(...spec.on)));
      if (spec.can) b.disabled = !spec.can(editor);
    }
    table.g.hidden = !editor.isActive("table");
  };
  refresh();
  editor.on("transaction", refresh);

  const sync = () => {
    textarea.value = output(editor);
  };
  editor.on("update", sync);
  // A value put into the textarea from outside (article.js restoring a copy kept on this
  // device) replaces what the editor shows; the update it makes writes it back, cleaned.
  textarea.addEventListener("bantin:value", () => {
    editor.commands.setContent(cleanHtml(textarea.value, { keepAlign: true }));
    sync();
  });
  // Capture, so the value is in place before any other submit handler reads the form.
  form.addEventListener("submit", sync, true);
}

function start() {
  document.querySelectorAll("form textarea[data-editor]").forEach(enhance);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
