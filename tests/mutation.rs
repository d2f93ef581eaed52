//! Damaged captures, made here from generated traffic by a seeded
//! generator (no third-party file): byte errors, cuts, wrong link types,
//! absurd record lengths, pcapng blocks of zero or huge length, many
//! interfaces, big unknown blocks, compressed streams that end early. Each
//! goes through `inspect` and through one `convert` of them all: no panic,
//! every damaged file named with its reason, the packets before the damage
//! counted, never more packets than the file holds, and `inspect` and
//! `convert` agree on every file.

use std::io::Write;
use std::path::{Path, PathBuf};

use wa1kpcap::capture::writer::{PcapNgWriter, PcapWriter};
use wa1kpcap::capture::LinkType;
use wa1kpcap::convert::{convert, ConvertOptions, Input};
use wa1kpcap::inspect::inspect_file;
use wa1kpcap::Analyzer;

/// splitmix64: the same files on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A capture and the offset where each record ends.
struct Made {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    ng: bool,
}

impl Made {
    fn starts(&self) -> Vec<usize> {
        let first = if self.ng { 28 + 32 } else { 24 };
        std::iter::once(first)
            .chain(self.ends.iter().copied())
            .take(self.ends.len())
            .collect()
    }
    /// Records wholly before `at`.
    fn before(&self, at: usize) -> u64 {
        self.ends.iter().take_while(|&&e| e <= at).count() as u64
    }
}

fn make(ng: bool, sessions: usize, interfaces: usize) -> Made {
    let frames = wa1kpcap::sample::traffic_frames(sessions).unwrap();
    let mut ends = Vec::new();
    let bytes = if ng {
        let mut w = PcapNgWriter::new(Vec::new(), false).unwrap();
        for _ in 0..interfaces.max(1) {
            w.interface(LinkType::ETHERNET, 65535, 9, 0).unwrap();
        }
        let mut at = 28 + 32 * interfaces.max(1);
        for (ts, f) in &frames {
            w.packet(0, *ts as u64, f, f.len() as u32).unwrap();
            at += 32 + f.len().div_ceil(4) * 4;
            ends.push(at);
        }
        w.into_inner()
    } else {
        let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535).unwrap();
        let mut at = 24;
        for (ts, f) in &frames {
            w.write(*ts, f, f.len() as u32).unwrap();
            at += 16 + f.len();
            ends.push(at);
        }
        w.into_inner()
    };
    assert_eq!(
        ends.last().copied(),
        Some(bytes.len()),
        "layout of our own writer"
    );
    Made { bytes, ends, ng }
}

/// What a damaged file must give.
struct Expect {
    name: String,
    /// At least this many packets (those before the damage).
    min: u64,
    /// At most this many (what the file can hold).
    max: u64,
    /// The file must be reported as damaged.
    error: bool,
}

fn compress(gzip: bool, bytes: &[u8]) -> Vec<u8> {
    if gzip {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    } else {
        zstd::encode_all(bytes, 1).unwrap()
    }
}

/// The damaged files of seed `seed`, written under `dir`.
fn damaged(dir: &Path, seed: u64) -> Vec<(PathBuf, Expect)> {
    let mut rng = Rng(seed);
    let mut out = Vec::new();
    let mut put = |name: String, bytes: &[u8], (min, max): (u64, u64), error: bool| {
        let p = dir.join(&name);
        std::fs::write(&p, bytes).unwrap();
        out.push((
            p,
            Expect {
                name,
                min,
                max,
                error,
            },
        ));
    };
    for ng in [false, true] {
        let m = make(ng, 2 + rng.below(6), 1);
        let n = m.ends.len() as u64;
        let ext = if ng { "pcapng" } else { "pcap" };
        let header = m.starts()[0];
        let upper = m.bytes.len() as u64 / 16;

        // Byte errors at 0.2–5 % past the file header.
        let rate = [2usize, 10, 50][rng.below(3)];
        let mut b = m.bytes.clone();
        let mut first = b.len();
        for (i, byte) in b.iter_mut().enumerate().skip(header) {
            if rng.below(1000) < rate {
                *byte ^= 1 + rng.below(255) as u8;
                first = first.min(i);
            }
        }
        put(
            format!("{seed}-bytes{rate}.{ext}"),
            &b,
            (m.before(first), upper),
            false,
        );

        // A cut anywhere (inside the header too).
        let cut = rng.below(m.bytes.len());
        // An empty pcapng section (the header block alone) is a whole file too.
        let at_boundary = cut == header || (ng && cut == 28) || m.ends.contains(&cut);
        put(
            format!("{seed}-cut{cut}.{ext}"),
            &m.bytes[..cut],
            (m.before(cut), m.before(cut)),
            !at_boundary,
        );

        // A link type nobody decodes, or another real one.
        let lt = [0u16, 9, 105, 147, 276, 65000][rng.below(6)];
        let mut b = m.bytes.clone();
        let at = if ng { 28 + 8 } else { 20 };
        b[at..at + 2].copy_from_slice(&lt.to_le_bytes());
        if !ng {
            b[22..24].fill(0);
        }
        put(format!("{seed}-linktype{lt}.{ext}"), &b, (n, n), false);

        // An absurd length in record k: the records before it are kept.
        let k = rng.below(m.ends.len());
        let start = m.starts()[k];
        let absurd = [
            u32::MAX,
            0x7fff_ffff,
            0x0400_0001,
            (m.bytes.len() as u32) * 2,
        ][rng.below(4)];
        let mut b = m.bytes.clone();
        // pcap: captured length at +8; pcapng: the block length at +4.
        let field = if ng { start + 4 } else { start + 8 };
        b[field..field + 4].copy_from_slice(&absurd.to_le_bytes());
        put(
            format!("{seed}-length{k}.{ext}"),
            &b,
            (k as u64, k as u64),
            true,
        );

        if ng {
            // A zero block length in record k.
            let mut b = m.bytes.clone();
            b[start + 4..start + 8].fill(0);
            put(
                format!("{seed}-zeroblock{k}.{ext}"),
                &b,
                (k as u64, k as u64),
                true,
            );
            // Thousands of interfaces, then the packets.
            let many = 1000 + rng.below(20_000);
            let mi = make(true, 2, many);
            put(
                format!("{seed}-interfaces{many}.{ext}"),
                &mi.bytes,
                (mi.ends.len() as u64, mi.ends.len() as u64),
                false,
            );
            // A big block of an unknown type before record k: skipped.
            let mut b = m.bytes[..start].to_vec();
            let body = 1 << (16 + rng.below(5));
            let len = (12 + body) as u32;
            b.extend_from_slice(&0x0000_0bad_u32.to_le_bytes());
            b.extend_from_slice(&len.to_le_bytes());
            b.extend(std::iter::repeat_n(0xa5u8, body));
            b.extend_from_slice(&len.to_le_bytes());
            b.extend_from_slice(&m.bytes[start..]);
            put(format!("{seed}-bigblock{k}.{ext}"), &b, (n, n), false);
        }

        // Compressed, the stream cut short.
        let gzip = rng.below(2) == 0;
        let z = compress(gzip, &m.bytes);
        let cut = 10 + rng.below(z.len() - 10);
        let zext = if gzip { "gz" } else { "zst" };
        put(
            format!("{seed}-zcut{cut}.{ext}.{zext}"),
            &z[..cut],
            (0, n),
            true,
        );
    }
    out
}

#[test]
fn damaged_captures_are_named_counted_and_never_overcounted() {
    let dir = tempfile::tempdir().unwrap();
    let inputs_dir = dir.path().join("in");
    std::fs::create_dir_all(&inputs_dir).unwrap();
    let files: Vec<(PathBuf, Expect)> = (0..30).flat_map(|s| damaged(&inputs_dir, s)).collect();
    assert!(files.len() >= 300, "{} files", files.len());

    let inputs: Vec<Input> = files
        .iter()
        .map(|(p, e)| Input::file(p.clone(), e.name.clone()))
        .collect();
    let opts = ConvertOptions {
        threads: 2,
        ..ConvertOptions::default()
    };
    let m = convert(&Analyzer::new(), &inputs, &dir.path().join("ds"), &opts).unwrap();
    assert_eq!(m.inputs.len(), files.len());

    let (mut named, mut partial) = (0, 0);
    for ((path, e), r) in files.iter().zip(&m.inputs) {
        let name = &e.name;
        let i = inspect_file(path);
        assert_eq!(
            r.packets, i.packets,
            "{name}: convert and inspect count alike"
        );
        assert_eq!(
            r.error.is_some(),
            i.error.is_some(),
            "{name}: {:?} / {:?}",
            r.error,
            i.error
        );
        assert!(
            r.packets >= e.min,
            "{name}: {} packets, the {} before the damage",
            r.packets,
            e.min
        );
        assert!(
            r.packets <= e.max,
            "{name}: {} packets, the file holds at most {}",
            r.packets,
            e.max
        );
        if e.error {
            let err = i
                .error
                .as_ref()
                .unwrap_or_else(|| panic!("{name}: damage not reported"));
            assert!(!err.message.is_empty() && !err.kind.is_empty(), "{name}");
            named += 1;
            partial += u64::from(r.packets > 0);
        }
    }
    eprintln!(
        "mutation: {} damaged captures, {named} reported as damaged ({partial} with the packets before the damage)",
        files.len()
    );
}

#[test]
fn fragments_that_never_complete_stay_within_the_reassembly_bounds() {
    use wa1kpcap::decode::Anomaly;
    // 200 000 first fragments of distinct datagrams, 12× the reassembly
    // table's 16 384 datagrams, one µs apart (no timeout expires them).
    const N: u32 = 200_000;
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535).unwrap();
    for i in 0..N {
        let src = [10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
        let first = wa1kpcap::sample::fragmented_udp(src, [192, 0, 2, 1], i as u16, 64, 32)
            .unwrap()
            .swap_remove(0);
        w.write(
            1_700_000_000_000_000_000 + i64::from(i) * 1000,
            &first,
            first.len() as u32,
        )
        .unwrap();
    }
    let mut cap = wa1kpcap::capture::Capture::from_bytes(w.into_inner()).unwrap();
    let mut flows = 0u64;
    let s = Analyzer::new()
        .stream_capture(&mut cap, |_| flows += 1)
        .unwrap();
    assert_eq!(s.packets_read, u64::from(N));
    assert_eq!(s.defrag.fragments, u64::from(N));
    assert_eq!(s.defrag.reassembled, 0);
    assert_eq!(flows, 0, "no datagram completed, so no flow");
    // Every datagram is dropped by name: evicted while the table was full,
    // or at the end of the input.
    let dropped =
        s.anomalies.get(Anomaly::FragmentEvicted) + s.anomalies.get(Anomaly::FragmentTimeout);
    assert!(
        s.anomalies.get(Anomaly::FragmentEvicted) >= u64::from(N) - 16_384,
        "{:?}",
        s.anomalies
    );
    assert!(dropped <= u64::from(N));
}
