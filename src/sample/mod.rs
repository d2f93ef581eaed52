//! A realistic sample capture the program makes itself, so a newcomer can
//! run the main job with no files: TLS and HTTP over TCP with handshakes
//! and teardown, DNS, IPv6, VLAN-tagged ICMP, a fragmented UDP datagram and
//! a GRE tunnel. Also the protocol-message builders tests use as fixtures.

use std::io;
use std::net::Ipv4Addr;

use etherparse::PacketBuilder;

pub mod hostile;

use crate::capture::writer::PcapWriter;
use crate::capture::LinkType;

const CLIENT_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
/// 2024-05-01T12:00:00Z
pub const SAMPLE_START_NS: i64 = 1_714_564_800_000_000_000;

/// A TLS 1.2-style record holding a ClientHello with SNI and ALPN.
pub fn tls_client_hello(sni: &str, alpn: &[&str]) -> Vec<u8> {
    let mut ext = Vec::new();
    // server_name (RFC 6066 §3)
    let name = sni.as_bytes();
    let mut sn = Vec::new();
    sn.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
    sn.push(0);
    sn.extend_from_slice(&(name.len() as u16).to_be_bytes());
    sn.extend_from_slice(name);
    push_ext(&mut ext, 0, &sn);
    // supported_groups: x25519, secp256r1
    push_ext(&mut ext, 10, &[0, 4, 0, 29, 0, 23]);
    // ALPN (RFC 7301)
    if !alpn.is_empty() {
        let mut list = Vec::new();
        for p in alpn {
            list.push(p.len() as u8);
            list.extend_from_slice(p.as_bytes());
        }
        let mut a = (list.len() as u16).to_be_bytes().to_vec();
        a.extend_from_slice(&list);
        push_ext(&mut ext, 16, &a);
    }
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[0x11; 32]); // random
    body.push(0); // session id
    let ciphers: [u16; 4] = [0x1301, 0x1302, 0xc02f, 0x009c];
    body.extend_from_slice(&((ciphers.len() * 2) as u16).to_be_bytes());
    for c in ciphers {
        body.extend_from_slice(&c.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    handshake_record(1, &body)
}

/// A TLS 1.2 ServerHello record selecting `cipher`.
pub fn tls_server_hello(cipher: u16) -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[0x22; 32]);
    body.push(0);
    body.extend_from_slice(&cipher.to_be_bytes());
    body.push(0);
    body.extend_from_slice(&[0, 0]); // no extensions
    handshake_record(2, &body)
}

fn push_ext(out: &mut Vec<u8>, ty: u16, data: &[u8]) {
    out.extend_from_slice(&ty.to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

fn handshake_record(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut hs = vec![msg_type];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(body);
    let mut rec = vec![22, 3, 1];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

/// A DNS message for `name` (type A); with `answer`, a response carrying it.
pub fn dns_message(id: u16, name: &str, answer: Option<Ipv4Addr>) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&(if answer.is_some() { 0x8180u16 } else { 0x0100 }).to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
    m.extend_from_slice(&(answer.is_some() as u16).to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0]);
    for label in name.split('.') {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.push(0);
    m.extend_from_slice(&[0, 1, 0, 1]);
    if let Some(a) = answer {
        m.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1]);
        m.extend_from_slice(&300u32.to_be_bytes());
        m.extend_from_slice(&4u16.to_be_bytes());
        m.extend_from_slice(&a.octets());
    }
    m
}

/// One side of a TCP conversation in the sample.
struct Tcp {
    client: [u8; 4],
    server: [u8; 4],
    cport: u16,
    sport: u16,
    cseq: u32,
    sseq: u32,
}

#[derive(Clone, Copy)]
enum Dir {
    Up,
    Down,
}

impl Tcp {
    fn segment(&mut self, dir: Dir, flags: &str, payload: &[u8]) -> io::Result<Vec<u8>> {
        let (smac, dmac, src, dst, sp, dp, seq, ack) = match dir {
            Dir::Up => (
                CLIENT_MAC,
                SERVER_MAC,
                self.client,
                self.server,
                self.cport,
                self.sport,
                self.cseq,
                self.sseq,
            ),
            Dir::Down => (
                SERVER_MAC,
                CLIENT_MAC,
                self.server,
                self.client,
                self.sport,
                self.cport,
                self.sseq,
                self.cseq,
            ),
        };
        let ack = flags.contains('A').then_some(ack);
        let out = tcp_frame((smac, dmac), (src, dst), (sp, dp), seq, ack, flags, payload)?;
        let used =
            payload.len() as u32 + u32::from(flags.contains('S')) + u32::from(flags.contains('F'));
        match dir {
            Dir::Up => self.cseq = self.cseq.wrapping_add(used),
            Dir::Down => self.sseq = self.sseq.wrapping_add(used),
        }
        Ok(out)
    }
}

/// One TCP segment (Ethernet, IPv4), flags by letter (S, R, P, F), ACK
/// when `ack` is given: the generators' segment builder.
#[allow(clippy::too_many_arguments)]
pub fn tcp4(
    src: [u8; 4],
    dst: [u8; 4],
    sp: u16,
    dp: u16,
    seq: u32,
    ack: Option<u32>,
    flags: &str,
    payload: &[u8],
) -> io::Result<Vec<u8>> {
    let macs = (CLIENT_MAC, SERVER_MAC);
    tcp_frame(macs, (src, dst), (sp, dp), seq, ack, flags, payload)
}

/// [`tcp4`] between the MAC addresses `macs` (source, destination).
fn tcp_frame(
    macs: ([u8; 6], [u8; 6]),
    (src, dst): ([u8; 4], [u8; 4]),
    (sp, dp): (u16, u16),
    seq: u32,
    ack: Option<u32>,
    flags: &str,
    payload: &[u8],
) -> io::Result<Vec<u8>> {
    let mut b = PacketBuilder::ethernet2(macs.0, macs.1)
        .ipv4(src, dst, 64)
        .tcp(sp, dp, seq, 64240);
    for f in flags.chars() {
        b = match f {
            'S' => b.syn(),
            'F' => b.fin(),
            'R' => b.rst(),
            'P' => b.psh(),
            _ => b,
        };
    }
    if let Some(a) = ack {
        b = b.ack(a);
    }
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, payload).map_err(io::Error::other)?;
    Ok(out)
}

/// One UDP datagram (Ethernet, IPv4).
pub fn udp4(src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16, payload: &[u8]) -> io::Result<Vec<u8>> {
    let b = PacketBuilder::ethernet2(CLIENT_MAC, SERVER_MAC)
        .ipv4(src, dst, 64)
        .udp(sp, dp);
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, payload).map_err(io::Error::other)?;
    Ok(out)
}

/// Frames (timestamp, bytes) of the sample capture, in capture order.
pub fn sample_frames() -> io::Result<Vec<(i64, Vec<u8>)>> {
    let mut frames: Vec<(i64, Vec<u8>)> = Vec::new();
    let mut t = SAMPLE_START_NS;
    let mut push = |frames: &mut Vec<(i64, Vec<u8>)>, gap_us: i64, f: Vec<u8>| {
        t += gap_us * 1000;
        frames.push((t, f));
    };
    let client = [192, 168, 1, 10];
    let resolver = [192, 168, 1, 1];
    let web = [93, 184, 216, 34];

    // DNS lookup
    push(
        &mut frames,
        0,
        udp4(
            client,
            resolver,
            53001,
            53,
            &dns_message(0x1234, "example.com", None),
        )?,
    );
    push(
        &mut frames,
        12_000,
        udp4(
            resolver,
            client,
            53,
            53001,
            &dns_message(0x1234, "example.com", Some(Ipv4Addr::new(93, 184, 216, 34))),
        )?,
    );

    // TLS session on 443
    let mut tls = Tcp {
        client,
        server: web,
        cport: 50000,
        sport: 443,
        cseq: 1000,
        sseq: 9000,
    };
    push(&mut frames, 1_000, tls.segment(Dir::Up, "S", &[])?);
    push(&mut frames, 20_000, tls.segment(Dir::Down, "SA", &[])?);
    push(&mut frames, 150, tls.segment(Dir::Up, "A", &[])?);
    push(
        &mut frames,
        300,
        tls.segment(
            Dir::Up,
            "PA",
            &tls_client_hello("example.com", &["h2", "http/1.1"]),
        )?,
    );
    push(
        &mut frames,
        21_000,
        tls.segment(Dir::Down, "PA", &tls_server_hello(0xc02f))?,
    );
    for i in 0..6u8 {
        let up = vec![0x17, 3, 3, 0, 40 + i, 0xaa];
        push(&mut frames, 5_000, tls.segment(Dir::Up, "PA", &up)?);
        let down = vec![0xbb; 1200 + usize::from(i) * 10];
        push(&mut frames, 18_000, tls.segment(Dir::Down, "PA", &down)?);
    }
    push(&mut frames, 40_000, tls.segment(Dir::Up, "FA", &[])?);
    push(&mut frames, 19_000, tls.segment(Dir::Down, "FA", &[])?);
    push(&mut frames, 200, tls.segment(Dir::Up, "A", &[])?);

    // Plain HTTP on 80
    let mut http = Tcp {
        client,
        server: web,
        cport: 50001,
        sport: 80,
        cseq: 5000,
        sseq: 7000,
    };
    push(&mut frames, 3_000, http.segment(Dir::Up, "S", &[])?);
    push(&mut frames, 20_000, http.segment(Dir::Down, "SA", &[])?);
    push(&mut frames, 100, http.segment(Dir::Up, "A", &[])?);
    let req = b"GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: wa1kpcap-sample/1.0\r\nAccept: */*\r\n\r\n";
    push(&mut frames, 200, http.segment(Dir::Up, "PA", req)?);
    let resp = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\nServer: sample\r\n\r\n<html></html>";
    push(&mut frames, 22_000, http.segment(Dir::Down, "PA", resp)?);
    push(&mut frames, 100, http.segment(Dir::Down, "FA", &[])?);
    push(&mut frames, 300, http.segment(Dir::Up, "FA", &[])?);
    push(&mut frames, 20_000, http.segment(Dir::Down, "A", &[])?);

    // IPv6 UDP exchange
    let v6a = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let v6b = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
    for i in 0..4u8 {
        let (s, d, sp, dp) = if i % 2 == 0 {
            (v6a, v6b, 40000, 5000)
        } else {
            (v6b, v6a, 5000, 40000)
        };
        let b = PacketBuilder::ethernet2(CLIENT_MAC, SERVER_MAC)
            .ipv6(s, d, 64)
            .udp(sp, dp);
        let payload = vec![i; 100 + usize::from(i) * 50];
        let mut out = Vec::new();
        b.write(&mut out, &payload).map_err(io::Error::other)?;
        push(&mut frames, 7_000, out);
    }

    // VLAN-tagged ICMP echo request/reply
    for (i, (s, d)) in [(client, resolver), (resolver, client)]
        .into_iter()
        .enumerate()
    {
        let vlan = etherparse::VlanId::try_new(42).map_err(io::Error::other)?;
        let b = PacketBuilder::ethernet2(CLIENT_MAC, SERVER_MAC)
            .single_vlan(vlan)
            .ipv4(s, d, 64);
        let b = if i == 0 {
            b.icmpv4_echo_request(7, 1)
        } else {
            b.icmpv4_echo_reply(7, 1)
        };
        let mut out = Vec::new();
        b.write(&mut out, &[0x61; 32]).map_err(io::Error::other)?;
        push(&mut frames, 4_000, out);
    }

    // A 3000-byte UDP datagram in three IPv4 fragments.
    for f in fragmented_udp(client, [198, 51, 100, 7], 0x4242, 3000, 1480)? {
        push(&mut frames, 50, f);
    }

    // TCP SYN inside GRE between two routers.
    let inner = Tcp {
        client: [10, 1, 0, 5],
        server: [10, 2, 0, 9],
        cport: 33000,
        sport: 22,
        cseq: 1,
        sseq: 1,
    }
    .clone_syn()?;
    push(
        &mut frames,
        9_000,
        gre_wrap([203, 0, 113, 1], [203, 0, 113, 2], &inner),
    );

    Ok(frames)
}

impl Tcp {
    fn clone_syn(mut self) -> io::Result<Vec<u8>> {
        let f = self.segment(Dir::Up, "S", &[])?;
        // strip Ethernet: GRE carries the IP packet
        Ok(f[14..].to_vec())
    }
}

/// Ethernet frames of one UDP datagram (`size` payload bytes) split into
/// IPv4 fragments of at most `mtu_payload` bytes (a multiple of 8).
pub fn fragmented_udp(
    src: [u8; 4],
    dst: [u8; 4],
    id: u16,
    size: usize,
    mtu_payload: usize,
) -> io::Result<Vec<Vec<u8>>> {
    let mut udp = Vec::with_capacity(8 + size);
    udp.extend_from_slice(&4000u16.to_be_bytes());
    udp.extend_from_slice(&4001u16.to_be_bytes());
    udp.extend_from_slice(&((8 + size) as u16).to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend((0..size).map(|i| (i % 251) as u8));
    let mut frames = Vec::new();
    let mut off = 0usize;
    while off < udp.len() {
        let end = (off + mtu_payload).min(udp.len());
        let more = end < udp.len();
        let mut ip = ipv4_header(src, dst, 17, id, (end - off) as u16, (off / 8) as u16, more);
        ip.extend_from_slice(&udp[off..end]);
        frames.push(ethernet(0x0800, &ip));
        off = end;
    }
    Ok(frames)
}

/// A 20-byte IPv4 header with a valid checksum.
pub fn ipv4_header(
    src: [u8; 4],
    dst: [u8; 4],
    proto: u8,
    id: u16,
    payload_len: u16,
    frag_units: u16,
    more: bool,
) -> Vec<u8> {
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&(20 + payload_len).to_be_bytes());
    h.extend_from_slice(&id.to_be_bytes());
    let ff = (frag_units & 0x1fff) | if more { 0x2000 } else { 0 };
    h.extend_from_slice(&ff.to_be_bytes());
    h.extend_from_slice(&[64, proto, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let mut sum = 0u32;
    for c in h.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let cs = !(sum as u16);
    h[10..12].copy_from_slice(&cs.to_be_bytes());
    h
}

/// An Ethernet II frame around `payload`.
pub fn ethernet(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend_from_slice(&SERVER_MAC);
    f.extend_from_slice(&CLIENT_MAC);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Ethernet + outer IPv4 + plain GRE (RFC 2784) around an inner IPv4 packet.
pub fn gre_wrap(src: [u8; 4], dst: [u8; 4], inner_ip: &[u8]) -> Vec<u8> {
    let mut gre = vec![0, 0, 0x08, 0x00];
    gre.extend_from_slice(inner_ip);
    let mut ip = ipv4_header(src, dst, 47, 1, gre.len() as u16, 0, false);
    ip.extend_from_slice(&gre);
    ethernet(0x0800, &ip)
}

/// The capture named on the command line (`args().nth(1)`), or else the
/// sample written to the temporary directory: what the examples run on.
pub fn path_arg_or_sample() -> io::Result<std::path::PathBuf> {
    if let Some(p) = std::env::args().nth(1) {
        return Ok(p.into());
    }
    let p = std::env::temp_dir().join("wa1kpcap-sample.pcap");
    std::fs::write(&p, sample_pcap()?)?;
    Ok(p)
}

/// The sample as pcap bytes (Ethernet, µs).
pub fn sample_pcap() -> io::Result<Vec<u8>> {
    pcap_of(sample_frames()?)
}

/// The demo's capture: the sample, then protocols named by their content
/// with the fields they offer (an SSH session's banners, an SMTP greeting,
/// a SIP call set-up over UDP). The sample itself stays as the tests know
/// it.
pub fn demo_frames() -> io::Result<Vec<(i64, Vec<u8>)>> {
    let mut frames = sample_frames()?;
    let mut t = frames.last().map_or(SAMPLE_START_NS, |f| f.0);
    let mut push = |frames: &mut Vec<(i64, Vec<u8>)>, gap_us: i64, f: Vec<u8>| {
        t += gap_us * 1000;
        frames.push((t, f));
    };
    let client = [192, 168, 1, 10];
    let mail = [198, 51, 100, 25];
    let sessions: [(u16, u16, &[u8], &[u8]); 2] = [
        (
            50002,
            22,
            b"SSH-2.0-OpenSSH_9.6\r\n",
            b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3\r\n",
        ),
        (
            50003,
            25,
            b"EHLO client.example.com\r\n",
            b"220 mail.example.com ESMTP Postfix\r\n",
        ),
    ];
    for (cport, sport, up, down) in sessions {
        let mut c = Tcp {
            client,
            server: mail,
            cport,
            sport,
            cseq: 100,
            sseq: 700,
        };
        push(&mut frames, 2_000, c.segment(Dir::Up, "S", &[])?);
        push(&mut frames, 15_000, c.segment(Dir::Down, "SA", &[])?);
        push(&mut frames, 100, c.segment(Dir::Up, "A", &[])?);
        push(&mut frames, 1_000, c.segment(Dir::Down, "PA", down)?);
        push(&mut frames, 500, c.segment(Dir::Up, "PA", up)?);
        push(&mut frames, 30_000, c.segment(Dir::Up, "FA", &[])?);
        push(&mut frames, 15_000, c.segment(Dir::Down, "FA", &[])?);
        push(&mut frames, 100, c.segment(Dir::Up, "A", &[])?);
    }
    let invite = b"INVITE sip:bob@example.org SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK776asdhds\r\n\
From: \"Alice\" <sip:alice@example.com>;tag=1928301774\r\n\
To: <sip:bob@example.org>\r\nCall-ID: a84b4c76e66710\r\nCSeq: 314159 INVITE\r\n\
User-Agent: wa1kpcap-sample/1.0\r\nContent-Length: 0\r\n\r\n";
    let ringing = b"SIP/2.0 180 Ringing\r\n\
Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK776asdhds\r\n\
From: \"Alice\" <sip:alice@example.com>;tag=1928301774\r\n\
To: <sip:bob@example.org>;tag=a6c85cf\r\nCall-ID: a84b4c76e66710\r\n\
CSeq: 314159 INVITE\r\nContent-Length: 0\r\n\r\n";
    let sip = [198, 51, 100, 60];
    push(&mut frames, 3_000, udp4(client, sip, 5060, 5060, invite)?);
    push(&mut frames, 25_000, udp4(sip, client, 5060, 5060, ringing)?);
    Ok(frames)
}

/// [`demo_frames`] as a pcap.
pub fn demo_pcap() -> io::Result<Vec<u8>> {
    pcap_of(demo_frames()?)
}

/// Frames (timestamp, bytes) as an Ethernet µs pcap.
fn pcap_of(frames: impl IntoIterator<Item = (i64, Vec<u8>)>) -> io::Result<Vec<u8>> {
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535)?;
    for (ts, f) in frames {
        w.write(ts, &f, f.len() as u32)?;
    }
    Ok(w.into_inner())
}

/// `sessions` copies of the sample's sessions, each from its own client
/// address (10.a.b.c) and starting 7 ms after the previous one, merged in
/// time order: many concurrent flows of realistic shape, for tests and
/// benchmarks that need more than the 40-packet sample.
pub fn traffic_frames(sessions: usize) -> io::Result<Vec<(i64, Vec<u8>)>> {
    traffic_frames_spaced(sessions, 7_000_000)
}

/// As [`traffic_frames`], session starts `spacing_ns` apart.
pub fn traffic_frames_spaced(sessions: usize, spacing_ns: i64) -> io::Result<Vec<(i64, Vec<u8>)>> {
    const CLIENT: [u8; 4] = [192, 168, 1, 10];
    let base = sample_frames()?;
    let mut out = Vec::with_capacity(base.len() * sessions);
    for k in 0..sessions {
        let client = [10, (k >> 16) as u8, (k >> 8) as u8, k as u8];
        let shift = k as i64 * spacing_ns;
        for (ts, f) in &base {
            let mut f = f.clone();
            // IPv4 header after 14 bytes of Ethernet: addresses at 12 and 16.
            if f.len() >= 34 && f[12..14] == [0x08, 0x00] {
                for at in [26usize, 30] {
                    if f[at..at + 4] == CLIENT {
                        f[at..at + 4].copy_from_slice(&client);
                    }
                }
                let ihl = usize::from(f[14] & 0x0f) * 4;
                f[24] = 0;
                f[25] = 0;
                let sum = ipv4_checksum(&f[14..14 + ihl]);
                f[24..26].copy_from_slice(&sum.to_be_bytes());
            }
            out.push((ts + shift, f));
        }
    }
    out.sort_by_key(|(t, _)| *t);
    Ok(out)
}

/// [`traffic_frames`] as pcap bytes (Ethernet, µs).
pub fn traffic_pcap(sessions: usize) -> io::Result<Vec<u8>> {
    pcap_of(traffic_frames(sessions)?)
}

/// A TLS 1.2 Certificate handshake record carrying `ders` (RFC 5246
/// §7.4.2), followed in the same record by ServerHelloDone.
pub fn tls_certificate_record(ders: &[&[u8]]) -> Vec<u8> {
    let u24 = |n: usize| (n as u32).to_be_bytes()[1..].to_vec();
    let mut list = Vec::new();
    for d in ders {
        list.extend(u24(d.len()));
        list.extend_from_slice(d);
    }
    let mut body = u24(list.len());
    body.extend(list);
    let mut rec = handshake_record(11, &body);
    // ServerHelloDone (type 14, empty) in the same record.
    rec.extend_from_slice(&[14, 0, 0, 0]);
    let len = (rec.len() - 5) as u16;
    rec[3..5].copy_from_slice(&len.to_be_bytes());
    rec
}

/// One TLS 1.2 session (handshake, hellos, the server's `ders` chain,
/// teardown) as pcap bytes: the fixture for certificate columns.
pub fn tls_certificate_pcap(sni: &str, ders: &[&[u8]]) -> io::Result<Vec<u8>> {
    let mut tls = Tcp {
        client: [192, 168, 7, 10],
        server: [198, 51, 100, 7],
        cport: 51000,
        sport: 443,
        cseq: 100,
        sseq: 900,
    };
    let mut server_flight = tls_server_hello(0xc02f);
    server_flight.extend(tls_certificate_record(ders));
    let frames = [
        tls.segment(Dir::Up, "S", &[])?,
        tls.segment(Dir::Down, "SA", &[])?,
        tls.segment(Dir::Up, "A", &[])?,
        tls.segment(Dir::Up, "PA", &tls_client_hello(sni, &["http/1.1"]))?,
        tls.segment(Dir::Down, "PA", &server_flight)?,
        tls.segment(Dir::Up, "FA", &[])?,
        tls.segment(Dir::Down, "FA", &[])?,
        tls.segment(Dir::Up, "A", &[])?,
    ];
    pcap_of(
        frames
            .into_iter()
            .enumerate()
            .map(|(i, f)| (SAMPLE_START_NS + i as i64 * 10_000_000, f)),
    )
}

/// RFC 1071 checksum of an IPv4 header whose checksum field is zero.
fn ipv4_checksum(h: &[u8]) -> u16 {
    let mut sum: u32 = h
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Deterministic noise for tests of false positives (xorshift64: the same
/// bytes on every run).
pub struct Noise(u64);

impl Noise {
    /// A generator from a non-zero seed.
    pub fn new(seed: u64) -> Noise {
        Noise(seed.max(1))
    }

    /// The next `len` bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                self.0 as u8
            })
            .collect()
    }
}
