// A YouTube frame already in an article (the server's sanitiser keeps those), carried through
// an edit unchanged. The editor shows a placeholder box, not the frame: loading it would need
// `frame-src` the Content-Security-Policy does not grant, and a player is no help while
// writing. New embeds are not offered in the toolbar.

import { Node } from "@tiptap/core";

import { allowedFrameSrc } from "./clean.js";

function frameAttribute(name) {
  return {
    default: null,
    parseHTML: (el) => el.getAttribute(name),
  };
}

export const Embed = Node.create({
  name: "embed",
  group: "block",
  atom: true,
  draggable: true,

  addOptions() {
    return { label: "" };
  },

  addAttributes() {
    return {
      src: frameAttribute("src"),
      width: frameAttribute("width"),
      height: frameAttribute("height"),
      title: frameAttribute("title"),
      allowfullscreen: frameAttribute("allowfullscreen"),
    };
  },

  parseHTML() {
    return [
      {
        tag: "iframe[src]",
        getAttrs: (el) => (allowedFrameSrc(el.getAttribute("src")) ? null : false),
      },
    ];
  },

  renderHTML({ HTMLAttributes }) {
    return ["iframe", HTMLAttributes];
  },

  addNodeView() {
    const label = this.options.label;
    return ({ node }) => {
      const dom = document.createElement("div");
      dom.className = "bantin-editor-embed";
      dom.textContent = `${label}: ${node.attrs.title || node.attrs.src}`;
      return { dom };
    };
  },
});
