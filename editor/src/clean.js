// Cleans HTML before the editor parses it: what is pasted or dropped (from Word, Google Docs,
// web pages) and the stored article the editor starts from.
//
// Two stages, because of the Content-Security-Policy (`style-src 'self'`): Chromium reports a
// violation, and logs an error, for every `style="…"` attribute any HTML parser meets, even in
// an inert document (DOMParser, `createHTMLDocument`, `<template>`). So first a small
// tokenizer rewrites the markup as a string, keeping only allow-listed attributes and turning
// the few inline styles that carry meaning (Word's list levels, bold and italic spans, hidden
// parts) into `data-bantin-*` flags; only then is it parsed, in an inert document, to fix the
// structure. What the editor's schema does not know (spans, fonts, classes) it drops itself.

/** Elements whose content is raw text to an HTML parser, or that we drop whole. */
const DROP_WITH_CONTENT = new Set([
  "script", "style", "title", "textarea", "xmp", "iframe", "noembed", "noframes",
  "noscript", "template", "svg", "math", "select", "object",
]);

/** Tags dropped (their content kept, they have none): document plumbing. */
const DROP_TAG = new Set(["meta", "link", "base", "html", "head", "body", "xml"]);

/** The attributes kept, per element; everything else (style, class, id, lang, on…) goes. */
const KEEP_ATTRS = {
  a: ["href", "title"],
  img: ["src", "alt", "title", "width", "height"],
  td: ["colspan", "rowspan"],
  th: ["colspan", "rowspan"],
  ol: ["start"],
};

const FRAME_ATTRS = ["src", "width", "height", "title", "allowfullscreen"];

/** ProseMirror marks its own clipboard content so that copy and paste inside the editor
 * keeps list items and table cells whole. */
const KEEP_EVERYWHERE = ["data-pm-slice"];

function isAlpha(c) {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z");
}

function isSpace(c) {
  return c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f";
}

/** `prop: value; …` as a map of lower-case properties to trimmed values. */
function parseStyle(style) {
  const out = new Map();
  for (const decl of style.split(";")) {
    const colon = decl.indexOf(":");
    if (colon < 0) continue;
    out.set(decl.slice(0, colon).trim().toLowerCase(), decl.slice(colon + 1).trim());
  }
  return out;
}

/** The flags an inline style contributes, as `data-bantin-*` attributes. */
function styleFlags(tag, style, keepAlign) {
  const s = parseStyle(style);
  const flags = [];
  const align = (s.get("text-align") || "").toLowerCase();
  if (keepAlign && /^(p|h[1-6])$/.test(tag) && /^(left|center|right|justify)$/.test(align)) {
    flags.push(["data-bantin-align", align]);
  }
  const msoList = s.get("mso-list");
  if (msoList) {
    if (/^ignore$/i.test(msoList)) {
      // The bullet or number Word writes before each list paragraph, as text.
      flags.push(["data-bantin-marker", ""]);
    } else {
      const level = /level(\d+)/i.exec(msoList);
      // `lfo` names the list itself (two lists may share a definition `l`).
      const list = /\blfo\d+\b/i.exec(msoList) || /\bl\d+\b/i.exec(msoList);
      if (level) flags.push(["data-bantin-list", `${list ? list[0] : "l0"} ${level[1]}`]);
    }
  }
  const display = (s.get("display") || "").toLowerCase();
  const hide = (s.get("mso-hide") || "").toLowerCase();
  if (display === "none" || hide === "all" || (s.get("visibility") || "").toLowerCase() === "hidden") {
    flags.push(["data-bantin-drop", ""]);
  }
  const weight = (s.get("font-weight") || "").toLowerCase();
  if (/^(bold|bolder|[6-9]00)$/.test(weight)) flags.push(["data-bantin-b", ""]);
  else if ((tag === "b" || tag === "strong") && /^(normal|lighter|[1-4]00)$/.test(weight)) {
    // Google Docs wraps the whole fragment in `<b style="font-weight:normal">`.
    flags.push(["data-bantin-plain", ""]);
  }
  if (/^(italic|oblique)/i.test(s.get("font-style") || "")) flags.push(["data-bantin-i", ""]);
  return flags;
}

function quote(value) {
  return `"${value.replace(/"/g, "&quot;")}"`;
}

/**
 * Rewrites HTML as a string: comments, conditional comments, processing instructions,
 * doctype, `<script>`/`<style>` and friends and namespaced Office tags (`<o:p>`, `<v:shape>`)
 * go; start tags keep only allow-listed attributes plus the flags read from their style.
 * Follows the HTML tokenizer closely enough that a browser parses the result into the same
 * elements; it is no security boundary (the server sanitises what is saved).
 */
export function stripAttributes(html, keepAlign = false) {
  let out = "";
  let i = 0;
  const n = html.length;
  while (i < n) {
    const lt = html.indexOf("<", i);
    if (lt < 0) {
      out += html.slice(i);
      break;
    }
    out += html.slice(i, lt);
    i = lt;
    const next = html[i + 1];
    if (html.startsWith("<!--", i)) {
      // `<!-->` and `<!--->` are empty comments; otherwise up to `-->` (or `--!>`).
      if (html[i + 4] === ">") { i += 5; continue; }
      if (html.startsWith("->", i + 4)) { i += 6; continue; }
      const a = html.indexOf("-->", i + 4);
      const b = html.indexOf("--!>", i + 4);
      const ends = [a < 0 ? Infinity : a + 3, b < 0 ? Infinity : b + 4];
      const end = Math.min(...ends);
      i = end === Infinity ? n : end;
      continue;
    }
    if (next === "!" || next === "?") {
      // Doctype, Word's `<![if !supportLists]>`/`<![endif]>`, `<?xml …>`: bogus comments.
      const gt = html.indexOf(">", i);
      i = gt < 0 ? n : gt + 1;
      continue;
    }
    if (next === "/") {
      if (html[i + 2] === ">") { i += 3; continue; }
      if (!isAlpha(html[i + 2] || "")) {
        const gt = html.indexOf(">", i);
        i = gt < 0 ? n : gt + 1;
        continue;
      }
      let j = i + 2;
      while (j < n && !isSpace(html[j]) && html[j] !== "/" && html[j] !== ">") j++;
      const name = html.slice(i + 2, j).toLowerCase();
      const gt = html.indexOf(">", j);
      i = gt < 0 ? n : gt + 1;
      if (!name.includes(":") && !DROP_TAG.has(name)) out += `</${name}>`;
      continue;
    }
    if (!isAlpha(next || "")) {
      out += "&lt;";
      i += 1;
      continue;
    }
    // A start tag: its name, then attributes as the tokenizer reads them.
    let j = i + 1;
    while (j < n && !isSpace(html[j]) && html[j] !== "/" && html[j] !== ">") j++;
    const name = html.slice(i + 1, j).toLowerCase();
    const attrs = [];
    let closed = false;
    while (j < n) {
      while (j < n && (isSpace(html[j]) || html[j] === "/")) j++;
      if (j >= n) break;
      if (html[j] === ">") { closed = true; j++; break; }
      let k = j + 1;
      while (k < n && !isSpace(html[k]) && html[k] !== "/" && html[k] !== ">" && html[k] !== "=") k++;
      const attr = html.slice(j, k).toLowerCase();
      j = k;
      while (j < n && isSpace(html[j])) j++;
      let value = "";
      if (html[j] === "=") {
        j++;
        while (j < n && isSpace(html[j])) j++;
        const q = html[j];
        if (q === '"' || q === "'") {
          const end = html.indexOf(q, j + 1);
          if (end < 0) { j = n; break; }
          value = html.slice(j + 1, end);
          j = end + 1;
        } else {
          let k2 = j;
          while (k2 < n && !isSpace(html[k2]) && html[k2] !== ">") k2++;
          value = html.slice(j, k2);
          j = k2;
        }
      }
      attrs.push([attr, value]);
    }
    // A tag cut off by the end of the input is no tag to a browser either.
    if (!closed) break;
    i = j;
    if (name === "plaintext") break;
    if (DROP_WITH_CONTENT.has(name)) {
      // The video frames the sanitiser allows stay (the editor shows a placeholder).
      const src = attrs.find(([a]) => a === "src");
      if (name === "iframe" && src && allowedFrameSrc(src[1])) {
        let tag = "<iframe";
        for (const [attr, value] of attrs) {
          if (FRAME_ATTRS.includes(attr)) tag += ` ${attr}=${quote(value)}`;
        }
        out += tag + "></iframe>";
      }
      // (Case-insensitive on the text itself: lower-casing the whole input could change its
      // length, `İ` becomes two code units, and shift every index after it.)
      const re = new RegExp(`</${name}[\\s/>]`, "gi");
      re.lastIndex = i;
      const m = re.exec(html);
      if (!m) break;
      const gt = html.indexOf(">", m.index);
      i = gt < 0 ? n : gt + 1;
      continue;
    }
    if (name.includes(":") || DROP_TAG.has(name)) continue;
    const keep = KEEP_ATTRS[name] || [];
    const seen = new Set();
    let tag = `<${name}`;
    for (const [attr, value] of attrs) {
      if (seen.has(attr)) continue; // the first of duplicates wins, as in browsers
      seen.add(attr);
      if (attr === "style") {
        for (const [flag, v] of styleFlags(name, value, keepAlign)) tag += ` ${flag}=${quote(v)}`;
      } else if (keep.includes(attr) || KEEP_EVERYWHERE.includes(attr)) {
        tag += ` ${attr}=${quote(value)}`;
      }
    }
    out += tag + ">";
  }
  return out;
}

/** Links the editor keeps: http(s), mailto and relative ones. */
export function allowedHref(url) {
  // Browsers ignore tabs, newlines and leading control characters in URLs (`java\tscript:`).
  const u = String(url || "").replace(/[\u0000-\u0020\u007f]/g, "");
  if (!u) return false;
  if (/^(https?|mailto):/i.test(u)) return true;
  // Anything else with a scheme is refused; a colon after the first `/`, `?` or `#` is not one.
  return !/^[^/?#]*:/.test(u);
}

/** Video frames the server's sanitiser keeps (`crates/bantin-core/src/html.rs`). */
export function allowedFrameSrc(url) {
  const u = String(url || "");
  return (
    u.startsWith("https://www.youtube.com/embed/") ||
    u.startsWith("https://www.youtube-nocookie.com/embed/")
  );
}

/** Image addresses the editor keeps: HTTPS or this site (the CSP's `img-src`, and the
 * sanitiser drops `data:`); Word's `file:///C:/…` pictures cannot be reached from here. */
export function allowedImageSrc(url) {
  const u = String(url || "").trim();
  return /^https:\/\/[^/]/i.test(u) || /^\/(?!\/)/.test(u);
}

function unwrap(el) {
  el.replaceWith(...el.childNodes);
}

function rename(el, name) {
  const doc = el.ownerDocument;
  const to = doc.createElement(name);
  for (const a of Array.from(el.attributes)) to.setAttribute(a.name, a.value);
  to.append(...el.childNodes);
  el.replaceWith(to);
  return to;
}

const BLOCK = new Set([
  "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "table", "blockquote",
  "pre", "figure", "hr", "section", "article", "header", "footer", "aside", "main", "nav",
]);

function isBlank(el) {
  return (
    !el.querySelector("img") &&
    el.textContent.replace(/[\s\u00a0\u200b\ufeff]/g, "") === ""
  );
}

/** Word writes list items as paragraphs with `mso-list: l0 level2 lfo1` and the bullet or
 * number as text; they become real nested lists here. */
function wordLists(root) {
  const items = Array.from(root.querySelectorAll("[data-bantin-list]"));
  const done = new Set();
  for (const first of items) {
    if (done.has(first)) continue;
    // A run of list paragraphs next to each other, whitespace between them aside.
    const run = [];
    let el = first;
    while (el && el.nodeType === 1 && el.hasAttribute("data-bantin-list")) {
      run.push(el);
      done.add(el);
      let sib = el.nextSibling;
      while (sib && sib.nodeType === 3 && !sib.textContent.trim()) sib = sib.nextSibling;
      el = sib;
    }
    const doc = first.ownerDocument;
    const top = { level: 0, list: null, li: null };
    const stack = [top];
    const fragment = doc.createDocumentFragment();
    for (const p of run) {
      const [id, levelText] = p.getAttribute("data-bantin-list").split(" ");
      const level = Number(levelText) || 1;
      const marker = p.querySelector("[data-bantin-marker]");
      const text = marker ? marker.textContent.replace(/[\s\u00a0]/g, "") : "";
      if (marker) marker.remove();
      const ordered = /^\(?([0-9]+|[a-z]{1,3}|[ivxlcdm]+)[.)]$/i.test(text);
      while (stack.length > 1 && stack[stack.length - 1].level > level) stack.pop();
      let cur = stack[stack.length - 1];
      // Another Word list (a bulleted one, then a numbered one) right after starts anew.
      if (cur.level === level && (cur.id !== id || cur.ordered !== ordered)) {
        stack.pop();
        cur = stack[stack.length - 1];
      }
      if (cur.level < level) {
        const list = doc.createElement(ordered ? "ol" : "ul");
        if (cur.li) cur.li.append(list);
        else fragment.append(list);
        cur = { level, id, ordered, list, li: null };
        stack.push(cur);
      }
      const li = doc.createElement("li");
      const para = doc.createElement("p");
      para.append(...p.childNodes);
      li.append(para);
      cur.list.append(li);
      cur.li = li;
    }
    first.before(fragment);
    for (const p of run) p.remove();
  }
}

/** The inert document the cleaned markup is parsed in: nothing in it loads or runs. */
function inertBody(html) {
  const doc = document.implementation.createHTMLDocument("");
  doc.body.innerHTML = html;
  return doc.body;
}

/**
 * HTML from anywhere, as the editor should see it: the structure (paragraphs, headings, lists,
 * tables, links, bold and italic, images) without styles, classes, fonts, colours, Word's
 * and Google Docs' wrappers, empty paragraphs, or pictures the site could not show.
 * `keepAlign` keeps paragraph alignment (as `data-bantin-align`), for a stored article the
 * sanitiser allowed it in; pasted alignment is clutter (Word justifies everything).
 */
export function cleanHtml(html, { keepAlign = false } = {}) {
  const body = inertBody(stripAttributes(String(html || ""), keepAlign));
  for (const el of Array.from(body.querySelectorAll("[data-bantin-drop]"))) el.remove();
  wordLists(body);
  for (const el of Array.from(body.querySelectorAll("[data-bantin-marker]"))) el.remove();
  for (const el of Array.from(body.querySelectorAll("[data-bantin-plain]"))) unwrap(el);
  // Google Docs and many sites mark bold and italic with styled spans.
  for (const el of Array.from(body.querySelectorAll("span[data-bantin-b], span[data-bantin-i]"))) {
    let inner = el;
    if (el.hasAttribute("data-bantin-b")) inner = rename(inner, "strong");
    if (inner.hasAttribute("data-bantin-i")) {
      const em = inner.ownerDocument.createElement("em");
      em.append(...inner.childNodes);
      inner.append(em);
    }
  }
  for (const el of Array.from(body.querySelectorAll("span, font"))) unwrap(el);
  for (const el of Array.from(body.querySelectorAll("a"))) {
    if (!allowedHref(el.getAttribute("href"))) unwrap(el);
  }
  for (const el of Array.from(body.querySelectorAll("img"))) {
    if (!allowedImageSrc(el.getAttribute("src"))) el.remove();
  }
  // Article headings start at h2: the page's h1 is the article's title.
  for (const el of Array.from(body.querySelectorAll("h1"))) rename(el, "h2");
  for (const el of Array.from(body.querySelectorAll("h5, h6"))) rename(el, "h4");
  // A table's caption becomes the paragraph before it; the editor's tables have none.
  for (const el of Array.from(body.querySelectorAll("caption"))) {
    const table = el.closest("table");
    const p = rename(el, "p");
    if (table) table.before(p);
  }
  // A caption is one line of text: paragraphs in it (as some sites write them) would end
  // the figure early.
  for (const el of Array.from(body.querySelectorAll("figcaption p, figcaption div"))) {
    if (el.previousSibling) el.before(" ");
    unwrap(el);
  }
  // Google Docs nests a sub-list directly in the list, not in the item before it.
  for (const el of Array.from(body.querySelectorAll("ul > ul, ul > ol, ol > ul, ol > ol"))) {
    const prev = el.previousElementSibling;
    if (prev && prev.tagName === "LI") prev.append(el);
  }
  for (const el of Array.from(body.querySelectorAll("p, h2, h3, h4"))) {
    if (isBlank(el)) el.remove();
  }
  // Line breaks between blocks (Google Docs puts one after a table) are no content.
  for (const br of Array.from(body.querySelectorAll("br"))) {
    const parent = br.parentElement;
    if (!parent || (parent !== body && parent.tagName !== "DIV")) continue;
    const side = (node, dir) => {
      let s = node[dir];
      while (s && s.nodeType === 3 && !s.textContent.trim()) s = s[dir];
      return !s || (s.nodeType === 1 && BLOCK.has(s.tagName.toLowerCase()));
    };
    if (side(br, "previousSibling") || side(br, "nextSibling")) br.remove();
  }
  for (const el of Array.from(body.querySelectorAll("*"))) {
    for (const a of Array.from(el.attributes)) {
      if (a.name === "data-bantin-align") continue;
      if (a.name.startsWith("data-bantin-")) el.removeAttribute(a.name);
    }
  }
  return body.innerHTML;
}
