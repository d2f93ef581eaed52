//! Generators of the short-flow inputs of the per-flow cost benchmarks
//! (issue 13): real corpora are mostly scans, floods, DNS and one-request
//! HTTPS, where the cost is per flow, not per packet.
//!
//! usage: cargo bench --no-default-features --bench shortflows -- KIND OUT [N]
//!   flood  N one-packet TCP SYN flows (default 1 000 000), one µs apart,
//!          from distinct sources, plus one 10 000-packet TCP flow through
//!          them: every flow but the long one stays open to the end.
//!   mix    N TLS flows of 16 packets (default 10 000: handshake with SNI
//!          and ALPN, ServerHello, data, FIN) and 2·N DNS query/answer
//!          flows, overlapping in time.
//!
//! `cargo bench` passes `--bench` to every bench binary; it is ignored.

use std::fs::File;
use std::io::{self, BufWriter};
use std::net::Ipv4Addr;

use wa1kpcap::capture::writer::PcapWriter;
use wa1kpcap::capture::LinkType;
use wa1kpcap::sample::{
    dns_message, tcp4 as tcp, tls_client_hello, tls_server_hello, udp4, SAMPLE_START_NS,
};

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let (Some(kind), Some(out)) = (args.first(), args.get(1)) else {
        eprintln!("usage: shortflows flood|mix OUT [N]");
        std::process::exit(2);
    };
    let n: Option<usize> = args.get(2).and_then(|s| s.parse().ok());
    let mut w = PcapWriter::new(
        BufWriter::with_capacity(1 << 20, File::create(out)?),
        LinkType::ETHERNET,
        65535,
    )?;
    let packets = match kind.as_str() {
        "flood" => flood(&mut w, n.unwrap_or(1_000_000))?,
        "mix" => mix(&mut w, n.unwrap_or(10_000))?,
        _ => {
            eprintln!("unknown kind {kind}: flood or mix");
            std::process::exit(2);
        }
    };
    use std::io::Write;
    w.into_inner().flush()?;
    eprintln!("{out}: {packets} packets");
    Ok(())
}

/// The n-th distinct client: address 10.x.y.z from `i` (distinct for
/// i < 2^24), one port.
fn client(i: usize) -> ([u8; 4], u16) {
    let addr = [10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
    (addr, 1024 + (i >> 24) as u16)
}

fn flood(w: &mut PcapWriter<impl io::Write>, n: usize) -> io::Result<u64> {
    const LONG: usize = 10_000;
    let server = [192, 0, 2, 80];
    let long_client = [198, 51, 100, 7];
    // The long flow's packets are spread evenly through the flood.
    let every = (n / LONG).max(1);
    let (mut seq_up, mut seq_down) = (1u32, 1u32);
    let mut long_sent = 0usize;
    let mut written = 0u64;
    let payload = [0x5au8; 100];
    for i in 0..n {
        let ts = SAMPLE_START_NS + i as i64 * 1_000;
        let (src, sp) = client(i);
        let syn = tcp(src, server, sp, 80, i as u32, None, "S", &[])?;
        w.write(ts, &syn, syn.len() as u32)?;
        written += 1;
        if i % every == 0 && long_sent < LONG {
            let up = long_sent.is_multiple_of(2);
            let f = if long_sent == 0 {
                tcp(long_client, server, 40000, 443, 0, None, "S", &[])?
            } else if up {
                seq_up = seq_up.wrapping_add(100);
                tcp(
                    long_client,
                    server,
                    40000,
                    443,
                    seq_up,
                    Some(seq_down),
                    "PA",
                    &payload,
                )?
            } else {
                seq_down = seq_down.wrapping_add(100);
                tcp(
                    server,
                    long_client,
                    443,
                    40000,
                    seq_down,
                    Some(seq_up),
                    "PA",
                    &payload,
                )?
            };
            w.write(ts + 500, &f, f.len() as u32)?;
            long_sent += 1;
            written += 1;
        }
    }
    Ok(written)
}

fn mix(w: &mut PcapWriter<impl io::Write>, n: usize) -> io::Result<u64> {
    let server = [192, 0, 2, 44];
    let resolver = [192, 0, 2, 53];
    let mut frames: Vec<(i64, Vec<u8>)> = Vec::with_capacity(n * 20);
    let hello = |i: usize| tls_client_hello(&format!("host{i}.example.com"), &["h2", "http/1.1"]);
    for i in 0..n {
        // A new TLS flow every 50 µs, each about 20 ms long.
        let t0 = SAMPLE_START_NS + i as i64 * 50_000;
        let (c, cp) = client(i);
        let (mut cs, mut ss) = (1000u32, 9000u32);
        let mut at = t0;
        let mut push = |gap_us: i64, f: Vec<u8>| {
            at += gap_us * 1000;
            frames.push((at, f));
        };
        push(0, tcp(c, server, cp, 443, cs, None, "S", &[])?);
        cs += 1;
        push(900, tcp(server, c, 443, cp, ss, Some(cs), "S", &[])?);
        ss += 1;
        push(100, tcp(c, server, cp, 443, cs, Some(ss), "", &[])?);
        let ch = hello(i);
        push(50, tcp(c, server, cp, 443, cs, Some(ss), "P", &ch)?);
        cs += ch.len() as u32;
        let sh = tls_server_hello(0xc02f);
        push(1000, tcp(server, c, 443, cp, ss, Some(cs), "P", &sh)?);
        ss += sh.len() as u32;
        for k in 0..4 {
            let mut up = vec![0x17u8, 3, 3, 0, 32];
            up.resize(5 + 32, k as u8);
            push(2000, tcp(c, server, cp, 443, cs, Some(ss), "P", &up)?);
            cs += up.len() as u32;
            // An application-data record (RFC 8446 §5.1).
            let len = 600 + k * 100;
            let mut down = vec![0x17u8, 3, 3];
            down.extend_from_slice(&(len as u16).to_be_bytes());
            down.resize(5 + len, 0xa5);
            push(1000, tcp(server, c, 443, cp, ss, Some(cs), "P", &down)?);
            ss += down.len() as u32;
        }
        push(500, tcp(c, server, cp, 443, cs, Some(ss), "F", &[])?);
        cs += 1;
        push(900, tcp(server, c, 443, cp, ss, Some(cs), "F", &[])?);
        ss += 1;
        push(100, tcp(c, server, cp, 443, cs, Some(ss), "", &[])?);
        // Two DNS lookups per TLS flow, from other clients.
        for d in 0..2 {
            let (dc, dp) = client(n + 2 * i + d);
            let name = format!("q{}.example.net", 2 * i + d);
            let id = (2 * i + d) as u16;
            let tq = t0 + d as i64 * 20_000;
            frames.push((
                tq,
                udp4(dc, resolver, dp, 53, &dns_message(id, &name, None))?,
            ));
            let answer = dns_message(id, &name, Some(Ipv4Addr::new(192, 0, 2, 99)));
            frames.push((tq + 3_000_000, udp4(resolver, dc, 53, dp, &answer)?));
        }
    }
    frames.sort_by_key(|(t, _)| *t);
    for (ts, f) in &frames {
        w.write(*ts, f, f.len() as u32)?;
    }
    Ok(frames.len() as u64)
}
