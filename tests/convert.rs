//! `convert` end to end: generated captures (and a broken file) to a dataset,
//! read back with the parquet crate and checked against the library's flows;
//! the packet-parallel pipeline gives the rows one worker gives; packets
//! table, partitions, text formats, stitching, filter and memory bound; the
//! schema documents agree with the code; files appear atomically; resume.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Float64Type, Int32Type, Int64Type, TimestampMicrosecondType};
use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use wa1kpcap::convert::{
    convert, discover, finish_dataset, plan_dataset, run_unit, ConvertError, ConvertOptions,
    Format, Input, PartitionBy,
};
use wa1kpcap::sink::{flow_columns, flows_schema, packet_columns, TableFile};
use wa1kpcap::Analyzer;

/// Two threads, and one dispatch key for every dataset: datasets (and
/// in-memory tables) of the same inputs compare file for file.
fn opts() -> ConvertOptions {
    ConvertOptions {
        threads: 2,
        hash_seed: Some(wa1kpcap::keyed::DispatchKey::from_u128(0x5eed)),
        ..ConvertOptions::default()
    }
}

/// Every file of `ext` under `dir`, sorted.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    fn walk(d: &Path, ext: &str, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, ext, out);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, ext, &mut out);
    out.sort();
    out
}

fn read_parquet(dir: &Path) -> Vec<RecordBatch> {
    files(dir, "parquet")
        .iter()
        .flat_map(|p| {
            ParquetRecordBatchReaderBuilder::try_new(File::open(p).unwrap())
                .unwrap()
                .build()
                .unwrap()
                .map(|b| b.unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Flow rows as comparable text keyed by (5-tuple, start), without the id
/// (which names the worker).
fn flow_rows(batches: &[RecordBatch]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for b in batches {
        let fmt: Vec<_> = b
            .columns()
            .iter()
            .map(|c| {
                arrow::util::display::ArrayFormatter::try_new(c.as_ref(), &Default::default())
                    .unwrap()
            })
            .collect();
        let names: Vec<String> = b
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        for i in 0..b.num_rows() {
            let mut key = String::new();
            let mut row = String::new();
            for (n, f) in names.iter().zip(&fmt) {
                let v = f.value(i).to_string();
                if matches!(
                    n.as_str(),
                    "capture"
                        | "src_ip"
                        | "dst_ip"
                        | "src_port"
                        | "dst_port"
                        | "protocol"
                        | "start_time"
                ) {
                    key.push_str(&v);
                    key.push('|');
                }
                if n != "flow_id" {
                    row.push_str(&v);
                    row.push('|');
                }
            }
            assert!(out.insert(key, row).is_none(), "one row per flow key");
        }
    }
    out
}

/// The `flow_id` column of every batch, in order.
fn flow_ids(batches: &[RecordBatch]) -> Vec<i64> {
    batches
        .iter()
        .flat_map(|b| {
            b.column_by_name("flow_id")
                .unwrap()
                .as_primitive::<Int64Type>()
                .values()
                .to_vec()
        })
        .collect()
}

fn write_input(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn converted_rows_equal_the_library_flows() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    let sample = write_input(
        &inputs,
        "sub/sample.pcap",
        &wa1kpcap::sample::sample_pcap().unwrap(),
    );
    write_input(&inputs, "broken.pcap", b"not a capture at all");
    let out = dir.path().join("ds");

    let (found, missing) = discover(std::slice::from_ref(&inputs));
    assert!(missing.is_empty());
    assert_eq!(
        found.iter().map(|i| i.rel.as_str()).collect::<Vec<_>>(),
        vec!["broken.pcap", "sub/sample.pcap"]
    );
    let analyzer = Analyzer::new();
    let m = convert(&analyzer, &found, &out, &opts()).unwrap();
    assert_eq!(m.inputs_with_errors, 1);
    let broken = m
        .inputs
        .iter()
        .find(|r| r.capture == "broken.pcap")
        .unwrap();
    assert!(broken.error.as_deref().unwrap().contains("not a capture"));
    assert!(broken.outputs.is_empty());

    let expected = analyzer.analyze_file(&sample).unwrap();
    let rep = m
        .inputs
        .iter()
        .find(|r| r.capture == "sub/sample.pcap")
        .unwrap();
    assert_eq!(rep.flows, expected.len() as u64);
    assert_eq!(rep.packets, 40);
    assert_eq!(rep.outputs.len(), 1);

    let path = out.join(&rep.outputs[0]);
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
    let meta = reader
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .cloned()
        .unwrap_or_default();
    assert!(meta.iter().any(|kv| kv.key == "wa1kpcap.version"));
    assert!(meta.iter().any(|kv| kv.key == "wa1kpcap.settings"
        && kv
            .value
            .as_deref()
            .unwrap_or("")
            .contains("tcp_cleanup_timeout")));
    let batches: Vec<_> = reader.build().unwrap().map(|b| b.unwrap()).collect();
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, expected.len());
    let by_ports: HashMap<(i32, i32, i64), &wa1kpcap::Flow> = expected
        .iter()
        .map(|f| {
            (
                (
                    i32::from(f.key.src_port),
                    i32::from(f.key.dst_port),
                    f.start_ns / 1000,
                ),
                f,
            )
        })
        .collect();
    let mut ids = Vec::new();
    for b in &batches {
        let c = |n: &str| b.column_by_name(n).unwrap_or_else(|| panic!("column {n}"));
        let sport = c("src_port").as_primitive::<Int32Type>();
        let dport = c("dst_port").as_primitive::<Int32Type>();
        let start = c("start_time").as_primitive::<TimestampMicrosecondType>();
        let pkts = c("packet_count").as_primitive::<Int64Type>();
        let mean = c("pkt_mean").as_primitive::<Float64Type>();
        let skew = c("pkt_skew").as_primitive::<Float64Type>();
        let count = c("iat_up_count").as_primitive::<Int64Type>();
        let lens = c("packet_lengths").as_list::<i32>();
        let iats = c("iats").as_list::<i32>();
        let capture = c("capture").as_string::<i32>();
        let id = c("flow_id").as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            let f = by_ports[&(sport.value(i), dport.value(i), start.value(i))];
            assert_eq!(pkts.value(i) as u64, f.packet_count());
            assert_eq!(mean.value(i), f.stats.pkt.all.mean);
            assert_eq!(skew.value(i), f.stats.pkt.all.skew);
            assert_eq!(count.value(i) as u64, f.stats.iat.up.count);
            let l = lens.value(i);
            assert_eq!(
                l.as_primitive::<Int64Type>().values().to_vec(),
                f.seq.packet_lengths
            );
            assert_eq!(
                iats.value(i)
                    .as_primitive::<Float64Type>()
                    .values()
                    .to_vec(),
                f.seq.iats
            );
            assert_eq!(capture.value(i), "sub/sample.pcap");
            ids.push(id.value(i));
        }
    }
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "flow ids are unique");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["flows"], expected.len());
}

#[test]
fn the_parallel_pipeline_gives_the_rows_of_one_worker() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_input(
        dir.path(),
        "traffic.pcap",
        &wa1kpcap::sample::traffic_pcap(300).unwrap(),
    );
    let found = discover(std::slice::from_ref(&input)).0;
    let analyzer = Analyzer::new();
    let mut rows = Vec::new();
    for threads in [1, 2, 3] {
        let out = dir.path().join(format!("ds{threads}"));
        let o = ConvertOptions {
            threads,
            parallel_min_bytes: 0,
            ..ConvertOptions::default()
        };
        let m = convert(&analyzer, &found, &out, &o).unwrap();
        assert_eq!(m.inputs_with_errors, 0);
        assert_eq!(
            files(&out.join("flows"), "parquet").len(),
            threads,
            "one file per worker"
        );
        let batches = read_parquet(&out.join("flows"));
        let ids: std::collections::HashSet<i64> = flow_ids(&batches).into_iter().collect();
        assert_eq!(ids.len() as u64, m.flows, "ids unique across workers");
        rows.push(flow_rows(&batches));
    }
    let library = analyzer.analyze_file(&input).unwrap();
    assert_eq!(rows[0].len(), library.len());
    assert_eq!(rows[0], rows[1]);
    assert_eq!(rows[0], rows[2]);
}

#[test]
fn packets_table_matches_the_flows() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_input(
        dir.path(),
        "traffic.pcap",
        &wa1kpcap::sample::traffic_pcap(20).unwrap(),
    );
    let found = discover(std::slice::from_ref(&input)).0;
    let out = dir.path().join("ds");
    let o = ConvertOptions {
        packets: true,
        raw_bytes: true,
        parallel_min_bytes: 0,
        ..opts()
    };
    let m = convert(&Analyzer::new(), &found, &out, &o).unwrap();
    let flows = read_parquet(&out.join("flows"));
    let packets = read_parquet(&out.join("packets"));
    // flow_id -> |packet_lengths| in order
    let mut by_flow: HashMap<i64, Vec<i64>> = HashMap::new();
    for b in &flows {
        let id = b
            .column_by_name("flow_id")
            .unwrap()
            .as_primitive::<Int64Type>();
        let lens = b.column_by_name("packet_lengths").unwrap().as_list::<i32>();
        for i in 0..b.num_rows() {
            let l = lens.value(i);
            by_flow.insert(id.value(i), l.as_primitive::<Int64Type>().values().to_vec());
        }
    }
    let mut seen: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
    let frames = wa1kpcap::sample::traffic_frames(20).unwrap();
    let mut rows = 0;
    for b in &packets {
        let c = |n: &str| b.column_by_name(n).unwrap_or_else(|| panic!("column {n}"));
        let id = c("flow_id").as_primitive::<Int64Type>();
        let frame = c("frame_number").as_primitive::<Int64Type>();
        let dir = c("direction").as_primitive::<Int32Type>();
        let wire = c("wirelen").as_primitive::<Int64Type>();
        let raw = c("raw_bytes").as_binary::<i32>();
        let ts = c("timestamp").as_primitive::<TimestampMicrosecondType>();
        for i in 0..b.num_rows() {
            let (t, bytes) = &frames[frame.value(i) as usize - 1];
            assert_eq!(raw.value(i), bytes.as_slice(), "raw bytes of the frame");
            assert_eq!(ts.value(i), t / 1000);
            seen.entry(id.value(i))
                .or_default()
                .push((frame.value(i), i64::from(dir.value(i)) * wire.value(i)));
            rows += 1;
        }
    }
    assert_eq!(rows, m.totals.packet_rows);
    assert_eq!(seen.len(), by_flow.len(), "every flow has its packets");
    for (id, mut pk) in seen {
        pk.sort_unstable();
        let signed: Vec<i64> = pk.into_iter().map(|(_, l)| l).collect();
        assert_eq!(by_flow[&id], signed, "flow {id}");
    }
}

#[test]
fn partitions_are_hive_directories() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    write_input(
        &inputs,
        "a b/x.pcap",
        &wa1kpcap::sample::sample_pcap().unwrap(),
    );
    let found = discover(std::slice::from_ref(&inputs)).0;
    let library = Analyzer::new().analyze_file(&found[0].path).unwrap();
    // Expected directories from the flows' start times, by chrono.
    let day = |ns: i64| {
        chrono::DateTime::from_timestamp(ns.div_euclid(1_000_000_000), 0)
            .unwrap()
            .format("%Y-%m-%d/%H")
            .to_string()
    };
    let mut expect_date: BTreeMap<String, usize> = BTreeMap::new();
    let mut expect_hour: BTreeMap<String, usize> = BTreeMap::new();
    for f in &library {
        let dh = day(f.start_ns);
        let (d, h) = dh.split_once('/').unwrap();
        *expect_date.entry(format!("date={d}")).or_default() += 1;
        *expect_hour.entry(format!("date={d}/hour={h}")).or_default() += 1;
    }
    let mut expect_capture = BTreeMap::new();
    expect_capture.insert("capture=a%20b%2Fx.pcap".to_string(), library.len());
    for (by, expect) in [
        (PartitionBy::Date, expect_date),
        (PartitionBy::Hour, expect_hour),
        (PartitionBy::Capture, expect_capture),
    ] {
        let out = dir.path().join(format!("ds-{by:?}"));
        let o = ConvertOptions {
            partition_by: by,
            ..opts()
        };
        convert(&Analyzer::new(), &found, &out, &o).unwrap();
        let flows = out.join("flows");
        let mut got = BTreeMap::new();
        for f in files(&flows, "parquet") {
            let part = f
                .parent()
                .unwrap()
                .strip_prefix(&flows)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let batches = read_parquet(f.parent().unwrap());
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            let has_capture = batches[0].schema().index_of("capture").is_ok();
            assert_eq!(
                has_capture,
                by != PartitionBy::Capture,
                "the partition column is not repeated in the files"
            );
            got.insert(part, rows);
        }
        assert_eq!(got, expect, "{by:?}");
    }
}

#[test]
fn csv_and_jsonl_hold_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_input(
        dir.path(),
        "s.pcap",
        &wa1kpcap::sample::sample_pcap().unwrap(),
    );
    let found = discover(std::slice::from_ref(&input)).0;
    let library = Analyzer::new().analyze_file(&input).unwrap();
    let names: Vec<String> = flow_columns().iter().map(|c| c.name.clone()).collect();

    let out = dir.path().join("csv");
    let o = ConvertOptions {
        format: Format::Csv,
        ..opts()
    };
    convert(&Analyzer::new(), &found, &out, &o).unwrap();
    let csv = files(&out.join("flows"), "csv");
    assert_eq!(csv.len(), 1);
    let text = std::fs::read_to_string(&csv[0]).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), names.join(","));
    assert_eq!(lines.count(), library.len());

    let out = dir.path().join("jsonl");
    let o = ConvertOptions {
        format: Format::Jsonl,
        ..opts()
    };
    convert(&Analyzer::new(), &found, &out, &o).unwrap();
    let jsonl = files(&out.join("flows"), "jsonl");
    let text = std::fs::read_to_string(&jsonl[0]).unwrap();
    let objs: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objs.len(), library.len());
    for o in &objs {
        let f = library
            .iter()
            .find(|f| {
                i64::from(f.key.src_port) == o["src_port"].as_i64().unwrap()
                    && i64::from(f.key.dst_port) == o["dst_port"].as_i64().unwrap()
            })
            .unwrap();
        let lens: Vec<i64> = o["packet_lengths"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        assert_eq!(lens, f.seq.packet_lengths, "lists are JSON arrays");
    }
}

#[test]
fn stitched_files_continue_their_flows() {
    let dir = tempfile::tempdir().unwrap();
    let frames = wa1kpcap::sample::sample_frames().unwrap();
    let whole = write_input(
        dir.path(),
        "whole.pcap",
        &wa1kpcap::sample::sample_pcap().unwrap(),
    );
    // rotated: three consecutive files
    let parts = dir.path().join("parts");
    for (k, chunk) in frames.chunks(15).enumerate() {
        let mut w = wa1kpcap::capture::writer::PcapWriter::new(
            Vec::new(),
            wa1kpcap::capture::LinkType::ETHERNET,
            65535,
        )
        .unwrap();
        for (t, f) in chunk {
            w.write(*t, f, f.len() as u32).unwrap();
        }
        write_input(&parts, &format!("rot-{k}.pcap"), &w.into_inner());
    }
    let library = Analyzer::new().analyze_file(&whole).unwrap();
    let found = discover(std::slice::from_ref(&parts)).0;
    assert_eq!(found.len(), 3);
    let rows = |stitch: bool, threads: usize| {
        let out = dir.path().join(format!("ds-{stitch}-{threads}"));
        let o = ConvertOptions {
            stitch,
            threads,
            ..ConvertOptions::default()
        };
        let m = convert(&Analyzer::new(), &found, &out, &o).unwrap();
        (m, read_parquet(&out.join("flows")))
    };
    let (m, stitched) = rows(true, 2);
    assert_eq!(m.flows, library.len() as u64);
    assert_eq!(
        m.inputs.iter().map(|r| r.packets).sum::<u64>(),
        frames.len() as u64
    );
    let counts: BTreeMap<(i32, i32), i64> = stitched
        .iter()
        .flat_map(|b| {
            let s = b
                .column_by_name("src_port")
                .unwrap()
                .as_primitive::<Int32Type>();
            let d = b
                .column_by_name("dst_port")
                .unwrap()
                .as_primitive::<Int32Type>();
            let n = b
                .column_by_name("packet_count")
                .unwrap()
                .as_primitive::<Int64Type>();
            (0..b.num_rows())
                .map(|i| ((s.value(i), d.value(i)), n.value(i)))
                .collect::<Vec<_>>()
        })
        .collect();
    let expect: BTreeMap<(i32, i32), i64> = library
        .iter()
        .map(|f| {
            (
                (i32::from(f.key.src_port), i32::from(f.key.dst_port)),
                f.packet_count() as i64,
            )
        })
        .collect();
    assert_eq!(counts, expect);
    // each flow names the file it started in
    let first_file: Vec<String> = stitched
        .iter()
        .flat_map(|b| {
            let c = b.column_by_name("capture").unwrap().as_string::<i32>();
            (0..b.num_rows())
                .map(|i| c.value(i).to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(first_file.iter().all(|c| c.starts_with("rot-")));
    assert!(first_file.iter().any(|c| c == "rot-0.pcap"));
    // one worker stitches the same
    let (m1, _) = rows(true, 1);
    assert_eq!(m1.flows, m.flows);
    // without stitching, flows are cut at file ends: more of them
    let (separate, _) = rows(false, 2);
    assert!(separate.flows > m.flows);
}

#[test]
fn filter_and_memory_bound() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_input(
        dir.path(),
        "t.pcap",
        &wa1kpcap::sample::traffic_pcap(50).unwrap(),
    );
    let found = discover(std::slice::from_ref(&input)).0;
    let library = Analyzer::new().analyze_file(&input).unwrap();

    let out = dir.path().join("udp");
    let o = ConvertOptions {
        filter: Some(std::sync::Arc::new(
            wa1kpcap::filter::PacketFilter::parse("udp").unwrap(),
        )),
        ..opts()
    };
    let m = convert(&Analyzer::new(), &found, &out, &o).unwrap();
    let udp: Vec<_> = library.iter().filter(|f| f.key.protocol == 17).collect();
    assert_eq!(m.flows, udp.len() as u64);
    // the UDP flows (plain and inside GRE) are the library's, packet for
    // packet; every TCP frame was rejected
    let rows = read_parquet(&out.join("flows"));
    let counted: i64 = rows
        .iter()
        .map(|b| {
            b.column_by_name("packet_count")
                .unwrap()
                .as_primitive::<Int64Type>()
                .values()
                .iter()
                .sum::<i64>()
        })
        .sum();
    assert_eq!(
        counted as u64,
        udp.iter().map(|f| f.packet_count()).sum::<u64>()
    );
    let tcp_frames = library
        .iter()
        .filter(|f| f.key.protocol == 6)
        .map(|f| f.packet_count())
        .sum::<u64>();
    assert!(m.totals.packets_filtered_expr >= tcp_frames);

    // A memory bound leaving 32 KiB of flow state (one worker: a small
    // job; a few dozen flows): flows end early, flagged and counted, and
    // no packet is lost.
    let out = dir.path().join("bounded");
    let o = ConvertOptions {
        max_memory_bytes: Some(wa1kpcap::convert::WORKER_BUFFER_BYTES + (32 << 10)),
        ..opts()
    };
    let m = convert(&Analyzer::new().filter_retrans(false), &found, &out, &o).unwrap();
    assert!(m.totals.flows_evicted > 0);
    let batches = read_parquet(&out.join("flows"));
    let mut evicted = 0;
    let mut packets = 0;
    for b in &batches {
        let r = b.column_by_name("end_reason").unwrap().as_string::<i32>();
        let n = b
            .column_by_name("packet_count")
            .unwrap()
            .as_primitive::<Int64Type>();
        evicted += (0..b.num_rows())
            .filter(|&i| r.value(i) == "evicted")
            .count() as u64;
        packets += n.values().iter().sum::<i64>();
    }
    assert_eq!(evicted, m.totals.flows_evicted);
    // (retransmissions kept: a flow restarted after eviction has no
    // sequence history to judge them by)
    let unbounded = Analyzer::new()
        .filter_retrans(false)
        .analyze_file(&input)
        .unwrap();
    assert_eq!(
        packets as u64,
        unbounded.iter().map(|f| f.packet_count()).sum::<u64>(),
        "no packet lost to eviction"
    );
}

#[test]
fn schema_documents_agree_with_the_code() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/flows.md")).unwrap();
    let documented: Vec<&str> = doc.lines().filter(|l| l.starts_with("| `")).collect();
    let columns = flow_columns();
    assert_eq!(documented.len(), columns.len(), "one table row per column");
    for (line, c) in documented.iter().zip(&columns) {
        let expect = format!(
            "| `{}` | {} | {} | {} |",
            c.name,
            c.ty.doc_name(),
            c.meaning,
            c.unit
        );
        assert_eq!(*line, expect);
    }
    let schema = flows_schema(&columns);
    for name in [
        "src_ip",
        "dst_ip",
        "packet_count",
        "pkt_mean",
        "app_mean",
        "iat_max",
        "pkt_up_count",
        "packet_lengths",
    ] {
        assert!(schema.field_with_name(name).is_ok(), "{name}");
    }

    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/packets.md"))
        .unwrap();
    let documented: Vec<&str> = doc.lines().filter(|l| l.starts_with("| `")).collect();
    let columns = packet_columns(true);
    assert_eq!(documented.len(), columns.len(), "one table row per column");
    for (line, c) in documented.iter().zip(&columns) {
        let ty = c.ty.map_or("binary", |t| t.doc_name());
        let null = if c.nullable { "yes" } else { "no" };
        let expect = format!(
            "| `{}` | {ty} | {null} | {} | {} |",
            c.name, c.meaning, c.unit
        );
        assert_eq!(*line, expect);
    }
}

#[test]
fn an_unfinished_file_never_appears() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("flows/part-x.parquet");
    let columns = flow_columns();
    let w = TableFile::create(
        &target,
        flows_schema(&columns),
        Format::Parquet,
        vec![],
        1024,
    )
    .unwrap();
    drop(w);
    assert!(!target.exists());
    let staged = TableFile::create(
        &target,
        flows_schema(&columns),
        Format::Parquet,
        vec![],
        1024,
    )
    .unwrap()
    .finish()
    .unwrap();
    assert!(!target.exists(), "staged, not yet visible");
    drop(staged);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("flows"))
        .unwrap()
        .collect();
    assert!(leftovers.is_empty(), "temporary files removed");
}

#[test]
fn rerun_skips_finished_inputs_and_resumes_after_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    write_input(&inputs, "a.pcap", &wa1kpcap::sample::sample_pcap().unwrap());
    write_input(
        &inputs,
        "b.pcap",
        &wa1kpcap::sample::traffic_pcap(3).unwrap(),
    );
    write_input(&inputs, "broken.pcap", b"garbage");
    let out = dir.path().join("ds");
    let found: Vec<Input> = discover(std::slice::from_ref(&inputs)).0;
    let analyzer = Analyzer::new();

    let first = convert(&analyzer, &found, &out, &opts()).unwrap();
    assert_eq!((first.inputs_skipped, first.inputs_with_errors), (0, 1));
    let out_a = out.join(
        &first
            .inputs
            .iter()
            .find(|r| r.capture == "a.pcap")
            .unwrap()
            .outputs[0],
    );
    let written = std::fs::metadata(&out_a).unwrap().modified().unwrap();
    let rows_first = flow_rows(&read_parquet(&out.join("flows")));

    // same command again: every input skipped (the broken one was read as
    // far as it goes; its error is reported again), same totals, files
    // untouched
    let second = convert(&analyzer, &found, &out, &opts()).unwrap();
    assert_eq!((second.inputs_skipped, second.inputs_with_errors), (3, 1));
    assert_eq!((second.flows, second.packets), (first.flows, first.packets));
    assert_eq!(
        std::fs::metadata(&out_a).unwrap().modified().unwrap(),
        written
    );

    // a run killed after a.pcap's file appeared but before its done marker:
    // the file is removed and a.pcap redone, with the same rows
    let markers = out.join(".wa1kpcap/done");
    let a_index = first
        .inputs
        .iter()
        .find(|r| r.capture == "a.pcap")
        .unwrap()
        .capture_index;
    std::fs::remove_file(markers.join(format!("{a_index:06}.json"))).unwrap();
    let third = convert(&analyzer, &found, &out, &opts()).unwrap();
    assert_eq!(third.inputs_skipped, 2);
    assert_eq!((third.flows, third.packets), (first.flows, first.packets));
    assert!(out_a.exists());
    assert_eq!(flow_rows(&read_parquet(&out.join("flows"))), rows_first);

    // other settings: refused, unless starting afresh
    let other = Analyzer::new().udp_timeout(30.0);
    assert!(matches!(
        convert(&other, &found, &out, &opts()),
        Err(ConvertError::SettingsDiffer { .. })
    ));
    let fresh = convert(
        &other,
        &found,
        &out,
        &ConvertOptions {
            overwrite: true,
            ..opts()
        },
    )
    .unwrap();
    assert_eq!(fresh.inputs_skipped, 0);
    assert_eq!(
        files(&out.join("flows"), "parquet").len(),
        2,
        "one file per good input, nothing left over"
    );
}

#[test]
fn more_partitions_than_open_files_keep_every_row() {
    // 20 sessions an hour apart: 20 hour partitions, more than a worker
    // keeps open (16), so the least recently used ones are closed and later
    // ones opened; every flow still lands in its hour.
    let dir = tempfile::tempdir().unwrap();
    let mut w = wa1kpcap::capture::writer::PcapWriter::new(
        Vec::new(),
        wa1kpcap::capture::LinkType::ETHERNET,
        65535,
    )
    .unwrap();
    for (t, f) in wa1kpcap::sample::traffic_frames_spaced(20, 3_600_000_000_000).unwrap() {
        w.write(t, &f, f.len() as u32).unwrap();
    }
    let input = write_input(dir.path(), "hours.pcap", &w.into_inner());
    let found = discover(std::slice::from_ref(&input)).0;
    let library = Analyzer::new().analyze_file(&input).unwrap();
    let mut expect: BTreeMap<String, usize> = BTreeMap::new();
    for f in &library {
        let t = chrono::DateTime::from_timestamp(f.start_ns.div_euclid(1_000_000_000), 0).unwrap();
        *expect
            .entry(t.format("date=%Y-%m-%d/hour=%H").to_string())
            .or_default() += 1;
    }
    assert!(expect.len() > wa1kpcap::convert::output::MAX_OPEN_PARTITIONS);
    let out = dir.path().join("ds");
    let o = ConvertOptions {
        partition_by: PartitionBy::Hour,
        ..opts()
    };
    convert(&Analyzer::new(), &found, &out, &o).unwrap();
    let flows = out.join("flows");
    let mut got: BTreeMap<String, usize> = BTreeMap::new();
    for f in files(&flows, "parquet") {
        let part = f
            .parent()
            .unwrap()
            .strip_prefix(&flows)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let rows: usize = ParquetRecordBatchReaderBuilder::try_new(File::open(&f).unwrap())
            .unwrap()
            .build()
            .unwrap()
            .map(|b| b.unwrap().num_rows())
            .sum();
        *got.entry(part).or_default() += rows;
    }
    assert_eq!(got, expect);
}

/// The `dns` table: every DNS message of the generated traffic (a query
/// and its answer per session, as `sample` builds them) is a row joined to
/// its flow, and the flow's DNS columns say what the messages said.
#[test]
fn dns_table_holds_every_message_and_joins_its_flow() {
    let dir = tempfile::tempdir().unwrap();
    let sessions = 20;
    let input = write_input(
        dir.path(),
        "traffic.pcap",
        &wa1kpcap::sample::traffic_pcap(sessions).unwrap(),
    );
    let found = discover(std::slice::from_ref(&input)).0;
    let out = dir.path().join("ds");
    let o = ConvertOptions {
        dns: true,
        parallel_min_bytes: 0,
        ..opts()
    };
    let m = convert(&Analyzer::new(), &found, &out, &o).unwrap();
    assert_eq!(m.totals.dns_rows, 2 * sessions as u64);
    let mut dns_flows: HashMap<i64, (String, String)> = HashMap::new();
    for b in read_parquet(&out.join("flows")) {
        let id = b
            .column_by_name("flow_id")
            .unwrap()
            .as_primitive::<Int64Type>();
        let query = b.column_by_name("dns_query").unwrap().as_string::<i32>();
        let rcode = b.column_by_name("dns_rcode").unwrap().as_string::<i32>();
        for i in 0..b.num_rows() {
            if query.is_valid(i) {
                dns_flows.insert(id.value(i), (query.value(i).into(), rcode.value(i).into()));
            }
        }
    }
    assert_eq!(dns_flows.len(), sessions, "one DNS flow per session");
    assert!(dns_flows
        .values()
        .all(|(q, r)| q == "example.com" && r == "NOERROR"));
    let (mut queries, mut answers) = (0, 0);
    for b in read_parquet(&out.join("dns")) {
        let id = b
            .column_by_name("flow_id")
            .unwrap()
            .as_primitive::<Int64Type>();
        let qname = b.column_by_name("qname").unwrap().as_string::<i32>();
        let response = b.column_by_name("response").unwrap().as_boolean();
        let data = b.column_by_name("answer_data").unwrap().as_list::<i32>();
        let dir = b
            .column_by_name("direction")
            .unwrap()
            .as_primitive::<Int32Type>();
        for i in 0..b.num_rows() {
            assert!(
                dns_flows.contains_key(&id.value(i)),
                "message joins a DNS flow"
            );
            assert_eq!(qname.value(i), "example.com");
            let values = data.value(i);
            let values: Vec<&str> = values.as_string::<i32>().iter().flatten().collect();
            if response.value(i) {
                answers += 1;
                assert_eq!(dir.value(i), -1, "the resolver answers");
                assert_eq!(values, ["93.184.216.34"]);
            } else {
                queries += 1;
                assert_eq!(dir.value(i), 1);
                assert!(values.is_empty());
            }
        }
    }
    assert_eq!((queries, answers), (sessions, sessions));
}

/// The application tables' documents list exactly their columns.
#[test]
fn app_table_documents_match_the_code() {
    for (doc, columns) in [
        ("schemas/dns.md", wa1kpcap::sink::dns_columns()),
        ("schemas/tls.md", wa1kpcap::sink::cert_columns()),
    ] {
        let text =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(doc)).unwrap();
        for c in &columns {
            let ty = c.ty.map_or("binary", |t| t.doc_name());
            let null = if c.nullable { "yes" } else { "no" };
            let line = format!(
                "| `{}` | {ty} | {null} | {} | {} |",
                c.name, c.meaning, c.unit
            );
            assert!(text.contains(&line), "{doc} lacks: {line}");
        }
    }
}

#[test]
fn collect_keeps_in_memory_the_tables_convert_writes() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_input(
        dir.path(),
        "a.pcap",
        &wa1kpcap::sample::sample_pcap().unwrap(),
    );
    let b = write_input(
        dir.path(),
        "b.pcap",
        &wa1kpcap::sample::traffic_pcap(50).unwrap(),
    );
    let found = discover(&[a, b]).0;
    let analyzer = Analyzer::new();
    for parallel_min_bytes in [0, u64::MAX] {
        let o = ConvertOptions {
            packets: true,
            dns: true,
            parallel_min_bytes,
            ..opts()
        };
        let out = dir.path().join(format!("ds{parallel_min_bytes}"));
        let m = convert(&analyzer, &found, &out, &o).unwrap();
        let c = wa1kpcap::convert::collect(&analyzer, &found, &o).unwrap();
        assert!(
            c.flows.1.iter().all(|b| b.schema() == c.flows.0),
            "every batch has the table's schema"
        );
        assert_eq!(
            flow_rows(&c.flows.1),
            flow_rows(&read_parquet(&out.join("flows")))
        );
        let sorted = |mut v: Vec<i64>| {
            v.sort();
            v
        };
        let got = flow_ids(&c.flows.1);
        assert_eq!(
            sorted(got.clone()),
            sorted(flow_ids(&read_parquet(&out.join("flows"))))
        );
        // flows come grouped by capture, in input order (ids' high bits)
        assert!(got.windows(2).all(|w| w[0] >> 40 <= w[1] >> 40));
        let [packets, dns, certs] = &c.row_tables;
        let rows = |t: &Option<(_, Vec<RecordBatch>)>| {
            t.as_ref()
                .map(|(_, b)| b.iter().map(RecordBatch::num_rows).sum::<usize>())
        };
        assert_eq!(rows(packets), Some(m.totals.packet_rows as usize));
        assert_eq!(rows(dns), Some(m.totals.dns_rows as usize));
        assert_eq!(rows(certs), Some(m.totals.certificate_rows as usize));
        assert_eq!(c.inputs.len(), 2);
        assert_eq!(
            c.inputs.iter().map(|r| r.flows).collect::<Vec<_>>(),
            m.inputs.iter().map(|r| r.flows).collect::<Vec<_>>()
        );
        assert!(c.inputs.iter().all(|r| r.error.is_none()));
    }
}

#[test]
fn a_cancelled_run_commits_nothing_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_input(
        dir.path(),
        "traffic.pcap",
        &wa1kpcap::sample::traffic_pcap(200).unwrap(),
    );
    let found = discover(&[input]).0;
    let progress = std::sync::Arc::new(wa1kpcap::convert::Progress::default());
    progress
        .cancel
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let o = ConvertOptions {
        progress: Some(progress),
        ..opts()
    };
    let out = dir.path().join("ds");
    let m = convert(&Analyzer::new(), &found, &out, &o).unwrap();
    assert_eq!(
        m.inputs[0].error.as_deref(),
        Some(wa1kpcap::convert::pipeline::CANCELLED)
    );
    assert!(files(&out.join("flows"), "parquet").is_empty());
    // the next run converts it (no done marker was left)
    let m = convert(&Analyzer::new(), &found, &out, &opts()).unwrap();
    assert!(!m.inputs[0].skipped && m.inputs[0].error.is_none());
    assert_eq!(files(&out.join("flows"), "parquet").len(), 1);
}

/// A capture of `sessions` sessions `spacing_ns` apart.
fn spaced_pcap(sessions: usize, spacing_ns: i64) -> Vec<u8> {
    let mut w = wa1kpcap::capture::writer::PcapWriter::new(
        Vec::new(),
        wa1kpcap::capture::LinkType::ETHERNET,
        65535,
    )
    .unwrap();
    for (t, f) in wa1kpcap::sample::traffic_frames_spaced(sessions, spacing_ns).unwrap() {
        w.write(t, &f, f.len() as u32).unwrap();
    }
    w.into_inner()
}

/// Every file of a dataset but the manifest, by relative path, with its
/// bytes (the marker's) or its rows (a data file's).
fn dataset_contents(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut all = files(root, "parquet");
    all.extend(files(&root.join(".wa1kpcap/done"), "json"));
    for f in all {
        let rel = f.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        let what = if rel.ends_with(".json") {
            std::fs::read_to_string(&f).unwrap()
        } else {
            let batches = read_parquet_file(&f);
            format!("{:?}", batches)
        };
        out.insert(rel, what);
    }
    out
}

fn read_parquet_file(p: &Path) -> Vec<RecordBatch> {
    ParquetRecordBatchReaderBuilder::try_new(File::open(p).unwrap())
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

/// The three phases run apart (units in reverse order, as tasks of another
/// scheduler finish) write the dataset `convert` writes: names, rows,
/// markers, manifest. Two runs of `convert` name their files alike even
/// when partitions outnumber the open files (they close in name order).
#[test]
fn units_run_apart_write_the_dataset_convert_writes() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    write_input(&inputs, "days.pcap", &spaced_pcap(20, 86_400_000_000_000));
    write_input(&inputs, "a.pcap", &wa1kpcap::sample::sample_pcap().unwrap());
    write_input(&inputs, "broken.pcap", b"garbage");
    let found = discover(std::slice::from_ref(&inputs)).0;
    let analyzer = Analyzer::new();
    let o = ConvertOptions {
        partition_by: PartitionBy::Date,
        dns: true,
        ..opts()
    };
    let whole = dir.path().join("whole");
    let m = convert(&analyzer, &found, &whole, &o).unwrap();
    assert!(files(&whole.join("flows"), "parquet").len() > 20);

    let apart = dir.path().join("apart");
    let plan = plan_dataset(&analyzer, &found, &apart, &o).unwrap();
    assert_eq!(plan.units.len(), 3);
    let results: Vec<_> = plan
        .units
        .iter()
        .rev()
        .map(|u| run_unit(&analyzer, &apart, &o, u, true).unwrap())
        .collect();
    let m2 = finish_dataset(&apart, &plan, results, 0.0).unwrap();
    assert_eq!(dataset_contents(&apart), dataset_contents(&whole));
    let (mut a, mut b) = (
        serde_json::to_value(&m).unwrap(),
        serde_json::to_value(&m2).unwrap(),
    );
    a["elapsed_s"] = 0.0.into();
    b["elapsed_s"] = 0.0.into();
    assert_eq!(a, b);

    let again = dir.path().join("again");
    convert(&analyzer, &found, &again, &o).unwrap();
    assert_eq!(dataset_contents(&again), dataset_contents(&whole));
}

/// A unit redone — a retried task after a kill, or an input that changed
/// since its marker — leaves none of the earlier attempt's files.
#[test]
fn a_redone_unit_leaves_no_earlier_files() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    let days = write_input(&inputs, "days.pcap", &spaced_pcap(5, 86_400_000_000_000));
    let found = discover(std::slice::from_ref(&inputs)).0;
    let analyzer = Analyzer::new();
    let o = ConvertOptions {
        partition_by: PartitionBy::Date,
        ..opts()
    };
    let out = dir.path().join("ds");
    convert(&analyzer, &found, &out, &o).unwrap();
    assert_eq!(files(&out.join("flows"), "parquet").len(), 5);

    // the input changes (one day now): its old days' files go
    std::fs::write(&days, spaced_pcap(1, 1)).unwrap();
    let m = convert(&analyzer, &found, &out, &o).unwrap();
    assert_eq!(m.inputs_skipped, 0);
    assert_eq!(files(&out.join("flows"), "parquet").len(), 1);

    // an attempt killed mid-way: a committed file and a hidden temporary
    // of the unit; running the unit again with `clean` removes both
    let flows = out.join("flows");
    let stale = flows.join("date=2001-01-01/part-000000-00-0042.parquet");
    std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
    std::fs::write(&stale, b"partial").unwrap();
    let tmp = flows.join(".part-000000-00-0043.parquet.1-0.tmp");
    std::fs::write(&tmp, b"partial").unwrap();
    let plan = plan_dataset(
        &analyzer,
        &found,
        &out,
        &ConvertOptions {
            overwrite: true,
            ..o.clone()
        },
    )
    .unwrap();
    std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
    std::fs::write(&stale, b"partial").unwrap();
    std::fs::write(&tmp, b"partial").unwrap();
    let r = run_unit(&analyzer, &out, &o, &plan.units[0], true).unwrap();
    assert!(r.committed);
    assert!(!stale.exists() && !tmp.exists());
    let written = files(&flows, "parquet");
    assert_eq!(written.len(), 1);

    // a retry of a unit an attempt finished: read back from its marker,
    // the same result, its files untouched
    let mtime = std::fs::metadata(&written[0]).unwrap().modified().unwrap();
    let again = run_unit(&analyzer, &out, &o, &plan.units[0], true).unwrap();
    assert_eq!(
        serde_json::to_value(&again).unwrap(),
        serde_json::to_value(&r).unwrap()
    );
    assert_eq!(
        std::fs::metadata(&written[0]).unwrap().modified().unwrap(),
        mtime
    );
}

/// Streamed batches are the tables `collect` keeps, a few at a time; a
/// reader that goes away stops the run instead of blocking it, and the
/// inputs say so.
#[test]
fn streamed_units_give_the_collected_tables() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_input(
        dir.path(),
        "a.pcap",
        &wa1kpcap::sample::traffic_pcap(400).unwrap(),
    );
    let b = write_input(
        dir.path(),
        "b.pcap",
        &wa1kpcap::sample::sample_pcap().unwrap(),
    );
    let found = discover(&[a, b]).0;
    let analyzer = Analyzer::new();
    let o = ConvertOptions {
        dns: true,
        parallel_min_bytes: 0,
        ..opts()
    };
    let units = wa1kpcap::convert::plan_units(&found, &o).unwrap();
    let whole = wa1kpcap::convert::collect_units(&analyzer, units.clone(), &o).unwrap();
    let (tx, rx) = crossbeam_channel::bounded(1);
    let reader = std::thread::spawn(move || rx.iter().collect::<Vec<_>>());
    let c = wa1kpcap::convert::stream_units(&analyzer, units.clone(), &o, tx).unwrap();
    let got = reader.join().unwrap();
    assert!(c.flows.1.is_empty(), "streamed, not kept");
    let of = |slot: usize| -> Vec<RecordBatch> {
        got.iter()
            .filter(|(t, _)| *t == slot)
            .map(|(_, b)| b.clone())
            .collect()
    };
    assert!(of(0).len() > 1, "more than one flows batch");
    assert_eq!(flow_rows(&of(0)), flow_rows(&whole.flows.1));
    let rows = |b: &[RecordBatch]| b.iter().map(RecordBatch::num_rows).sum::<usize>();
    assert_eq!(rows(&of(2)), rows(&whole.row_tables[1].as_ref().unwrap().1));
    assert!(rows(&of(2)) > 0);
    assert_eq!(
        serde_json::to_value(&c.inputs).unwrap(),
        serde_json::to_value(&whole.inputs).unwrap()
    );

    let (tx, rx) = crossbeam_channel::bounded(1);
    drop(rx);
    let gone = wa1kpcap::convert::stream_units(&analyzer, units, &o, tx).unwrap();
    assert!(gone
        .inputs
        .iter()
        .all(|r| r.error.as_deref() == Some("the reader of the tables went away")));
}

#[test]
fn a_mid_sized_job_runs_parallel_only_when_nothing_runs_beside_it() {
    let job = |mib: u64, plan_jobs: u32| wa1kpcap::convert::Job {
        index: 0,
        inputs: vec![Input::file(PathBuf::from("x.pcap"), "x.pcap".into())],
        bytes: mib << 20,
        plan_jobs,
        dispatch_key: wa1kpcap::keyed::DispatchKey::from_u128(1),
    };
    let o = opts(); // 2 threads
    assert_eq!(job(48, 1).workers(&o), 2, "alone: both threads");
    assert_eq!(job(48, 2).workers(&o), 1, "two jobs side by side");
    assert_eq!(job(4, 1).workers(&o), 1, "too small to split");
    assert_eq!(job(64, 5).workers(&o), 2, "large jobs always split");
    assert_eq!(job(48, 0).workers(&o), 1, "a plan that did not say");
    // The rule sees the plan, not what is left of it: a resumed run whose
    // other inputs are done numbers this job's flows as a clean run did.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.pcap");
    std::fs::write(&big, vec![0u8; 9 << 20]).unwrap();
    let small = dir.path().join("small.pcap");
    std::fs::write(&small, b"x").unwrap();
    let inputs = [
        Input::file(big, "big.pcap".into()),
        Input::file(small, "small.pcap".into()),
    ];
    let units = wa1kpcap::convert::plan_units(&inputs, &opts()).unwrap();
    assert_eq!(
        units.iter().map(|u| u.plan_jobs).collect::<Vec<_>>(),
        [2, 2]
    );
    let three = ConvertOptions {
        threads: 3,
        ..opts()
    };
    assert_eq!(units[0].workers(&three), 3);
    assert_eq!(units[0].workers(&o), 1);
}

#[test]
fn files_edited_or_deleted_behind_our_back_are_redone_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    write_input(&inputs, "a.pcap", &wa1kpcap::sample::sample_pcap().unwrap());
    write_input(
        &inputs,
        "b.pcap",
        &wa1kpcap::sample::traffic_pcap(3).unwrap(),
    );
    let out = dir.path().join("ds");
    let found: Vec<Input> = discover(std::slice::from_ref(&inputs)).0;
    let analyzer = Analyzer::new();
    let first = convert(&analyzer, &found, &out, &opts()).unwrap();
    let rows = flow_rows(&read_parquet(&out.join("flows")));
    let output = |m: &wa1kpcap::convert::Manifest, c: &str| {
        out.join(&m.inputs.iter().find(|r| r.capture == c).unwrap().outputs[0])
    };
    // a file cut short, another deleted: both captures converted again
    let a = output(&first, "a.pcap");
    let bytes = std::fs::read(&a).unwrap();
    std::fs::write(&a, &bytes[..bytes.len() / 2]).unwrap();
    let again = convert(&analyzer, &found, &out, &opts()).unwrap();
    assert_eq!(again.inputs_skipped, 1, "only b.pcap trusted");
    assert_eq!(flow_rows(&read_parquet(&out.join("flows"))), rows);
    std::fs::remove_file(output(&again, "b.pcap")).unwrap();
    let third = convert(&analyzer, &found, &out, &opts()).unwrap();
    assert_eq!(third.inputs_skipped, 1, "only a.pcap trusted");
    assert_eq!(flow_rows(&read_parquet(&out.join("flows"))), rows);
    // untouched: all trusted
    let fourth = convert(&analyzer, &found, &out, &opts()).unwrap();
    assert_eq!(fourth.inputs_skipped, 2);
}

#[test]
fn a_dataset_keeps_its_dispatch_key_and_a_fixed_one_gives_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    write_input(
        &inputs,
        "a.pcap",
        &wa1kpcap::sample::traffic_pcap(40).unwrap(),
    );
    write_input(
        &inputs,
        "b.pcap",
        &wa1kpcap::sample::traffic_pcap(30).unwrap(),
    );
    let found: Vec<Input> = discover(std::slice::from_ref(&inputs)).0;
    let analyzer = Analyzer::new();
    // packet-parallel on 2 workers: the key decides which worker, so which
    // flow ids and files
    // the dataset's own key (drawn, then recorded), not a fixed one
    let o = ConvertOptions {
        parallel_min_bytes: 0,
        hash_seed: None,
        ..opts()
    };
    let seed =
        |m: &wa1kpcap::convert::Manifest| m.settings["hash_seed"].as_str().unwrap().to_string();
    let out = dir.path().join("ds");
    let first = convert(&analyzer, &found, &out, &o).unwrap();
    // a rerun after b.pcap's marker is lost redoes b with the same key
    let contents = dataset_contents(&out);
    let markers: Vec<PathBuf> = files(&out.join(".wa1kpcap/done"), "json");
    std::fs::remove_file(&markers[1]).unwrap();
    let second = convert(&analyzer, &found, &out, &o).unwrap();
    assert_eq!(seed(&second), seed(&first));
    assert_eq!(dataset_contents(&out), contents);
    // two datasets draw two secrets; a fixed key gives the same files
    let other = convert(&analyzer, &found, &dir.path().join("other"), &o).unwrap();
    if std::env::var_os(wa1kpcap::keyed::HASH_SEED_ENV).is_none() {
        assert_ne!(seed(&other), seed(&first));
    }
    let fixed = ConvertOptions {
        hash_seed: wa1kpcap::keyed::DispatchKey::from_hex(&seed(&first)),
        ..o.clone()
    };
    convert(&analyzer, &found, &dir.path().join("fixed"), &fixed).unwrap();
    assert_eq!(dataset_contents(&dir.path().join("fixed")), contents);
    // and another key is refused on this dataset unless --overwrite
    let refused = ConvertOptions {
        hash_seed: Some(wa1kpcap::keyed::DispatchKey::from_u128(7)),
        ..o
    };
    assert!(matches!(
        convert(&analyzer, &found, &out, &refused),
        Err(wa1kpcap::convert::ConvertError::SettingsDiffer { .. })
    ));
}
