//! Arbitrary bytes as the first bytes of a TCP direction, tried as a SOCKS
//! or PROXY preamble: no panic; a preamble found lies within the bytes,
//! and is found the same with more bytes after it; a prefix of a preamble
//! asks for more instead of failing.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wa1kpcap::proto::preamble::preamble;
use wa1kpcap::proto::Parse;

fuzz_target!(|data: &[u8]| {
    if let Parse::Done((kind, n)) = preamble(data) {
        assert!(n > 0 && n <= data.len());
        assert_eq!(preamble(&data[..n]), Parse::Done((kind, n)));
        for cut in 1..n {
            assert!(preamble(&data[..cut]).is_need_more(), "{kind:?} cut at {cut}");
        }
    }
});
