//! Arbitrary bytes as a DNS message (UDP) and as a TCP stream of
//! length-prefixed messages: no panic, sections within their caps and
//! within what the payload can hold, each TCP message consuming bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wa1kpcap::proto::dns::{parse_message, parse_tcp_stream, MAX_KEPT_PER_SECTION};
use wa1kpcap::proto::Parse;

fuzz_target!(|data: &[u8]| {
    if let Parse::Done(m) = parse_message(data) {
        for section in [m.answers.len(), m.authorities.len(), m.additionals.len(), m.questions.len()] {
            assert!(section <= MAX_KEPT_PER_SECTION);
            // Every entry takes at least 5 bytes of the message (a root
            // name, a type and a class).
            assert!(section * 5 <= data.len());
        }
    }
    let mut rest = data;
    while let Parse::Done((m, used)) = parse_tcp_stream(rest) {
        assert!(used >= 2 && used <= rest.len(), "{used}");
        let _ = m;
        rest = &rest[used..];
    }
});
