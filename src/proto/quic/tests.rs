//! QUIC tests: the RFC 9001 and RFC 9369 vectors, sealed Initials made
//! here, and properties of the tracker.

use super::crypto::*;
use super::keys::*;
use super::tracker::*;
use super::*;
use crate::sample::tls_client_hello;
use hkdf::Hkdf;
use proptest::prelude::*;
use sha2::Sha256;

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s
        .bytes()
        .filter(u8::is_ascii_hexdigit)
        .map(|c| (c as char).to_digit(16).unwrap() as u8)
        .collect();
    digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect()
}

const RFC_DCID: &str = "8394c8f03e515708";

/// RFC 9001 appendix A.2 (and RFC 9369 A.2, the same bytes): the CRYPTO
/// frame of the client Initial, before 917 bytes of PADDING.
const A2_CRYPTO_FRAME: &str = "
    060040f1010000ed0303ebf8fa56f129 39b9584a3896472ec40bb863cfd3e868
    04fe3a47f06a2b69484c000004130113 02010000c000000010000e00000b6578
    616d706c652e636f6dff01000100000a 00080006001d00170018001000070005
    04616c706e0005000501000000000033 00260024001d00209370b2c9caa47fba
    baf4559fedba753de171fa71f50f1ce1 5d43e994ec74d748002b000302030400
    0d0010000e0403050306030203080408 050806002d00020101001c0002400100
    3900320408ffffffffffffffff050480 00ffff07048000ffff08011001048000
    75300901100f088394c8f03e51570806 048000ffff";

/// RFC 9001 appendix A.2: the protected client Initial.
const RFC9001_A2_PACKET: &str = "
    c000000001088394c8f03e5157080000 449e7b9aec34d1b1c98dd7689fb8ec11
    d242b123dc9bd8bab936b47d92ec356c 0bab7df5976d27cd449f63300099f399
    1c260ec4c60d17b31f8429157bb35a12 82a643a8d2262cad67500cadb8e7378c
    8eb7539ec4d4905fed1bee1fc8aafba1 7c750e2c7ace01e6005f80fcb7df6212
    30c83711b39343fa028cea7f7fb5ff89 eac2308249a02252155e2347b63d58c5
    457afd84d05dfffdb20392844ae81215 4682e9cf012f9021a6f0be17ddd0c208
    4dce25ff9b06cde535d0f920a2db1bf3 62c23e596d11a4f5a6cf3948838a3aec
    4e15daf8500a6ef69ec4e3feb6b1d98e 610ac8b7ec3faf6ad760b7bad1db4ba3
    485e8a94dc250ae3fdb41ed15fb6a8e5 eba0fc3dd60bc8e30c5c4287e53805db
    059ae0648db2f64264ed5e39be2e20d8 2df566da8dd5998ccabdae053060ae6c
    7b4378e846d29f37ed7b4ea9ec5d82e7 961b7f25a9323851f681d582363aa5f8
    9937f5a67258bf63ad6f1a0b1d96dbd4 faddfcefc5266ba6611722395c906556
    be52afe3f565636ad1b17d508b73d874 3eeb524be22b3dcbc2c7468d54119c74
    68449a13d8e3b95811a198f3491de3e7 fe942b330407abf82a4ed7c1b311663a
    c69890f4157015853d91e923037c227a 33cdd5ec281ca3f79c44546b9d90ca00
    f064c99e3dd97911d39fe9c5d0b23a22 9a234cb36186c4819e8b9c5927726632
    291d6a418211cc2962e20fe47feb3edf 330f2c603a9d48c0fcb5699dbfe58964
    25c5bac4aee82e57a85aaf4e2513e4f0 5796b07ba2ee47d80506f8d2c25e50fd
    14de71e6c418559302f939b0e1abd576 f279c4b2e0feb85c1f28ff18f58891ff
    ef132eef2fa09346aee33c28eb130ff2 8f5b766953334113211996d20011a198
    e3fc433f9f2541010ae17c1bf202580f 6047472fb36857fe843b19f5984009dd
    c324044e847a4f4a0ab34f719595de37 252d6235365e9b84392b061085349d73
    203a4a13e96f5432ec0fd4a1ee65accd d5e3904df54c1da510b0ff20dcc0c77f
    cb2c0e0eb605cb0504db87632cf3d8b4 dae6e705769d1de354270123cb11450e
    fc60ac47683d7b8d0f811365565fd98c 4c8eb936bcab8d069fc33bd801b03ade
    a2e1fbc5aa463d08ca19896d2bf59a07 1b851e6c239052172f296bfb5e724047
    90a2181014f3b94a4e97d117b4381303 68cc39dbb2d198065ae3986547926cd2
    162f40a29f0c3c8745c0f50fba3852e5 66d44575c29d39a03f0cda721984b6f4
    40591f355e12d439ff150aab7613499d bd49adabc8676eef023b15b65bfc5ca0
    6948109f23f350db82123535eb8a7433 bdabcb909271a6ecbcb58b936a88cd4e
    8f2e6ff5800175f113253d8fa9ca8885 c2f552e657dc603f252e1a8e308f76f0
    be79e2fb8f5d5fbbe2e30ecadd220723 c8c0aea8078cdfcb3868263ff8f09400
    54da48781893a7e49ad5aff4af300cd8 04a6b6279ab3ff3afb64491c85194aab
    760d58a606654f9f4400e8b38591356f bf6425aca26dc85244259ff2b19c41b9
    f96f3ca9ec1dde434da7d2d392b905dd f3d1f9af93d1af5950bd493f5aa731b4
    056df31bd267b6b90a079831aaf579be 0a39013137aac6d404f518cfd4684064
    7e78bfe706ca4cf5e9c5453e9f7cfd2b 8b4c8d169a44e55c88d4a9a7f9474241
    e221af44860018ab0856972e194cd934";

/// RFC 9001 appendix A.3: the server Initial.
const RFC9001_A3_PACKET: &str = "
    cf000000010008f067a5502a4262b500 4075c0d95a482cd0991cd25b0aac406a
    5816b6394100f37a1c69797554780bb3 8cc5a99f5ede4cf73c3ec2493a1839b3
    dbcba3f6ea46c5b7684df3548e7ddeb9 c3bf9c73cc3f3bded74b562bfb19fb84
    022f8ef4cdd93795d77d06edbb7aaf2f 58891850abbdca3d20398c276456cbc4
    2158407dd074ee";

/// RFC 9369 appendix A.2: the protected client Initial of QUIC v2.
const RFC9369_A2_PACKET: &str = "
    d76b3343cf088394c8f03e5157080000 449ea0c95e82ffe67b6abcdb4298b485
    dd04de806071bf03dceebfa162e75d6c 96058bdbfb127cdfcbf903388e99ad04
    9f9a3dd4425ae4d0992cfff18ecf0fdb 5a842d09747052f17ac2053d21f57c5d
    250f2c4f0e0202b70785b7946e992e58 a59ac52dea6774d4f03b55545243cf1a
    12834e3f249a78d395e0d18f4d766004 f1a2674802a747eaa901c3f10cda5500
    cb9122faa9f1df66c392079a1b40f0de 1c6054196a11cbea40afb6ef5253cd68
    18f6625efce3b6def6ba7e4b37a40f77 32e093daa7d52190935b8da58976ff33
    12ae50b187c1433c0f028edcc4c2838b 6a9bfc226ca4b4530e7a4ccee1bfa2a3
    d396ae5a3fb512384b2fdd851f784a65 e03f2c4fbe11a53c7777c023462239dd
    6f7521a3f6c7d5dd3ec9b3f233773d4b 46d23cc375eb198c63301c21801f6520
    bcfb7966fc49b393f0061d974a2706df 8c4a9449f11d7f3d2dcbb90c6b877045
    636e7c0c0fe4eb0f697545460c806910 d2c355f1d253bc9d2452aaa549e27a1f
    ac7cf4ed77f322e8fa894b6a83810a34 b361901751a6f5eb65a0326e07de7c12
    16ccce2d0193f958bb3850a833f7ae43 2b65bc5a53975c155aa4bcb4f7b2c4e5
    4df16efaf6ddea94e2c50b4cd1dfe060 17e0e9d02900cffe1935e0491d77ffb4
    fdf85290fdd893d577b1131a610ef6a5 c32b2ee0293617a37cbb08b847741c3b
    8017c25ca9052ca1079d8b78aebd4787 6d330a30f6a8c6d61dd1ab5589329de7
    14d19d61370f8149748c72f132f0fc99 f34d766c6938597040d8f9e2bb522ff9
    9c63a344d6a2ae8aa8e51b7b90a4a806 105fcbca31506c446151adfeceb51b91
    abfe43960977c87471cf9ad4074d30e1 0d6a7f03c63bd5d4317f68ff325ba3bd
    80bf4dc8b52a0ba031758022eb025cdd 770b44d6d6cf0670f4e990b22347a7db
    848265e3e5eb72dfe8299ad7481a4083 22cac55786e52f633b2fb6b614eaed18
    d703dd84045a274ae8bfa73379661388 d6991fe39b0d93debb41700b41f90a15
    c4d526250235ddcd6776fc77bc97e7a4 17ebcb31600d01e57f32162a8560cacc
    7e27a096d37a1a86952ec71bd89a3e9a 30a2a26162984d7740f81193e8238e61
    f6b5b984d4d3dfa033c1bb7e4f0037fe bf406d91c0dccf32acf423cfa1e70710
    10d3f270121b493ce85054ef58bada42 310138fe081adb04e2bd901f2f13458b
    3d6758158197107c14ebb193230cd115 7380aa79cae1374a7c1e5bbcb80ee23e
    06ebfde206bfb0fcbc0edc4ebec30966 1bdd908d532eb0c6adc38b7ca7331dce
    8dfce39ab71e7c32d318d136b6100671 a1ae6a6600e3899f31f0eed19e3417d1
    34b90c9058f8632c798d4490da498730 7cba922d61c39805d072b589bd52fdf1
    e86215c2d54e6670e07383a27bbffb5a ddf47d66aa85a0c6f9f32e59d85a44dd
    5d3b22dc2be80919b490437ae4f36a0a e55edf1d0b5cb4e9a3ecabee93dfc6e3
    8d209d0fa6536d27a5d6fbb17641cde2 7525d61093f1b28072d111b2b4ae5f89
    d5974ee12e5cf7d5da4d6a31123041f3 3e61407e76cffcdcfd7e19ba58cf4b53
    6f4c4938ae79324dc402894b44faf8af bab35282ab659d13c93f70412e85cb19
    9a37ddec600545473cfb5a05e08d0b20 9973b2172b4d21fb69745a262ccde96b
    a18b2faa745b6fe189cf772a9f84cbfc";

/// RFC 9369 appendix A.3: the server Initial of QUIC v2.
const RFC9369_A3_PACKET: &str = "
    dc6b3343cf0008f067a5502a4262b500 4075d92faaf16f05d8a4398c47089698
    baeea26b91eb761d9b89237bbf872630 17915358230035f7fd3945d88965cf17
    f9af6e16886c61bfc703106fbaf3cb4c fa52382dd16a393e42757507698075b2
    c984c707f0a0812d8cd5a6881eaf21ce da98f4bd23f6fe1a3e2c43edd9ce7ca8
    4bed8521e2e140";

fn expand(secret: &[u8], label: &[u8], len: usize) -> Vec<u8> {
    let hk = Hkdf::<Sha256>::from_prk(secret).unwrap();
    let mut out = vec![0; len];
    expand_label(&hk, label, &mut out).unwrap();
    out
}

fn check_key_schedule(version: u32, initial: &str, client: &str, key: &str, iv: &str, hp: &str) {
    let p = profile(version).unwrap();
    let (prk, _) = Hkdf::<Sha256>::extract(Some(p.salt), &hex(RFC_DCID));
    assert_eq!(prk.to_vec(), hex(initial), "initial_secret");
    assert_eq!(
        expand(&prk, b"client in", 32),
        hex(client),
        "client_initial_secret"
    );
    let s = client_secrets(&p, &hex(RFC_DCID)).unwrap();
    assert_eq!(s.key.to_vec(), hex(key), "key");
    assert_eq!(s.iv.to_vec(), hex(iv), "iv");
    assert_eq!(s.hp.to_vec(), hex(hp), "hp");
}

#[test]
fn rfc9001_a1_keys() {
    check_key_schedule(
        VERSION_1,
        "7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44",
        "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea",
        "1f369613dd76d5467730efcbe3b1a22d",
        "fa044b2f42a3fd3b46fb255c",
        "9f50449e04a0e810283a1e9933adedd2",
    );
    // The server side of A.1, through the same expansion.
    let (prk, _) = Hkdf::<Sha256>::extract(Some(SALT_V1), &hex(RFC_DCID));
    let server = expand(&prk, b"server in", 32);
    assert_eq!(
        server,
        hex("3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b")
    );
    assert_eq!(
        expand(&server, b"quic key", 16),
        hex("cf3a5331653c364c88f0f379b6067e37")
    );
    assert_eq!(
        expand(&server, b"quic iv", 12),
        hex("0ac1493ca1905853b0bba03e")
    );
    assert_eq!(
        expand(&server, b"quic hp", 16),
        hex("c206b8d9b9f0f37644430b490eeaa314")
    );
}

#[test]
fn rfc9369_a1_keys() {
    check_key_schedule(
        VERSION_2,
        "2062e8b3cd8d52092614b8071d0aa1fb7c2e3ac193f78b280e72d8f5751f6aba",
        "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b",
        "8b1a0bc121284290a29e0971b5cd045d",
        "91f73e2351d8fa91660e909f",
        "45b95e15235d6f45a6b19cbcb0294ba9",
    );
}

#[test]
fn header_protection_masks_of_the_rfcs() {
    for (version, sample, mask) in [
        (VERSION_1, "d1b1c98dd7689fb8ec11d242b123dc9b", "437b9aec36"),
        (VERSION_2, "ffe67b6abcdb4298b485dd04de806071", "94a0c95e80"),
    ] {
        let keys = InitialKeys::client(version, &hex(RFC_DCID)).unwrap();
        // A fake packet whose sample sits right after a 0-byte header.
        let mut bytes = vec![0; SAMPLE_OFFSET];
        bytes.extend(hex(sample));
        assert_eq!(keys.mask(&bytes, 0).unwrap()[..5].to_vec(), hex(mask));
    }
}

/// Opens the A.2 packet of either RFC: header fields, packet number 2,
/// and the CRYPTO frame then PADDING to 1162 bytes.
fn check_a2(packet_hex: &str, version: u32, kind_bits: u8) {
    let datagram = hex(packet_hex);
    assert_eq!(datagram.len(), 1200);
    assert_eq!((datagram[0] >> 4) & 3, kind_bits);
    let (packet, rest) = parse_packet(&datagram).unwrap();
    assert!(rest.is_empty());
    let Packet::Long(p) = packet else {
        panic!("{packet:?}")
    };
    assert_eq!(
        (p.version, p.kind, p.dcid, p.scid, p.token, p.pn_offset),
        (
            version,
            LongType::Initial,
            &hex(RFC_DCID)[..],
            &[][..],
            &[][..],
            18
        )
    );
    let keys = InitialKeys::client(version, p.dcid).unwrap();
    let mut scratch = Vec::new();
    let (pn, frames) = keys.open(&p, None, &mut scratch).unwrap();
    assert_eq!((pn, frames.clone()), (2, 22..1200 - 16));
    let mut want = hex(A2_CRYPTO_FRAME);
    want.resize(1162, 0);
    assert_eq!(scratch[frames], want[..]);
    assert_eq!(open_client_initial(&p).unwrap(), want);
    // One flipped bit anywhere fails the tag.
    let mut bad = datagram.clone();
    bad[600] ^= 1;
    let Ok((Packet::Long(p), _)) = parse_packet(&bad) else {
        panic!()
    };
    assert_eq!(open_client_initial(&p), Err(QuicAnomaly::InitialNotOpened));
}

#[test]
fn rfc9001_a2_client_initial_opens() {
    check_a2(RFC9001_A2_PACKET, VERSION_1, 0);
}

#[test]
fn rfc9369_a2_client_initial_opens() {
    // v2 Initials carry type bits 0b01 (RFC 9369 §3.2).
    check_a2(RFC9369_A2_PACKET, VERSION_2, 1);
}

fn check_tracker_on_rfc_flow(client_hex: &str, server_hex: &str, version: u32) {
    let mut t = QuicTracker::new();
    assert_eq!(t.datagram(&hex(client_hex), true), Status::Done);
    assert!(!t.is_finished(), "waits for the server's CID");
    let info = t.info();
    assert_eq!(info.version, version);
    assert_eq!(info.dcid, hex(RFC_DCID));
    assert!(info.scid.is_empty());
    let ch = info.client_hello.as_ref().unwrap();
    assert_eq!(ch.sni.as_deref(), Some("example.com"));
    assert_eq!(ch.alpn, ["alpn"]);
    assert_eq!(ch.cipher_suites, [0x1301, 0x1302]);
    assert_eq!(ch.supported_versions, [0x0304]);
    // 11 extensions; ALPN "alpn" gives "an".
    assert!(ch.ja4(true).starts_with("q13d0211an_"), "{}", ch.ja4(true));
    // The server's Initial names its CID and, opened with the server keys
    // of the same DCID (RFC 9001 A.3), carries the ServerHello; then
    // nothing more is read.
    assert_eq!(t.datagram(&hex(server_hex), false), Status::Done);
    assert!(t.is_finished());
    assert_eq!(t.info().server_scid, Some(hex("f067a5502a4262b5")));
    let sh = t.info().server_hello.as_ref().expect("ServerHello");
    assert_eq!((sh.cipher, sh.selected_version), (0x1301, Some(0x0304)));
    assert_eq!(sh.ja3s_string(), "771,4865,51-43");
    assert_eq!(t.anomalies().count(), 0);
    assert_eq!(t.datagrams(), 2);
}

#[test]
fn rfc9001_flow_through_the_tracker() {
    check_tracker_on_rfc_flow(RFC9001_A2_PACKET, RFC9001_A3_PACKET, VERSION_1);
}

#[test]
fn rfc9369_flow_through_the_tracker() {
    check_tracker_on_rfc_flow(RFC9369_A2_PACKET, RFC9369_A3_PACKET, VERSION_2);
}

#[test]
fn server_initials_do_not_open_with_client_keys() {
    for server in [RFC9001_A3_PACKET, RFC9369_A3_PACKET] {
        let bytes = hex(server);
        let Ok((Packet::Long(p), rest)) = parse_packet(&bytes) else {
            panic!()
        };
        assert!(rest.is_empty());
        assert_eq!(
            (p.kind, p.scid),
            (LongType::Initial, &hex("f067a5502a4262b5")[..])
        );
        assert!(open_client_initial(&p).is_err());
    }
}

#[test]
fn rfc_retry_packets() {
    // RFC 9001 A.4 (type bits 0b11) and RFC 9369 A.4 (0b00).
    for (bytes, version) in [
        (
            "ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba",
            VERSION_1,
        ),
        (
            "cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6",
            VERSION_2,
        ),
    ] {
        let bytes = hex(bytes);
        let (Packet::Long(p), rest) = parse_packet(&bytes).unwrap() else {
            panic!()
        };
        assert!(rest.is_empty());
        assert_eq!(p.version, version);
        assert_eq!(p.kind, LongType::Retry);
        assert_eq!(p.scid, hex("f067a5502a4262b5"));
        assert_eq!(p.token, b"token");
    }
}

#[test]
fn rfc9000_varint_and_packet_number_examples() {
    // RFC 9000 appendix A.1.
    for (bytes, want) in [
        ("c2197c5eff14e88c", 151_288_809_941_952_652u64),
        ("9d7f3e7d", 494_878_333),
        ("7bbd", 15_293),
        ("25", 37),
        ("4025", 37),
    ] {
        let b = hex(bytes);
        let mut r = Reader(&b);
        assert_eq!(r.varint(), Some(want));
        assert!(r.0.is_empty());
    }
    assert_eq!(Reader(&hex("c2197c")).varint(), None);
    // RFC 9000 appendix A.3.
    assert_eq!(
        decode_packet_number(Some(0xa82f30ea), 0x9b32, 16),
        0xa82f9b32
    );
    assert_eq!(decode_packet_number(None, 2, 32), 2);
    assert_eq!(decode_packet_number(Some(0xff), 0x01, 8), 0x101);
}

// ---- Synthetic flows: client Initials sealed here with the same keys.

fn varint(v: u64) -> Vec<u8> {
    match v {
        0..=63 => vec![v as u8],
        64..=16383 => (v as u16 | 0x4000).to_be_bytes().to_vec(),
        _ => (v as u32 | 0x8000_0000).to_be_bytes().to_vec(),
    }
}

fn crypto_frame(offset: usize, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0x06];
    f.extend(varint(offset as u64));
    f.extend(varint(data.len() as u64));
    f.extend_from_slice(data);
    f
}

/// The ClientHello handshake message of the sample record.
fn hello_message(sni: &str) -> Vec<u8> {
    tls_client_hello(sni, &["h3"])[5..].to_vec()
}

/// A protected client Initial: 4-byte packet number `pn`, `frames`
/// padded to at least 1162 bytes of payload when `pad`.
fn seal(version: u32, dcid: &[u8], scid: &[u8], pn: u32, frames: &[u8], pad: bool) -> Vec<u8> {
    seal_client_initial(dcid, version, dcid, scid, pn, frames, pad).unwrap()
}

const DCID: &[u8] = b"\x01\x02\x03\x04\x05\x06\x07\x08";
const SCID: &[u8] = b"\xaa\xbb";

#[test]
fn hello_split_over_initials_arriving_out_of_order() {
    let m = hello_message("split.example");
    let (a, b) = m.split_at(40);
    let first = seal(VERSION_1, DCID, SCID, 0, &crypto_frame(0, a), true);
    let second = seal(VERSION_1, DCID, SCID, 1, &crypto_frame(40, b), true);
    let mut t = QuicTracker::new();
    assert_eq!(t.datagram(&second, true), Status::Reading);
    assert_eq!(t.datagram(&first, true), Status::Done);
    let ch = t.info().client_hello.as_ref().unwrap();
    assert_eq!(ch.sni.as_deref(), Some("split.example"));
    assert_eq!(t.info().dcid, DCID);
    assert_eq!(t.info().scid, SCID);
}

#[test]
fn keys_stay_with_the_original_dcid_after_the_server_picks_its_cid() {
    let m = hello_message("server-cid.example");
    let (a, b) = m.split_at(60);
    let server_cid = b"\x5e\x5e\x5e\x5e";
    let mut t = QuicTracker::new();
    let first = seal(VERSION_1, DCID, SCID, 0, &crypto_frame(0, a), true);
    assert_eq!(t.datagram(&first, true), Status::Reading);
    // The server answers from its own CID (keys: server side, never
    // opened here); the client then addresses that CID, still under
    // the Initial keys of its original DCID (RFC 9001 §5.2).
    let mut server = vec![0xc1, 0, 0, 0, 1, 2, 0xaa, 0xbb, 4];
    server.extend_from_slice(server_cid);
    server.extend([0, 0x40, 20]);
    server.extend([0x11; 20]);
    assert_eq!(t.datagram(&server, false), Status::Reading);
    assert_eq!(t.info().server_scid.as_deref(), Some(&server_cid[..]));
    // keys from the client's original DCID
    let second = seal_client_initial(
        DCID,
        VERSION_1,
        server_cid,
        SCID,
        1,
        &crypto_frame(60, b),
        true,
    )
    .unwrap();
    assert_eq!(t.datagram(&second, true), Status::Done);
    assert_eq!((t.info().dcid.as_slice(), t.info().restarts), (DCID, 0));
    // The server's Initial did not open (it is not sealed here): its
    // ServerHello may still come, until the datagram budget.
    assert!(!t.is_finished());
    assert_eq!(t.info().server_hello, None);
    assert_eq!(t.anomalies().count(), 0);
}

#[test]
fn hello_in_many_frames_of_one_packet_with_ping_and_padding() {
    let m = hello_message("frames.example");
    let mut frames = Vec::new();
    // Reversed pieces of 7 bytes, a PING and a PADDING run between,
    // an overlapping duplicate, and an ACK before all.
    frames.extend([0x02, 0x00, 0x00, 0x00, 0x00]);
    let pieces: Vec<(usize, &[u8])> = m.chunks(7).enumerate().map(|(i, c)| (i * 7, c)).collect();
    for (off, c) in pieces.iter().rev() {
        frames.extend(crypto_frame(*off, c));
        frames.extend([0x01, 0x00, 0x00]);
    }
    frames.extend(crypto_frame(3, &m[3..20]));
    let mut t = QuicTracker::new();
    assert_eq!(
        t.datagram(&seal(VERSION_1, DCID, SCID, 0, &frames, true), true),
        Status::Done
    );
    assert_eq!(
        t.info().client_hello.as_ref().unwrap().sni.as_deref(),
        Some("frames.example")
    );
}

#[test]
fn coalesced_packets_are_walked_by_length() {
    let m = hello_message("coalesced.example");
    let (a, b) = m.split_at(30);
    let mut datagram = seal(VERSION_1, DCID, SCID, 0, &crypto_frame(0, a), false);
    // A 0-RTT packet between the two Initials (never opened).
    datagram.extend([0xd0, 0, 0, 0, 1, 8]);
    datagram.extend_from_slice(DCID);
    datagram.extend([2, 0xaa, 0xbb, 0x05, 1, 2, 3, 4, 5]);
    datagram.extend(seal(VERSION_1, DCID, SCID, 1, &crypto_frame(30, b), false));
    // Zeros after the last packet, as some clients pad the datagram.
    datagram.resize(1200, 0);
    let mut t = QuicTracker::new();
    assert_eq!(t.datagram(&datagram, true), Status::Done);
    assert_eq!(t.anomalies().count(), 0);
}

#[test]
fn client_found_by_content_when_the_server_speaks_first() {
    // The capture starts with the server's Initial: its side is "up".
    let mut t = QuicTracker::new();
    assert_eq!(t.datagram(&hex(RFC9001_A3_PACKET), true), Status::Reading);
    assert_eq!(t.datagram(&hex(RFC9001_A2_PACKET), false), Status::Done);
    assert_eq!(
        t.info().client_hello.as_ref().unwrap().sni.as_deref(),
        Some("example.com")
    );
    // The server's CID is only taken once the sides are known.
    assert_eq!(t.datagram(&hex(RFC9001_A3_PACKET), true), Status::Done);
    assert_eq!(t.info().server_scid, Some(hex("f067a5502a4262b5")));
    assert_eq!(t.anomalies().count(), 0, "a server Initial is no anomaly");
}

#[test]
fn retry_starts_over_with_keys_from_the_new_dcid() {
    let m = hello_message("retry.example");
    let mut t = QuicTracker::new();
    // The first attempt sends only part of its hello before the Retry.
    let first = seal(VERSION_1, DCID, SCID, 0, &crypto_frame(0, &m[..50]), true);
    assert_eq!(t.datagram(&first, true), Status::Reading);
    let new_dcid = b"\x77\x66\x55\x44";
    let mut retry = vec![0xf0, 0, 0, 0, 1, 2, 0xaa, 0xbb, 4];
    retry.extend_from_slice(new_dcid);
    retry.extend(b"token");
    retry.extend([0; 16]);
    assert_eq!(t.datagram(&retry, false), Status::Reading);
    assert!(t.info().retry);
    // The client sends its whole hello again under the new keys; the
    // old attempt's bytes (here, a different hello) are dropped.
    let again = seal(VERSION_1, new_dcid, SCID, 0, &crypto_frame(0, &m), true);
    assert_eq!(t.datagram(&again, true), Status::Done);
    assert_eq!(t.info().dcid, new_dcid);
    assert_eq!(t.info().restarts, 1);
    assert_eq!(
        t.info().client_hello.as_ref().unwrap().sni.as_deref(),
        Some("retry.example")
    );
    // The server's Retry CID is not its Initial CID: still waiting.
    assert!(!t.is_finished());
}

#[test]
fn version_negotiation_then_v2() {
    let mut t = QuicTracker::new();
    // A client forcing negotiation with a reserved version.
    let mut forcing = vec![0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 8];
    forcing.extend_from_slice(DCID);
    forcing.extend([2, 0xaa, 0xbb]);
    forcing.resize(1200, 0);
    assert!(starts_like_quic(&forcing));
    assert_eq!(t.datagram(&forcing, true), Status::Reading);
    assert_eq!(t.info().version, 0x1a2a3a4a);
    let mut vn = vec![0x80, 0, 0, 0, 0, 2, 0xaa, 0xbb, 8];
    vn.extend_from_slice(DCID);
    vn.extend(VERSION_2.to_be_bytes());
    vn.extend(VERSION_1.to_be_bytes());
    assert_eq!(t.datagram(&vn, false), Status::Reading);
    assert_eq!(t.info().server_versions, [VERSION_2, VERSION_1]);
    let m = hello_message("v2.example");
    let v2 = seal(
        VERSION_2,
        b"\x09\x09\x09\x09\x09\x09\x09\x09",
        SCID,
        0,
        &crypto_frame(0, &m),
        true,
    );
    assert_eq!(t.datagram(&v2, true), Status::Done);
    assert_eq!(t.info().version, VERSION_2);
    assert_eq!(t.info().restarts, 0, "no earlier keys to replace");
}

/// A new tracker fed one v1 client Initial carrying `frames`, and what it
/// said.
fn first_initial(frames: &[u8]) -> (QuicTracker, Status) {
    let mut t = QuicTracker::new();
    let status = t.datagram(&seal(VERSION_1, DCID, SCID, 0, frames, true), true);
    (t, status)
}

#[test]
fn crypto_past_the_cap_gives_up() {
    let frames = crypto_frame(MAX_CRYPTO_BYTES, b"x");
    let (t, status) = first_initial(&frames);
    assert_eq!(status, Status::GaveUp(GiveUp::CryptoCap));
    assert!(t.is_finished());
    // A hello that says it is longer than the cap gives up at once.
    let frames = crypto_frame(0, &[1, 0, 0x50, 0]);
    let (_, status) = first_initial(&frames);
    assert_eq!(status, Status::GaveUp(GiveUp::CryptoCap));
}

#[test]
fn crypto_in_too_many_pieces_gives_up() {
    let mut frames = Vec::new();
    for i in 1..=MAX_CRYPTO_RANGES + 1 {
        frames.extend(crypto_frame(i * 4, b"xx"));
    }
    let (_, status) = first_initial(&frames);
    assert_eq!(status, Status::GaveUp(GiveUp::CryptoFragmented));
}

#[test]
fn crypto_stream_first_arrival_wins_and_merges() {
    let mut c = CryptoStream::default();
    c.insert(4, b"efgh").unwrap();
    c.insert(0, b"abXX").unwrap();
    c.insert(2, b"cdZZZZ").unwrap();
    assert_eq!(c.prefix(), b"abXXefgh", "bytes held are kept");
    assert_eq!(c.bytes.ranges(), [(0, 8)]);
    c.insert(10, b"k").unwrap();
    assert_eq!(c.bytes.ranges(), [(0, 8), (10, 11)]);
    c.insert(8, b"ij").unwrap();
    assert_eq!(
        (c.prefix(), c.bytes.ranges()),
        (&b"abXXefghijk"[..], &[(0, 11)][..])
    );
}

#[test]
fn not_a_hello_gives_up_with_the_tls_reason() {
    let frames = crypto_frame(0, &[2, 0, 0, 4, 3, 3, 0, 0]);
    let (_, status) = first_initial(&frames);
    assert!(
        matches!(status, Status::GaveUp(GiveUp::BadClientHello(_))),
        "{status:?}"
    );
}

#[test]
fn unknown_frame_is_an_anomaly_and_keeps_what_came_before() {
    let m = hello_message("frame.example");
    let mut frames = crypto_frame(0, &m);
    frames.extend([0x08, 1, 2, 3]); // STREAM: not allowed in an Initial
    let mut t = QuicTracker::new();
    assert_eq!(
        t.datagram(&seal(VERSION_1, DCID, SCID, 0, &frames, true), true),
        Status::Done
    );
    assert_eq!(t.anomalies().collect::<Vec<_>>(), [QuicAnomaly::BadFrame]);
}

#[test]
fn not_quic_and_budget() {
    let mut t = QuicTracker::new();
    assert_eq!(
        t.datagram(b"\x12\x34\x01\x00\x00\x01", true),
        Status::NotQuic
    );
    assert!(t.is_finished());
    // A long header of a version not read here, too short for a first
    // Initial: nothing is tried.
    let mut t = QuicTracker::new();
    assert_eq!(t.datagram(b"\xc3Q099\x08", true), Status::NotQuic);
    // A QUIC start whose Initials never open: the budget ends it.
    let mut t = QuicTracker::new();
    let mut junk = hex(RFC9001_A2_PACKET);
    junk[700] ^= 0x40;
    for i in 1..=MAX_DATAGRAMS {
        let s = t.datagram(&junk, true);
        assert_eq!(s == Status::Reading, i < MAX_DATAGRAMS);
    }
    assert_eq!(t.status(), Status::GaveUp(GiveUp::NoInitialOpened));
    assert!(t.is_finished());
    assert_eq!(t.datagram(&hex(RFC9001_A2_PACKET), true), t.status());
    assert_eq!(
        t.datagrams(),
        MAX_DATAGRAMS,
        "finished trackers read nothing"
    );
}

#[test]
fn an_initial_that_never_opens_is_named_once_sides_are_unknown_or_its_the_client() {
    let mut junk = hex(RFC9001_A2_PACKET);
    junk[700] ^= 0x40;
    let mut t = QuicTracker::new();
    t.datagram(&junk, true);
    assert_eq!(
        t.anomalies().collect::<Vec<_>>(),
        [QuicAnomaly::InitialNotOpened]
    );
    // Once the other side proves to be the client, that was the
    // server's Initial: no anomaly.
    t.datagram(&hex(RFC9001_A2_PACKET), false);
    assert_eq!(t.anomalies().count(), 0);
    // The client's own broken Initial stays named.
    let mut t = QuicTracker::new();
    t.datagram(&junk, true);
    t.datagram(&hex(RFC9001_A2_PACKET), true);
    assert_eq!(
        t.anomalies().collect::<Vec<_>>(),
        [QuicAnomaly::InitialNotOpened]
    );
}

#[test]
fn every_truncation_of_the_rfc_packet_is_handled() {
    let full = hex(RFC9001_A2_PACKET);
    for n in 0..full.len() {
        let mut t = QuicTracker::new();
        let s = t.datagram(&full[..n], true);
        assert!(matches!(s, Status::Reading | Status::NotQuic), "{n}: {s:?}");
        if n >= 5 {
            assert!(t.anomalies().count() == 1, "{n}: a named anomaly");
        }
    }
}

#[test]
fn malformed_headers_are_named() {
    assert_eq!(
        parse_packet(b"\xc0\x00\x00"),
        Err(QuicAnomaly::TruncatedHeader)
    );
    let mut long_cid = vec![0xc0, 0, 0, 0, 1, 21];
    long_cid.extend([0; 22]);
    assert_eq!(parse_packet(&long_cid), Err(QuicAnomaly::CidTooLong));
    // Unknown versions may use up to 255 bytes (RFC 8999 §5.1).
    long_cid[1..5].copy_from_slice(&[0, 0, 0, 9]);
    assert!(matches!(
        parse_packet(&long_cid),
        Ok((Packet::OtherVersion { .. }, _))
    ));
    assert_eq!(
        parse_packet(b"\x80\x00\x00\x00\x00\x00\x00\x00\x00\x01"),
        Err(QuicAnomaly::BadVersionList)
    );
    assert_eq!(
        parse_packet(b"\xc0\x00\x00\x00\x01\x00\x00\x00\x40\x10\x00"),
        Err(QuicAnomaly::LengthBeyondDatagram)
    );
    assert_eq!(parse_packet(b"\x40\x01"), Ok((Packet::Short, &[][..])));
}

/// Datagrams worth a tracker's time: raw bytes, long headers of v1, v2
/// and Version Negotiation with random rest, and client Initials that
/// open, holding random frames or random CRYPTO pieces (so the frame
/// reader and the reassembly see arbitrary plaintext).
fn datagram() -> impl Strategy<Value = (Vec<u8>, bool)> {
    let tail = proptest::collection::vec(any::<u8>(), 0..1300);
    (0u8..7, any::<u8>(), tail, any::<bool>()).prop_map(|(kind, seed, tail, up)| {
        let head = |v: [u8; 4]| {
            let mut d = vec![0xc0 | seed & 0x3f];
            d.extend(v);
            d.extend(&tail);
            d
        };
        let d = match kind {
            0 => tail.clone(),
            1 => head(VERSION_1.to_be_bytes()),
            2 => head(VERSION_2.to_be_bytes()),
            3 => head([0; 4]),
            4 => seal(VERSION_1, DCID, SCID, u32::from(seed), &tail, seed & 1 == 0),
            5 => seal(VERSION_2, DCID, SCID, u32::from(seed), &tail, false),
            _ => {
                let offset = usize::from(seed) * 16;
                seal(VERSION_1, DCID, SCID, 0, &crypto_frame(offset, &tail), true)
            }
        };
        (d, up)
    })
}

proptest! {
    #[test]
    fn arbitrary_datagrams_never_panic(
        datagrams in proptest::collection::vec(datagram(), 1..40),
    ) {
        let mut t = QuicTracker::new();
        for (d, up) in &datagrams {
            t.datagram(d, *up);
            prop_assert!(t.datagrams() <= MAX_DATAGRAMS);
        }
        let info = t.info();
        prop_assert!(info.dcid.len() <= MAX_CID_BYTES && info.scid.len() <= MAX_CID_BYTES);
        prop_assert!(info.server_versions.len() <= MAX_SERVER_VERSIONS);
        prop_assert_eq!(t.status() == Status::Done, info.client_hello.is_some());
        if datagrams.len() as u32 >= MAX_DATAGRAMS {
            prop_assert!(t.is_finished());
        }
    }

    #[test]
    fn edited_rfc_packets_never_panic(
        edits in proptest::collection::vec((0usize..1200, any::<u8>()), 1..8),
        cut in 0usize..1300,
    ) {
        for packet in [RFC9001_A2_PACKET, RFC9369_A2_PACKET] {
            let mut d = hex(packet);
            for (at, b) in &edits {
                d[*at] = *b;
            }
            d.truncate(cut);
            let mut t = QuicTracker::new();
            let s = t.datagram(&d, true);
            // Only an edit in the (unauthenticated) padding of the
            // header could still open; any opened packet is the RFC's.
            if s == Status::Done {
                let ch = t.info().client_hello.as_ref().unwrap();
                prop_assert_eq!(ch.sni.as_deref(), Some("example.com"));
            }
        }
    }
}

#[test]
fn unknown_versions_are_tried_with_v1_and_v2_keys() {
    // A greased version (forcing version negotiation), an unlisted draft,
    // a version laid out as v2: the AEAD tag proves the keys right.
    for (wire, keys_version, bits) in [
        (0x1a2a_3a4a, VERSION_1, 0),
        (0xff00_0099, VERSION_1, 0),
        (0x0000_0005, VERSION_2, 1),
    ] {
        let m = hello_message("guessed.example");
        let keys = InitialKeys::client(keys_version, DCID).unwrap();
        let packet =
            seal_with(&keys, bits, wire, DCID, SCID, 0, &crypto_frame(0, &m), true).unwrap();
        assert!(starts_like_quic(&packet), "{wire:#x}");
        let mut t = QuicTracker::new();
        assert_eq!(t.datagram(&packet, true), Status::Done, "{wire:#x}");
        assert_eq!(t.info().version, wire);
        let sni = t.info().client_hello.as_ref().and_then(|c| c.sni.clone());
        assert_eq!(sni.as_deref(), Some("guessed.example"));
        assert_eq!(t.anomalies().count(), 0);
    }
}

#[test]
fn an_unknown_version_that_does_not_open_is_not_quic() {
    // Keys of another DCID: the tag fails; no version, no anomaly.
    let m = hello_message("nope.example");
    let keys = InitialKeys::client(VERSION_1, b"\x09\x09\x09\x09\x09\x09\x09\x09").unwrap();
    let packet = seal_with(
        &keys,
        0,
        0x0000_0007,
        DCID,
        SCID,
        0,
        &crypto_frame(0, &m),
        true,
    )
    .unwrap();
    assert!(starts_like_quic(&packet));
    let mut t = QuicTracker::new();
    assert_eq!(t.datagram(&packet, true), Status::Reading);
    assert_eq!(t.info().version, 0);
    assert_eq!(t.anomalies().count(), 0);
    // Short or with a short DCID, such datagrams do not even start a search.
    assert!(!starts_like_quic(&packet[..1199]));
    let mut short_dcid = packet.clone();
    short_dcid[5] = 4;
    assert!(!starts_like_quic(&short_dcid));
}

#[test]
fn server_initial_opens_with_server_keys_after_a_split_hello() {
    let m = hello_message("server.example");
    let (a, b) = m.split_at(50);
    let mut t = QuicTracker::new();
    let c1 = seal(VERSION_2, DCID, SCID, 0, &crypto_frame(0, a), true);
    assert_eq!(t.datagram(&c1, true), Status::Reading);
    // The ServerHello of RFC 9001 A.3, cut in two CRYPTO frames sent in
    // reverse order in two server Initials, with an ACK before.
    let sh = hex("020000560303eefce7f7b37ba1d1632e96677825ddf73988cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c940d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00020304");
    let (x, y) = sh.split_at(30);
    let keys = InitialKeys::server(VERSION_2, DCID).unwrap();
    let ack = [0x02, 0x00, 0x00, 0x00, 0x00];
    let mut f2 = ack.to_vec();
    f2.extend(crypto_frame(30, y));
    let s2 = seal_with(&keys, 1, VERSION_2, SCID, b"\x77\x77", 0, &f2, false).unwrap();
    let s1 = seal_with(
        &keys,
        1,
        VERSION_2,
        SCID,
        b"\x77\x77",
        1,
        &crypto_frame(0, x),
        false,
    )
    .unwrap();
    assert_eq!(t.datagram(&s2, false), Status::Reading);
    let c2 = seal(VERSION_2, DCID, SCID, 1, &crypto_frame(50, b), true);
    assert_eq!(t.datagram(&c2, true), Status::Done);
    assert!(!t.is_finished());
    assert_eq!(t.datagram(&s1, false), Status::Done);
    assert!(t.is_finished());
    let got = t.info().server_hello.as_ref().expect("ServerHello");
    assert_eq!((got.cipher, got.selected_version), (0x1301, Some(0x0304)));
    // Client keys do not open the server's packets, nor the reverse.
    assert!(open_client_initial(&match parse_packet(&s1) {
        Ok((Packet::Long(p), _)) => p,
        _ => panic!(),
    })
    .is_err());
}
