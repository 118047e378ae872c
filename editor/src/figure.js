// An image with its caption, as the site's articles carry them:
// `<figure class="image"><img src alt width height><figcaption>…</figcaption></figure>`.
// The node's content is the caption text (bold, italic and links allowed); the picture is in
// its attributes, so the caption is edited in place and the image cannot be half-deleted.

import { Node, mergeAttributes } from "@tiptap/core";
import { NodeSelection, TextSelection } from "@tiptap/pm/state";

import { allowedImageSrc } from "./clean.js";

/** An attribute read from the figure's `<img>`, and not written on `<figure>` itself. */
function imgAttribute(name, fallback) {
  return {
    default: fallback,
    rendered: false,
    parseHTML: (figure) => {
      const img = figure.querySelector("img");
      return img && img.hasAttribute(name) ? img.getAttribute(name) : fallback;
    },
  };
}

export const Figure = Node.create({
  name: "figure",
  group: "block",
  content: "inline*",
  draggable: true,
  // Backspace at the caption's start must not pull the caption into the paragraph above
  // (and throw the picture away): the node is a boundary, handled by the keys below.
  isolating: true,

  addOptions() {
    return { HTMLAttributes: {}, placeholder: "" };
  },

  addAttributes() {
    return {
      src: imgAttribute("src", null),
      alt: imgAttribute("alt", ""),
      width: imgAttribute("width", null),
      height: imgAttribute("height", null),
    };
  },

  parseHTML() {
    return [
      {
        tag: "figure",
        // A figure without a picture the site can show is no image figure: its content is
        // parsed as ordinary blocks instead.
        getAttrs: (dom) => {
          const img = dom.querySelector("img");
          return img && allowedImageSrc(img.getAttribute("src")) ? null : false;
        },
        contentElement: (dom) =>
          dom.querySelector("figcaption") || dom.ownerDocument.createElement("figcaption"),
      },
    ];
  },

  renderHTML({ node, HTMLAttributes }) {
    const img = { src: node.attrs.src, alt: node.attrs.alt || "" };
    if (node.attrs.width) img.width = node.attrs.width;
    if (node.attrs.height) img.height = node.attrs.height;
    return [
      "figure",
      mergeAttributes(this.options.HTMLAttributes, HTMLAttributes, { class: "image" }),
      ["img", img],
      ["figcaption", 0],
    ];
  },

  addNodeView() {
    const placeholder = this.options.placeholder;
    // Built with DOM calls rather than from `renderHTML`, to mark an empty caption (the
    // stylesheet shows the placeholder) without any inline style.
    return ({ node }) => {
      const dom = document.createElement("figure");
      dom.className = "image";
      const img = document.createElement("img");
      img.draggable = false;
      const caption = document.createElement("figcaption");
      caption.dataset.placeholder = placeholder;
      dom.append(img, caption);
      const show = (n) => {
        if (img.getAttribute("src") !== n.attrs.src) img.src = n.attrs.src;
        img.alt = n.attrs.alt || "";
        caption.classList.toggle("is-empty", n.content.size === 0);
      };
      show(node);
      return {
        dom,
        contentDOM: caption,
        update: (next) => {
          if (next.type !== node.type) return false;
          show(next);
          return true;
        },
      };
    };
  },

  addCommands() {
    return {
      insertFigure:
        ({ src, alt, caption }) =>
        ({ commands }) =>
          commands.insertContent({
            type: this.name,
            attrs: { src, alt: alt || "" },
            content: caption ? [{ type: "text", text: caption }] : [],
          }),
    };
  },

  addKeyboardShortcuts() {
    const inCaption = () => {
      const { selection } = this.editor.state;
      return selection.empty && selection.$from.parent.type.name === this.name;
    };
    return {
      // Enter ends the caption and starts a paragraph below the picture, instead of
      // splitting the figure in two.
      Enter: () => {
        if (!inCaption()) return false;
        const after = this.editor.state.selection.$from.after();
        return this.editor.commands.command(({ tr, state, dispatch }) => {
          if (dispatch) {
            tr.insert(after, state.schema.nodes.paragraph.create());
            tr.setSelection(TextSelection.create(tr.doc, after + 1)).scrollIntoView();
          }
          return true;
        });
      },
      // Backspace at the caption's start selects the whole figure; a second one deletes it.
      Backspace: () => {
        if (!inCaption() || this.editor.state.selection.$from.parentOffset !== 0) return false;
        const at = this.editor.state.selection.$from.before();
        return this.editor.commands.command(({ tr, dispatch }) => {
          if (dispatch) tr.setSelection(NodeSelection.create(tr.doc, at));
          return true;
        });
      },
    };
  },
});
