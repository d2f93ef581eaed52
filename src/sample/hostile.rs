//! Hostile captures: one generator for each input shape that tries to make
//! one packet cost more than its share (the worst-case contract of
//! `schemas/reliability.md`). The benchmark `benches/hostile.rs` times
//! each against benign traffic of the same packet count; the tests check
//! the bounds each shape meets.
//!
//! Every generator is deterministic and returns Ethernet frames with
//! timestamps (µs apart), `n` of them (give or take a handshake).

use std::io;

use etherparse::PacketBuilder;

use super::{
    ethernet, ipv4_header, tcp4, tls_client_hello, udp4, CLIENT_MAC, SAMPLE_START_NS, SERVER_MAC,
};

/// A capture shape: its name, what it attacks, and its frames.
pub struct Shape {
    pub name: &'static str,
    pub attacks: &'static str,
    pub frames: Vec<(i64, Vec<u8>)>,
    /// Empty options on every packet block (written as pcapng), or 0 (pcap).
    pub pcapng_options: usize,
    /// Its flows are one packet each (the attack needs many flows): it is
    /// also compared with [`one_packet_flows`], whose cost is per flow.
    pub one_packet_flows: bool,
    /// Converted with `--partition-by date` (its attack is on partitions).
    pub by_date: bool,
}

impl Shape {
    /// The capture file's bytes.
    pub fn capture(&self) -> io::Result<Vec<u8>> {
        if self.pcapng_options > 0 {
            pcapng_option_flood(&self.frames, self.pcapng_options)
        } else {
            super::pcap_of(self.frames.iter().cloned())
        }
    }
}

/// Every shape, `n` packets each.
pub fn shapes(n: usize) -> io::Result<Vec<Shape>> {
    let shape = |name, attacks, frames: Vec<Vec<u8>>| Shape {
        name,
        attacks,
        frames: timed(frames),
        pcapng_options: 0,
        one_packet_flows: false,
        by_date: false,
    };
    let per_flow = |mut s: Shape| {
        s.one_packet_flows = true;
        s
    };
    Ok(vec![
        per_flow(shape(
            "flow_index_collisions",
            "flow table index (keys crafted against the former unkeyed mix)",
            index_collisions(n)?,
        )),
        per_flow(shape(
            "worker_steering",
            "worker choice (address pairs crafted against the former unkeyed mix)",
            steering_pairs(n)?,
        )),
        shape(
            "tcp_out_of_order",
            "TCP reassembly: segments with gaps, newest first",
            tcp_out_of_order(n)?,
        ),
        shape(
            "tcp_overlap_storm",
            "TCP reassembly: each segment overlaps the last",
            tcp_overlaps(n)?,
        ),
        shape(
            "fragment_flood",
            "IP reassembly: first fragments that never complete",
            fragment_flood(n),
        ),
        shape(
            "fragment_overlaps",
            "IP reassembly: overlapping pieces of few datagrams",
            fragment_overlaps(n),
        ),
        // (a DNS response ends its UDP flow: one flow a packet)
        per_flow(shape(
            "dns_pointer_chains",
            "DNS names: compression pointers to pointers",
            dns_pointer_chains(n)?,
        )),
        shape(
            "ipv6_extension_chains",
            "decoder: IPv6 extension headers back to back",
            ipv6_extension_chains(n)?,
        ),
        shape(
            "nested_tunnels",
            "decoder: GRE in GRE past the nesting bound",
            nested_tunnels(n),
        ),
        shape(
            "tls_many_extensions",
            "TLS hello: thousands of extensions over many segments",
            tls_many_extensions(n)?,
        ),
        shape(
            "tls_many_certificates",
            "TLS Certificate: thousands of certificates",
            tls_many_certificates(n)?,
        ),
        shape(
            "http_many_lines",
            "HTTP heads: thousands of header lines",
            http_many_lines(n)?,
        ),
        shape(
            "quic_one_byte_crypto",
            "QUIC CRYPTO frames of one byte each",
            quic_one_byte_crypto(n)?,
        ),
        Shape {
            name: "pcapng_option_flood",
            attacks: "pcapng reader: 2 000 options on every packet block",
            frames: benign(n)?,
            pcapng_options: 2_000,
            one_packet_flows: false,
            by_date: false,
        },
        Shape {
            name: "partition_thrash",
            attacks: "date partitions: flows ending for 40 days in turn",
            frames: partition_thrash(n)?,
            pcapng_options: 0,
            one_packet_flows: true,
            by_date: true,
        },
    ])
}

/// Frames 1 µs apart from the sample's start.
fn timed(frames: Vec<Vec<u8>>) -> Vec<(i64, Vec<u8>)> {
    frames
        .into_iter()
        .enumerate()
        .map(|(i, f)| (SAMPLE_START_NS + i as i64 * 1_000, f))
        .collect()
}

/// A client's handshake, then `data` as segments of at most 1400 bytes
/// from the client: the frames of one TCP flow.
fn tcp_stream(
    src: [u8; 4],
    dst: [u8; 4],
    sp: u16,
    dp: u16,
    data: &[u8],
) -> io::Result<Vec<Vec<u8>>> {
    let (c, s) = (1000u32, 9000u32);
    let mut out = vec![
        tcp4(src, dst, sp, dp, c, None, "S", &[])?,
        tcp4(dst, src, dp, sp, s, Some(c + 1), "S", &[])?,
        tcp4(src, dst, sp, dp, c + 1, Some(s + 1), "", &[])?,
    ];
    for (i, piece) in data.chunks(1400).enumerate() {
        out.push(tcp4(
            src,
            dst,
            sp,
            dp,
            c + 1 + (i * 1400) as u32,
            Some(s + 1),
            "P",
            piece,
        )?);
    }
    Ok(out)
}

/// Flows of `make(i)`'s frames, appended until `n` frames.
fn flows_until(
    n: usize,
    mut make: impl FnMut(usize) -> io::Result<Vec<Vec<u8>>>,
) -> io::Result<Vec<Vec<u8>>> {
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    while out.len() < n {
        out.extend(make(i)?);
        i += 1;
    }
    out.truncate(n);
    Ok(out)
}

/// The flow-index hash wa1kpcap used before keyed hashing (an attacker's
/// model of it): a fixed multiply-rotate over the canonical key's words,
/// then a bijective finaliser, so equal states before the finaliser
/// collide.
const FORMER_MUL: u64 = 0x0100_0000_01b3_d5a7;

fn former_round(h: u64, v: u64) -> u64 {
    (h ^ v).wrapping_mul(FORMER_MUL).rotate_left(29)
}

/// Inverse of `FORMER_MUL` modulo 2^64 (Newton's iteration).
fn inverse(a: u64) -> u64 {
    let mut x = a;
    for _ in 0..6 {
        x = x.wrapping_mul(2u64.wrapping_sub(a.wrapping_mul(x)));
    }
    x
}

/// `n` one-packet IPv6 UDP flows whose canonical keys all shared one value
/// of the former unkeyed index hash: the low address is fixed, the high
/// one's first word varies and its second word is solved for so that the
/// state after both words is the same for every flow.
pub fn index_collisions(n: usize) -> io::Result<Vec<Vec<u8>>> {
    index_collision_pairs(n)
        .into_iter()
        .map(|(lo, hi)| udp6(hi, lo, 5353, 5353, b"hostile"))
        .collect()
}

/// The (low, high) address pairs of [`index_collisions`].
pub fn index_collision_pairs(n: usize) -> Vec<([u8; 16], [u8; 16])> {
    let lo: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let h = former_state(&lo, None);
    let target = 0x0123_4567_89ab_cdefu64;
    let inv = inverse(FORMER_MUL);
    (0..n)
        .map(|i| {
            // high address: first byte 0xfd (above `lo`), then the counter
            let w2 = 0xfd | (i as u64) << 8;
            let h3 = former_round(h, w2);
            let w3 = h3 ^ target.rotate_right(29).wrapping_mul(inv);
            let mut hi = [0u8; 16];
            hi[..8].copy_from_slice(&w2.to_le_bytes());
            hi[8..].copy_from_slice(&w3.to_le_bytes());
            (lo, hi)
        })
        .collect()
}

/// The former index hash's state after the low address and, if given,
/// the high one (the port word and the bijective finaliser add nothing
/// that could separate keys equal so far).
fn former_state(lo: &[u8; 16], hi: Option<&[u8; 16]>) -> u64 {
    let word = |b: &[u8; 16], i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i..i + 8]);
        u64::from_le_bytes(w)
    };
    let mut h = 0x9e37_79b9_7f4a_7c15u64;
    h = former_round(h, word(lo, 0));
    h = former_round(h, word(lo, 8));
    if let Some(hi) = hi {
        h = former_round(h, word(hi, 0));
        h = former_round(h, word(hi, 8));
    }
    h
}

/// The former worker hash of an address pair (as 128-bit numbers).
#[cfg(test)]
fn former_pair_hash(a: u128, b: u128) -> u64 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let x = lo.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ hi.rotate_left(61);
    let h = (x as u64) ^ ((x >> 64) as u64);
    h.wrapping_mul(0xD6E8_FEB8_6659_FD93) ^ (h >> 29)
}

/// `n` one-packet IPv6 UDP flows on distinct address pairs that the former
/// unkeyed worker hash sent to one worker: the pair hash folded
/// `lo · C ^ rotl(hi, 61)` to 64 bits, so high addresses whose rotated
/// halves XOR to one constant all met.
pub fn steering_pairs(n: usize) -> io::Result<Vec<Vec<u8>>> {
    steering_addresses(n)
        .into_iter()
        .map(|(lo, hi)| udp6(hi.to_be_bytes(), lo.to_be_bytes(), 4000, 4001, b"steer"))
        .collect()
}

/// The (low, high) address pairs of [`steering_pairs`], as numbers.
pub fn steering_addresses(n: usize) -> Vec<(u128, u128)> {
    let lo: u128 = 0x2001_0db8_0000_0000_0000_0000_0000_0001;
    let k = 0x0f0f_0f0f_0f0f_0f0fu64;
    let mut out = Vec::with_capacity(n);
    let mut i = 0u64;
    while out.len() < n {
        i += 1;
        let r_lo = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1 << 63;
        let r = u128::from(r_lo ^ k) << 64 | u128::from(r_lo);
        let hi = r.rotate_right(61);
        if hi > lo {
            out.push((lo, hi));
        }
    }
    out
}

fn udp6(src: [u8; 16], dst: [u8; 16], sp: u16, dp: u16, payload: &[u8]) -> io::Result<Vec<u8>> {
    let b = PacketBuilder::ethernet2(CLIENT_MAC, SERVER_MAC)
        .ipv6(src, dst, 64)
        .udp(sp, dp);
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, payload).map_err(io::Error::other)?;
    Ok(out)
}

/// One TLS-port connection whose 100-byte segments arrive newest first,
/// each leaving a gap before the one after it: a reassembler keeping every
/// piece holds `n` ranges.
pub fn tcp_out_of_order(n: usize) -> io::Result<Vec<Vec<u8>>> {
    let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let mut out = tcp_stream(a, b, 40000, 443, &[])?;
    let piece = [0x16u8; 100];
    for i in (0..n.saturating_sub(3)).rev() {
        let seq = 1001u32.wrapping_add(((i + 1) * 200) as u32);
        out.push(tcp4(a, b, 40000, 443, seq, Some(9001), "P", &piece)?);
    }
    Ok(out)
}

/// One connection whose 1 400-byte segments each start one byte after the
/// previous one: every segment overlaps the last 1 399 bytes.
pub fn tcp_overlaps(n: usize) -> io::Result<Vec<Vec<u8>>> {
    let (a, b) = ([10, 0, 1, 1], [10, 0, 1, 2]);
    let mut out = tcp_stream(a, b, 40001, 80, &[])?;
    let piece = [b'A'; 1400];
    for i in 0..n.saturating_sub(3) {
        out.push(tcp4(
            a,
            b,
            40001,
            80,
            1001 + i as u32,
            Some(9001),
            "P",
            &piece,
        )?);
    }
    Ok(out)
}

/// `n` first fragments of distinct datagrams that never complete.
pub fn fragment_flood(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let src = [10, 1, (i >> 16) as u8, (i >> 8) as u8];
            let mut ip = ipv4_header(src, [10, 2, 0, 1], 17, i as u16, 1024, 0, true);
            ip.extend(std::iter::repeat_n(0x55u8, 1024));
            ethernet(0x0800, &ip)
        })
        .collect()
}

/// Pieces of 16 datagrams at every 8-byte offset, each 1 024 bytes long,
/// so each overlaps the 127 before it; none ever completes.
pub fn fragment_overlaps(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let id = (i % 16) as u16;
            let off = ((i / 16) % 8000) as u16 + 1;
            let mut ip = ipv4_header([10, 3, 0, 1], [10, 3, 0, 2], 17, id, 1024, off, true);
            ip.extend(std::iter::repeat_n(0x66u8, 1024));
            ethernet(0x0800, &ip)
        })
        .collect()
}

/// DNS responses whose answers' names each end in a chain of compression
/// pointers, each pointing at the one before: a reader that follows every
/// pointer walks the whole chain for every answer.
pub fn dns_pointer_chains(n: usize) -> io::Result<Vec<Vec<u8>>> {
    let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(b"\x01a\x00\x00\x01\x00\x01");
    // pointer k at offset p_k points to p_{k-1}; the first to the question
    let mut prev = 12u16;
    let chain = 300;
    for _ in 0..chain {
        let at = m.len() as u16;
        m.extend_from_slice(&(0xc000 | prev).to_be_bytes());
        prev = at;
    }
    let mut answers = 0u16;
    while m.len() + 16 < 1400 {
        m.extend_from_slice(&(0xc000 | prev).to_be_bytes());
        m.extend_from_slice(&[0, 1, 0, 1, 0, 0, 1, 0, 0, 4, 10, 0, 0, 1]);
        answers += 1;
    }
    m[6..8].copy_from_slice(&answers.to_be_bytes());
    (0..n)
        .map(|i| {
            let client = [10, 4, (i >> 8) as u8, i as u8];
            udp4([10, 4, 255, 1], client, 53, 53000, &m)
        })
        .collect()
}

/// IPv6 packets with 150 destination-options headers before UDP.
pub fn ipv6_extension_chains(n: usize) -> io::Result<Vec<Vec<u8>>> {
    (0..n)
        .map(|i| {
            let mut chain = Vec::new();
            let headers = 150;
            for k in 0..headers {
                let next = if k + 1 == headers { 17 } else { 60 };
                // next header, length 0 (8 bytes), PadN over the rest
                chain.extend_from_slice(&[next, 0, 1, 4, 0, 0, 0, 0]);
            }
            let mut udp = Vec::new();
            udp.extend_from_slice(&4000u16.to_be_bytes());
            udp.extend_from_slice(&4001u16.to_be_bytes());
            udp.extend_from_slice(&12u16.to_be_bytes());
            udp.extend_from_slice(&[0, 0, 1, 2, 3, 4]);
            chain.extend(udp);
            let mut ip = vec![0x60, 0, 0, 0];
            ip.extend_from_slice(&(chain.len() as u16).to_be_bytes());
            ip.extend_from_slice(&[60, 64]);
            let mut src = [0u8; 16];
            src[0] = 0x20;
            src[14..].copy_from_slice(&((i >> 4) as u16).to_be_bytes());
            let mut dst = [0u8; 16];
            dst[0] = 0x20;
            dst[15] = 1;
            ip.extend_from_slice(&src);
            ip.extend_from_slice(&dst);
            ip.extend(chain);
            Ok(ethernet(0x86dd, &ip))
        })
        .collect()
}

/// IPv4 packets of GRE in GRE 40 deep around a UDP datagram.
pub fn nested_tunnels(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let mut inner = ipv4_header(
                [10, 5, 0, 1],
                [10, 5, (i >> 8) as u8, i as u8],
                17,
                1,
                12,
                0,
                false,
            );
            inner.extend_from_slice(&[0x0f, 0xa0, 0x0f, 0xa1, 0, 12, 0, 0, 1, 2, 3, 4]);
            for _ in 0..40 {
                let mut gre = vec![0, 0, 0x08, 0x00];
                gre.extend_from_slice(&inner);
                inner = ipv4_header(
                    [10, 6, 0, 1],
                    [10, 6, 0, 2],
                    47,
                    1,
                    gre.len() as u16,
                    0,
                    false,
                );
                inner.extend_from_slice(&gre);
            }
            ethernet(0x0800, &inner)
        })
        .collect()
}

/// Connections whose ClientHello carries 3 500 empty extensions of
/// distinct types (14 KB in 11 segments: within the 16 KiB a direction's
/// parser reads).
pub fn tls_many_extensions(n: usize) -> io::Result<Vec<Vec<u8>>> {
    tls_hello_with_extensions(n, 3_500)
}

/// `n` frames of connections whose ClientHello carries `count` empty
/// extensions of distinct types (4 bytes each).
pub fn tls_hello_with_extensions(n: usize, count: u16) -> io::Result<Vec<Vec<u8>>> {
    let mut extra = Vec::with_capacity(4 * usize::from(count));
    for t in 0..count {
        extra.extend_from_slice(&(0x1000u16.wrapping_add(t)).to_be_bytes());
        extra.extend_from_slice(&[0, 0]);
    }
    let hello = handshake_records(&client_hello_with("hostile.example", &["h2"], &extra));
    flows_until(n, |i| {
        tcp_stream(
            [10, 7, (i >> 8) as u8, i as u8],
            [10, 7, 255, 1],
            40000,
            443,
            &hello,
        )
    })
}

/// The sample's ClientHello handshake message (type, length, body) with
/// `extra` appended to its extensions block, both lengths grown.
fn client_hello_with(sni: &str, alpn: &[&str], extra: &[u8]) -> Vec<u8> {
    let mut m = tls_client_hello(sni, alpn)[5..].to_vec();
    // after the 4-byte header: version 2, random 32, session id, suites,
    // compression, then the extensions block's length
    let mut p = 4 + 34;
    p += 1 + usize::from(m[p]);
    p += 2 + usize::from(u16::from_be_bytes([m[p], m[p + 1]]));
    p += 1 + usize::from(m[p]);
    m.extend_from_slice(extra);
    let ext = (m.len() - p - 2) as u16;
    m[p..p + 2].copy_from_slice(&ext.to_be_bytes());
    let body = (m.len() - 4) as u32;
    m[1..4].copy_from_slice(&body.to_be_bytes()[1..]);
    m
}

/// A handshake message of `kind` (header and body).
fn handshake_message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut msg = vec![kind];
    msg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    msg.extend_from_slice(body);
    msg
}

/// A handshake message cut into TLS records of at most 16 KiB.
fn handshake_records(msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in msg.chunks(16_384) {
        out.extend_from_slice(&[0x16, 3, 3]);
        out.extend_from_slice(&(piece.len() as u16).to_be_bytes());
        out.extend_from_slice(piece);
    }
    out
}

/// Connections whose server sends a Certificate message of 4 000 distinct
/// 12-byte "certificates" (what fits a TLS 1.2 chain of 64 KB).
pub fn tls_many_certificates(n: usize) -> io::Result<Vec<Vec<u8>>> {
    let mut list = Vec::new();
    for i in 0..4_000u32 {
        // a 12-byte DER SEQUENCE { INTEGER i, NULL, NULL }
        list.extend_from_slice(&[0, 0, 12, 0x30, 10, 0x02, 4]);
        list.extend_from_slice(&i.to_be_bytes());
        list.extend_from_slice(&[0x05, 0, 0x05, 0]);
    }
    let mut body = (list.len() as u32).to_be_bytes()[1..].to_vec();
    body.extend(list);
    let certs = handshake_records(&handshake_message(11, &body));
    let hello = tls_client_hello("certs.example", &["h2"]);
    let server_hello = super::tls_server_hello(0xc02f);
    flows_until(n, |i| {
        let (c, s) = ([10, 8, (i >> 8) as u8, i as u8], [10, 8, 255, 1]);
        let mut f = tcp_stream(c, s, 40000, 443, &hello)?;
        let mut data = server_hello.clone();
        data.extend_from_slice(&certs);
        for (k, piece) in data.chunks(1400).enumerate() {
            let seq = 9001 + (k * 1400) as u32;
            f.push(tcp4(
                s,
                c,
                443,
                40000,
                seq,
                Some(1001 + hello.len() as u32),
                "P",
                piece,
            )?);
        }
        Ok(f)
    })
}

/// Connections whose request head has 12 000 header lines (60 KB).
pub fn http_many_lines(n: usize) -> io::Result<Vec<Vec<u8>>> {
    let mut head = b"GET / HTTP/1.1\r\nHost: lines.example\r\n".to_vec();
    for i in 0..12_000u32 {
        head.extend_from_slice(format!("x{:x}:1\r\n", i % 4096).as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    flows_until(n, |i| {
        tcp_stream(
            [10, 9, (i >> 8) as u8, i as u8],
            [10, 9, 255, 1],
            40000,
            80,
            &head,
        )
    })
}

/// QUIC v1 flows whose client sends a 4 KB hello (a padding extension)
/// as one-byte CRYPTO frames, 200 to an Initial, in 21 Initials.
pub fn quic_one_byte_crypto(n: usize) -> io::Result<Vec<Vec<u8>>> {
    let mut padding = 21u16.to_be_bytes().to_vec();
    padding.extend_from_slice(&4000u16.to_be_bytes());
    padding.resize(4 + 4000, 0);
    let hello = client_hello_with("quic.example", &["h3"], &padding);
    let seal = |dcid: &[u8], pn: u32, frames: &[u8]| {
        crate::proto::quic::seal_client_initial(dcid, 1, dcid, b"\xaa\xbb", pn, frames, true)
            .ok_or_else(|| io::Error::other("QUIC v1 keys"))
    };
    flows_until(n, |i| {
        let dcid = (i as u64).to_be_bytes();
        let (c, s) = ([10, 10, (i >> 8) as u8, i as u8], [10, 10, 255, 1]);
        let mut out = Vec::new();
        for (pn, piece) in hello.chunks(200).enumerate() {
            let mut frames = Vec::new();
            for (k, &byte) in piece.iter().enumerate() {
                let off = (pn * 200 + k) as u16;
                frames.push(0x06);
                frames.extend_from_slice(&(0x4000 | off).to_be_bytes());
                frames.extend_from_slice(&[1, byte]);
            }
            let packet = seal(&dcid, pn as u32, &frames)?;
            out.push(udp4(c, s, 50000, 443, &packet)?);
        }
        Ok(out)
    })
}

/// A pcapng capture of benign frames whose every packet block carries
/// `options` empty comments: the reader walks them all.
pub fn pcapng_option_flood(frames: &[(i64, Vec<u8>)], options: usize) -> io::Result<Vec<u8>> {
    use crate::capture::writer::PcapNgWriter;
    use crate::capture::LinkType;
    let mut w = PcapNgWriter::new(Vec::new(), false)?;
    w.interface(LinkType::ETHERNET, 65535, 9, 0)?;
    for (ts, f) in frames {
        let ts = *ts as u64;
        let mut body = Vec::new();
        body.extend_from_slice(&0u32.to_le_bytes());
        body.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(ts as u32).to_le_bytes());
        body.extend_from_slice(&(f.len() as u32).to_le_bytes());
        body.extend_from_slice(&(f.len() as u32).to_le_bytes());
        body.extend_from_slice(f);
        body.resize(body.len().div_ceil(4) * 4, 0);
        for _ in 0..options {
            body.extend_from_slice(&[1, 0, 0, 0]); // opt_comment, empty
        }
        body.extend_from_slice(&[0, 0, 0, 0]);
        w.opaque_block(6, &body)?;
    }
    Ok(w.into_inner())
}

/// `n` one-packet TCP flows (SYNs from distinct clients) whose start
/// dates cycle through 40 days while capture time moves on 400 s a
/// packet: each flow ends idle (300 s) as time passes, so finished flows
/// arrive for the 40 days in turn, more than a worker keeps files open.
pub fn partition_thrash(n: usize) -> io::Result<Vec<(i64, Vec<u8>)>> {
    (0..n)
        .map(|i| {
            let client = [10, 11, (i >> 8) as u8, i as u8];
            let port = 1024 + (i >> 16) as u16;
            let ts =
                SAMPLE_START_NS + (i % 40) as i64 * 86_400_000_000_000 + i as i64 * 400_000_000_000;
            Ok((
                ts,
                tcp4(client, [10, 11, 255, 1], port, 443, 1, None, "S", &[])?,
            ))
        })
        .collect()
}

/// `n` one-packet IPv6 UDP flows between pseudo-random addresses: the
/// baseline of the shapes whose load is the number of flows.
pub fn one_packet_flows(n: usize) -> io::Result<Vec<(i64, Vec<u8>)>> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let frames = (0..n)
        .map(|_| {
            let a = (u128::from(next()) << 64 | u128::from(next())).to_be_bytes();
            let b = (u128::from(next()) << 64 | u128::from(next())).to_be_bytes();
            udp6(a, b, 5353, 5353, b"hostile")
        })
        .collect::<io::Result<Vec<_>>>()?;
    Ok(timed(frames))
}

/// Benign traffic of exactly `n` frames: the sample's sessions, repeated.
pub fn benign(n: usize) -> io::Result<Vec<(i64, Vec<u8>)>> {
    let per = super::sample_frames()?.len().max(1);
    let mut f = super::traffic_frames(n.div_ceil(per))?;
    f.truncate(n);
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crafted_keys_collided_in_the_former_hashes() {
        assert_eq!(FORMER_MUL.wrapping_mul(inverse(FORMER_MUL)), 1);
        // distinct keys, one former index state: what made lookups linear
        let pairs = index_collision_pairs(1000);
        let states: std::collections::HashSet<u64> = pairs
            .iter()
            .map(|(lo, hi)| former_state(lo, Some(hi)))
            .collect();
        assert_eq!(states.len(), 1);
        let his: std::collections::HashSet<[u8; 16]> = pairs.iter().map(|p| p.1).collect();
        assert_eq!(his.len(), 1000);
        assert!(pairs.iter().all(|(lo, hi)| lo < hi), "canonical order kept");
        // distinct address pairs, one former worker hash: one worker
        let steer = steering_addresses(1000);
        let hashes: std::collections::HashSet<u64> =
            steer.iter().map(|&(a, b)| former_pair_hash(a, b)).collect();
        assert_eq!(hashes.len(), 1);
        let distinct: std::collections::HashSet<(u128, u128)> = steer.iter().copied().collect();
        assert_eq!(distinct.len(), 1000);
    }
}
