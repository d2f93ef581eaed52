//! The classes of traffic whose protocol fields used to be missed, made
//! here as captures and read through the library: TLS after plaintext
//! preambles (STARTTLS dialects, PostgreSQL's SSLRequest, RDP's X.224,
//! HTTP CONNECT, SOCKS, PROXY), DNS off its ports, HTTP heads over UDP
//! (SSDP), protocols named by content with their fields and proxies, and
//! the guards that keep look-alikes out.

use std::net::Ipv4Addr;

use etherparse::PacketBuilder;
use wa1kpcap::capture::writer::PcapWriter;
use wa1kpcap::capture::LinkType;
use wa1kpcap::sample::{dns_message, tls_client_hello, tls_server_hello, udp4};
use wa1kpcap::{Analyzer, Flow};

const CLIENT: [u8; 4] = [10, 0, 0, 1];
const SERVER: [u8; 4] = [10, 0, 0, 2];

/// A TCP conversation: a handshake, then segments each way.
struct Conversation {
    cport: u16,
    sport: u16,
    seq: [u32; 2],
    frames: Vec<Vec<u8>>,
}

impl Conversation {
    fn new(cport: u16, sport: u16) -> Conversation {
        let mut c = Conversation {
            cport,
            sport,
            seq: [1000, 9000],
            frames: Vec::new(),
        };
        c.segment(0, true, &[]);
        c.segment(1, true, &[]);
        c
    }

    /// Side 0 is the client.
    fn segment(&mut self, side: usize, syn: bool, payload: &[u8]) {
        let (src, dst, sp, dp) = if side == 0 {
            (CLIENT, SERVER, self.cport, self.sport)
        } else {
            (SERVER, CLIENT, self.sport, self.cport)
        };
        let mut b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4(src, dst, 64)
            .tcp(sp, dp, self.seq[side], 64240);
        b = if syn { b.syn() } else { b.psh() };
        if !(syn && side == 0) {
            b = b.ack(self.seq[1 - side]);
        }
        let mut out = Vec::new();
        b.write(&mut out, payload).unwrap();
        self.frames.push(out);
        self.seq[side] = self.seq[side].wrapping_add(payload.len() as u32 + u32::from(syn));
    }

    fn up(mut self, payload: &[u8]) -> Self {
        self.segment(0, false, payload);
        self
    }

    fn down(mut self, payload: &[u8]) -> Self {
        self.segment(1, false, payload);
        self
    }

    /// A bare ACK of side 0 carrying two zero bytes at its next sequence
    /// number (link padding a faulty sender counted as payload).
    fn padding(mut self) -> Self {
        let mut out = Vec::new();
        PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4(CLIENT, SERVER, 64)
            .tcp(self.cport, self.sport, self.seq[0], 64240)
            .ack(self.seq[1])
            .write(&mut out, &[0, 0])
            .unwrap();
        self.frames.push(out);
        self
    }

    /// The client's ClientHello for `sni`, the server's ServerHello.
    fn hellos(self, sni: &str) -> Self {
        self.up(&tls_client_hello(sni, &["h2"]))
            .down(&tls_server_hello(0xc02f))
    }
}

/// Every frame into one capture, read by the library.
fn analyze(frames: &[Vec<u8>]) -> Vec<Flow> {
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535).unwrap();
    for (i, f) in frames.iter().enumerate() {
        w.write(
            1_700_000_000_000_000_000 + i as i64 * 1_000_000,
            f,
            f.len() as u32,
        )
        .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("classes.pcap");
    std::fs::write(&path, w.into_inner()).unwrap();
    Analyzer::new().analyze_file(&path).unwrap()
}

fn flow_on(flows: &[Flow], port: u16) -> &Flow {
    flows
        .iter()
        .find(|f| f.key.src_port == port || f.key.dst_port == port)
        .unwrap_or_else(|| panic!("no flow on port {port}"))
}

/// The `app_protocol` of the flow on `port`.
fn app_protocol(flows: &[Flow], port: u16) -> Option<&'static str> {
    flow_on(flows, port).app.as_ref()?.protocol()
}

fn sni(f: &Flow) -> Option<String> {
    f.app.as_ref()?.tls_client()?.sni.clone()
}

fn cipher(f: &Flow) -> Option<u16> {
    Some(f.app.as_ref()?.tls_server()?.cipher)
}

#[test]
fn tls_after_plaintext_preambles() {
    let cases: Vec<(u16, &str, Conversation)> = vec![
        (
            25,
            "smtp.example",
            Conversation::new(40001, 25)
                .down(b"220 mail.example ESMTP ready\r\n")
                .up(b"EHLO client.example\r\n")
                .down(b"250-mail.example\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
                .up(b"STARTTLS\r\n")
                .down(b"220 2.0.0 Ready to start TLS\r\n"),
        ),
        (
            143,
            "imap.example",
            Conversation::new(40002, 143)
                .down(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n")
                .up(b"a1 STARTTLS\r\n")
                .down(b"a1 OK Begin TLS negotiation now\r\n"),
        ),
        (
            110,
            "pop.example",
            Conversation::new(40003, 110)
                .down(b"+OK POP3 ready\r\n")
                .up(b"STLS\r\n")
                .down(b"+OK Begin TLS\r\n"),
        ),
        (
            21,
            "ftp.example",
            Conversation::new(40004, 21)
                .down(b"220 FTP server ready\r\n")
                .up(b"AUTH TLS\r\n")
                .down(b"234 AUTH TLS successful\r\n"),
        ),
        (
            5432,
            "pg.example",
            Conversation::new(40005, 5432)
                .up(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])
                .down(b"S"),
        ),
        (
            3389,
            "rdp.example",
            Conversation::new(40006, 3389)
                .up(&[3, 0, 0, 19, 14, 0xe0, 0, 0, 0, 0, 0, 1, 0, 8, 0, 3, 0, 0, 0])
                .down(&[
                    3, 0, 0, 19, 14, 0xd0, 0, 0, 0x12, 0x34, 0, 2, 0, 8, 0, 1, 0, 0, 0,
                ]),
        ),
        (
            8080,
            "connect.example",
            Conversation::new(40007, 8080)
                .up(b"CONNECT connect.example:443 HTTP/1.1\r\nHost: connect.example:443\r\n\r\n")
                .down(b"HTTP/1.1 200 Connection established\r\n\r\n"),
        ),
        (
            1080,
            "socks.example",
            Conversation::new(40008, 1080)
                .up(&[5, 1, 0])
                .down(&[5, 0])
                .up(b"\x05\x01\x00\x03\x0dsocks.example\x01\xbb")
                .down(&[5, 0, 0, 1, 10, 0, 0, 2, 0x01, 0xbb]),
        ),
        (
            443,
            "proxied.example",
            Conversation::new(40009, 443).up(b"PROXY TCP4 192.0.2.1 10.0.0.2 56324 443\r\n"),
        ),
    ];
    let mut frames = Vec::new();
    let mut want = Vec::new();
    for (port, name, c) in cases {
        frames.extend(c.hellos(name).frames);
        want.push((port, name));
    }
    let flows = analyze(&frames);
    // TLS started inside a protocol its plaintext names is that protocol;
    // behind a proxy it is `tls`, the proxy noted (schemas/protocols.md).
    let named: &[(u16, &str, Option<&str>)] = &[
        (25, "smtp", None),
        (143, "imap", None),
        (110, "pop3", None),
        (21, "ftp", None),
        (5432, "postgresql", None),
        (3389, "rdp", None),
        (8080, "tls", Some("http_connect")),
        (1080, "tls", Some("socks5")),
        (443, "tls", Some("proxy_v1")),
    ];
    for (port, name) in want {
        let f = flow_on(&flows, port);
        assert_eq!(sni(f).as_deref(), Some(name), "port {port}");
        assert_eq!(cipher(f), Some(0xc02f), "port {port}: ServerHello");
        let app = f.app.as_ref().unwrap();
        let &(_, proto, proxy) = named.iter().find(|n| n.0 == port).expect("a case per port");
        assert_eq!(app.protocol(), Some(proto), "port {port}");
        assert_eq!(app.proxy.map(|p| p.name()), proxy, "port {port}");
        assert!(f.anomalies.is_empty(), "port {port}: {:?}", f.anomalies);
    }
}

#[test]
fn http_after_socks_and_proxy_preambles() {
    let get =
        |host: &str| format!("GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: classes/1\r\n\r\n");
    let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    let socks4 = Conversation::new(41001, 1080)
        .up(b"\x04\x01\x00\x50\x0a\x00\x00\x02user\x00")
        .down(&[0, 0x5a, 0, 0x50, 10, 0, 0, 2])
        .up(get("socks4.example").as_bytes())
        .down(ok);
    let socks5 = Conversation::new(41002, 1081)
        .up(&[5, 1, 0])
        .down(&[5, 0])
        .up(&[5, 1, 0, 1, 10, 0, 0, 2, 0, 80])
        .down(&[5, 0, 0, 1, 10, 0, 0, 2, 0, 80])
        .up(get("socks5.example").as_bytes())
        .down(ok);
    let mut v2 = b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c".to_vec();
    v2.extend([192, 0, 2, 1, 10, 0, 0, 2, 0xdc, 0x04, 0, 80]);
    v2.extend(get("proxyv2.example").as_bytes());
    let proxy = Conversation::new(41003, 80).up(&v2).down(ok);
    let mut frames = socks4.frames;
    frames.extend(socks5.frames);
    frames.extend(proxy.frames);
    let flows = analyze(&frames);
    for (port, host) in [
        (1080, "socks4.example"),
        (1081, "socks5.example"),
        (80, "proxyv2.example"),
    ] {
        let f = flow_on(&flows, port);
        let http = f.app.as_ref().and_then(|a| a.http.as_ref()).expect("http");
        let req = http.request.as_ref().unwrap();
        assert_eq!(req.host.as_deref(), Some(host));
        assert_eq!(req.user_agent.as_deref(), Some("classes/1"));
        assert_eq!(http.final_status, Some(200));
    }
}

#[test]
fn look_alikes_are_not_tls() {
    // A binary stream carrying a TLS record header whose body is not a
    // hello, and a text protocol mentioning bytes 0x16 0x03: no TLS, no
    // anomaly.
    let mut fake = vec![0x99, 0x01, 0x02];
    fake.extend([0x16, 3, 1, 0, 40, 1, 0, 0, 36, 3, 3]);
    fake.extend([0xee; 60]);
    let c = Conversation::new(42001, 7000).up(&fake).down(&[0x99; 30]);
    let flows = analyze(&c.frames);
    let f = flow_on(&flows, 7000);
    assert_eq!(sni(f), None);
    assert!(f.app.as_ref().is_none_or(|a| a.tls.is_none()));
    assert!(f.anomalies.is_empty(), "{:?}", f.anomalies);
}

#[test]
fn dns_off_its_ports_by_content() {
    let q = dns_message(7, "2.dnscrypt-cert.example.net", None);
    let r = dns_message(
        7,
        "2.dnscrypt-cert.example.net",
        Some(Ipv4Addr::new(192, 0, 2, 7)),
    );
    let mut frames = vec![
        udp4(CLIENT, SERVER, 50001, 443, &q).unwrap(),
        udp4(SERVER, CLIENT, 443, 50001, &r).unwrap(),
    ];
    // An encrypted datagram first, then a plain query on the same flow.
    frames.push(udp4(CLIENT, SERVER, 50002, 8053, &[0x5a; 80]).unwrap());
    frames.push(
        udp4(
            CLIENT,
            SERVER,
            50002,
            8053,
            &dns_message(8, "late.example", None),
        )
        .unwrap(),
    );
    // Noise on odd ports, some of it DNS-shaped in its first bytes.
    let mut noise = wa1kpcap::sample::Noise::new(0x1234_5678_9abc_def0);
    for i in 0..400u16 {
        let mut p = noise.bytes(12 + usize::from(i % 200));
        if i % 2 == 0 {
            // A query-like header: one question, no answers.
            p[2..12].copy_from_slice(&[1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        }
        frames.push(udp4(CLIENT, SERVER, 20000 + i, 30000 + i, &p).unwrap());
    }
    let flows = analyze(&frames);
    let dns = |f: &Flow| {
        f.app
            .as_ref()
            .and_then(|a| a.dns.as_ref())
            .map(|d| d.queries.clone())
    };
    let f = flow_on(&flows, 50001);
    assert_eq!(
        dns(f),
        Some(vec!["2.dnscrypt-cert.example.net".to_string()])
    );
    assert_eq!(
        f.app.as_ref().unwrap().dns.as_ref().unwrap().answers,
        ["192.0.2.7"]
    );
    assert_eq!(
        dns(flow_on(&flows, 50002)),
        Some(vec!["late.example".to_string()])
    );
    // Certificate queries name DNSCrypt (nDPI's rule), the late one DNS.
    let name = |port: u16| app_protocol(&flows, port);
    assert_eq!((name(50001), name(50002)), (Some("dnscrypt"), Some("dns")));
    let noise_dns = flows
        .iter()
        .filter(|f| f.key.src_port >= 20000 && f.key.src_port < 20400)
        .filter(|f| dns(f).is_some())
        .count();
    assert_eq!(noise_dns, 0, "random payloads taken for DNS");
    assert!(flows.iter().all(|f| f.anomalies.is_empty()));
}

#[test]
fn http_heads_over_udp() {
    let search = b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\nUSER-AGENT: Chrome/120 Windows\r\n\r\n";
    let notify = b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\nSERVER: Linux/5 UPnP/1.0 x/1\r\n\r\n";
    let reply = b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nST: upnp:rootdevice\r\nSERVER: Linux/5 UPnP/1.0 x/1\r\n\r\n";
    let group = [239, 255, 255, 250];
    let frames = vec![
        udp4(CLIENT, group, 51000, 1900, search).unwrap(),
        udp4(CLIENT, group, 51000, 1900, search).unwrap(),
        udp4(SERVER, group, 1900, 1900, notify).unwrap(),
        udp4(SERVER, CLIENT, 1900, 51001, reply).unwrap(),
        // Text that is not a head: no HTTP.
        udp4(CLIENT, SERVER, 51002, 9999, b"HELLO world\r\n").unwrap(),
    ];
    let flows = analyze(&frames);
    let http = |port: u16| {
        flow_on(&flows, port)
            .app
            .as_ref()
            .and_then(|a| a.http.as_deref())
            .cloned()
    };
    let s = http(51000).expect("M-SEARCH");
    let req = s.request.as_ref().unwrap();
    assert_eq!(
        (req.method.as_str(), req.target.as_str()),
        ("M-SEARCH", "*")
    );
    assert_eq!(req.host.as_deref(), Some("239.255.255.250:1900"));
    assert_eq!(req.user_agent.as_deref(), Some("Chrome/120 Windows"));
    assert_eq!(s.requests, 2);
    let n = flows
        .iter()
        .find(|f| f.key.src_port == 1900 && f.key.dst_port == 1900)
        .and_then(|f| f.app.as_ref()?.http.as_deref())
        .expect("NOTIFY");
    assert_eq!(n.request.as_ref().unwrap().method, "NOTIFY");
    let r = http(51001).expect("reply");
    assert_eq!((r.responses, r.final_status), (1, Some(200)));
    assert_eq!(http(51002), None);
    // HTTP heads over UDP are SSDP.
    assert_eq!(app_protocol(&flows, 51000), Some("ssdp"));
}

#[test]
fn malformed_messages_keep_their_reason() {
    // A ClientHello record whose extension block overruns its message, and
    // a datagram on the DNS port shorter than a DNS header.
    let mut hello = tls_client_hello("bad.example", &[]);
    let n = hello.len();
    hello[n - 7] = 0xff; // the last extension's length (supported_groups)
    let c = Conversation::new(43001, 443).up(&hello);
    let mut frames = c.frames;
    frames.push(udp4(CLIENT, SERVER, 43002, 53, &[1, 2, 3]).unwrap());
    let flows = analyze(&frames);
    let errors = |port: u16| {
        flow_on(&flows, port)
            .app
            .as_ref()
            .map(|a| a.errors().to_vec())
    };
    let tls = errors(443).expect("reasons kept");
    assert_eq!(tls.len(), 1);
    assert_eq!(tls[0].0, "tls");
    assert!(tls[0].1.contains("overruns"), "{:?}", tls[0]);
    assert_eq!(
        errors(53),
        Some(vec![("dns", "shorter than the 12-byte DNS header")])
    );
    let names: Vec<&str> = flow_on(&flows, 53)
        .anomalies
        .iter()
        .map(|a| a.name())
        .collect();
    assert_eq!(names, ["dns_malformed"]);
}

#[test]
fn protocols_named_by_their_first_bytes_on_any_port() {
    // An SSH banner on 2222, an SMB2 header on 4455, SSH-looking text
    // that is not a banner, and mDNS / LLMNR by their ports.
    let ssh = Conversation::new(44001, 2222)
        .down(b"SSH-2.0-OpenSSH_9.6\r\n")
        .up(b"SSH-2.0-PuTTY_0.80\r\n");
    let mut smb2 = vec![0, 0, 0, 0x44, 0xfe, b'S', b'M', b'B', 0x40, 0];
    smb2.resize(0x48, 0);
    let smb = Conversation::new(44002, 4455).up(&smb2);
    let text = Conversation::new(44003, 7777).up(b"hello SSH-2.0-x\r\n");
    let mut frames = ssh.frames;
    frames.extend(smb.frames);
    frames.extend(text.frames);
    frames.push(
        udp4(
            CLIENT,
            [224, 0, 0, 251],
            5353,
            5353,
            &dns_message(0, "host.local", None),
        )
        .unwrap(),
    );
    frames.push(
        udp4(
            CLIENT,
            [224, 0, 0, 252],
            44004,
            5355,
            &dns_message(9, "wpad", None),
        )
        .unwrap(),
    );
    let flows = analyze(&frames);
    let name = |port: u16| app_protocol(&flows, port);
    assert_eq!(name(2222), Some("ssh"));
    assert_eq!(name(4455), Some("smb"));
    assert_eq!(name(7777), None);
    assert_eq!(name(5353), Some("mdns"));
    assert_eq!(name(5355), Some("llmnr"));
}

/// A minimal Kerberos AS-REQ for `user@EXAMPLE.ORG` (RFC 4120 §5.4.1),
/// its DER lengths worked out by hand.
fn as_req() -> Vec<u8> {
    [
        &[0x6a, 0x3b, 0x30, 0x39][..],
        &[0xa1, 3, 2, 1, 5, 0xa2, 3, 2, 1, 10],
        &[0xa4, 0x2d, 0x30, 0x2b],
        &[0xa0, 7, 3, 5, 0, 0x40, 0x81, 0, 0x10],
        &[
            0xa1, 0x11, 0x30, 0x0f, 0xa0, 3, 2, 1, 1, 0xa1, 8, 0x30, 6, 0x1b, 4,
        ],
        b"user",
        &[0xa2, 0x0d, 0x1b, 0x0b],
        b"EXAMPLE.ORG",
    ]
    .concat()
}

#[test]
fn protocol_fields_and_proxies_reach_their_flows() {
    let ssh = Conversation::new(45001, 2200)
        .up(b"SSH-2.0-OpenSSH_9.6\r\n")
        .down(b"SSH-2.0-dropbear_2022.83\r\n");
    let smtp = Conversation::new(45002, 2525)
        .down(b"220 mx.example ESMTP Postfix\r\n")
        .up(b"EHLO client.example\r\n");
    let mqtt =
        Conversation::new(45003, 11883).up(b"\x10\x14\x00\x04MQTT\x04\x02\x00\x3c\x00\x08sensor-1");
    let proxy = Conversation::new(45004, 3128)
        .up(b"GET http://example.org/ HTTP/1.1\r\nHost: example.org\r\n\r\n")
        .down(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let mut frames = [ssh.frames, smtp.frames, mqtt.frames, proxy.frames].concat();
    let invite = b"INVITE sip:bob@b.example SIP/2.0\r\nFrom: <sip:alice@a.example>;tag=9\r\n\
To: sip:bob@b.example\r\nUser-Agent: Linphone/5.0\r\nContent-Length: 0\r\n\r\n";
    frames.push(udp4(CLIENT, SERVER, 45005, 15060, invite).unwrap());
    frames.push(udp4(CLIENT, SERVER, 45006, 8888, &as_req()).unwrap());
    let flows = analyze(&frames);
    let fields = |port: u16| {
        let f = flow_on(&flows, port).app.as_ref().expect("identified");
        (
            f.protocol(),
            f.fields.as_deref().cloned().unwrap_or_default(),
        )
    };
    let (p, f) = fields(2200);
    assert_eq!(p, Some("ssh"));
    assert_eq!(f.ssh_client.as_deref(), Some("SSH-2.0-OpenSSH_9.6"));
    assert_eq!(f.ssh_server.as_deref(), Some("SSH-2.0-dropbear_2022.83"));
    let (p, f) = fields(2525);
    assert_eq!(p, Some("smtp"));
    assert_eq!(f.banner.as_deref(), Some("220 mx.example ESMTP Postfix"));
    let (p, f) = fields(11883);
    assert_eq!(p, Some("mqtt"));
    assert_eq!(f.mqtt_client_id.as_deref(), Some("sensor-1"));
    let (p, f) = fields(15060);
    assert_eq!(p, Some("sip"));
    assert_eq!(f.sip_from.as_deref(), Some("sip:alice@a.example"));
    assert_eq!(f.sip_to.as_deref(), Some("sip:bob@b.example"));
    assert_eq!(f.sip_user_agent.as_deref(), Some("Linphone/5.0"));
    let (p, f) = fields(8888);
    assert_eq!(p, Some("kerberos"));
    assert_eq!(f.krb_realm.as_deref(), Some("EXAMPLE.ORG"));
    assert_eq!(f.krb_principal.as_deref(), Some("user"));
    let web = flow_on(&flows, 3128).app.as_ref().unwrap();
    assert_eq!(web.protocol(), Some("http"));
    assert_eq!(web.proxy.map(|p| p.name()), Some("http"));
}

#[test]
fn names_that_need_more_than_one_opening() {
    // RTP: two headers of one SSRC, consecutive sequence numbers; a single
    // RTP-like datagram names nothing.
    let rtp = |seq: u16| {
        let mut d = vec![
            0x80,
            0,
            (seq >> 8) as u8,
            seq as u8,
            0,
            0,
            0,
            160,
            1,
            2,
            3,
            4,
        ];
        d.extend([0xd5; 160]);
        d
    };
    let mut frames = vec![
        udp4(CLIENT, SERVER, 46001, 16384, &rtp(7)).unwrap(),
        udp4(CLIENT, SERVER, 46001, 16384, &rtp(8)).unwrap(),
        udp4(CLIENT, SERVER, 46002, 16386, &rtp(7)).unwrap(),
    ];
    // DNSCrypt on the mDNS port: an encrypted query, the resolver's answer.
    let mut query = vec![0x33; 80];
    query[..8].copy_from_slice(b"qcXwqkQ3");
    let mut answer = b"r6fnvWj8".to_vec();
    answer.resize(120, 0x5a);
    frames.push(udp4(CLIENT, SERVER, 46003, 5353, &query).unwrap());
    frames.push(udp4(SERVER, CLIENT, 5353, 46003, &answer).unwrap());
    // mvfst's draft-22 build, whose keys are not known here: its Initial's
    // long header alone names QUIC.
    let mut initial = vec![
        0xc3, 0xfa, 0xce, 0xb0, 0x01, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0x44, 0xbe,
    ];
    initial.resize(1232, 0x6b);
    frames.push(udp4(CLIENT, SERVER, 46004, 443, &initial).unwrap());
    // A hello behind a zero-padding ACK; a hello on the IMAPS port.
    frames.extend(
        Conversation::new(46005, 443)
            .padding()
            .hellos("padded.example")
            .frames,
    );
    frames.extend(Conversation::new(46006, 993).hellos("mail.example").frames);
    let flows = analyze(&frames);
    let name = |port: u16| app_protocol(&flows, port);
    assert_eq!(name(16384), Some("rtp"));
    assert_eq!(name(16386), None);
    assert_eq!(name(46003), Some("dnscrypt"));
    assert_eq!(name(46004), Some("quic"));
    assert_eq!(
        sni(flow_on(&flows, 46005)).as_deref(),
        Some("padded.example")
    );
    assert_eq!(name(46006), Some("imap"));
    assert_eq!(sni(flow_on(&flows, 46006)).as_deref(), Some("mail.example"));
}
