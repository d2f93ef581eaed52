//! `wa1kpcap inspect`: one report per file, in input order; files in
//! parallel. A bad file gets its line and the others go on.

use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use wa1kpcap::inspect::{inspect_file, render_text};

pub fn run(inputs: &[PathBuf], json: bool) -> anyhow::Result<i32> {
    let mut files = Vec::new();
    let mut missing = 0;
    for input in inputs {
        if input.is_dir() {
            collect_dir(input, &mut files);
        } else if input.exists() {
            files.push(input.clone());
        } else {
            eprintln!("{}: error: no such file or directory", input.display());
            missing += 1;
        }
    }
    let reports: Vec<_> = files.par_iter().map(|f| inspect_file(f)).collect();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut bad = missing;
    for r in &reports {
        if !r.is_ok() {
            bad += 1;
        }
        if json {
            writeln!(out, "{}", serde_json::to_string(r)?)?;
        } else {
            write!(out, "{}", render_text(r))?;
        }
    }
    if !json && reports.len() > 1 {
        writeln!(
            out,
            "{} files, {} with errors",
            reports.len() + missing,
            bad
        )?;
    }
    Ok(if bad > 0 { 1 } else { 0 })
}

/// Every regular file below `dir`, sorted for a stable order.
fn collect_dir(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            eprintln!("{}: error: {e}", dir.display());
            return;
        }
    };
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect_dir(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}
