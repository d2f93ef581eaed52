//! Writing captures: classic pcap (µs/ns, either byte order) and a minimal
//! pcapng (sections, interfaces with `if_tsresol`/`if_tsoffset`, enhanced
//! and simple packet blocks). Used for generated samples and test fixtures.

use std::io::{self, Write};

use super::LinkType;

/// Classic pcap writer.
pub struct PcapWriter<W: Write> {
    out: W,
    nanos: bool,
    big_endian: bool,
}

impl<W: Write> PcapWriter<W> {
    pub fn new(out: W, linktype: LinkType, snaplen: u32) -> io::Result<Self> {
        Self::with_options(out, linktype, snaplen, false, false)
    }

    pub fn with_options(
        mut out: W,
        linktype: LinkType,
        snaplen: u32,
        nanos: bool,
        big_endian: bool,
    ) -> io::Result<Self> {
        let magic: u32 = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        let mut h = Vec::with_capacity(24);
        let put32 = |h: &mut Vec<u8>, v: u32| {
            h.extend_from_slice(&if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            })
        };
        put32(&mut h, magic);
        let (maj, min) = if big_endian {
            (2u16.to_be_bytes(), 4u16.to_be_bytes())
        } else {
            (2u16.to_le_bytes(), 4u16.to_le_bytes())
        };
        h.extend_from_slice(&maj);
        h.extend_from_slice(&min);
        put32(&mut h, 0);
        put32(&mut h, 0);
        put32(&mut h, snaplen);
        put32(&mut h, u32::from(linktype.0));
        out.write_all(&h)?;
        Ok(PcapWriter {
            out,
            nanos,
            big_endian,
        })
    }

    /// Write one record; `wire_len` may exceed `data.len()` (snapped).
    pub fn write(&mut self, ts_ns: i64, data: &[u8], wire_len: u32) -> io::Result<()> {
        let secs = ts_ns.div_euclid(1_000_000_000) as u32;
        let frac_ns = ts_ns.rem_euclid(1_000_000_000) as u32;
        let frac = if self.nanos { frac_ns } else { frac_ns / 1000 };
        for v in [secs, frac, data.len() as u32, wire_len] {
            let b = if self.big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            };
            self.out.write_all(&b)?;
        }
        self.out.write_all(data)
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Minimal pcapng writer (little- or big-endian sections).
pub struct PcapNgWriter<W: Write> {
    out: W,
    big_endian: bool,
}

impl<W: Write> PcapNgWriter<W> {
    /// Starts with a section header.
    pub fn new(out: W, big_endian: bool) -> io::Result<Self> {
        let mut w = PcapNgWriter { out, big_endian };
        w.section(big_endian)?;
        Ok(w)
    }

    fn u32b(&self, v: u32) -> [u8; 4] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn u16b(&self, v: u16) -> [u8; 2] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn block(&mut self, block_type: u32, body: &[u8]) -> io::Result<()> {
        let pad = (4 - body.len() % 4) % 4;
        let len = (12 + body.len() + pad) as u32;
        let mut b = Vec::with_capacity(len as usize);
        b.extend_from_slice(&self.u32b(block_type));
        b.extend_from_slice(&self.u32b(len));
        b.extend_from_slice(body);
        b.extend(std::iter::repeat_n(0u8, pad));
        b.extend_from_slice(&self.u32b(len));
        self.out.write_all(&b)
    }

    /// Start a new section (interfaces are numbered from 0 again).
    pub fn section(&mut self, big_endian: bool) -> io::Result<()> {
        self.big_endian = big_endian;
        let mut body = Vec::new();
        body.extend_from_slice(&self.u32b(0x1A2B_3C4D));
        body.extend_from_slice(&self.u16b(1));
        body.extend_from_slice(&self.u16b(0));
        body.extend_from_slice(&(-1i64).to_le_bytes());
        self.block(0x0A0D_0D0A, &body)
    }

    /// Declare an interface; `tsresol` as in pcapng (6 = µs, 9 = ns, 0x80|n = 2^-n).
    pub fn interface(
        &mut self,
        linktype: LinkType,
        snaplen: u32,
        tsresol: u8,
        tsoffset_s: i64,
    ) -> io::Result<()> {
        let mut body = Vec::new();
        body.extend_from_slice(&self.u16b(linktype.0));
        body.extend_from_slice(&self.u16b(0));
        body.extend_from_slice(&self.u32b(snaplen));
        // if_tsresol (9), 1 byte + 3 padding
        body.extend_from_slice(&self.u16b(9));
        body.extend_from_slice(&self.u16b(1));
        body.extend_from_slice(&[tsresol, 0, 0, 0]);
        if tsoffset_s != 0 {
            body.extend_from_slice(&self.u16b(14));
            body.extend_from_slice(&self.u16b(8));
            body.extend_from_slice(&if self.big_endian {
                tsoffset_s.to_be_bytes()
            } else {
                tsoffset_s.to_le_bytes()
            });
        }
        body.extend_from_slice(&[0, 0, 0, 0]); // opt_endofopt
        self.block(1, &body)
    }

    /// Enhanced packet block with a raw timestamp in interface units.
    pub fn packet(
        &mut self,
        interface: u32,
        ts_units: u64,
        data: &[u8],
        wire_len: u32,
    ) -> io::Result<()> {
        let mut body = Vec::new();
        body.extend_from_slice(&self.u32b(interface));
        body.extend_from_slice(&self.u32b((ts_units >> 32) as u32));
        body.extend_from_slice(&self.u32b(ts_units as u32));
        body.extend_from_slice(&self.u32b(data.len() as u32));
        body.extend_from_slice(&self.u32b(wire_len));
        body.extend_from_slice(data);
        self.block(6, &body)
    }

    /// Simple packet block (interface 0, no timestamp).
    pub fn simple_packet(&mut self, data: &[u8], wire_len: u32) -> io::Result<()> {
        let mut body = Vec::new();
        body.extend_from_slice(&self.u32b(wire_len));
        body.extend_from_slice(data);
        self.block(3, &body)
    }

    /// Any other block type, to check it is skipped.
    pub fn opaque_block(&mut self, block_type: u32, body: &[u8]) -> io::Result<()> {
        self.block(block_type, body)
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}
