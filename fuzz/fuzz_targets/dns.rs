//! Arbitrary bytes as a DNS message (UDP) and as a TCP stream of
//! length-prefixed messages: no panic, sections within their caps and
//! within what the payload can hold, each TCP message consuming bytes.
//! The by-content guard: whatever it calls plausible parses whole, with
//! one question and no anomaly.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wa1kpcap::proto::dns::{
    is_plausible_message, is_plausible_tcp, parse_message, parse_tcp_stream, MAX_KEPT_PER_SECTION,
};
use wa1kpcap::proto::Parse;

fuzz_target!(|data: &[u8]| {
    if is_plausible_message(data) {
        let Parse::Done(m) = parse_message(data) else {
            panic!("plausible but not parsed");
        };
        assert_eq!(m.questions.len(), 1);
        // Only the data of a rarer type may not fit it (read as hex).
        assert!(
            matches!(m.anomaly, None | Some("record data does not fit its type")),
            "{:?}",
            m.anomaly
        );
        assert_eq!(m.entries_not_read, 0);
    }
    let _ = is_plausible_tcp(data);
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
