//! The modules of bantin-web form no cycles: each file's references to other files of the
//! crate (`crate::…`, `super::…`, and items re-exported at the crate root, resolved to the
//! file that defines them) make a graph, and that graph must be acyclic. A cycle means two
//! modules that cannot be understood, changed or moved into crates of their own separately.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, with its module path (`admin::login`; the crate root is "").
fn files(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if path.is_dir() {
            files(&path, &join(prefix, &name), out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let module = match name.as_str() {
                "lib" | "mod" => prefix.to_owned(),
                _ => join(prefix, &name),
            };
            out.push((module, path));
        }
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}::{name}")
    }
}

/// Paths following `crate::` or `super::` in `code`, with `{…}` groups expanded one level
/// (`crate::{a, b::c}` → `a`, `b::c`).
fn references(code: &str, anchor: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find(anchor) {
        let before = rest[..i].chars().last();
        rest = &rest[i + anchor.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let item = item.trim();
                if !item.is_empty() {
                    out.push(item.split_whitespace().next().unwrap().to_owned());
                }
            }
        } else {
            let path: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            out.push(path.trim_end_matches(':').to_owned());
        }
    }
    out
}

#[test]
fn modules_have_no_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, "", &mut all);
    let modules: BTreeSet<String> = all.iter().map(|(m, _)| m.clone()).collect();
    // Items re-exported at the crate root, by the module that defines them.
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let mut reexports = BTreeMap::new();
    for line in lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub use "))
    {
        let line = line.trim_end_matches(';');
        let (module, items) = line.split_once("::").unwrap();
        for item in items.trim_matches(|c| c == '{' || c == '}').split(',') {
            reexports.insert(item.trim().to_owned(), module.to_owned());
        }
    }
    // The deepest module named by a path (`auth::CurrentUser` → `auth`).
    let resolve = |path: &str| -> String {
        let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        if let Some(first) = segments.first()
            && let Some(m) = reexports.get(*first)
        {
            return m.clone();
        }
        let mut best = String::new();
        for n in 1..=segments.len() {
            let candidate = segments[..n].join("::");
            if modules.contains(&candidate) {
                best = candidate;
            }
        }
        best
    };
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, path) in &all {
        let code = std::fs::read_to_string(path).unwrap();
        // Unit tests inside a file (`use super::*`) are part of that file.
        let code = code.split("#[cfg(test)]").next().unwrap_or_default();
        let code: String = code
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let parent = module.rsplit_once("::").map_or("", |(p, _)| p);
        let mut targets: Vec<String> = references(&code, "crate::")
            .iter()
            .map(|p| resolve(p))
            .collect();
        targets.extend(
            references(&code, "super::")
                .iter()
                .map(|p| resolve(format!("{parent}::{p}").trim_start_matches(':'))),
        );
        let edges = graph.entry(module.clone()).or_default();
        for t in targets {
            if t != *module {
                edges.insert(t);
            }
        }
    }
    // The crate root wires everything together; nothing may depend on it.
    let into_root: Vec<&String> = graph
        .iter()
        .filter(|(m, e)| !m.is_empty() && e.contains(""))
        .map(|(m, _)| m)
        .collect();
    assert!(
        into_root.is_empty(),
        "modules depending on lib.rs itself: {into_root:?}"
    );

    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        stack: &mut Vec<String>,
    ) {
        if done.contains(m) {
            return;
        }
        if let Some(i) = stack.iter().position(|s| s == m) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(m.to_owned());
            panic!("module cycle: {}", cycle.join(" → "));
        }
        stack.push(m.to_owned());
        for next in graph.get(m).into_iter().flatten() {
            visit(next, graph, done, stack);
        }
        stack.pop();
        done.insert(m.to_owned());
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        visit(m, &graph, &mut done, &mut Vec::new());
    }
    assert!(graph.len() > 20, "the crate's files were found: {graph:?}");
    assert!(
        graph["cache"].contains("page_cache") && graph["admin::login"].contains("admin::page"),
        "references are resolved: {graph:?}"
    );
}
