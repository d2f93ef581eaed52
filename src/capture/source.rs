//! Where capture bytes come from: a memory map (zero-copy), an owned buffer,
//! or a streaming gzip/zstd decoder with a refilled window. Compression is
//! detected by magic bytes, never by file name.

use std::fs::File;
use std::io::{Cursor, Read};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;

use super::guard::{FileGuard, FileState, VERIFY_STEP};
use super::record::{CaptureFormat, Compression, LinkType, RawPacket, RecordParser, Step};
use super::CaptureError;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// Initial streaming window; grows to the largest record seen.
const STREAM_CHUNK: usize = 1 << 20;

enum Data {
    Mapped(Mmap, FileGuard),
    Owned(Arc<Vec<u8>>),
    Stream(Box<dyn Read + Send>),
}

/// An opened capture file, ready to be read once.
pub struct Capture {
    data: Data,
    compression: Compression,
}

/// What reading a capture found. `error` is set when the file ended in a
/// damaged record: the `packets` before it were still delivered.
#[derive(Debug)]
pub struct ReadOutcome {
    pub format: CaptureFormat,
    pub compression: Compression,
    pub linktypes: Vec<LinkType>,
    /// Decimal digits of timestamp precision (6 = µs, 9 = ns).
    pub ts_digits: u8,
    pub packets: u64,
    pub error: Option<CaptureError>,
}

impl Capture {
    /// Open a file: compressed files are streamed, others memory-mapped.
    pub fn open(path: &Path) -> Result<Capture, CaptureError> {
        let mut file = File::open(path)?;
        let mut magic = [0u8; 4];
        let n = read_up_to(&mut file, &mut magic)?;
        if n == 0 {
            return Err(CaptureError::Empty);
        }
        let compression = detect_compression(&magic[..n]);
        if compression != Compression::None {
            let file = File::open(path)?;
            return Ok(Capture {
                data: Data::Stream(decoder(compression, Box::new(file))?),
                compression,
            });
        }
        // SAFETY: the map is read-only and private to this process. Another
        // process truncating the file while we read it would fault (SIGBUS):
        // the guard turns that into zero pages and the iterator, checking
        // the file's size as it goes, into a `Changed` error (guard.rs).
        let map = unsafe { Mmap::map(&file)? };
        // Read ahead aggressively; pages behind the reader are released.
        let _ = map.advise(memmap2::Advice::Sequential);
        let guard = FileGuard::new(file, map.as_ptr(), map.len())?;
        Ok(Capture {
            data: Data::Mapped(map, guard),
            compression,
        })
    }

    /// A capture held in memory (tests, generated samples); compressed bytes
    /// are detected and streamed like files.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Capture, CaptureError> {
        Capture::from_shared(Arc::new(bytes))
    }

    /// A capture whose bytes others hold too (a file's content handed over
    /// by Spark's `binaryFile` source): read in place, never copied.
    pub fn from_shared(bytes: Arc<Vec<u8>>) -> Result<Capture, CaptureError> {
        if bytes.is_empty() {
            return Err(CaptureError::Empty);
        }
        let compression = detect_compression(&bytes[..bytes.len().min(4)]);
        if compression == Compression::None {
            return Ok(Capture {
                data: Data::Owned(bytes),
                compression,
            });
        }
        Ok(Capture {
            data: Data::Stream(decoder(compression, Box::new(Cursor::new(Shared(bytes))))?),
            compression,
        })
    }

    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// The whole uncompressed file, when it is mapped or in memory.
    pub fn bytes(&self) -> Option<&[u8]> {
        match &self.data {
            Data::Mapped(m, _) => Some(m),
            Data::Owned(v) => Some(v),
            Data::Stream(_) => None,
        }
    }

    /// Zero-copy iteration over a mapped or in-memory capture (`None` for a
    /// streamed one); a mapped file is checked for changes as it is read.
    pub fn slice_packets(&self) -> Option<Result<SlicePackets<'_>, CaptureError>> {
        match &self.data {
            Data::Mapped(m, g) => Some(SlicePackets::new(m).map(|it| it.guarded(g))),
            Data::Owned(v) => Some(SlicePackets::new(v)),
            Data::Stream(_) => None,
        }
    }

    /// Drop the pages of `start..end` (whole pages inside it) from this
    /// process's memory: a reader calls it behind itself so that a mapped
    /// file does not accumulate in the resident set. The bytes stay
    /// readable (the kernel reads them back in if touched again).
    pub fn release(&self, start: usize, end: usize) {
        const PAGE: usize = 4096;
        let Data::Mapped(m, _) = &self.data else {
            return;
        };
        let start = start.div_ceil(PAGE) * PAGE;
        let end = (end.min(m.len()) / PAGE) * PAGE;
        if end > start {
            // SAFETY: the map is read-only and never written, so dropping its
            // pages cannot lose data: they are re-read from the file.
            let _ = unsafe {
                m.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start)
            };
        }
    }

    /// Call `f` for every packet, in file order. `Err` only when not even the
    /// file header could be read; a damaged tail is `ReadOutcome::error`.
    pub fn for_each_packet<F>(&mut self, mut f: F) -> Result<ReadOutcome, CaptureError>
    where
        F: FnMut(&RawPacket<'_>),
    {
        self.try_for_each_packet(|p| {
            f(p);
            ControlFlow::Continue(())
        })
    }

    /// As [`Capture::for_each_packet`], stopping when `f` breaks (a
    /// cancelled run: a compressed stream is not read on to its end).
    pub fn try_for_each_packet<F>(&mut self, mut f: F) -> Result<ReadOutcome, CaptureError>
    where
        F: FnMut(&RawPacket<'_>) -> ControlFlow<()>,
    {
        let compression = self.compression;
        match &mut self.data {
            Data::Mapped(m, g) => read_slice(SlicePackets::new(m)?.guarded(g), compression, &mut f),
            Data::Owned(v) => read_slice(SlicePackets::new(v)?, compression, &mut f),
            Data::Stream(r) => read_stream(r.as_mut(), compression, &mut f),
        }
    }
}

/// Shared bytes as a reader's buffer.
struct Shared(Arc<Vec<u8>>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Zero-copy iteration over an in-memory capture.
pub struct SlicePackets<'a> {
    bytes: &'a [u8],
    pos: usize,
    parser: RecordParser,
    frame: u64,
    packets: u64,
    error: Option<CaptureError>,
    done: bool,
    /// A mapped file's guard: records are delivered only up to
    /// `verified`, the offset the file was last seen to hold.
    guard: Option<&'a FileGuard>,
    verified: usize,
    faults: u64,
}

impl<'a> SlicePackets<'a> {
    pub fn new(bytes: &'a [u8]) -> Result<SlicePackets<'a>, CaptureError> {
        let (parser, pos) = RecordParser::start(bytes)?;
        Ok(SlicePackets {
            bytes,
            pos,
            parser,
            frame: 1,
            packets: 0,
            error: None,
            done: false,
            guard: None,
            verified: usize::MAX,
            faults: 0,
        })
    }

    /// Check the file behind `bytes` as it is read (see `guard.rs`).
    fn guarded(mut self, guard: &'a FileGuard) -> SlicePackets<'a> {
        self.guard = Some(guard);
        self.verified = 0;
        self.faults = super::guard::faults();
        self
    }

    /// Whether the record ending at `end` may be delivered: re-checks the
    /// file when `end` passes the verified offset or a fault was counted,
    /// and ends iteration with `Changed` when the file lost the record.
    #[cold]
    fn verify(&mut self, end: usize) -> bool {
        let Some(g) = self.guard else { return true };
        self.faults = super::guard::faults();
        match g.verify() {
            FileState::Truncated { was, now } if (now as usize) < end => {
                self.fail_changed(was, now);
                false
            }
            FileState::Truncated { now, .. } => {
                self.verified = (now as usize).min(end.saturating_add(VERIFY_STEP));
                true
            }
            _ => {
                self.verified = end.saturating_add(VERIFY_STEP);
                true
            }
        }
    }

    fn fail_changed(&mut self, was: u64, now: u64) {
        self.error = Some(CaptureError::Changed {
            offset: self.pos as u64,
            packets: self.packets,
            was,
            now,
        });
        self.done = true;
    }

    /// At the end of a guarded file: a file that grew or was rewritten is
    /// reported (its first `was` bytes were read), and a tail cut short
    /// by a truncation is the truncation, not a damaged record.
    fn verify_end(&mut self) {
        let Some(g) = self.guard else { return };
        match g.verify() {
            FileState::Unchanged => {}
            FileState::Truncated { was, now } | FileState::Modified { was, now } => {
                self.fail_changed(was, now)
            }
        }
    }

    pub fn format(&self) -> CaptureFormat {
        self.parser.format()
    }

    /// The error that ended iteration early, if any.
    pub fn take_error(&mut self) -> Option<CaptureError> {
        self.error.take()
    }
}

impl<'a> Iterator for SlicePackets<'a> {
    type Item = RawPacket<'a>;

    #[inline]
    fn next(&mut self) -> Option<RawPacket<'a>> {
        while !self.done {
            let window = self.bytes.get(self.pos..).unwrap_or(&[]);
            if window.is_empty() {
                self.done = true;
                self.verify_end();
                break;
            }
            match self.parser.next(window, self.frame) {
                Step::Packet(p, used) => {
                    let end = self.pos + used;
                    // A zeroed header (ts, lengths all 0) is what a page
                    // cleared by a truncation reads as: check the file now.
                    let zeroed = p.wire_len == 0 && p.data.is_empty();
                    if (end > self.verified || zeroed || super::guard::faults() != self.faults)
                        && !self.verify(end)
                    {
                        break;
                    }
                    self.pos = end;
                    self.frame += 1;
                    self.packets += 1;
                    return Some(p);
                }
                Step::Skip(used) => self.pos += used,
                Step::NeedMore(need) => {
                    self.error = Some(CaptureError::RecordTruncated {
                        offset: self.pos as u64,
                        packets: self.packets,
                        need: need as u64,
                        have: window.len() as u64,
                    });
                    self.done = true;
                    self.verify_end();
                }
                Step::Corrupt(reason) => {
                    self.error = Some(CaptureError::BadRecord {
                        offset: self.pos as u64,
                        packets: self.packets,
                        reason,
                    });
                    self.done = true;
                    self.verify_end();
                }
            }
        }
        None
    }
}

fn read_slice<F>(
    mut it: SlicePackets<'_>,
    compression: Compression,
    f: &mut F,
) -> Result<ReadOutcome, CaptureError>
where
    F: FnMut(&RawPacket<'_>) -> ControlFlow<()>,
{
    for p in it.by_ref() {
        if f(&p).is_break() {
            break;
        }
    }
    Ok(ReadOutcome {
        format: it.parser.format(),
        compression,
        linktypes: it.parser.linktypes(),
        ts_digits: it.parser.ts_digits(),
        packets: it.packets,
        error: it.error.take(),
    })
}

fn read_stream<F>(
    src: &mut dyn Read,
    compression: Compression,
    f: &mut F,
) -> Result<ReadOutcome, CaptureError>
where
    F: FnMut(&RawPacket<'_>) -> ControlFlow<()>,
{
    let mut buf = vec![0u8; STREAM_CHUNK];
    let mut start = 0usize;
    let mut end = 0usize;
    let mut eof = false;
    let mut offset = 0u64; // file offset of buf[start]
    let mut packets = 0u64;
    let mut fill = |buf: &mut Vec<u8>,
                    start: &mut usize,
                    end: &mut usize,
                    eof: &mut bool,
                    need: usize,
                    packets: u64|
     -> Result<(), CaptureError> {
        // Compact, grow to hold `need` bytes, then read until satisfied.
        buf.copy_within(*start..*end, 0);
        *end -= *start;
        *start = 0;
        if buf.len() < need {
            buf.resize(need.next_power_of_two(), 0);
        }
        while *end < need && !*eof {
            match src.read(&mut buf[*end..]) {
                Ok(0) => *eof = true,
                Ok(n) => *end += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(CaptureError::Decompress { packets, source: e }),
            }
        }
        Ok(())
    };
    fill(&mut buf, &mut start, &mut end, &mut eof, 24, 0)?;
    let (mut parser, used) = RecordParser::start(&buf[start..end])?;
    start += used;
    offset += used as u64;
    let mut frame = 1u64;
    let mut error = None;
    loop {
        if start == end {
            if eof {
                break;
            }
            if let Err(e) = fill(&mut buf, &mut start, &mut end, &mut eof, 1, packets) {
                error = Some(e);
                break;
            }
            continue;
        }
        match parser.next(&buf[start..end], frame) {
            Step::Packet(p, n) => {
                let flow = f(&p);
                start += n;
                offset += n as u64;
                frame += 1;
                packets += 1;
                if flow.is_break() {
                    break;
                }
            }
            Step::Skip(n) => {
                start += n;
                offset += n as u64;
            }
            Step::NeedMore(need) => {
                if eof {
                    error = Some(CaptureError::RecordTruncated {
                        offset,
                        packets,
                        need: need as u64,
                        have: (end - start) as u64,
                    });
                    break;
                }
                if let Err(e) = fill(&mut buf, &mut start, &mut end, &mut eof, need, packets) {
                    error = Some(e);
                    break;
                }
            }
            Step::Corrupt(reason) => {
                error = Some(CaptureError::BadRecord {
                    offset,
                    packets,
                    reason,
                });
                break;
            }
        }
    }
    Ok(ReadOutcome {
        format: parser.format(),
        compression,
        linktypes: parser.linktypes(),
        ts_digits: parser.ts_digits(),
        packets,
        error,
    })
}

fn detect_compression(magic: &[u8]) -> Compression {
    if magic.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else if magic.starts_with(&ZSTD_MAGIC) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

fn decoder(
    compression: Compression,
    inner: Box<dyn Read + Send>,
) -> Result<Box<dyn Read + Send>, CaptureError> {
    Ok(match compression {
        // Multi-member gzip (concatenated .gz files) is valid gzip.
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(inner)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(inner)?),
        Compression::None => inner,
    })
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
