// Builds the article editor into the web crate's assets, where `include_str!` embeds it:
//   crates/bantin-web/assets/editor.js            one minified script (Tiptap, ProseMirror, src/)
//   crates/bantin-web/assets/editor.css           its stylesheet
//   crates/bantin-web/assets/editor-LICENSES.txt  the licence of every package in the script
// Run from this folder: `npm ci && node build.mjs`. The output is deterministic, so a rebuild
// from the same package-lock.json changes nothing.

import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const assets = join(here, "..", "crates", "bantin-web", "assets");

// Licences that may be combined into an AGPL-3.0-or-later program.
const COMPATIBLE = new Set(["MIT", "ISC", "BSD-2-Clause", "BSD-3-Clause", "0BSD", "Apache-2.0"]);

const banner =
  "/*! bantin article editor (editor/src, AGPL-3.0-or-later), bundling Tiptap and ProseMirror " +
  "(MIT). Licences: editor-LICENSES.txt. Built by editor/build.mjs; do not edit. */";

const common = {
  absWorkingDir: here,
  bundle: true,
  minify: true,
  charset: "utf8",
  // The licences are collected in editor-LICENSES.txt instead.
  legalComments: "none",
  banner: { js: banner, css: banner },
  logLevel: "warning",
};

const js = await esbuild.build({
  ...common,
  entryPoints: ["src/editor.js"],
  outfile: join(assets, "editor.js"),
  format: "iife",
  target: ["es2020", "chrome90", "firefox90", "safari15"],
  metafile: true,
});
await esbuild.build({
  ...common,
  entryPoints: ["src/editor.css"],
  outfile: join(assets, "editor.css"),
  target: ["chrome90", "firefox90", "safari15"],
});

// The page's CSP has no 'unsafe-eval': the script must not compile code at run time.
const code = readFileSync(join(assets, "editor.js"), "utf8");
for (const [what, re] of [
  ["new Function", /new\s+Function\s*\(/],
  ["eval(", /(^|[^.\w$])eval\s*\(/],
  ["string setTimeout", /setTimeout\(\s*["'`]/],
]) {
  if (re.test(code)) throw new Error(`editor.js contains ${what}, which the CSP forbids`);
}

// Every package with a file in the bundle, from esbuild's record of its inputs.
const packages = new Map();
for (const input of Object.keys(js.metafile.inputs)) {
  const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (!m) continue;
  const dir = join(here, input.slice(0, m.index + m[0].length));
  if (!packages.has(m[1])) packages.set(m[1], dir);
}
const sections = [];
for (const name of [...packages.keys()].sort()) {
  const dir = packages.get(name);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  if (!COMPATIBLE.has(pkg.license)) {
    throw new Error(`${name}: licence ${pkg.license} is not on the list compatible with AGPL-3.0`);
  }
  const files = readdirSync(dir).filter((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f)).sort();
  if (files.length === 0) throw new Error(`${name}: no licence file to ship`);
  const texts = files.map((f) => readFileSync(join(dir, f), "utf8").trim());
  const source = typeof pkg.repository === "string" ? pkg.repository : pkg.repository?.url;
  sections.push(
    [
      "-".repeat(78),
      `${pkg.name} ${pkg.version} — ${pkg.license}`,
      source ? `Source: ${source.replace(/^git\+/, "")}` : null,
      "",
      ...texts,
    ]
      .filter((l) => l !== null)
      .join("\n"),
  );
}
writeFileSync(
  join(assets, "editor-LICENSES.txt"),
  [
    "Third-party software in editor.js, the article editor of bantin.",
    "",
    "editor.js is built by editor/build.mjs from editor/src (part of bantin, licensed",
    "AGPL-3.0-or-later) and the npm packages below, at the versions in",
    "editor/package-lock.json. Each package's licence text follows.",
    "",
    ...sections,
    "",
  ].join("\n"),
);

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const css = readFileSync(join(assets, "editor.css"));
console.log(
  `${relative(process.cwd(), join(assets, "editor.js"))}: ${kib(code.length)}; ` +
    `editor.css: ${kib(css.length)}; ${packages.size} packages in editor-LICENSES.txt`,
);
