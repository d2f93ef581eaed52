//! TLS hellos and fingerprints against independent tools on the shared
//! corpus: TShark 4.0 (SNI, ALPN, JA3, JA3S per handshake frame) and Arkime
//! (JA4 per session). Needs `WA1KPCAP_CORPUS`; without it the tests say why
//! and pass.
//!
//! The per-direction TCP byte streams are rebuilt with the library's
//! parser-side reassembler (`proto::stream::TcpStream`: sequence order,
//! first arrival wins, early segments held until the hole fills), so these
//! oracles check it too. Only the first connection of a 4-tuple is kept (a
//! reused port starts no new stream).

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use wa1kpcap::capture::Capture;
use wa1kpcap::decode::{decode, Transport};
use wa1kpcap::proto::stream::TcpStream;
use wa1kpcap::proto::tls::{parse_client_hello, parse_server_hello};
use wa1kpcap::proto::Parse;

/// Bytes kept per direction: far more than any hello needs.
const STREAM_CAP_BYTES: usize = 256 * 1024;

type Tuple = (IpAddr, u16, IpAddr, u16);

/// One direction, rebuilt by the library's parser-side reassembler.
struct Stream {
    inner: TcpStream,
    /// A SYN was seen after data: a new connection on the same 4-tuple.
    closed: bool,
}

impl Default for Stream {
    fn default() -> Stream {
        Stream {
            inner: TcpStream::new(STREAM_CAP_BYTES),
            closed: false,
        }
    }
}

impl Stream {
    fn segment(&mut self, seq: u32, syn: bool, payload: &[u8]) {
        if self.closed {
            return;
        }
        if syn {
            if !self.inner.bytes().is_empty() || self.inner.has_hole() {
                self.closed = true;
                return;
            }
            self.inner.syn(seq);
        }
        self.inner.segment(seq, payload);
    }

    fn data(&self) -> &[u8] {
        self.inner.bytes()
    }
}

/// Per-direction TCP streams of a capture, for the 4-tuples `wanted` selects.
fn tcp_streams(path: &Path, wanted: impl Fn(&Tuple) -> bool) -> HashMap<Tuple, Stream> {
    let mut streams: HashMap<Tuple, Stream> = HashMap::new();
    let Ok(mut cap) = Capture::open(path) else {
        return streams;
    };
    let _ = cap.for_each_packet(|raw| {
        let p = decode(raw.linktype, raw.data, raw.wire_len);
        let (Some(ip), Transport::Tcp(t)) = (p.ip, p.transport) else {
            return;
        };
        let key = (ip.src, t.src_port, ip.dst, t.dst_port);
        if !wanted(&key) {
            return;
        }
        let syn = t.flags & 0x02 != 0;
        streams
            .entry(key)
            .or_default()
            .segment(t.seq, syn, t.payload);
    });
    streams
}

/// One TShark handshake row.
struct Row {
    frame: String,
    /// Every address in ip.src / ipv6.src (tunnels list several).
    src: Vec<IpAddr>,
    dst: Vec<IpAddr>,
    sport: u16,
    dport: u16,
    sni: String,
    alpn: String,
    ja3: String,
    ja3s: String,
}

fn addrs(cells: &[&str]) -> Vec<IpAddr> {
    cells
        .iter()
        .flat_map(|c| c.split(','))
        .filter_map(|a| a.parse().ok())
        .collect()
}

/// The first ClientHello rows and first ServerHello rows per TCP 4-tuple.
fn tshark_hellos(tsv: &str) -> (Vec<Row>, Vec<Row>) {
    let (mut clients, mut servers) = (Vec::new(), Vec::new());
    let mut seen = HashSet::new();
    for rec in common::tsv_records(tsv) {
        let get = |name: &str| rec.get(name);
        let types: Vec<&str> = get("tls.handshake.type").split(',').collect();
        let kind = if types.contains(&"1") {
            1
        } else if types.contains(&"2") {
            2
        } else {
            continue;
        };
        let (Ok(sport), Ok(dport)) = (
            get("tcp.srcport")
                .split(',')
                .next_back()
                .unwrap_or("")
                .parse::<u16>(),
            get("tcp.dstport")
                .split(',')
                .next_back()
                .unwrap_or("")
                .parse::<u16>(),
        ) else {
            continue; // DTLS / QUIC over UDP
        };
        let first = |s: &str| s.split(',').next().unwrap_or("").to_owned();
        let row = Row {
            frame: get("frame.number").to_owned(),
            src: addrs(&[get("ip.src"), get("ipv6.src")]),
            dst: addrs(&[get("ip.dst"), get("ipv6.dst")]),
            sport,
            dport,
            sni: first(get("tls.handshake.extensions_server_name")),
            alpn: get("tls.handshake.extensions_alpn_str").to_owned(),
            ja3: first(get("tls.handshake.ja3")),
            ja3s: first(get("tls.handshake.ja3s")),
        };
        let key = (kind, row.src.clone(), row.sport, row.dst.clone(), row.dport);
        if !seen.insert(key) {
            continue;
        }
        if kind == 1 {
            clients.push(row);
        } else {
            servers.push(row);
        }
    }
    (clients, servers)
}

fn find_stream<'a>(streams: &'a HashMap<Tuple, Stream>, row: &Row) -> Option<&'a Stream> {
    streams
        .iter()
        .find(|((s, sp, d, dp), _)| {
            *sp == row.sport && *dp == row.dport && row.src.contains(s) && row.dst.contains(d)
        })
        .map(|(_, st)| st)
}

/// Why a stream was not compared: its hello is not at the stream's start.
/// SSLv2-compatible hellos are compared: the parser refuses them and TShark
/// computes no JA3 for them either.
fn skip_reason(data: &[u8]) -> Option<&'static str> {
    match data {
        [] => Some("no payload in the capture"),
        [0x16, ..] => None,
        [b0, _, 1, ..] if b0 & 0x80 != 0 => None,
        [0x14 | 0x15 | 0x17, 3, ..] => {
            Some("another TLS record (alert, CCS, data) before the hello")
        }
        _ => Some("TLS not at stream start (STARTTLS, proxy, other framing)"),
    }
}

#[derive(Default)]
struct Tally {
    compared: usize,
    matched: usize,
    /// Streams not compared, by reason, with the captures they came from.
    skipped: BTreeMap<&'static str, Vec<String>>,
    mismatches: Vec<String>,
}

impl Tally {
    fn skip(&mut self, why: &'static str, capture: &str) {
        self.skipped
            .entry(why)
            .or_default()
            .push(capture.to_owned());
    }
    fn report_skips(&self, what: &str) {
        for (why, captures) in &self.skipped {
            let mut names = captures.clone();
            names.dedup();
            println!(
                "  skipped {what}: {} {why}: {}",
                captures.len(),
                names.join(" ")
            );
        }
    }
    fn rate(&self) -> f64 {
        self.matched as f64 / self.compared.max(1) as f64
    }
}

#[test]
fn hellos_match_tshark() {
    let Some(corpus) = common::corpus("the TLS oracle test") else {
        return;
    };
    let (mut up, mut down) = (Tally::default(), Tally::default());
    let mut in_flows = Tally::default();
    for (rel, tsv) in common::tshark_exports(&corpus) {
        let (clients, servers) = tshark_hellos(&tsv);
        if clients.is_empty() && servers.is_empty() {
            continue;
        }
        let capture = corpus.join(&rel);
        let ports: HashSet<(u16, u16)> = clients
            .iter()
            .chain(&servers)
            .map(|r| (r.sport, r.dport))
            .collect();
        let streams = tcp_streams(&capture, |k| ports.contains(&(k.1, k.3)));
        let name = rel.display().to_string();

        for row in &clients {
            let Some(stream) = find_stream(&streams, row) else {
                up.skip("stream not decoded (tunnel/link not matched)", &name);
                continue;
            };
            if let Some(why) = skip_reason(stream.data()) {
                up.skip(why, &name);
                continue;
            }
            up.compared += 1;
            let got = match parse_client_hello(stream.data()) {
                Parse::Done(ch) => ch,
                // TShark stops at a malformed hello too and computes no JA3
                // (pcapplusplus ssl-malformed1: server_name body too short):
                // both refuse, which is agreement.
                Parse::Malformed(_) if row.ja3.is_empty() => {
                    up.matched += 1;
                    continue;
                }
                other => {
                    up.mismatches.push(format!(
                        "{name} frame {}: ClientHello {:?}",
                        row.frame,
                        other.map_err_kind()
                    ));
                    continue;
                }
            };
            let sni = got.sni.clone().unwrap_or_default();
            let alpn = got.alpn.join(",");
            let ja3 = got.ja3_hash();
            if sni == row.sni && alpn == row.alpn && ja3 == row.ja3 {
                up.matched += 1;
            } else {
                up.mismatches.push(format!(
                    "{name} frame {}: sni {sni:?}/{:?} alpn {alpn:?}/{:?} ja3 {ja3}/{} ({})",
                    row.frame,
                    row.sni,
                    row.alpn,
                    row.ja3,
                    got.ja3_string()
                ));
            }
        }
        // The same ClientHellos through the whole engine: the flow of that
        // 5-tuple (the earliest, as the streams keep the first connection)
        // carries them.
        if !clients.is_empty() {
            let flows = wa1kpcap::Analyzer::new()
                .analyze_file(&capture)
                .unwrap_or_default();
            for row in &clients {
                let comparable = find_stream(&streams, row)
                    .is_some_and(|st| skip_reason(st.data()).is_none() && !row.ja3.is_empty());
                if !comparable {
                    continue;
                }
                in_flows.compared += 1;
                // Some flow of that 5-tuple (a reused or split connection
                // makes several) carries the hello.
                let of_tuple: Vec<&wa1kpcap::Flow> = flows
                    .iter()
                    .filter(|f| {
                        let k = &f.key;
                        (k.src_port == row.sport
                            && k.dst_port == row.dport
                            && row.src.contains(&k.src_ip)
                            && row.dst.contains(&k.dst_ip))
                            || (k.src_port == row.dport
                                && k.dst_port == row.sport
                                && row.src.contains(&k.dst_ip)
                                && row.dst.contains(&k.src_ip))
                    })
                    .collect();
                // (the flow's stored fingerprint, as the dataset writes it)
                let hellos: Vec<(&wa1kpcap::proto::tls::ClientHello, &str)> = of_tuple
                    .iter()
                    .filter_map(|f| {
                        let t = f.app.as_ref()?.tls.as_deref()?;
                        Some((t.client.as_ref()?, t.fingerprints.ja3_hash.as_str()))
                    })
                    .collect();
                if hellos.iter().any(|(ch, ja3)| {
                    ch.sni.clone().unwrap_or_default() == row.sni
                        && ch.alpn.join(",") == row.alpn
                        && *ja3 == row.ja3
                }) {
                    in_flows.matched += 1;
                } else {
                    in_flows.mismatches.push(format!(
                        "{name} frame {}: {} flows of the 5-tuple, hellos {:?}",
                        row.frame,
                        of_tuple.len(),
                        hellos
                            .iter()
                            .map(|(c, ja3)| (&c.sni, *ja3))
                            .collect::<Vec<_>>()
                    ));
                }
            }
        }
        for row in &servers {
            let Some(stream) = find_stream(&streams, row) else {
                down.skip("stream not decoded (tunnel/link not matched)", &name);
                continue;
            };
            if let Some(why) = skip_reason(stream.data()) {
                down.skip(why, &name);
                continue;
            }
            down.compared += 1;
            match parse_server_hello(stream.data()) {
                Parse::Done(sh) if sh.ja3s_hash() == row.ja3s => down.matched += 1,
                Parse::Malformed(_) if row.ja3s.is_empty() => down.matched += 1,
                Parse::Done(sh) => down.mismatches.push(format!(
                    "{name} frame {}: ja3s {}/{} ({})",
                    row.frame,
                    sh.ja3s_hash(),
                    row.ja3s,
                    sh.ja3s_string()
                )),
                other => down.mismatches.push(format!(
                    "{name} frame {}: ServerHello {:?}",
                    row.frame,
                    other.map_err_kind()
                )),
            }
        }
    }
    println!(
        "tls: {}/{} client hellos match tshark (sni, alpn, ja3); {}/{} server hellos (ja3s)",
        up.matched, up.compared, down.matched, down.compared
    );
    println!(
        "tls in flows: {}/{} ClientHellos tshark sees are on their flow (sni, alpn, ja3)",
        in_flows.matched, in_flows.compared
    );
    up.report_skips("client streams");
    down.report_skips("server streams");
    for m in up
        .mismatches
        .iter()
        .chain(&down.mismatches)
        .chain(&in_flows.mismatches)
    {
        println!("  mismatch: {m}");
    }
    assert!(in_flows.compared > 100, "too few flows compared");
    assert!(
        in_flows.rate() >= MIN_CLIENT_MATCH,
        "flow match rate {}",
        in_flows.rate()
    );
    assert!(up.compared > 100, "too few ClientHellos compared");
    assert!(
        up.rate() >= MIN_CLIENT_MATCH,
        "client match rate {}",
        up.rate()
    );
    assert!(
        down.rate() >= MIN_SERVER_MATCH,
        "server match rate {}",
        down.rate()
    );
}

/// Measured rates, kept as floors (residuals explained in schemas/tls.md).
const MIN_CLIENT_MATCH: f64 = 1.0;
const MIN_SERVER_MATCH: f64 = 1.0;
const MIN_JA4_MATCH: f64 = 1.0;

trait Kind {
    fn map_err_kind(&self) -> &'static str;
}

impl<T> Kind for Parse<T> {
    fn map_err_kind(&self) -> &'static str {
        match self {
            Parse::Done(_) => "done",
            Parse::NeedMore => "needs more bytes",
            Parse::Malformed(why) => why,
        }
    }
}

#[test]
fn ja4_matches_arkime() {
    let Some(corpus) = common::corpus("the JA4 oracle test") else {
        return;
    };
    let Ok(dir) = fs::read_dir(corpus.join("arkime/expected")) else {
        eprintln!("no arkime/expected in the corpus");
        return;
    };
    let mut tests: Vec<PathBuf> = dir.flatten().map(|e| e.path()).collect();
    tests.sort();
    let mut tally = Tally::default();
    for test in tests {
        let Ok(text) = fs::read_to_string(&test) else {
            continue;
        };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let Some(sessions) = json["sessions3"].as_array() else {
            continue;
        };
        // (client tuple, ja4 values) of TCP sessions with a JA4.
        let mut wanted = Vec::new();
        for s in sessions {
            let b = &s["body"];
            let Some(ja4) = b["tls"]["ja4"].as_array() else {
                continue;
            };
            if b["ipProtocol"].as_u64() != Some(6) {
                tally.skip("not TCP (QUIC, DTLS)", &test.display().to_string());
                continue;
            }
            let ip = |side: &str| {
                b[side]["ip"]
                    .as_str()
                    .and_then(|a| a.parse::<IpAddr>().ok())
            };
            let port = |side: &str| b[side]["port"].as_u64().and_then(|p| u16::try_from(p).ok());
            let (Some(si), Some(sp), Some(di), Some(dp)) = (
                ip("source"),
                port("source"),
                ip("destination"),
                port("destination"),
            ) else {
                continue;
            };
            let values: Vec<String> = ja4
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            wanted.push(((si, sp, di, dp), values));
        }
        if wanted.is_empty() {
            continue;
        }
        let stem = test
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let capture = corpus.join("arkime/pcap").join(format!("{stem}.pcap"));
        let keys: HashSet<Tuple> = wanted.iter().map(|(k, _)| *k).collect();
        let streams = tcp_streams(&capture, |k| keys.contains(k));
        for (key, values) in wanted {
            let data = streams.get(&key).map(|s| s.data()).unwrap_or(&[]);
            if let Some(why) = skip_reason(data) {
                tally.skip(why, &stem);
                continue;
            }
            tally.compared += 1;
            match parse_client_hello(data) {
                Parse::Done(ch) if values.contains(&ch.ja4(false)) => tally.matched += 1,
                Parse::Done(ch) => tally.mismatches.push(format!(
                    "{stem} {key:?}: {} / arkime {values:?}",
                    ch.ja4(false)
                )),
                other => tally.mismatches.push(format!(
                    "{stem} {key:?}: ClientHello {}",
                    other.map_err_kind()
                )),
            }
        }
    }
    println!("ja4: {}/{} match arkime", tally.matched, tally.compared);
    tally.report_skips("sessions");
    for m in &tally.mismatches {
        println!("  mismatch: {m}");
    }
    assert!(tally.compared > 10, "too few JA4 sessions compared");
    assert!(
        tally.rate() >= MIN_JA4_MATCH,
        "ja4 match rate {}",
        tally.rate()
    );
}
