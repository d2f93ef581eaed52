//! Classic libpcap files: µs and ns magics in either byte order, and the
//! "modified" (Kuznetzov) variant. Record framing by pcap-parser.

use pcap_parser::pcap::{
    parse_pcap_frame, parse_pcap_frame_be, parse_pcap_frame_modified, parse_pcap_header,
};

use super::record::{CaptureFormat, LinkType, RawPacket, Step, MAX_RECORD_BYTES};
use super::CaptureError;

pub(crate) struct PcapParser {
    big_endian: bool,
    format: CaptureFormat,
    linktype: LinkType,
}

impl PcapParser {
    /// `Ok(None)` when the magic is not classic pcap.
    pub(crate) fn start(window: &[u8]) -> Result<Option<PcapParser>, CaptureError> {
        let magic = match window.get(..4) {
            Some(m) => u32::from_le_bytes([m[0], m[1], m[2], m[3]]),
            None => return Ok(None),
        };
        let format = match magic {
            0xa1b2_c3d4 | 0xd4c3_b2a1 => CaptureFormat::Pcap,
            0xa1b2_3c4d | 0x4d3c_b2a1 => CaptureFormat::PcapNs,
            0xa1b2_cd34 => CaptureFormat::PcapModified,
            _ => return Ok(None),
        };
        if window.len() < 24 {
            return Err(CaptureError::HeaderTruncated {
                have: window.len(),
                need: 24,
            });
        }
        let header = match parse_pcap_header(window) {
            Ok((_, h)) => h,
            Err(_) => {
                return Err(CaptureError::HeaderTruncated {
                    have: window.len(),
                    need: 24,
                })
            }
        };
        // The upper bits of the link type carry the FCS length (pcap-linktype
        // draft §"LinkType and additional information"); keep the type only.
        let linktype = LinkType((header.network.0 as u32 & 0xffff) as u16);
        Ok(Some(PcapParser {
            big_endian: header.is_bigendian(),
            format,
            linktype,
        }))
    }

    pub(crate) fn format(&self) -> CaptureFormat {
        self.format
    }

    pub(crate) fn linktype(&self) -> LinkType {
        self.linktype
    }

    pub(crate) fn ts_digits(&self) -> u8 {
        if self.format == CaptureFormat::PcapNs {
            9
        } else {
            6
        }
    }

    #[inline]
    pub(crate) fn next<'a>(&mut self, window: &'a [u8], frame: u64) -> Step<'a> {
        let hdr_len = if self.format == CaptureFormat::PcapModified {
            24
        } else {
            16
        };
        if window.len() < hdr_len {
            return Step::NeedMore(hdr_len);
        }
        // Check the captured length ourselves before handing the record to
        // pcap-parser, so garbage lengths are named as such.
        let caplen_bytes = [window[8], window[9], window[10], window[11]];
        let caplen = if self.big_endian {
            u32::from_be_bytes(caplen_bytes)
        } else {
            u32::from_le_bytes(caplen_bytes)
        } as usize;
        if caplen > MAX_RECORD_BYTES {
            return Step::Corrupt("implausible captured length in record header");
        }
        if window.len() < hdr_len + caplen {
            return Step::NeedMore(hdr_len + caplen);
        }
        let parsed = match (self.format, self.big_endian) {
            (CaptureFormat::PcapModified, _) => parse_pcap_frame_modified(window),
            (_, false) => parse_pcap_frame(window),
            (_, true) => parse_pcap_frame_be(window),
        };
        let block = match parsed {
            Ok((_, b)) => b,
            Err(pcap_parser::nom::Err::Incomplete(_)) => return Step::NeedMore(hdr_len + caplen),
            Err(_) => return Step::Corrupt("unparseable record header"),
        };
        let frac_ns: i64 = if self.format == CaptureFormat::PcapNs {
            i64::from(block.ts_usec)
        } else {
            i64::from(block.ts_usec) * 1_000
        };
        let ts_ns = i64::from(block.ts_sec) * 1_000_000_000 + frac_ns;
        Step::Packet(
            RawPacket {
                ts_ns,
                wire_len: block.origlen,
                frame,
                interface: 0,
                linktype: self.linktype,
                data: block.data,
            },
            hdr_len + caplen,
        )
    }
}
