//! The layer check: every module of the library imports only from layers below its own.
//!
//! [`LAYERS`] is the one place the order is written down, bottom to top: the shared
//! vocabulary first, then the pipeline's stages in the order data flows through them, then the
//! commands that string them together. A module may use its own items and those of any
//! module in a lower layer, never one in its own layer or above (so there is no cycle). The
//! check reads every `crate::` path in `src/` (`use` lines, grouped `use crate::{…}`, paths
//! written inline and intra-doc links), plain `//` comments left out. The binary's own modules (`main.rs` and the files it
//! declares) sit on top of everything and are not checked.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The library's top-level modules, bottom to top.
const LAYERS: &[&[&str]] = &[
    // shared vocabulary and utilities: no stage
    &["vocab", "canon", "intern", "json", "text"],
    // the pipeline, in the order data flows
    &["rules"],
    &["http"],
    &["source"],
    &["extract"],
    &["graph"],
    &["crawl"],
    &["record"],
    &["infer"],
    &["analyze"],
    &["model"],
    &["error"],
    &["plan"],
    &["explain"],
    &["report"],
    &["gate"],
    &["serve"],
    // the commands on top, and the command line that calls them
    &["commands"],
    &["cli"],
];

/// Imports that break the order today, each with the reason it is still there. Empty is the
/// goal; the check fails when an entry is no longer needed.
const KNOWN: &[(&str, &str)] = &[];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The top-level modules a source text names through `crate::` paths.
fn imports(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .map(|l| match l.find("//") {
            // Doc comments stay: an intra-doc link names a module as surely as a `use`.
            Some(i) if l[i..].starts_with("///") || l[i..].starts_with("//!") => l,
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        rest = &rest[i + "crate::".len()..];
        if matches!(before, Some(c) if c == '$' || c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            found.extend(group_heads(group));
        } else {
            found.insert(ident(rest));
        }
    }
    found.retain(|m| !m.is_empty());
    found
}

/// The first path segment of each item of a `crate::{…}` group.
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let (mut depth, mut start) = (0usize, true);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => start = true,
            c if start && !c.is_whitespace() => {
                heads.push(ident(&group[i..]));
                start = false;
            }
            _ => {}
        }
    }
    heads
}

fn ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The binary's modules: `main.rs` and the `mod x;` it declares.
fn binary_modules(src: &Path) -> BTreeSet<String> {
    let main = std::fs::read_to_string(src.join("main.rs")).expect("main.rs");
    let mut mods: BTreeSet<String> = main
        .lines()
        .filter_map(|l| l.trim().strip_prefix("mod "))
        .map(|m| m.trim_end_matches(';').to_string())
        .collect();
    mods.insert("main".into());
    mods
}

/// `(module, imported module)` for every import against the order, sorted.
fn violations(files: &[(String, String)]) -> Vec<String> {
    let mut bad = Vec::new();
    for (module, text) in files {
        let Some(own) = layer(module) else {
            bad.push(format!(
                "src/{module}: not in LAYERS (tests/layers.rs): add it"
            ));
            continue;
        };
        for used in imports(text) {
            if used == *module || KNOWN.contains(&(module.as_str(), used.as_str())) {
                continue;
            }
            match layer(&used) {
                Some(l) if l < own => {}
                Some(_) => bad.push(format!("{module} imports {used}, which is not below it")),
                None => bad.push(format!("{module} imports {used}, which is not in LAYERS")),
            }
        }
    }
    bad.sort();
    bad.dedup();
    bad
}

fn library_sources() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let binary = binary_modules(&src);
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files
        .into_iter()
        .filter_map(|path| {
            let rel = path.strip_prefix(&src).expect("under src");
            let first = rel.components().next()?.as_os_str().to_string_lossy();
            let module = first.trim_end_matches(".rs").to_string();
            if module == "lib" || binary.contains(&module) {
                return None;
            }
            Some((module, std::fs::read_to_string(&path).expect("read")))
        })
        .collect()
}

#[test]
fn every_module_imports_only_from_layers_below() {
    let files = library_sources();
    assert!(files.len() > 50, "found only {} source files", files.len());
    let bad = violations(&files);
    assert!(
        bad.is_empty(),
        "imports against the layer order:\n{}",
        bad.join("\n")
    );
    for (module, used) in KNOWN {
        let still = files
            .iter()
            .any(|(m, text)| m == module && imports(text).contains(*used));
        assert!(
            still,
            "KNOWN lists {module} -> {used}, which is gone: remove it"
        );
    }
}

#[test]
fn the_check_catches_an_upward_import() {
    let file = |m: &str, t: &str| (m.to_string(), t.to_string());
    let bad = violations(&[
        file("graph", "use crate::report::Format;\n"),
        file(
            "rules",
            "use crate::{\n    vocab::Reason,\n    crawl::{self, Stop},\n};\n",
        ),
        file("plan", "fn f() { crate::explain::annotate(); }\n"),
        file("vocab", "use crate::canon;\n"),
        file(
            "commands",
            "use crate::{report::render, vocab::exit};\n// crate::nothing\n",
        ),
        file(
            "source",
            "//! Scanned by [`crawl`](crate::crawl::ScannedSnapshot).\n",
        ),
        file("shiny", "\n"),
    ]);
    assert_eq!(
        bad,
        [
            "graph imports report, which is not below it",
            "plan imports explain, which is not below it",
            "rules imports crawl, which is not below it",
            "source imports crawl, which is not below it",
            "src/shiny: not in LAYERS (tests/layers.rs): add it",
            "vocab imports canon, which is not below it",
        ]
    );
}
