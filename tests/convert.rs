//! `convert` end to end: generated captures (and a broken file) to Parquet,
//! read back with the parquet crate and checked against the library's
//! flows; the schema document agrees with the code; files appear atomically.

use std::collections::HashMap;
use std::fs::File;

use arrow::array::AsArray;
use arrow::datatypes::{Float64Type, Int64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use wa1kpcap::convert::{convert, discover, ConvertError};
use wa1kpcap::sink::{flow_columns, flows_schema, AtomicParquetWriter};
use wa1kpcap::Analyzer;

#[test]
fn converted_rows_equal_the_library_flows() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir_all(inputs.join("sub")).unwrap();
    let sample = inputs.join("sub/sample.pcap");
    std::fs::write(&sample, wa1kpcap::sample::sample_pcap().unwrap()).unwrap();
    std::fs::write(inputs.join("broken.pcap"), b"not a capture at all").unwrap();
    let out = dir.path().join("ds");

    let (found, missing) = discover(std::slice::from_ref(&inputs));
    assert!(missing.is_empty());
    assert_eq!(
        found.iter().map(|i| i.rel.as_str()).collect::<Vec<_>>(),
        vec!["broken.pcap", "sub/sample.pcap"]
    );
    let analyzer = Analyzer::new();
    let m = convert(&analyzer, &found, &out, 2, false).unwrap();
    assert_eq!(m.inputs_with_errors, 1);
    let broken = m
        .inputs
        .iter()
        .find(|r| r.capture == "broken.pcap")
        .unwrap();
    assert!(broken.error.as_deref().unwrap().contains("not a capture"));
    assert!(broken.output.is_none());

    let expected = analyzer.analyze_file(&sample).unwrap();
    let rep = m
        .inputs
        .iter()
        .find(|r| r.capture == "sub/sample.pcap")
        .unwrap();
    assert_eq!(rep.flows, expected.len() as u64);
    assert_eq!(rep.packets, 40);

    // read back
    let path = out.join(rep.output.as_ref().unwrap());
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
        let sport = c("src_port").as_primitive::<arrow::datatypes::Int32Type>();
        let dport = c("dst_port").as_primitive::<arrow::datatypes::Int32Type>();
        let start = c("start_time").as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
        let pkts = c("packet_count").as_primitive::<Int64Type>();
        let mean = c("pkt_mean").as_primitive::<Float64Type>();
        let skew = c("pkt_skew").as_primitive::<Float64Type>();
        let lens = c("packet_lengths").as_list::<i32>();
        let iats = c("iats").as_list::<i32>();
        let capture = c("capture").as_string::<i32>();
        let id = c("flow_id").as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            let f = by_ports[&(sport.value(i), dport.value(i), start.value(i))];
            assert_eq!(pkts.value(i) as u64, f.packet_count());
            assert_eq!(mean.value(i), f.stats.pkt.all.mean);
            assert_eq!(skew.value(i), f.stats.pkt.all.skew);
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
    // the manifest is there and parses
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["flows"], expected.len());
}

#[test]
fn schema_document_agrees_with_the_code() {
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
    // the query users quote works by name
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
}

#[test]
fn an_unfinished_file_never_appears() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("flows/part-x.parquet");
    let columns = flow_columns();
    let w = AtomicParquetWriter::create(&target, flows_schema(&columns), vec![], 1024).unwrap();
    drop(w);
    assert!(!target.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("flows"))
        .unwrap()
        .collect();
    assert!(leftovers.is_empty(), "temporary file removed");
}

#[test]
fn rerun_skips_finished_inputs_and_resumes_after_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir_all(&inputs).unwrap();
    std::fs::write(
        inputs.join("a.pcap"),
        wa1kpcap::sample::sample_pcap().unwrap(),
    )
    .unwrap();
    let frames = wa1kpcap::sample::sample_frames().unwrap();
    let mut w = wa1kpcap::capture::writer::PcapWriter::new(
        Vec::new(),
        wa1kpcap::capture::LinkType::ETHERNET,
        65535,
    )
    .unwrap();
    for (t, f) in frames.iter().take(12) {
        w.write(*t, f, f.len() as u32).unwrap();
    }
    std::fs::write(inputs.join("b.pcap"), w.into_inner()).unwrap();
    std::fs::write(inputs.join("broken.pcap"), b"garbage").unwrap();
    let out = dir.path().join("ds");
    let (found, _) = discover(std::slice::from_ref(&inputs));
    let analyzer = Analyzer::new();

    let first = convert(&analyzer, &found, &out, 2, false).unwrap();
    assert_eq!((first.inputs_skipped, first.inputs_with_errors), (0, 1));
    let out_a = out.join(
        first
            .inputs
            .iter()
            .find(|r| r.capture == "a.pcap")
            .unwrap()
            .output
            .clone()
            .unwrap(),
    );
    let written = std::fs::metadata(&out_a).unwrap().modified().unwrap();

    // same command again: both good inputs skipped, same totals, files untouched
    let second = convert(&analyzer, &found, &out, 2, false).unwrap();
    assert_eq!((second.inputs_skipped, second.inputs_with_errors), (2, 1));
    assert_eq!((second.flows, second.packets), (first.flows, first.packets));
    assert_eq!(
        std::fs::metadata(&out_a).unwrap().modified().unwrap(),
        written
    );

    // a run killed before a.pcap's file appeared: only a.pcap is redone
    std::fs::remove_file(&out_a).unwrap();
    let third = convert(&analyzer, &found, &out, 2, false).unwrap();
    assert_eq!(third.inputs_skipped, 1);
    assert_eq!((third.flows, third.packets), (first.flows, first.packets));
    assert!(out_a.exists());

    // other settings: refused, unless starting afresh
    let other = Analyzer::new().udp_timeout(30.0);
    assert!(matches!(
        convert(&other, &found, &out, 2, false),
        Err(ConvertError::SettingsDiffer { .. })
    ));
    let fresh = convert(&other, &found, &out, 2, true).unwrap();
    assert_eq!(fresh.inputs_skipped, 0);
    let files = std::fs::read_dir(out.join("flows")).unwrap().count();
    assert_eq!(files, 2, "one file per good input, nothing left over");
}
