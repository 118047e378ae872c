// The string stage of the paste cleaner (src/clean.js), which runs before any HTML parser
// sees the markup; the DOM stage is covered by the browser test
// (crates/bantin-web/tests/web/editor.rs). Run with `npm test`.

import { test } from "node:test";
import assert from "node:assert/strict";

import { allowedHref, allowedImageSrc, stripAttributes } from "../src/clean.js";

test("no style, class, id or handler survives, whatever the quoting", () => {
  const out = stripAttributes(
    `<p class=MsoNormal style='margin:0;font-family:"Times New Roman"' id=x onclick="a()">` +
      `<a href="https://e.vn/?a=1&amp;b=2" style="color:red" target=_blank>l</a>` +
      `<img src=/media/a.jpg alt='Ảnh "đẹp"' style="width:10px" width=800></p>`,
  );
  assert.equal(
    out,
    `<p><a href="https://e.vn/?a=1&amp;b=2">l</a>` +
      `<img src="/media/a.jpg" alt="Ảnh &quot;đẹp&quot;" width="800"></p>`,
  );
  assert.ok(!/style|class|onclick|id=/.test(out));
});

test("Word's comments, conditional comments, XML and Office tags go", () => {
  const out = stripAttributes(
    `<!--[if gte mso 9]><xml><w:WordDocument></w:WordDocument></xml><![endif]-->` +
      `<style><!-- p.MsoNormal {margin:0} --></style>` +
      `<p><![if !supportLists]><span style='mso-list:Ignore'>1.</span><![endif]>Mục<o:p></o:p></p>`,
  );
  assert.equal(out, `<p><span data-bantin-marker="">1.</span>Mục</p>`);
});

test("meaningful styles become flags", () => {
  assert.equal(
    stripAttributes(`<b style="font-weight:normal;" id="docs-internal-guid-1"><span style="font-weight:700">x</span><span style="font-style:italic">y</span></b>`),
    `<b data-bantin-plain=""><span data-bantin-b="">x</span><span data-bantin-i="">y</span></b>`,
  );
  assert.equal(
    stripAttributes(`<p style='mso-list:l1 level2 lfo3'>a</p><span style="display:none">b</span>`),
    `<p data-bantin-list="lfo3 2">a</p><span data-bantin-drop="">b</span>`,
  );
  // Alignment only where asked (a stored article), and only on paragraphs and headings.
  assert.equal(stripAttributes(`<p style="text-align:center">a</p>`), `<p>a</p>`);
  assert.equal(
    stripAttributes(`<p style="text-align:center">a</p><td style="text-align:center">b</td>`, true),
    `<p data-bantin-align="center">a</p><td>b</td>`,
  );
});

test("raw text and markup that is not a tag stay what a browser makes of them", () => {
  assert.equal(stripAttributes(`a < b <3 <script>x("</p>")</script>c`), `a &lt; b &lt;3 c`);
  assert.equal(stripAttributes(`<p title="a>b" style="x">t</p>`), `<p>t</p>`);
  assert.equal(stripAttributes(`<svg><style>p{}</style><text>t</text></svg>ok`), `ok`);
  // A tag cut off by the end of the input is dropped, as the tokenizer does.
  assert.equal(stripAttributes(`ok<p style="x`), `ok`);
  // Only the sanitiser's video frames are kept, empty.
  assert.equal(
    stripAttributes(`<iframe src="https://www.youtube.com/embed/a" style="b" onload="c">x</iframe><iframe src="https://evil.example/">y</iframe>`),
    `<iframe src="https://www.youtube.com/embed/a"></iframe>`,
  );
});

test("links and images the editor keeps", () => {
  for (const ok of ["https://a.vn", "http://a.vn", "mailto:a@b.vn", "/tin/", "#muc", "bai.html", "?p=2"]) {
    assert.ok(allowedHref(ok), ok);
  }
  for (const bad of ["javascript:alert(1)", "java\tscript:x", " JAVASCRIPT:x", "data:text/html,x", "vbscript:x", "file:///C:/a"]) {
    assert.ok(!allowedHref(bad), bad);
  }
  for (const ok of ["https://a.vn/a.jpg", "/media/a.jpg"]) assert.ok(allowedImageSrc(ok), ok);
  for (const bad of ["http://a.vn/a.jpg", "//a.vn/a.jpg", "data:image/png;base64,x", "file:///C:/a.jpg", "a.jpg"]) {
    assert.ok(!allowedImageSrc(bad), bad);
  }
});

test("text whose lower case is longer does not shift the tags after it", () => {
  assert.equal(stripAttributes(`İİİ<p style="x">a</p><SCRIPT>b</Script>c`), `İİİ<p>a</p>c`);
});
