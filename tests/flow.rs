//! Flow engine behaviour on generated captures: splitting, timeouts,
//! filters, the memory bound, capped sequences, custom features.
//! Expected values are worked out by hand from the traffic each test builds.

use etherparse::PacketBuilder;
use wa1kpcap::capture::writer::PcapWriter;
use wa1kpcap::capture::{Capture, LinkType};
use wa1kpcap::features::{FeatureProcessor, FeatureState, FeatureValue, PacketContext};
use wa1kpcap::flow::EndReason;
use wa1kpcap::{Analyzer, Flow};

const C: [u8; 4] = [10, 0, 0, 1];
const S: [u8; 4] = [10, 0, 0, 2];
const T0: i64 = 1_700_000_000_000_000_000;
const MS: i64 = 1_000_000;
const SEC: i64 = 1_000_000_000;

/// (time, frame)
type Trace = Vec<(i64, Vec<u8>)>;

fn tcp(from_client: bool, sport: u16, seq: u32, flags: &str, payload: &[u8]) -> Vec<u8> {
    let (src, dst, sp, dp) = if from_client {
        (C, S, sport, 80)
    } else {
        (S, C, 80, sport)
    };
    let mut b = PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4(src, dst, 64)
        .tcp(sp, dp, seq, 1000);
    for f in flags.chars() {
        b = match f {
            'S' => b.syn(),
            'A' => b.ack(1),
            'F' => b.fin(),
            'R' => b.rst(),
            'P' => b.psh(),
            _ => b,
        };
    }
    let mut v = Vec::new();
    b.write(&mut v, payload).unwrap();
    v
}

fn udp(from_client: bool, payload: &[u8]) -> Vec<u8> {
    let (src, dst, sp, dp) = if from_client {
        (C, S, 5000, 53)
    } else {
        (S, C, 53, 5000)
    };
    let mut v = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4(src, dst, 64)
        .udp(sp, dp)
        .write(&mut v, payload)
        .unwrap();
    v
}

fn run(a: &Analyzer, trace: &Trace) -> Vec<Flow> {
    let (mut flows, summary) = run_with_summary(a, trace);
    // every flow created is handed out exactly once
    assert_eq!(summary.flows, flows.len() as u64);
    assert_eq!(summary.table.flows_created, flows.len() as u64);
    flows.sort_by_key(|f| (f.start_ns, f.key));
    flows
}

/// A full connection on client port `port` starting at `t`: 3-way
/// handshake, one request and response, FIN both ways, final ACK.
fn connection(t: i64, port: u16, isn: u32, close: &str) -> Trace {
    let mut v = vec![
        (t, tcp(true, port, isn, "S", b"")),
        (t + MS, tcp(false, port, 9000, "SA", b"")),
        (t + 2 * MS, tcp(true, port, isn + 1, "A", b"")),
        (
            t + 3 * MS,
            tcp(true, port, isn + 1, "PA", b"GET / HTTP/1.1\r\n\r\n"),
        ),
        (
            t + 4 * MS,
            tcp(false, port, 9001, "PA", b"HTTP/1.1 200 OK\r\n\r\n"),
        ),
    ];
    if close == "fin" {
        v.push((t + 5 * MS, tcp(true, port, isn + 19, "FA", b"")));
        v.push((t + 6 * MS, tcp(false, port, 9020, "FA", b"")));
        v.push((t + 7 * MS, tcp(true, port, isn + 20, "A", b"")));
    } else {
        v.push((t + 5 * MS, tcp(false, port, 9020, "R", b"")));
    }
    v
}

#[test]
fn reused_tcp_five_tuple_after_fin_or_rst_is_a_new_flow() {
    // same ISN both times: the reference would call the second SYN a
    // retransmission and merge everything into one flow
    let mut trace = connection(T0, 40000, 100, "fin");
    trace.extend(connection(T0 + 2 * SEC, 40000, 100, "rst"));
    trace.extend(connection(T0 + 3 * SEC, 40000, 100, "fin"));
    let flows = run(&Analyzer::new(), &trace);
    assert_eq!(flows.len(), 3);
    assert_eq!(
        flows.iter().map(|f| f.packet_count()).collect::<Vec<_>>(),
        vec![8, 6, 8]
    );
    assert_eq!(
        flows.iter().map(|f| f.end_reason).collect::<Vec<_>>(),
        vec![EndReason::Fin, EndReason::Rst, EndReason::Fin]
    );
    assert!(flows
        .iter()
        .all(|f| f.tcp_handshake && f.metrics.retrans_count == 0));
    assert_eq!(
        flows[0]
            .seq
            .packet_lengths
            .iter()
            .filter(|&&l| l > 0)
            .count(),
        5
    );
    assert_eq!(flows[1].start_ns, T0 + 2 * SEC);
}

#[test]
fn a_late_non_syn_packet_within_the_close_delay_stays_in_the_flow() {
    let mut trace = connection(T0, 40001, 100, "fin");
    // a retransmitted last ACK 1 s after the close still belongs to it
    trace.push((T0 + SEC, tcp(true, 40001, 120, "A", b"")));
    let flows = run(&Analyzer::new(), &trace);
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0].packet_count(), 9);
    // …but 10 s later (past the 5 s close delay) it starts a new flow
    let mut trace = connection(T0, 40001, 100, "fin");
    trace.push((T0 + 10 * SEC, tcp(true, 40001, 120, "A", b"")));
    assert_eq!(run(&Analyzer::new(), &trace).len(), 2);
}

#[test]
fn tcp_idle_timeout_splits() {
    let trace = vec![
        (T0, tcp(true, 40002, 1, "PA", b"a")),
        (T0 + 10 * SEC, tcp(true, 40002, 2, "PA", b"b")),
        (T0 + 31 * SEC, tcp(true, 40002, 3, "PA", b"c")),
    ];
    let flows = run(&Analyzer::new().tcp_cleanup_timeout(20.0), &trace);
    assert_eq!(flows.len(), 2);
    assert_eq!(flows[0].packet_count(), 2);
    assert_eq!(flows[0].end_reason, EndReason::Idle);
    assert_eq!(flows[1].packet_count(), 1);
}

#[test]
fn udp_timeout_is_strict_and_off_by_default() {
    let trace = vec![
        (T0, udp(true, b"q1")),
        (T0 + 5 * SEC, udp(false, b"r1")), // gap == timeout: same flow
        (T0 + 11 * SEC, udp(true, b"q2")), // gap 6 s > 5 s: new flow
    ];
    let flows = run(&Analyzer::new().udp_timeout(5.0), &trace);
    assert_eq!(flows.len(), 2);
    assert_eq!((flows[0].packet_count(), flows[1].packet_count()), (2, 1));
    assert_eq!(flows[0].seq.packet_lengths.len(), 2);
    assert!(flows[0].seq.packet_lengths[0] > 0 && flows[0].seq.packet_lengths[1] < 0);
    assert_eq!(run(&Analyzer::new(), &trace).len(), 1);
}

#[test]
fn orientation_follows_the_first_packet() {
    let trace = vec![(T0, udp(false, b"from server")), (T0 + MS, udp(true, b"x"))];
    let f = &run(&Analyzer::new(), &trace)[0];
    assert_eq!(f.key.src_port, 53);
    assert_eq!(f.key.src_ip.to_string(), "10.0.0.2");
    assert_eq!(
        (f.metrics.up_packet_count, f.metrics.down_packet_count),
        (1, 1)
    );
    // UDP payload_bytes are the payload length, not 0
    assert_eq!(f.seq.payload_bytes, vec![11, -1]);
    assert_eq!(f.seq.trans_lengths, vec![19, -9]);
}

#[test]
fn filters_drop_packets_from_sequences_but_count_retransmissions() {
    let trace = vec![
        (T0, tcp(true, 40003, 1, "PA", b"hello")),
        (T0 + MS, tcp(true, 40003, 1, "PA", b"hello")), // retransmission
        (T0 + 2 * MS, tcp(false, 40003, 50, "A", b"")), // pure ACK
        (T0 + 3 * MS, tcp(false, 40003, 50, "RA", b"")),
    ];
    let f = &run(&Analyzer::new(), &trace)[0];
    assert_eq!((f.packet_count(), f.metrics.retrans_count), (3, 1));
    let f = &run(&Analyzer::new().filter_retrans(false), &trace)[0];
    assert_eq!((f.packet_count(), f.metrics.retrans_count), (4, 1));
    let f = &run(&Analyzer::new().filter_ack(true).filter_rst(true), &trace)[0];
    assert_eq!(f.packet_count(), 1);
    assert_eq!(f.seq.tcp_flags, vec![0x18]);
    assert_eq!(f.metrics.retrans_count, 1);
}

#[test]
fn max_flows_ends_the_least_recent_flow_early_and_loses_nothing() {
    let mut trace = Trace::new();
    for i in 0..5u16 {
        trace.push((T0 + i64::from(i) * MS, tcp(true, 41000 + i, 1, "PA", b"x")));
    }
    trace.push((T0 + 10 * MS, tcp(true, 41004, 2, "PA", b"y")));
    let flows = run(&Analyzer::new().max_flows(2), &trace);
    assert_eq!(flows.len(), 5);
    assert_eq!(flows.iter().map(|f| f.packet_count()).sum::<u64>(), 6);
    assert_eq!(
        flows
            .iter()
            .filter(|f| f.end_reason == EndReason::Evicted)
            .count(),
        3
    );
}

#[test]
fn capped_sequences_keep_exact_statistics() {
    let mut trace = Trace::new();
    for i in 0..50u32 {
        let payload = vec![0u8; (i as usize * 37) % 700];
        trace.push((T0 + i64::from(i * i) * MS, udp(i % 3 != 0, &payload)));
    }
    let full = &run(&Analyzer::new(), &trace)[0];
    let capped = &run(&Analyzer::new().max_sequence_len(Some(10)), &trace)[0];
    assert_eq!(capped.seq.packet_lengths.len(), 10);
    assert_eq!(capped.seq.iats.len(), 9);
    assert_eq!(capped.seq.packet_lengths[..], full.seq.packet_lengths[..10]);
    assert_eq!(capped.stats, full.stats);
    assert_eq!(capped.metrics, full.metrics);
    assert_eq!(full.stat("pkt_count"), Some(50.0));
}

struct UpBytes;
struct UpBytesState(i64);

impl FeatureState for UpBytesState {
    fn update(&mut self, p: &PacketContext<'_, '_>) {
        if p.up {
            self.0 += i64::from(p.wire_len);
        }
    }
    fn finish(self: Box<Self>) -> FeatureValue {
        FeatureValue::Int(self.0)
    }
}

impl FeatureProcessor for UpBytes {
    fn name(&self) -> &str {
        "up_wire_bytes"
    }
    fn init(&self) -> Box<dyn FeatureState> {
        Box::new(UpBytesState(0))
    }
}

#[test]
fn custom_features_see_every_counted_packet() {
    let trace = vec![
        (T0, udp(true, b"abc")),
        (T0 + MS, udp(false, b"de")),
        (T0 + 2 * MS, udp(true, b"")),
    ];
    let f = &run(&Analyzer::new().register_feature(UpBytes), &trace)[0];
    // Ethernet 14 + IPv4 20 + UDP 8 + payload, up packets only
    assert_eq!(
        f.feature("up_wire_bytes"),
        Some(&FeatureValue::Int((42 + 3) + 42))
    );
}

#[test]
fn fragmented_datagram_is_one_packet_with_its_ports() {
    let frames = wa1kpcap::sample::fragmented_udp(C, S, 7, 3000, 1480).unwrap();
    let wire: u64 = frames.iter().map(|f| f.len() as u64).sum();
    let trace: Trace = frames
        .into_iter()
        .enumerate()
        .map(|(i, f)| (T0 + i as i64 * MS, f))
        .collect();
    let flows = run(&Analyzer::new(), &trace);
    assert_eq!(flows.len(), 1);
    let f = &flows[0];
    assert_eq!((f.key.src_port, f.key.dst_port), (4000, 4001));
    assert_eq!(
        (f.packet_count(), f.reassembled_packets, f.byte_count()),
        (1, 1, wire)
    );
    assert_eq!(f.seq.ip_lengths, vec![20 + 8 + 3000]);
    assert_eq!(f.seq.app_lengths, vec![3000]);
    // without reassembly: the reference's behaviour (fragments keyed alone)
    let flows = run(&Analyzer::new().enable_reassembly(false), &trace);
    assert_eq!(flows.len(), 1);
    assert_eq!((flows[0].key.src_port, flows[0].packet_count()), (0, 3));
}

#[test]
fn statistics_of_a_known_flow() {
    // packet lengths 100 (up), 200 (down), 400 (up); iats 1 s, 3 s
    let trace = vec![
        (T0, udp(true, &[0; 58])),
        (T0 + SEC, udp(false, &[0; 158])),
        (T0 + 4 * SEC, udp(true, &[0; 358])),
    ];
    let f = &run(&Analyzer::new(), &trace)[0];
    assert_eq!(f.seq.packet_lengths, vec![100, -200, 400]);
    assert_eq!(f.stat("pkt_mean"), Some(700.0 / 3.0));
    assert_eq!(f.stat("pkt_median"), Some(200.0));
    assert_eq!(f.stat("pkt_up_mean"), Some(250.0));
    assert_eq!(f.stat("pkt_down_count"), Some(1.0));
    assert_eq!(f.stat("iat_mean"), Some(2.0));
    assert_eq!(f.stat("iat_max"), Some(3.0));
    let var = ((100.0f64 - 700.0 / 3.0).powi(2)
        + (200.0f64 - 700.0 / 3.0).powi(2)
        + (400.0f64 - 700.0 / 3.0).powi(2))
        / 3.0;
    assert!((f.stat("pkt_var").unwrap() - var).abs() < 1e-9);
    assert_eq!(f.stat("up_down_pkt_ratio"), Some(2.0));
    assert_eq!(f.stat("up_down_byte_ratio"), Some(2.5));
    assert!((f.duration() - 4.0).abs() < 1e-12);
}

#[test]
fn a_flow_idle_at_the_end_is_idle_whatever_else_the_table_saw() {
    // Timeout 300 s. Y (port 1) is active at 0 and 290, X (port 2) at 295,
    // Z (port 3) at 301 and 594. Z's packet at 301 re-queues Y (queued at 0)
    // behind X; at 594 Y has been idle 304 s but sits behind X (idle 299 s):
    // the end of input must still call Y idle, as a table that saw Y and Z
    // alone would.
    let trace = vec![
        (T0, tcp(true, 1, 1, "PA", b"y")),
        (T0 + 290 * SEC, tcp(true, 1, 2, "PA", b"y")),
        (T0 + 295 * SEC, tcp(true, 2, 1, "PA", b"x")),
        (T0 + 301 * SEC, tcp(true, 3, 1, "PA", b"z")),
        (T0 + 594 * SEC, tcp(true, 3, 2, "PA", b"z")),
    ];
    let a = Analyzer::new().tcp_cleanup_timeout(300.0);
    let flows = run(&a, &trace);
    let reason = |port: u16| {
        flows
            .iter()
            .find(|f| f.key.src_port == port)
            .unwrap()
            .end_reason
    };
    assert_eq!(reason(1), EndReason::Idle);
    assert_eq!(reason(2), EndReason::EndOfCapture);
    assert_eq!(reason(3), EndReason::EndOfCapture);
    // Y and Z alone (as a worker that did not get X's packets)
    let alone: Trace = trace.iter().filter(|(_, f)| f[35] != 2).cloned().collect();
    let flows = run(&a, &alone);
    assert_eq!(flows[0].end_reason, EndReason::Idle);
    // Y alone: nothing moves the clock past its timeout
    let alone: Trace = trace.iter().filter(|(_, f)| f[35] == 1).cloned().collect();
    let flows = run(&a, &alone);
    assert_eq!(flows[0].end_reason, EndReason::EndOfCapture);
}

#[test]
fn a_closed_flow_ends_as_closed_even_when_expiry_has_not_reached_it() {
    // Close delay 5 s. A closes at ~0 and gets a late ACK at 4.0; B closes
    // at 4.5; a packet of C at 5.1 re-queues A behind B; A's 5-tuple comes
    // back at 9.3 (not a SYN): A's delay has passed, and it ended by FIN —
    // not "idle" — whether or not expiry got to it first.
    let mut trace = connection(T0, 1000, 100, "fin");
    trace.push((T0 + 4000 * MS, tcp(true, 1000, 121, "A", b"")));
    trace.extend(connection(T0 + 4490 * MS, 2000, 500, "fin"));
    trace.push((T0 + 5100 * MS, tcp(true, 3000, 1, "PA", b"c")));
    trace.push((T0 + 9300 * MS, tcp(true, 1000, 121, "A", b"")));
    trace.sort_by_key(|(t, _)| *t);
    let flows = run(&Analyzer::new(), &trace);
    let a: Vec<&Flow> = flows.iter().filter(|f| f.key.src_port == 1000).collect();
    assert_eq!(a.len(), 2, "the late packet starts a new flow");
    assert_eq!(a[0].end_reason, EndReason::Fin);
    // the same trace without B and C: expiry reaches A in order
    let alone: Trace = trace
        .iter()
        .filter(|(_, f)| f[34..36] == 1000u16.to_be_bytes() || f[36..38] == 1000u16.to_be_bytes())
        .cloned()
        .collect();
    let flows = run(&Analyzer::new(), &alone);
    assert_eq!(flows[0].end_reason, EndReason::Fin);
}

/// The flows in the order they were handed out, and the run's summary.
fn run_with_summary(a: &Analyzer, trace: &Trace) -> (Vec<Flow>, wa1kpcap::RunSummary) {
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535).unwrap();
    for (t, f) in trace {
        w.write(*t, f, f.len() as u32).unwrap();
    }
    let mut cap = Capture::from_bytes(w.into_inner()).unwrap();
    let mut flows = Vec::new();
    let summary = a.stream_capture(&mut cap, |f| flows.push(f)).unwrap();
    (flows, summary)
}

#[test]
fn a_memory_budget_ends_the_least_recent_flows_early_and_loses_nothing() {
    // 2 000 one-packet flows (a SYN scan), all open to the end.
    let trace: Trace = (0..2000u16)
        .map(|i| (T0 + i64::from(i) * MS, tcp(true, 20000 + i, 7, "S", b"")))
        .collect();
    let budget = 100u64 << 10;
    let a = Analyzer::new().max_flow_memory(Some(budget));
    let (flows, summary) = run_with_summary(&a, &trace);
    assert_eq!(flows.len(), 2000, "every flow is written");
    assert_eq!(flows.iter().map(|f| f.packet_count()).sum::<u64>(), 2000);
    let evicted = flows
        .iter()
        .filter(|f| f.end_reason == EndReason::Evicted)
        .count() as u64;
    assert_eq!(evicted, summary.table.flows_evicted);
    // A flow's state is at least 500 bytes (its slot), so at most 204 fit.
    assert!(evicted >= 2000 - 204, "{evicted} evicted");
    assert!(summary.table.max_active_flows <= 204);
    assert!(summary.table.max_flow_bytes <= budget);
    // Evicted in order of activity: the survivors are the last flows.
    let survivors: Vec<u16> = flows
        .iter()
        .filter(|f| f.end_reason != EndReason::Evicted)
        .map(|f| f.key.src_port)
        .collect();
    assert!(survivors.iter().all(|&p| p >= 20000 + 2000 - 204));
    // Without a bound, none ends early.
    let (all, s) = run_with_summary(&Analyzer::new(), &trace);
    assert_eq!((all.len(), s.table.flows_evicted), (2000, 0));
}

#[test]
fn a_flow_whose_packets_grow_past_the_budget_pushes_older_flows_out() {
    // 50 quiet flows, then one flow of 5 000 packets: its rows (tens of
    // bytes each) outgrow a 64 KiB budget, and the quiet flows end early.
    let mut trace: Trace = (0..50u16)
        .map(|i| (T0 + i64::from(i) * MS, tcp(true, 30000 + i, 7, "S", b"")))
        .collect();
    for k in 0..5000u32 {
        trace.push((
            T0 + SEC + i64::from(k) * MS,
            tcp(true, 40000, 1 + k, "PA", b"x"),
        ));
    }
    let a = Analyzer::new().max_flow_memory(Some(64 << 10));
    let (flows, summary) = run_with_summary(&a, &trace);
    assert_eq!(flows.len(), 51);
    let big = flows.iter().find(|f| f.key.src_port == 40000).unwrap();
    assert_eq!(
        big.packet_count(),
        5000,
        "the active flow keeps every packet"
    );
    assert_eq!(big.end_reason, EndReason::EndOfCapture);
    assert_eq!(summary.table.flows_evicted, 50);
}

#[test]
fn a_tcp_parser_made_at_the_first_payload_still_starts_at_the_syn() {
    // The ClientHello in two segments, the second arriving first: the
    // stream must start at SYN + 1 (the parser is made only at the first
    // payload, so the SYN it did not see is replayed into it), or the
    // first half would be taken as before the stream's start and lost.
    let hello = wa1kpcap::sample::tls_client_hello("lazy.example", &["h2"]);
    let (a, b) = hello.split_at(40);
    let isn = 5000u32;
    let trace: Trace = vec![
        (T0, tcp(true, 41000, isn, "S", b"")),
        (T0 + MS, tcp(false, 41000, 9000, "SA", b"")),
        (T0 + 2 * MS, tcp(true, 41000, isn + 1, "A", b"")),
        (T0 + 3 * MS, tcp(true, 41000, isn + 1 + 40, "PA", b)),
        (T0 + 4 * MS, tcp(true, 41000, isn + 1, "PA", a)),
    ];
    let flows = run(&Analyzer::new(), &trace);
    let tls = flows[0].app.as_ref().and_then(|a| a.tls.as_deref());
    let sni = tls
        .and_then(|t| t.client.as_ref())
        .and_then(|c| c.sni.clone());
    assert_eq!(sni.as_deref(), Some("lazy.example"));
    // A flow that never carried payload holds no parser and reports none.
    let syn_only = run(&Analyzer::new(), &trace[..3].to_vec());
    assert!(syn_only[0].app.is_none());
}
