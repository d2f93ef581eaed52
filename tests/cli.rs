//! The `wa1kpcap` binary: `inspect` exit codes, the one-line report for a
//! bad file, JSON output, and `demo` on the built-in sample.

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wa1kpcap"))
}

#[test]
fn inspect_reports_good_and_bad_files_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.pcap");
    std::fs::write(&good, wa1kpcap::sample::sample_pcap().unwrap()).unwrap();
    let bad = dir.path().join("bad.pcap");
    std::fs::write(&bad, b"this is not a capture").unwrap();

    let out = bin()
        .args(["inspect", good.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("40 packets"), "{text}");
    assert!(text.contains("2024-05-01T12:00:00.000000Z"), "{text}");

    let out = bin()
        .args(["inspect", good.to_str().unwrap(), bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let bad_lines: Vec<&str> = text.lines().filter(|l| l.contains("bad.pcap")).collect();
    assert_eq!(bad_lines.len(), 1, "{text}");
    assert!(bad_lines[0].contains("not a capture"), "{text}");
    assert!(
        text.contains("40 packets"),
        "the good file is still inspected: {text}"
    );

    let out = bin()
        .args(["inspect", "--json", good.to_str().unwrap()])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["packets"], 40);
    assert_eq!(v["format"], "pcap");
    assert_eq!(v["reassembled"], 1);
    assert_eq!(v["layers"]["vlan"], 2);

    let out = bin().args(["inspect"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = bin()
        .args(["inspect", "--no-such-flag", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn demo_runs_the_main_job_on_the_built_in_sample() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["demo", "--dir", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(dir.path().join("sample.pcap").exists());
    // the TLS session: 20 packets, closed by FIN both ways
    let tls = text
        .lines()
        .find(|l| l.contains(":50000 -> 93.184.216.34:443"))
        .expect(&text);
    assert!(tls.contains(" 20 ") && tls.ends_with("fin"), "{tls}");
}
