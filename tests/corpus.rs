//! Every capture of the shared corpus (`WA1KPCAP_CORPUS`) through `inspect`:
//! no panic anywhere; files capinfos read cleanly give exactly its packet
//! count (MANIFEST.tsv); files capinfos flags as broken give an error (with
//! the packets before the damage, where capinfos counted some).

use std::path::PathBuf;

use rayon::prelude::*;
use wa1kpcap::inspect::inspect_file;

struct Row {
    path: String,
    packets: Option<u64>,
    notes: String,
}

fn corpus() -> Option<(PathBuf, Vec<Row>)> {
    let Some(dir) = std::env::var_os("WA1KPCAP_CORPUS") else {
        eprintln!("WA1KPCAP_CORPUS is not set: corpus test skipped");
        return None;
    };
    let dir = PathBuf::from(dir);
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    let mut lines = manifest.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (cp, ck, cn) = (col("path"), col("packets"), col("notes"));
    let rows = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Row {
                path: f[cp].to_string(),
                packets: f.get(ck).and_then(|v| v.trim().parse().ok()),
                notes: f.get(cn).unwrap_or(&"").to_string(),
            }
        })
        .collect();
    Some((dir, rows))
}

/// capinfos' "An error occurred after reading N packets".
fn capinfos_partial(notes: &str) -> Option<u64> {
    let i = notes.find("after reading ")? + "after reading ".len();
    notes[i..].split_whitespace().next()?.parse().ok()
}

#[test]
fn corpus_packet_counts_match_capinfos() {
    let Some((dir, rows)) = corpus() else { return };
    let results: Vec<(usize, wa1kpcap::inspect::FileReport)> = rows
        .par_iter()
        .enumerate()
        .map(|(i, r)| (i, inspect_file(&dir.join(&r.path))))
        .collect();
    let (mut clean, mut clean_ok, mut broken, mut broken_ok) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for (i, rep) in results {
        let row = &rows[i];
        if row.notes.contains("capinfos error") || row.notes.contains("BROKEN") {
            broken += 1;
            let partial_ok = match capinfos_partial(&row.notes) {
                Some(n) => rep.packets == n,
                None => rep.packets == 0,
            };
            if rep.error.is_some() && partial_ok {
                broken_ok += 1;
            } else {
                failures.push(format!(
                    "{}: broken per capinfos ({:?}), we read {} packets, error {:?}",
                    row.path,
                    capinfos_partial(&row.notes),
                    rep.packets,
                    rep.error.as_ref().map(|e| &e.message)
                ));
            }
        } else if let Some(n) = row.packets {
            clean += 1;
            if rep.error.is_none() && rep.packets == n {
                clean_ok += 1;
            } else {
                failures.push(format!(
                    "{}: capinfos {} packets, we read {} (error {:?})",
                    row.path,
                    n,
                    rep.packets,
                    rep.error.as_ref().map(|e| &e.message)
                ));
            }
        } else {
            // No capinfos count (empty or unreadable file): must be an error.
            broken += 1;
            if rep.error.is_some() {
                broken_ok += 1;
            } else {
                failures.push(format!(
                    "{}: no capinfos count but we read it cleanly",
                    row.path
                ));
            }
        }
    }
    eprintln!(
        "corpus: {clean_ok}/{clean} clean files match capinfos' packet count; {broken_ok}/{broken} broken files reported as errors"
    );
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(clean > 0);
}

#[test]
fn the_readers_plain_ip_pair_agrees_with_the_decoder() {
    // The pipeline's reader picks workers with the cheap pair when it has
    // one: on every corpus packet it must be the pair the decoder reports.
    let Some((dir, rows)) = corpus() else { return };
    let (mut cheap, mut total) = (0u64, 0u64);
    for r in &rows {
        let Ok(mut cap) = wa1kpcap::capture::Capture::open(&dir.join(&r.path)) else {
            continue;
        };
        let _ = cap.for_each_packet(|raw| {
            total += 1;
            if let Some(pair) = wa1kpcap::decode::plain_ip_pair(raw.linktype, raw.data) {
                cheap += 1;
                let p = wa1kpcap::decode::decode(raw.linktype, raw.data, raw.wire_len);
                let ip = p.ip.expect("a plain pair has an IP layer");
                assert_eq!(pair, (ip.src, ip.dst), "{} frame {}", r.path, raw.frame);
            }
        });
    }
    eprintln!("plain ip pair: {cheap} of {total} corpus packets, all equal to the decoder's");
    assert!(cheap > total / 2);
}
