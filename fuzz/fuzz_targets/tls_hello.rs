//! Arbitrary byte streams, cut into TCP segments delivered in any order,
//! never panic the parser-side reassembler or the TLS hello parsers, and a
//! parsed hello's fingerprints are always computable.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wa1kpcap::proto::stream::TcpStream;
use wa1kpcap::proto::tls::{parse_client_hello, parse_server_hello};
use wa1kpcap::proto::Parse;

fuzz_target!(|data: &[u8]| {
    // the first byte picks a cut size and an order for the segments
    let (ctl, body) = data.split_first().unwrap_or((&0, &[]));
    let size = usize::from(*ctl % 64) + 1;
    let mut segs: Vec<(usize, &[u8])> = body.chunks(size).enumerate().map(|(i, c)| (i * size, c)).collect();
    if ctl & 0x80 != 0 {
        segs.reverse();
    }
    let mut s = TcpStream::new(4096);
    s.syn(7);
    for (off, c) in segs {
        s.segment(8u32.wrapping_add(off as u32), c);
    }
    assert!(s.bytes().len() <= 4096);
    if let Parse::Done(ch) = parse_client_hello(s.bytes()) {
        let _ = (ch.ja3_hash(), ch.ja4(false));
    }
    if let Parse::Done(sh) = parse_server_hello(body) {
        let _ = sh.ja3s_hash();
    }
});
