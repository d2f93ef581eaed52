//! Capture files: format detection, memory-mapped and streaming readers, and
//! the packet records they yield.
//!
//! Owns: turning bytes of a pcap / pcapng file (optionally gzip or zstd
//! compressed) into [`RawPacket`]s with exact integer-nanosecond timestamps.
//! Does not own: anything inside a packet (see [`crate::decode`]).
//!
//! Invariant: no input can make a reader panic. Problems with the file as a
//! whole are [`CaptureError`]s; a file cut short yields the packets before the
//! cut and then the error. A mapped file that changes while it is read
//! never makes the process fault, and yields no packet it no longer holds
//! (`guard.rs`).

mod error;
mod guard;
mod pcap;
mod pcapng;
mod record;
mod source;
pub mod time;
pub mod writer;

pub use error::CaptureError;
pub use record::{CaptureFormat, Compression, LinkType, RawPacket};
pub use source::{Capture, ReadOutcome, SlicePackets};
