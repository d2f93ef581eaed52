//! The `wa1kpcap` binary: `inspect` exit codes, the one-line report for a
//! bad file, JSON output, and `demo` on the built-in sample.

use std::process::Command;

mod common;

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
    assert!(tls.contains(" 20 ") && tls.contains(" fin "), "{tls}");
    // what each flow was, and its name
    assert!(tls.ends_with("tls    example.com"), "{tls}");
    let ssh = text.lines().find(|l| l.contains(":50002 ")).expect(&text);
    assert!(
        ssh.ends_with("ssh    SSH-2.0-OpenSSH_8.9p1 Ubuntu-3"),
        "{ssh}"
    );
    let smtp = text.lines().find(|l| l.contains(":50003 ")).expect(&text);
    assert!(
        smtp.ends_with("smtp   220 mail.example.com ESMTP Postfix"),
        "{smtp}"
    );
    let sip = text.lines().find(|l| l.contains(":5060 ")).expect(&text);
    assert!(sip.ends_with("sip    sip:alice@example.com"), "{sip}");
}

/// (flow_id, packet_count, pkt_mean bits) of every flow of a dataset, sorted;
/// panics if a visible Parquet file is not a whole one.
fn dataset_rows(flows: &std::path::Path) -> Vec<(i64, i64, u64)> {
    use arrow::array::AsArray;
    use arrow::datatypes::{Float64Type, Int64Type};
    let mut out = Vec::new();
    let mut stack = vec![flows.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "parquet") {
                continue;
            }
            let file = std::fs::File::open(&p).unwrap();
            let reader =
                parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                    .unwrap_or_else(|e| panic!("{} is not a whole Parquet file: {e}", p.display()))
                    .build()
                    .unwrap();
            for b in reader {
                let b = b.unwrap();
                let id = b
                    .column_by_name("flow_id")
                    .unwrap()
                    .as_primitive::<Int64Type>();
                let n = b
                    .column_by_name("packet_count")
                    .unwrap()
                    .as_primitive::<Int64Type>();
                let mean = b
                    .column_by_name("pkt_mean")
                    .unwrap()
                    .as_primitive::<Float64Type>();
                for i in 0..b.num_rows() {
                    out.push((id.value(i), n.value(i), mean.value(i).to_bits()));
                }
            }
        }
    }
    out.sort_unstable();
    out
}

#[test]
fn convert_killed_midway_resumes_to_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir_all(&inputs).unwrap();
    let traffic = wa1kpcap::sample::traffic_pcap(1200).unwrap();
    for k in 0..4 {
        std::fs::write(inputs.join(format!("t{k}.pcap")), &traffic).unwrap();
    }
    let run = |out: &std::path::Path| {
        bin()
            .args(["convert", "-q", "--threads", "2", "--packets", "-o"])
            .arg(out)
            .arg(&inputs)
            .spawn()
            .unwrap()
    };
    let clean = dir.path().join("clean");
    assert!(run(&clean).wait().unwrap().success());
    let expected = dataset_rows(&clean.join("flows"));
    assert_eq!(expected.len() % 4, 0);

    // Kill at several moments: whatever is visible is whole, and a re-run
    // completes the dataset to exactly the clean rows.
    for delay_ms in [50u64, 250, 600] {
        let out = dir.path().join(format!("killed-{delay_ms}"));
        let mut child = run(&out);
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        if out.join("flows").exists() {
            let partial = dataset_rows(&out.join("flows"));
            assert!(partial.len() <= expected.len());
        }
        let status = run(&out).wait().unwrap();
        assert!(status.success());
        assert_eq!(
            dataset_rows(&out.join("flows")),
            expected,
            "after kill at {delay_ms} ms"
        );
    }
}

#[test]
fn convert_reports_a_bad_file_and_converts_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir_all(inputs.join("sub")).unwrap();
    std::fs::write(
        inputs.join("sub/good.pcap"),
        wa1kpcap::sample::sample_pcap().unwrap(),
    )
    .unwrap();
    std::fs::write(inputs.join("bad.pcap"), b"this is not a capture").unwrap();
    let out = dir.path().join("ds");
    let res = bin()
        .args(["convert", "--json", "-o"])
        .arg(&out)
        .arg(&inputs)
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(1));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        err.lines()
            .any(|l| l.contains("bad.pcap") && l.contains("not a capture")),
        "{err}"
    );
    let summary: serde_json::Value = serde_json::from_slice(&res.stdout).unwrap();
    assert_eq!(summary["inputs"], 2);
    assert_eq!(summary["inputs_with_errors"], 1);
    let library = wa1kpcap::Analyzer::new()
        .analyze_file(inputs.join("sub/good.pcap"))
        .unwrap();
    assert_eq!(summary["flows"], library.len());
    assert_eq!(dataset_rows(&out.join("flows")).len(), library.len());

    // a bad filter expression is a usage error
    let res = bin()
        .args(["convert", "--filter", "tcp port", "-o"])
        .arg(dir.path().join("x"))
        .arg(&inputs)
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(2));
}

#[test]
fn convert_the_whole_corpus_with_one_command() {
    let Ok(corpus) = std::env::var("WA1KPCAP_CORPUS") else {
        eprintln!("WA1KPCAP_CORPUS unset: corpus conversion not checked");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ds");
    let res = bin()
        .args([
            "convert",
            "--json",
            "--partition-by",
            "date",
            "--packets",
            "-o",
        ])
        .arg(&out)
        .arg(&corpus)
        .output()
        .unwrap();
    let summary: serde_json::Value = serde_json::from_slice(&res.stdout).unwrap();
    // Oracle: the corpus MANIFEST (capinfos). Broken captures are named with
    // their reason, the rest convert, exit status 1; packets read equal
    // capinfos' counts (for a broken file, what capinfos read before the
    // damage).
    let manifest = std::fs::read_to_string(format!("{corpus}/MANIFEST.tsv")).unwrap();
    let mut lines = manifest.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let (cp, ck, cn) = (col("path"), col("packets"), col("notes"));
    let dataset: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let reports: std::collections::HashMap<String, &serde_json::Value> = dataset["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["capture"].as_str().unwrap().to_string(), r))
        .collect();
    let (mut checked, mut broken_named) = (0, 0);
    for l in lines.filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = l.split('\t').collect();
        let count: Option<u64> = f[ck].trim().parse().ok();
        let notes = f[cn];
        let Some(r) = reports.get(f[cp]) else {
            // Skipped in the directory walk: only what is not a capture.
            assert!(notes.contains("not a capture"), "{} not converted", f[cp]);
            continue;
        };
        checked += 1;
        if notes.contains("capinfos error") || notes.contains("BROKEN") || count.is_none() {
            let partial = notes.find("after reading ").map_or(0, |i| {
                notes[i + 14..]
                    .split_whitespace()
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            });
            assert!(r["error"].is_string(), "{}: broken, named", f[cp]);
            assert_eq!(r["packets"].as_u64().unwrap(), partial, "{}", f[cp]);
            broken_named += 1;
        } else {
            assert!(r["error"].is_null(), "{}: {}", f[cp], r["error"]);
            assert_eq!(r["packets"].as_u64(), count, "{}", f[cp]);
        }
    }
    assert_eq!(res.status.code(), Some(1));
    let errors = summary["errors"].as_array().unwrap();
    assert_eq!(
        errors.len(),
        broken_named,
        "errors are exactly the broken captures"
    );
    for e in errors {
        assert!(e["path"].as_str().unwrap().starts_with(&corpus));
    }
    eprintln!("corpus convert: {checked} captures of MANIFEST.tsv match capinfos' packet counts, {broken_named} broken ones named");
    let rows = dataset_rows(&out.join("flows"));
    assert_eq!(rows.len() as u64, summary["flows"].as_u64().unwrap());
    let ids: std::collections::HashSet<i64> = rows.iter().map(|r| r.0).collect();
    assert_eq!(ids.len(), rows.len(), "flow ids unique in the dataset");
    eprintln!(
        "corpus convert: {} inputs, {} with errors, {} packets, {} flows",
        summary["inputs"], summary["inputs_with_errors"], summary["packets"], summary["flows"]
    );
}

#[test]
fn convert_has_a_memory_budget_by_default_and_0_lifts_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("s.pcap");
    std::fs::write(&input, wa1kpcap::sample::sample_pcap().unwrap()).unwrap();
    // (argument, MiB recorded in the manifest; None: no bound)
    for (arg, expect) in [
        (None, Some(512u64)),
        (Some("0"), None),
        (Some("300"), Some(300)),
    ] {
        let out = dir.path().join(format!("ds-{}", arg.unwrap_or("default")));
        let mut cmd = bin();
        cmd.args(["convert", "-q", "-o", out.to_str().unwrap()]);
        if let Some(a) = arg {
            cmd.args(["--max-memory", a]);
        }
        let res = cmd.arg(&input).output().unwrap();
        assert_eq!(res.status.code(), Some(0), "{res:?}");
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(
            m["settings"]["max_memory_bytes"].as_u64(),
            expect.map(|mib| mib << 20),
            "{arg:?}"
        );
        assert_eq!(m["totals"]["flows_evicted"].as_u64(), Some(0));
    }
}

/// `wa1kpcap convert -q -o out input`, run to its end.
fn convert_quietly(out: &std::path::Path, input: &std::path::Path) -> std::process::Output {
    bin()
        .args(["convert", "-q", "-o"])
        .arg(out)
        .arg(input)
        .output()
        .unwrap()
}

#[test]
fn a_second_convert_on_one_dataset_is_refused_while_the_first_runs() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("s.pcap");
    std::fs::write(&input, wa1kpcap::sample::sample_pcap().unwrap()).unwrap();
    let out = dir.path().join("ds");
    // What a running conversion holds (the lock, from this process).
    let held = wa1kpcap::convert::lock_dataset(&out).unwrap();
    let res = convert_quietly(&out, &input);
    assert_eq!(res.status.code(), Some(1));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("being written by another conversion"), "{err}");
    assert!(
        !out.join("manifest.json").exists(),
        "the refused run wrote nothing"
    );
    assert!(!out.join("flows").exists(), "the refused run wrote nothing");
    drop(held);
    let res = convert_quietly(&out, &input);
    assert_eq!(
        res.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    assert!(out.join("manifest.json").exists());
}

/// Every visible file under `dir` (relative path, bytes), hidden ones and
/// the run-dependent manifest aside.
fn visible_files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let rel = |p: &std::path::Path| p.strip_prefix(dir).unwrap().to_path_buf();
    common::files_under(dir, |p| {
        let r = rel(p);
        r != std::path::Path::new("manifest.json")
            && !r.iter().any(|c| c.to_string_lossy().starts_with('.'))
    })
    .into_iter()
    .map(|p| (rel(&p).display().to_string(), std::fs::read(&p).unwrap()))
    .collect()
}

#[test]
fn a_full_disk_leaves_nothing_partial_and_a_rerun_completes_the_dataset() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("t.pcap");
    std::fs::write(&input, wa1kpcap::sample::traffic_pcap(300).unwrap()).unwrap();
    let convert = |out: &std::path::Path| {
        let mut c = bin();
        // one dispatch key for both datasets: file for file alike
        c.args(["convert", "-q", "--threads", "2", "--packets", "-o"])
            .arg(out)
            .arg(&input)
            .env(wa1kpcap::keyed::HASH_SEED_ENV, "5eed");
        c
    };
    let clean = dir.path().join("clean");
    assert!(convert(&clean).status().unwrap().success());
    let expected = visible_files(&clean);
    assert!(expected
        .iter()
        .any(|(n, b)| n.starts_with("flows") && b.len() > 64 << 10));

    // The disk "fills up" at 64 KiB per file: RLIMIT_FSIZE makes writes
    // past it fail with EFBIG, as ENOSPC would (no root, no tmpfs needed).
    let full = dir.path().join("full");
    let mut c = convert(&full);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        c.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let lim = libc::rlimit {
                rlim_cur: 64 << 10,
                rlim_max: 64 << 10,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let res = c.output().unwrap();
    assert_eq!(res.status.code(), Some(1));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("t.pcap") && err.contains("too large"), "{err}");
    assert!(
        visible_files(&full).is_empty(),
        "no partial file is visible after a failed write"
    );
    // The same command with room again gives the clean run's files.
    assert!(convert(&full).status().unwrap().success());
    assert_eq!(visible_files(&full), expected);
}

#[test]
fn an_output_directory_that_cannot_be_made_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("s.pcap");
    std::fs::write(&input, wa1kpcap::sample::sample_pcap().unwrap()).unwrap();
    // Under a regular file: no directory can be made there, even by root.
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, b"x").unwrap();
    let out = blocker.join("ds");
    let res = convert_quietly(&out, &input);
    assert_eq!(res.status.code(), Some(1));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains(&*out.to_string_lossy()), "{err}");
}
