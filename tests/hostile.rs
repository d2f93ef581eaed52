//! Hostile shapes (`sample::hostile`): what each must give, whatever its
//! cost. Their throughput is the benchmark's (`benches/hostile.rs`); here
//! the bounds that keep the work per packet constant, and the keyed
//! worker choice, are checked on the same generated captures.

use wa1kpcap::capture::Capture;
use wa1kpcap::convert::pipeline::pair_hash;
use wa1kpcap::decode::Anomaly;
use wa1kpcap::keyed::DispatchKey;
use wa1kpcap::sample::hostile::{self, Shape};
use wa1kpcap::{Analysis, Analyzer};

const N: usize = 1600;

fn analyze(bytes: Vec<u8>) -> Analysis {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("shape.pcap");
    std::fs::write(&p, bytes).unwrap();
    Analyzer::new().analyze(&p).unwrap()
}

fn shape(name: &str) -> Shape {
    hostile::shapes(N)
        .unwrap()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no shape {name}"))
}

fn run(name: &str) -> (Shape, Analysis) {
    let s = shape(name);
    let a = analyze(s.capture().unwrap());
    assert_eq!(
        a.summary.packets_read,
        s.frames.len() as u64,
        "{name}: every packet read"
    );
    assert_eq!(
        a.flows.len() as u64,
        a.summary.flows,
        "{name}: no flow lost"
    );
    assert!(a.summary.capture_error.is_none(), "{name}");
    (s, a)
}

#[test]
fn every_shape_is_read_whole_and_loses_no_flow() {
    for s in hostile::shapes(N).unwrap() {
        run(s.name);
    }
}

#[test]
fn the_keyed_worker_choice_spreads_pairs_crafted_against_the_former_one() {
    // Those pairs all met in one worker under the former unkeyed hash
    // (the shape's own unit test); under any secret key they spread.
    let bytes = shape("worker_steering").capture().unwrap();
    for _ in 0..4 {
        let key = DispatchKey::random();
        for n in [2usize, 3, 4, 8] {
            let mut per = vec![0u64; n];
            let mut cap = Capture::from_bytes(bytes.clone()).unwrap();
            cap.for_each_packet(|raw| {
                per[DispatchKey::worker(pair_hash(key, raw), n)] += 1;
            })
            .unwrap();
            let mean = N as f64 / n as f64;
            let max = *per.iter().max().unwrap() as f64;
            assert!(max <= 1.5 * mean, "{n} workers: {per:?}");
        }
    }
}

#[test]
fn a_recorded_dispatch_key_dispatches_alike_and_both_directions_meet() {
    let key = DispatchKey::from_hex("5eed").unwrap();
    let frames = wa1kpcap::sample::traffic_frames(4).unwrap();
    let mut writer = wa1kpcap::capture::writer::PcapWriter::new(
        Vec::new(),
        wa1kpcap::capture::LinkType::ETHERNET,
        65535,
    )
    .unwrap();
    for (t, f) in &frames {
        writer.write(*t, f, f.len() as u32).unwrap();
    }
    let bytes = writer.into_inner();
    let hashes = |key| {
        let mut out = Vec::new();
        let mut cap = Capture::from_bytes(bytes.clone()).unwrap();
        cap.for_each_packet(|raw| out.push(pair_hash(key, raw)))
            .unwrap();
        out
    };
    assert_eq!(hashes(key), hashes(DispatchKey::from_hex("5eed").unwrap()));
    assert_ne!(hashes(key), hashes(DispatchKey::from_hex("5eee").unwrap()));
    // The sample's client and server speak both ways: a pair's packets
    // share one hash in either direction.
    let flows = analyze(bytes.clone()).flows;
    assert!(flows.iter().any(|f| f.metrics.down_packet_count > 0));
    let distinct: std::collections::HashSet<u64> = hashes(key).into_iter().collect();
    assert!(distinct.len() < frames.len(), "directions share a hash");
}

#[test]
fn extension_chains_and_tunnels_stop_at_their_bounds_and_say_so() {
    let (_, a) = run("ipv6_extension_chains");
    assert_eq!(
        a.summary.anomalies.get(Anomaly::Ipv6ExtChainTooLong),
        N as u64
    );
    let (_, a) = run("nested_tunnels");
    assert_eq!(a.summary.anomalies.get(Anomaly::TunnelTooDeep), N as u64);
}

#[test]
fn a_hello_sent_a_byte_per_quic_frame_is_still_read() {
    let (_, a) = run("quic_one_byte_crypto");
    assert!(a.flows.len() > 10);
    // (the last flow is cut short by the shape's packet count)
    for f in &a.flows[..a.flows.len() - 1] {
        let sni = f
            .app
            .as_ref()
            .and_then(|x| x.tls.as_ref())
            .and_then(|t| t.client.as_ref())
            .and_then(|c| c.sni.as_deref());
        assert_eq!(sni, Some("quic.example"), "{}", f.key.display());
    }
}

#[test]
fn a_hello_of_thousands_of_extensions_is_read_and_a_chain_is_capped() {
    let (_, a) = run("tls_many_extensions");
    assert!(a.flows.len() > 10);
    // (the last flow is cut short by the shape's packet count)
    for f in &a.flows[..a.flows.len() - 1] {
        let tls = f.app.as_ref().and_then(|x| x.tls.as_ref());
        let sni = tls
            .and_then(|t| t.client.as_ref())
            .and_then(|c| c.sni.as_deref());
        assert_eq!(sni, Some("hostile.example"), "{}", f.key.display());
        // 3 500 extensions: fingerprinted over the first 512, and said
        let ch = tls.and_then(|t| t.client.as_ref()).unwrap();
        assert_eq!(ch.extensions.len(), wa1kpcap::proto::tls::MAX_HELLO_LIST);
        assert!(f.anomalies.contains(Anomaly::TlsHelloCapped));
    }
    let (_, a) = run("tls_many_certificates");
    let chains: Vec<usize> = a
        .flows
        .iter()
        .filter_map(|f| f.app.as_ref().and_then(|x| x.tls.as_ref()))
        .map(|t| t.certificates.len())
        .collect();
    assert!(chains.iter().any(|&n| n > 0));
    assert!(chains
        .iter()
        .all(|&n| n <= wa1kpcap::proto::cert::MAX_CHAIN));
}

#[test]
fn options_on_every_packet_block_change_nothing_but_the_reading() {
    let (s, a) = run("pcapng_option_flood");
    let mut plain = s;
    plain.pcapng_options = 0;
    let b = analyze(plain.capture().unwrap());
    assert_eq!(a.flows.len(), b.flows.len());
    for (x, y) in a.flows.iter().zip(&b.flows) {
        assert_eq!(
            (x.key, x.start_ns, x.packet_count()),
            (y.key, y.start_ns, y.packet_count())
        );
    }
}

#[test]
fn a_hello_or_head_past_what_the_parsers_read_is_counted_not_silent() {
    // 15 000 extensions: a 60 KB hello, past the 16 KiB a direction keeps
    let frames = hostile::tls_hello_with_extensions(300, 15_000).unwrap();
    let shape = Shape {
        name: "long_hello",
        attacks: "",
        frames: frames
            .into_iter()
            .enumerate()
            .map(|(i, f)| (i as i64 * 1000, f))
            .collect(),
        pcapng_options: 0,
        one_packet_flows: false,
        by_date: false,
    };
    let a = analyze(shape.capture().unwrap());
    let whole: Vec<_> = a
        .flows
        .iter()
        .filter(|f| f.metrics.packet_count > 16)
        .collect();
    assert!(whole.len() >= 3);
    for f in whole {
        assert!(
            f.anomalies.contains(Anomaly::AppMessageTooLong),
            "{}",
            f.key.display()
        );
        let errors = f
            .app
            .as_ref()
            .map(|x| x.errors().to_vec())
            .unwrap_or_default();
        assert!(errors.iter().any(|(p, _)| *p == "tls"), "{errors:?}");
    }
    // a 60 KB request head: past the bound, and said
    let (_, a) = run("http_many_lines");
    let whole: Vec<_> = a
        .flows
        .iter()
        .filter(|f| f.metrics.packet_count > 16)
        .collect();
    assert!(!whole.is_empty());
    for f in whole {
        assert!(
            f.anomalies.contains(Anomaly::AppMessageTooLong),
            "{}",
            f.key.display()
        );
    }
}

#[test]
fn flows_cycling_through_more_days_than_open_files_write_a_file_a_day() {
    // 4 000 flows ending for 40 days in turn, by date: more partitions than
    // a worker keeps files open (16). Rows wait for their day's batch
    // instead of closing a file each (which wrote a file a flow).
    let s = shape("partition_thrash");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("thrash.pcap");
    let frames = hostile::partition_thrash(4000).unwrap();
    let thrash = Shape { frames, ..s };
    std::fs::write(&input, thrash.capture().unwrap()).unwrap();
    let (inputs, _) = wa1kpcap::convert::discover(&[input]);
    let opts = wa1kpcap::convert::ConvertOptions {
        threads: 1,
        partition_by: wa1kpcap::convert::PartitionBy::Date,
        ..Default::default()
    };
    let out = dir.path().join("ds");
    let m = wa1kpcap::convert::convert(&Analyzer::new(), &inputs, &out, &opts).unwrap();
    assert_eq!(m.flows, 4000);
    let files: Vec<&String> = m.inputs[0]
        .outputs
        .iter()
        .filter(|o| o.starts_with("flows/"))
        .collect();
    let days: std::collections::HashSet<&str> =
        files.iter().filter_map(|o| o.split('/').nth(1)).collect();
    assert!(days.len() >= 40, "{} days", days.len());
    assert_eq!(files.len(), days.len(), "one file a day");
}
