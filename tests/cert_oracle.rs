//! Server certificates against Zeek's `x509.log` on the shared corpus: every
//! certificate Zeek logged for a trace must be in some flow's chain (by its
//! SHA-256 fingerprint) with the same version, serial, subject, issuer,
//! validity, algorithms, key type and size, and subjectAltNames. Needs
//! `WA1KPCAP_CORPUS`; without it the test says why and passes.

mod common;

use std::collections::{BTreeSet, HashMap};

use wa1kpcap::proto::cert::Certificate;

/// Traces whose certificates travel in a way we do not parse, verified by
/// looking at them: a Spicy file-analysis test that feeds certificates
/// from an SSH trace (its log has no Zeek header either). (TLS after SMTP
/// STARTTLS and DTLS are read now, and compared.)
const NOT_PARSED: &[(&str, &str)] = &[(
    "ssh__single-conn.pcap",
    "certificates injected by a Spicy test",
)];

fn set(cell: &str) -> BTreeSet<String> {
    if cell == "-" || cell == "(empty)" || cell.is_empty() {
        return BTreeSet::new();
    }
    cell.split(',').map(str::to_string).collect()
}

/// The differences between Zeek's row and our certificate.
fn diff(z: &HashMap<String, String>, c: &Certificate) -> Vec<String> {
    let get = |k: &str| z.get(k).map(String::as_str).unwrap_or("-");
    let mut out = Vec::new();
    let mut check = |name: &str, zeek: String, ours: String| {
        if zeek != ours {
            out.push(format!("{name}: zeek {zeek:?} ours {ours:?}"));
        }
    };
    check(
        "version",
        get("certificate.version").into(),
        c.version.to_string(),
    );
    check("serial", get("certificate.serial").into(), c.serial.clone());
    check(
        "subject",
        get("certificate.subject").into(),
        c.subject.clone(),
    );
    check("issuer", get("certificate.issuer").into(), c.issuer.clone());
    let secs = |k: &str| get(k).split('.').next().unwrap_or("").to_string();
    check(
        "not_before",
        secs("certificate.not_valid_before"),
        c.not_before.to_string(),
    );
    check(
        "not_after",
        secs("certificate.not_valid_after"),
        c.not_after.to_string(),
    );
    check(
        "key_alg",
        get("certificate.key_alg").into(),
        c.key_alg.clone(),
    );
    check(
        "sig_alg",
        get("certificate.sig_alg").into(),
        c.sig_alg.clone(),
    );
    // Zeek names EC keys "ecdsa"; it leaves type and length unset for key
    // algorithms OpenSSL does not know.
    let key_type = match get("certificate.key_type") {
        "ecdsa" => "ec".to_string(),
        other => other.to_string(),
    };
    if key_type != "-" {
        check("key_type", key_type, c.key_type.clone());
        check(
            "key_length",
            get("certificate.key_length").into(),
            c.key_bits.to_string(),
        );
    }
    let mut zeek_san = set(get("san.dns"));
    for k in ["san.uri", "san.email", "san.ip"] {
        zeek_san.extend(set(get(k)));
    }
    let ours: BTreeSet<String> = c.san.iter().cloned().collect();
    if zeek_san != ours {
        out.push(format!("san: zeek {zeek_san:?} ours {ours:?}"));
    }
    out
}

#[test]
fn certificates_match_zeek() {
    let Some(corpus) = common::corpus("certificate oracle") else {
        return;
    };
    // x509*.log: a test that runs several traces copies each run's log
    // (the DTLS test's `x5091_2.log` is dtls1_2.pcap's).
    let logs = common::files_under(&corpus.join("zeek/expected"), |p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("x509") && n.ends_with(".log"))
    });
    assert!(!logs.is_empty(), "no Zeek x509.log found under the corpus");
    let (mut compared, mut matched, mut skipped) = (0, 0, 0);
    let mut mismatches = Vec::new();
    for log in &logs {
        let rel = log.strip_prefix(corpus.join("zeek/expected")).unwrap();
        let trace_dir = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let rows = common::zeek_rows(&std::fs::read_to_string(log).unwrap());
        let from_other_trace = OTHER_TRACE
            .iter()
            .find(|(t, f, _)| *t == trace_dir && rel.ends_with(f));
        if let Some((_, _, why)) = from_other_trace {
            eprintln!("skipped {}: {why}", rel.display());
            continue;
        }
        if let Some((_, why)) = NOT_PARSED.iter().find(|(t, _)| *t == trace_dir) {
            eprintln!(
                "skipped {} ({} certificates): {why}",
                rel.display(),
                rows.len()
            );
            skipped += rows.len();
            continue;
        }
        // `<dir>__<file>` names `zeek/traces/<dir>/<file>`.
        let trace = corpus
            .join("zeek/traces")
            .join(trace_dir.replacen("__", "/", 1));
        let flows = wa1kpcap::Analyzer::new()
            .analyze_file(&trace)
            .unwrap_or_else(|e| panic!("{}: {e}", trace.display()));
        let ours: HashMap<&str, &Certificate> = flows
            .iter()
            .filter_map(|f| f.app.as_ref()?.tls.as_deref())
            .flat_map(|t| t.certificates.iter())
            .map(|c| (c.sha256.as_str(), c))
            .collect();
        for z in &rows {
            compared += 1;
            let fp = z.get("fingerprint").map(String::as_str).unwrap_or("");
            match ours.get(fp) {
                None => mismatches.push(format!("{}: {fp} not found", rel.display())),
                Some(c) => {
                    let d = diff(z, c);
                    if d.is_empty() {
                        matched += 1;
                    } else {
                        mismatches.push(format!("{}: {fp}: {}", rel.display(), d.join("; ")));
                    }
                }
            }
        }
    }
    eprintln!("certificates vs Zeek: {matched}/{compared} equal, {skipped} not parsed (listed)");
    assert!(compared > 0);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// Certificates nDPI reports that we do not parse, each verified in
/// TShark: (capture, SHA-1 prefix or "" for all, why).
const NDPI_NOT_PARSED: &[(&str, &str, &str)] = &[
    (
        "heuristic_tcp_ack_payload.pcap",
        "",
        "pure ACKs carry junk at the hello's sequence numbers (first arrival wins; TShark finds no Certificate either)",
    ),
];

/// Logs under a trace's folder that another trace of the same Zeek test
/// wrote (the test's script says which), not in the corpus.
const OTHER_TRACE: &[(&str, &str, &str)] = &[(
    "tls__dtls1_2.pcap",
    "x509.log",
    "written by the test's first run, on dtls1_0.pcap, which the corpus does not hold",
)];

/// Name attributes nDPI prints; it leaves out the others (emailAddress,
/// DC, street, serialNumber…).
const NDPI_ATTRIBUTES: &[&str] = &["C", "ST", "L", "O", "OU", "CN"];

/// nDPI's text for a name: its attributes in DER order joined by ", ",
/// unescaped.
fn ndpi_form(rfc4514: &str) -> String {
    let mut rdns = vec![String::new()];
    let mut chars = rfc4514.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' => rdns.last_mut().unwrap().extend(chars.next()),
            ',' => rdns.push(String::new()),
            c => rdns.last_mut().unwrap().push(c),
        }
    }
    rdns.reverse();
    rdns.retain(|r| NDPI_ATTRIBUTES.contains(&r.split('=').next().unwrap_or("")));
    rdns.join(", ")
}

fn utc(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

#[test]
fn leaf_certificates_match_ndpi() {
    let Some(corpus) = common::corpus("nDPI certificate oracle") else {
        return;
    };
    let (mut compared, mut matched, mut not_parsed, mut appended) = (0, 0, 0, 0);
    let mut mismatches = Vec::new();
    let results = common::ndpi_lines(&corpus, |l| l.contains("[Certificate SHA-1: "));
    assert!(
        !results.is_empty(),
        "no nDPI certificate lines in the corpus"
    );
    for (name, lines) in &results {
        let capture = corpus.join("ndpi/pcap").join(name);
        let Ok(flows) = wa1kpcap::Analyzer::new().analyze_file(&capture) else {
            continue;
        };
        let ours: HashMap<String, &Certificate> = flows
            .iter()
            .filter_map(|f| f.app.as_ref()?.tls.as_deref())
            .flat_map(|t| t.certificates.iter())
            .map(|c| (c.sha1.to_uppercase(), c))
            .collect();
        for line in lines {
            let line = line.as_str();
            let sha1 = common::ndpi_field(line, "Certificate SHA-1")
                .unwrap()
                .replace(':', "");
            let excluded = NDPI_NOT_PARSED
                .iter()
                .find(|(cap, prefix, _)| *cap == name && sha1.starts_with(prefix));
            if let Some((_, _, why)) = excluded {
                eprintln!("skipped {name} {sha1}: {why}");
                not_parsed += 1;
                continue;
            }
            compared += 1;
            let Some(c) = ours.get(&sha1) else {
                mismatches.push(format!("{name}: certificate {sha1} not found"));
                continue;
            };
            let mut d = Vec::new();
            if let Some(v) = common::ndpi_field(line, "Subject") {
                // nDPI sometimes leaves a second name (the issuer, or the
                // subject again) appended to the subject.
                let subject = ndpi_form(&c.subject);
                let doubled = [&subject, &ndpi_form(&c.issuer)].map(|n| format!("{subject}, {n}"));
                if doubled.contains(&v.to_string()) {
                    appended += 1;
                } else if v != ndpi_form(&c.subject) {
                    d.push(format!("subject {v:?} vs {:?}", ndpi_form(&c.subject)));
                }
            }
            if let Some(v) = common::ndpi_field(line, "Issuer") {
                if v != ndpi_form(&c.issuer) {
                    d.push(format!("issuer {v:?} vs {:?}", ndpi_form(&c.issuer)));
                }
            }
            if let Some(v) = common::ndpi_field(line, "Validity") {
                let ours = format!("{} - {}", utc(c.not_before), utc(c.not_after));
                if v != ours {
                    d.push(format!("validity {v:?} vs {ours:?}"));
                }
            }
            if d.is_empty() {
                matched += 1;
            } else {
                mismatches.push(format!("{name}: {sha1}: {}", d.join("; ")));
            }
        }
    }
    eprintln!(
        "leaf certificates vs nDPI: {matched}/{compared} equal ({appended} of them with nDPI's \
         subject followed by a second name), {not_parsed} not parsed (listed)"
    );
    assert!(compared > 0);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
