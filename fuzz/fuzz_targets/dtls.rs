//! Arbitrary bytes cut into datagrams (first byte: cut size) fed to a DTLS
//! tracker: no panic, at most `MAX_DATAGRAMS` read, and a ClientHello
//! found has computable fingerprints.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wa1kpcap::proto::dtls::{starts_like_dtls, DtlsTracker};

fuzz_target!(|data: &[u8]| {
    let Some((&cut, body)) = data.split_first() else {
        return;
    };
    let mut t = DtlsTracker::new();
    for d in body.chunks(usize::from(cut).max(13)) {
        let _ = starts_like_dtls(d);
        t.datagram(d);
    }
    if let Some(c) = &t.info().client_hello {
        let _ = (c.ja3_hash(), c.ja4_for('d'));
    }
    if let Some(s) = &t.info().server_hello {
        let _ = s.ja3s_hash();
    }
});
