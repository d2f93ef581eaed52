//! Helpers the corpus oracle tests share: where the corpus is, and TShark's
//! field exports (`expected-tshark/<capture path>.tsv`).
// Each test crate uses a part of this module.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The shared corpus (`WA1KPCAP_CORPUS`); without it, say what is skipped.
pub fn corpus(what: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("WA1KPCAP_CORPUS").map(PathBuf::from);
    if dir.is_none() {
        eprintln!("WA1KPCAP_CORPUS is not set: {what} skipped");
    }
    dir
}

/// Every TShark export of the corpus, sorted: the capture's path relative
/// to the corpus, and the TSV text.
pub fn tshark_exports(corpus: &Path) -> Vec<(PathBuf, String)> {
    let root = corpus.join("expected-tshark");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            let rel = p.strip_prefix(&root).unwrap_or(&p).with_extension("");
            Some((rel, text))
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|e| e == "tsv") {
            out.push(p);
        }
    }
}

/// One TSV row, by column name ("" for a missing column or cell).
pub struct Record<'a>(HashMap<&'a str, &'a str>);

impl<'a> Record<'a> {
    pub fn get(&self, name: &str) -> &'a str {
        self.0.get(name).copied().unwrap_or("")
    }
}

/// The rows of a TSV with a header line.
pub fn tsv_records(tsv: &str) -> Vec<Record<'_>> {
    let mut lines = tsv.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let names: Vec<&str> = header.split('\t').collect();
    lines
        .map(|l| Record(names.iter().copied().zip(l.split('\t')).collect()))
        .collect()
}
