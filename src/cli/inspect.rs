//! `wa1kpcap inspect`: one report per file, in input order; files in
//! parallel. A bad file gets its line and the others go on.

use std::io::Write;
use std::path::PathBuf;

use rayon::prelude::*;
use wa1kpcap::inspect::{inspect_file, render_text};

pub fn run(inputs: &[PathBuf], json: bool) -> anyhow::Result<i32> {
    let (found, missing) = wa1kpcap::convert::discover(inputs);
    for (p, why) in &missing {
        eprintln!("{}: error: {why}", p.display());
    }
    let files: Vec<PathBuf> = found.into_iter().map(|i| i.path).collect();
    let missing = missing.len();
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
