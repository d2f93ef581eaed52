//! Arbitrary text through the filter compiler never panics; a compiled
//! filter evaluates on any packet without panicking, and compiling its
//! own text again gives a filter that decides every packet alike.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wa1kpcap::capture::LinkType;
use wa1kpcap::decode::decode;
use wa1kpcap::filter::PacketFilter;

fuzz_target!(|data: &[u8]| {
    // Text up to the first NUL, a frame after it.
    let (text, frame) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let Ok(f) = PacketFilter::parse(text) else {
        return;
    };
    let again = PacketFilter::parse(f.expr()).expect("its own text compiles");
    for lt in [LinkType::ETHERNET, LinkType::RAW, LinkType::LINUX_SLL] {
        let p = decode(lt, frame, frame.len() as u32);
        assert_eq!(f.matches(&p, frame.len() as u32), again.matches(&p, frame.len() as u32));
    }
});
