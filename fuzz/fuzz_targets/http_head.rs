//! Arbitrary bytes as the two directions of a connection, fed to the HTTP
//! scanner in growing prefixes, never panic; the result equals a one-shot
//! walk of the whole streams, and the head parsers never panic either.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wa1kpcap::proto::http::{
    headers, is_http_datagram, parse_request_head, parse_response_head, Head, HttpScanner,
};
use wa1kpcap::proto::Parse;

fuzz_target!(|data: &[u8]| {
    // The UDP pre-check never panics and, when it says yes, the head is
    // complete within the datagram.
    if is_http_datagram(data) {
        assert!(data.windows(2).any(|w| w == b"\n\n" || w == b"\n\r"));
    }
    // first byte: where the two directions split; second: the step size
    let (ctl, body) = data.split_first().unwrap_or((&0, &[]));
    let (step, body) = body.split_first().unwrap_or((&1, &[]));
    let at = (usize::from(*ctl) * body.len()) / 256;
    let (up, down) = body.split_at(at.min(body.len()));
    let step = usize::from(*step % 64) + 1;

    let mut heads: [Vec<Head>; 2] = Default::default();
    let mut s = HttpScanner::new();
    let (mut u, mut d) = (0, 0);
    while u < up.len() || d < down.len() {
        u = (u + step).min(up.len());
        d = (d + step).min(down.len());
        s.update_with(0, &up[..u], &mut |dir, h| heads[dir].push(h));
        s.update_with(1, &down[..d], &mut |dir, h| heads[dir].push(h));
    }
    s.finish_with(up, down, &mut |dir, h| heads[dir].push(h));
    let info = s.into_info();

    let mut whole = HttpScanner::new();
    whole.finish(up, down);
    assert_eq!(whole.into_info(), info);
    // (both directions may start alike: only one of them is counted)
    let total = heads[0].len() + heads[1].len();
    assert!(total >= (info.requests + info.responses) as usize);

    for bytes in [up, down] {
        if let Parse::Done(r) = parse_request_head(bytes) {
            assert!(r.head_bytes <= bytes.len());
            let _ = headers(&bytes[..r.head_bytes]).count();
        }
        if let Parse::Done(r) = parse_response_head(bytes) {
            assert!(r.head_bytes <= bytes.len());
        }
    }
});
