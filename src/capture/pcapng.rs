//! pcapng: several sections, each with its own byte order and interface
//! table; every interface has its own link type, `if_tsresol` and
//! `if_tsoffset`. Enhanced, simple and obsolete packet blocks carry packets.
//!
//! Block framing (type, both lengths) is checked here so that a garbage
//! length is reported as such; pcap-parser decodes the section and
//! interface blocks' contents, packet blocks are read in place.

use pcap_parser::nom;
use pcap_parser::pcapng::{
    parse_interfacedescriptionblock_be, parse_interfacedescriptionblock_le,
    parse_sectionheaderblock,
};

use super::record::{LinkType, RawPacket, Step, MAX_RECORD_BYTES};

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 0x0000_0001;
const OBSOLETE_PB: u32 = 0x0000_0002;
const SPB: u32 = 0x0000_0003;
const EPB: u32 = 0x0000_0006;
const BOM: u32 = 0x1A2B_3C4D;
/// IDB option codes (pcapng spec §4.2).
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_TSOFFSET: u16 = 14;

#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: LinkType,
    snaplen: u32,
    tsresol: u8,
    tsoffset_s: i64,
}

pub(crate) struct PcapNgParser {
    big_endian: bool,
    in_section: bool,
    interfaces: Vec<Interface>,
    /// Link types in order of first appearance, and a bitmap of them: a
    /// hostile file may declare millions of interfaces (each IDB costs the
    /// 24 bytes of its `Interface`, no more than the file's own bytes),
    /// so seeing one must not scan a list.
    seen_linktypes: Vec<LinkType>,
    seen_bits: Box<[u64; 1024]>,
    ts_digits: u8,
}

impl PcapNgParser {
    pub(crate) fn new() -> PcapNgParser {
        PcapNgParser {
            big_endian: false,
            in_section: false,
            interfaces: Vec::new(),
            seen_linktypes: Vec::new(),
            seen_bits: Box::new([0; 1024]),
            ts_digits: 0,
        }
    }

    pub(crate) fn ts_digits(&self) -> u8 {
        if self.ts_digits == 0 {
            6
        } else {
            self.ts_digits
        }
    }

    pub(crate) fn linktypes(&self) -> Vec<LinkType> {
        self.seen_linktypes.clone()
    }

    fn u32_at(&self, b: &[u8], off: usize) -> Option<u32> {
        let s = b.get(off..off + 4)?;
        let a = [s[0], s[1], s[2], s[3]];
        Some(if self.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }

    fn u16_at(&self, b: &[u8], off: usize) -> Option<u16> {
        let s = b.get(off..off + 2)?;
        let a = [s[0], s[1]];
        Some(if self.big_endian {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        })
    }

    pub(crate) fn next<'a>(&mut self, window: &'a [u8], frame: u64) -> Step<'a> {
        if window.len() < 12 {
            return Step::NeedMore(12);
        }
        let raw_type = u32::from_le_bytes([window[0], window[1], window[2], window[3]]);
        if raw_type == SHB {
            return self.section_header(window);
        }
        if !self.in_section {
            return Step::Corrupt("block outside any section");
        }
        let block_type = match self.u32_at(window, 0) {
            Some(t) => t,
            None => return Step::NeedMore(12),
        };
        let len = match self.u32_at(window, 4) {
            Some(l) => l as usize,
            None => return Step::NeedMore(12),
        };
        if len < 12 || len % 4 != 0 || len > MAX_RECORD_BYTES {
            return Step::Corrupt("invalid block length");
        }
        if window.len() < len {
            return Step::NeedMore(len);
        }
        let block = &window[..len];
        if self.u32_at(block, len - 4) != Some(len as u32) {
            return Step::Corrupt("block trailing length differs from leading length");
        }
        match block_type {
            IDB => self.interface_description(block),
            EPB => self.enhanced_packet(block, frame),
            SPB => self.simple_packet(block, frame),
            OBSOLETE_PB => self.obsolete_packet(block, frame),
            _ => Step::Skip(len),
        }
    }

    fn section_header<'a>(&mut self, window: &'a [u8]) -> Step<'a> {
        let bom = u32::from_le_bytes([window[8], window[9], window[10], window[11]]);
        self.big_endian = match bom {
            BOM => false,
            b if b == BOM.swap_bytes() => true,
            _ => return Step::Corrupt("section header byte-order magic invalid"),
        };
        let len = match self.u32_at(window, 4) {
            Some(l) => l as usize,
            None => return Step::NeedMore(12),
        };
        if len < 28 || len % 4 != 0 || len > MAX_RECORD_BYTES {
            return Step::Corrupt("invalid section header length");
        }
        if window.len() < len {
            return Step::NeedMore(len);
        }
        match parse_sectionheaderblock(&window[..len]) {
            Ok(_) => {}
            Err(nom::Err::Incomplete(_)) => return Step::NeedMore(len),
            Err(_) => return Step::Corrupt("section header block malformed"),
        }
        self.in_section = true;
        self.interfaces.clear();
        Step::Skip(len)
    }

    fn interface_description<'a>(&mut self, block: &'a [u8]) -> Step<'a> {
        let parsed = if self.big_endian {
            parse_interfacedescriptionblock_be(block)
        } else {
            parse_interfacedescriptionblock_le(block)
        };
        let idb = match parsed {
            Ok((_, idb)) => idb,
            Err(_) => return Step::Corrupt("interface description block malformed"),
        };
        let mut tsresol = 6u8;
        let mut tsoffset_s = 0i64;
        for opt in &idb.options {
            match opt.code.0 {
                OPT_IF_TSRESOL => {
                    if let Some(&v) = opt.value.first() {
                        tsresol = v;
                    }
                }
                OPT_IF_TSOFFSET => {
                    if let Some(v) = opt.value.get(..8) {
                        let mut a = [0u8; 8];
                        a.copy_from_slice(v);
                        tsoffset_s = if self.big_endian {
                            i64::from_be_bytes(a)
                        } else {
                            i64::from_le_bytes(a)
                        };
                    }
                }
                _ => {}
            }
        }
        let linktype = LinkType((idb.linktype.0 as u32 & 0xffff) as u16);
        let (word, bit) = (usize::from(linktype.0) / 64, linktype.0 % 64);
        if self.seen_bits[word] & (1 << bit) == 0 {
            self.seen_bits[word] |= 1 << bit;
            self.seen_linktypes.push(linktype);
        }
        self.ts_digits = self.ts_digits.max(super::time::resolution_digits(tsresol));
        self.interfaces.push(Interface {
            linktype,
            snaplen: idb.snaplen,
            tsresol,
            tsoffset_s,
        });
        Step::Skip(block.len())
    }

    fn enhanced_packet<'a>(&mut self, block: &'a [u8], frame: u64) -> Step<'a> {
        // EPB (pcapng §4.3): type, len, interface id, ts high, ts low,
        // caplen, original length, data, options. Read in place: pcap-parser's
        // EPB parser also decodes every option into a vector, which nothing
        // here uses, so a block of thousands of options cost 35 µs
        // (`pcapng_option_flood`, benches/hostile.rs); options are skipped.
        let (Some(if_id), Some(ts_high), Some(ts_low), Some(caplen), Some(origlen)) = (
            self.u32_at(block, 8),
            self.u32_at(block, 12),
            self.u32_at(block, 16),
            self.u32_at(block, 20),
            self.u32_at(block, 24),
        ) else {
            return Step::Corrupt("enhanced packet block malformed");
        };
        let Some(data) = (caplen as usize)
            .checked_add(28)
            .filter(|&end| end <= block.len().saturating_sub(4))
            .and_then(|end| block.get(28..end))
        else {
            return Step::Corrupt("enhanced packet block malformed");
        };
        let iface = match self.interfaces.get(if_id as usize) {
            Some(i) => *i,
            None => return Step::Corrupt("packet refers to an undeclared interface"),
        };
        let units = (u64::from(ts_high) << 32) | u64::from(ts_low);
        Step::Packet(
            RawPacket {
                ts_ns: super::time::units_to_ns(units, iface.tsresol, iface.tsoffset_s),
                wire_len: origlen,
                frame,
                interface: if_id,
                linktype: iface.linktype,
                data,
            },
            block.len(),
        )
    }

    fn simple_packet<'a>(&mut self, block: &'a [u8], frame: u64) -> Step<'a> {
        // SPB: type, len, original length, data; implicitly interface 0, and
        // no timestamp (pcapng §4.4): we report time 0.
        let iface = match self.interfaces.first() {
            Some(i) => *i,
            None => return Step::Corrupt("simple packet block before any interface"),
        };
        let origlen = match self.u32_at(block, 8) {
            Some(v) => v,
            None => return Step::Corrupt("simple packet block too short"),
        };
        let data = match block.get(12..block.len() - 4) {
            Some(d) => d,
            None => return Step::Corrupt("simple packet block too short"),
        };
        let mut caplen = (origlen as usize).min(data.len());
        if iface.snaplen > 0 {
            caplen = caplen.min(iface.snaplen as usize);
        }
        Step::Packet(
            RawPacket {
                ts_ns: 0,
                wire_len: origlen,
                frame,
                interface: 0,
                linktype: iface.linktype,
                data: &data[..caplen],
            },
            block.len(),
        )
    }

    fn obsolete_packet<'a>(&mut self, block: &'a [u8], frame: u64) -> Step<'a> {
        // Packet Block (obsolete, pcapng appendix A): type, len, interface
        // id (16), drops (16), ts high, ts low, caplen, len, data, options.
        let (Some(if_id), Some(ts_high), Some(ts_low), Some(caplen), Some(origlen)) = (
            self.u16_at(block, 8),
            self.u32_at(block, 12),
            self.u32_at(block, 16),
            self.u32_at(block, 20),
            self.u32_at(block, 24),
        ) else {
            return Step::Corrupt("packet block too short");
        };
        let iface = match self.interfaces.get(usize::from(if_id)) {
            Some(i) => *i,
            None => return Step::Corrupt("packet refers to an undeclared interface"),
        };
        let data = match block.get(28..(28 + caplen as usize).min(block.len() - 4)) {
            Some(d) if d.len() == caplen as usize => d,
            _ => return Step::Corrupt("packet block captured length exceeds block"),
        };
        let units = (u64::from(ts_high) << 32) | u64::from(ts_low);
        Step::Packet(
            RawPacket {
                ts_ns: super::time::units_to_ns(units, iface.tsresol, iface.tsoffset_s),
                wire_len: origlen,
                frame,
                interface: u32::from(if_id),
                linktype: iface.linktype,
                data,
            },
            block.len(),
        )
    }
}
