//! Arbitrary fragment sequences never panic, never exceed the table bounds,
//! and every completed datagram decodes as IP.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wa1kpcap::capture::LinkType;
use wa1kpcap::decode::defrag::{DefragConfig, Defragmenter, FragmentOutcome};
use wa1kpcap::decode::decode;

fuzz_target!(|data: &[u8]| {
    let mut d = Defragmenter::new(DefragConfig { max_datagrams: 8, max_bytes: 1 << 16, ..DefragConfig::default() });
    let mut ts = 0i64;
    for chunk in data.split(|&b| b == 0xff) {
        ts += 1_000_000;
        let p = decode(LinkType::RAW, chunk, chunk.len() as u32);
        if let (true, Some(ip)) = (p.is_fragment(), p.ip.as_ref()) {
            if let FragmentOutcome::Complete(r) = d.push(ts, ip, chunk.len() as u32) {
                assert!(wa1kpcap::decode::decode_ip(&r.bytes).ip.is_some());
            }
        }
        assert!(d.pending() <= 8);
    }
});
