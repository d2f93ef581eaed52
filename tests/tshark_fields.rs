//! The share of the protocol fields TShark shows that our flows carry, on
//! the whole corpus: SNI, JA3, JA3S, DNS query names, HTTP host and user
//! agent. For every (capture, 5-tuple, field) where TShark's export has a
//! value, the field matches when a flow of that tuple carries one of
//! TShark's values. The floors are the measured rates; the misses left are
//! named by class in `schemas/protocols.md` and printed here.
//! (`benches/oracle/tshark_coverage.py` computes the same from a dataset.)

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use wa1kpcap::{Analyzer, Flow};

const FIELDS: [(&str, &str); 6] = [
    ("sni", "tls.handshake.extensions_server_name"),
    ("ja3", "tls.handshake.ja3"),
    ("ja3s", "tls.handshake.ja3s"),
    ("dns_query", "dns.qry.name"),
    ("http_host", "http.host"),
    ("user_agent", "http.user_agent"),
];

/// Measured on the shared corpus (share of TShark's fields).
const FLOORS: [f64; 6] = [0.997, 0.996, 0.998, 0.994, 0.995, 0.994];

type End = (IpAddr, u16);
type Key = (End, End);

fn key(a: End, b: End) -> Key {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

fn dns_name(s: &str) -> String {
    s.trim_end_matches('.').to_ascii_lowercase()
}

/// Our values per field for one flow.
fn ours(f: &Flow) -> [BTreeSet<String>; 6] {
    let mut v: [BTreeSet<String>; 6] = Default::default();
    let Some(app) = f.app.as_deref() else {
        return v;
    };
    if let Some(tls) = app.tls.as_deref() {
        if let Some(c) = &tls.client {
            v[0].extend(c.sni.clone());
            v[1].insert(tls.fingerprints.ja3_hash.clone());
        }
        if tls.server.is_some() {
            v[2].insert(tls.fingerprints.ja3s_hash.clone());
        }
    }
    if let Some(dns) = app.dns.as_deref() {
        v[3].extend(dns.queries.iter().map(|q| dns_name(q)));
    }
    if let Some(req) = app.http.as_deref().and_then(|h| h.request.as_ref()) {
        v[4].extend(req.host.clone());
        v[5].extend(req.user_agent.clone());
    }
    v
}

/// TShark's values of field `i` in one cell.
fn theirs(i: usize, cell: &str) -> Vec<String> {
    let values: Vec<String> = match i {
        3 => cell.split(',').map(dns_name).collect(),
        1 => cell.split(',').map(String::from).collect(),
        // A user agent may hold commas.
        5 => vec![cell.to_string()],
        _ => cell.split(',').take(1).map(String::from).collect(),
    };
    values.into_iter().filter(|v| !v.is_empty()).collect()
}

fn last(cell: &str) -> &str {
    cell.rsplit(',').next().unwrap_or("")
}

#[test]
fn protocol_fields_match_tshark() {
    let Some(corpus) = common::corpus("the TShark field coverage test") else {
        return;
    };
    let analyzer = Analyzer::new();
    let (mut total, mut matched) = ([0usize; 6], [0usize; 6]);
    let mut misses: BTreeMap<String, usize> = BTreeMap::new();
    for (rel, tsv) in common::tshark_exports(&corpus) {
        let rows = common::tsv_records(&tsv);
        if rows.is_empty() {
            continue;
        }
        let flows = analyzer.analyze_file(corpus.join(&rel)).unwrap_or_default();
        let mut have: HashMap<Key, [BTreeSet<String>; 6]> = HashMap::new();
        for f in &flows {
            let k = key(
                (f.key.src_ip, f.key.src_port),
                (f.key.dst_ip, f.key.dst_port),
            );
            let e = have.entry(k).or_default();
            for (mine, got) in e.iter_mut().zip(ours(f)) {
                mine.extend(got);
            }
        }
        let mut want: HashMap<Key, [BTreeSet<String>; 6]> = HashMap::new();
        for r in &rows {
            let port = |t: &str, u: &str| {
                last(r.get(t))
                    .parse::<u16>()
                    .ok()
                    .or(last(r.get(u)).parse().ok())
            };
            let (Some(sp), Some(dp)) = (
                port("tcp.srcport", "udp.srcport"),
                port("tcp.dstport", "udp.dstport"),
            ) else {
                continue;
            };
            // IPv4 and IPv6 both present (6in4, Teredo): either may be
            // the inner one; the tuple a flow of ours has wins.
            let tuples: Vec<Key> = ["ipv6", "ip"]
                .iter()
                .filter_map(|fam| {
                    let s = last(r.get(&format!("{fam}.src"))).parse().ok()?;
                    let d = last(r.get(&format!("{fam}.dst"))).parse().ok()?;
                    Some(key((s, sp), (d, dp)))
                })
                .collect();
            let Some(&k) = tuples
                .iter()
                .find(|k| have.contains_key(k))
                .or(tuples.first())
            else {
                continue;
            };
            let e = want.entry(k).or_default();
            for (i, (_, col)) in FIELDS.iter().enumerate() {
                e[i].extend(theirs(i, r.get(col)));
            }
        }
        let name = rel.display().to_string();
        for (k, fields) in &want {
            for (i, vals) in fields.iter().enumerate() {
                if vals.is_empty() {
                    continue;
                }
                total[i] += 1;
                if have.get(k).is_some_and(|h| !h[i].is_disjoint(vals)) {
                    matched[i] += 1;
                } else {
                    *misses.entry(format!("{name} {}", FIELDS[i].0)).or_default() += 1;
                }
            }
        }
    }
    for (i, (name, _)) in FIELDS.iter().enumerate() {
        println!(
            "tshark fields: {name} {}/{} = {:.2} %",
            matched[i],
            total[i],
            100.0 * matched[i] as f64 / total[i].max(1) as f64
        );
    }
    for (m, n) in &misses {
        println!("  miss: {n} {m}");
    }
    for (i, (name, _)) in FIELDS.iter().enumerate() {
        assert!(total[i] > 300, "{name}: too few fields compared");
        let rate = matched[i] as f64 / total[i] as f64;
        assert!(rate >= FLOORS[i], "{name}: {rate} below {}", FLOORS[i]);
    }
}
