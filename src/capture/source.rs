//! Where capture bytes come from: a memory map (zero-copy), an owned buffer,
//! or a streaming gzip/zstd decoder with a refilled window. Compression is
//! detected by magic bytes, never by file name.

use std::fs::File;
use std::io::{Cursor, Read};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;

use super::record::{CaptureFormat, Compression, LinkType, RawPacket, RecordParser, Step};
use super::CaptureError;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// Initial streaming window; grows to the largest record seen.
const STREAM_CHUNK: usize = 1 << 20;

enum Data {
    Mapped(Mmap),
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
        // process truncating the file while we read it would fault (SIGBUS);
        // that is the documented trade-off of mmap-based readers (ripgrep,
        // pcap tools) and capture corpora are not modified while read.
        let map = unsafe { Mmap::map(&file)? };
        // Read ahead aggressively; pages behind the reader are released.
        let _ = map.advise(memmap2::Advice::Sequential);
        Ok(Capture {
            data: Data::Mapped(map),
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
            Data::Mapped(m) => Some(m),
            Data::Owned(v) => Some(v),
            Data::Stream(_) => None,
        }
    }

    /// Drop the pages of `start..end` (whole pages inside it) from this
    /// process's memory: a reader calls it behind itself so that a mapped
    /// file does not accumulate in the resident set. The bytes stay
    /// readable (the kernel reads them back in if touched again).
    pub fn release(&self, start: usize, end: usize) {
        const PAGE: usize = 4096;
        let Data::Mapped(m) = &self.data else { return };
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
            Data::Mapped(m) => read_slice(m, compression, &mut f),
            Data::Owned(v) => read_slice(v, compression, &mut f),
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
        })
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
                break;
            }
            match self.parser.next(window, self.frame) {
                Step::Packet(p, used) => {
                    self.pos += used;
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
                }
                Step::Corrupt(reason) => {
                    self.error = Some(CaptureError::BadRecord {
                        offset: self.pos as u64,
                        packets: self.packets,
                        reason,
                    });
                    self.done = true;
                }
            }
        }
        None
    }
}

fn read_slice<F>(
    bytes: &[u8],
    compression: Compression,
    f: &mut F,
) -> Result<ReadOutcome, CaptureError>
where
    F: FnMut(&RawPacket<'_>) -> ControlFlow<()>,
{
    let mut it = SlicePackets::new(bytes)?;
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
