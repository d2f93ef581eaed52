//! [`QuicTracker`]: one flow's QUIC handshake as an observer reads it,
//! datagram by datagram, into a [`QuicInfo`].

use super::crypto::{read_frames, CryptoStream, Stop};
use super::keys::InitialKeys;
use super::*;
use crate::proto::tls::{ClientHello, ServerHello};

/// What a flow's QUIC handshake showed of itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuicInfo {
    /// Version of the client Initials the keys opened; before that, of
    /// the first long header seen.
    pub version: u32,
    /// Destination Connection ID the client's Initial keys derive from:
    /// that of its first Initial (RFC 9001 §5.2), or the one a Retry
    /// assigned when the client started over (see `restarts`).
    pub dcid: Vec<u8>,
    /// Source Connection ID of that client Initial.
    pub scid: Vec<u8>,
    /// Source Connection ID of the server's first Initial or Handshake
    /// packet (the CID the server chose).
    pub server_scid: Option<Vec<u8>>,
    /// Versions the server listed in a Version Negotiation packet, in wire
    /// order, at most [`MAX_SERVER_VERSIONS`].
    pub server_versions: Vec<u32>,
    /// The server sent a Retry.
    pub retry: bool,
    /// Times the client's Initials switched to keys from a new DCID before
    /// its ClientHello was complete (after a Retry or Version
    /// Negotiation, or a new connection on the same flow); the CRYPTO data
    /// of the earlier attempt is dropped.
    pub restarts: u8,
    pub client_hello: Option<ClientHello>,
    /// The ServerHello of the server's Initial, opened with the server
    /// Initial keys of the same DCID (RFC 9001 §5.2): the negotiated
    /// cipher and version, and JA3S. The rest of the server's flight is in
    /// Handshake packets, whose keys an observer cannot derive.
    pub server_hello: Option<ServerHello>,
    /// Google QUIC before TLS (Q043, Q046, Q050): the client's CHLO.
    pub chlo: Option<gquic::Chlo>,
}

/// Where a tracker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Still looking for the ClientHello.
    Reading,
    /// The ClientHello was parsed (`QuicInfo::client_hello`).
    Done,
    /// The flow's first datagram does not open like QUIC
    /// ([`starts_like_quic`]): nothing more is read.
    NotQuic,
    /// Stopped without a ClientHello.
    GaveUp(GiveUp),
}

/// Why a tracker stopped without a ClientHello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    /// [`MAX_DATAGRAMS`] read and no client Initial opened.
    NoInitialOpened,
    /// [`MAX_DATAGRAMS`] read and the ClientHello still incomplete.
    Incomplete,
    /// CRYPTO data or the ClientHello reach past [`MAX_CRYPTO_BYTES`].
    CryptoCap,
    /// More than [`MAX_CRYPTO_RANGES`] disjoint CRYPTO pieces at once.
    CryptoFragmented,
    /// The CRYPTO stream does not start with a valid ClientHello (the TLS
    /// parser's reason).
    BadClientHello(&'static str),
}

/// State held only while the ClientHello is sought.
#[derive(Debug, Default)]
struct Search {
    keys: Option<InitialKeys>,
    largest_pn: Option<u64>,
    crypto: CryptoStream,
    /// Reused copy of the packet being opened.
    scratch: Vec<u8>,
}

/// One flow's QUIC handshake, fed datagram by datagram: finds the client
/// side by content (the side whose Initial opens with client keys), opens
/// its Initials, reassembles their CRYPTO frames and parses the
/// ClientHello; notes the server's CID, Retry and Version Negotiation.
///
/// One ClientHello per tracker: a later connection on the same flow is not
/// read once the first ClientHello is parsed. Before that, a client Initial
/// that opens only with keys from its own new DCID (after a Retry, a
/// Version Negotiation, or a new connection) starts the search over.
#[derive(Debug)]
pub struct QuicTracker {
    status: Status,
    info: QuicInfo,
    datagrams: u32,
    anomalies: u16,
    /// Which side (`up` value) is the client, once known.
    client_up: Option<bool>,
    /// Anomalies of Initials that did not open, by side (`up as usize`),
    /// held while the sides are unknown: a server's Initial does not open
    /// with client keys and is no anomaly.
    unopened: [u16; 2],
    /// Dropped when the search ends.
    search: Option<Box<Search>>,
    /// The version whose Initial keys opened the client's Initials.
    keys_version: u32,
    /// The DCID the server's Initial keys derive from: `info.dcid`, or
    /// the one a Retry gave once the ClientHello was already read.
    server_dcid: Vec<u8>,
    /// The server's Initials: sought while `server_open`.
    server: Option<Box<Search>>,
    /// The ServerHello may still come (not parsed, not given up on).
    server_open: bool,
}

impl Default for QuicTracker {
    fn default() -> QuicTracker {
        QuicTracker::new()
    }
}

impl QuicTracker {
    pub fn new() -> QuicTracker {
        QuicTracker {
            status: Status::Reading,
            info: QuicInfo::default(),
            datagrams: 0,
            anomalies: 0,
            client_up: None,
            unopened: [0; 2],
            search: None,
            keys_version: 0,
            server_dcid: Vec::new(),
            server: None,
            server_open: true,
        }
    }

    /// Read one UDP payload. `up`: sent by the flow's up side (the sender
    /// of its first packet); which side is the client is found by content.
    /// Returns the status after it.
    pub fn datagram(&mut self, payload: &[u8], up: bool) -> Status {
        if self.is_finished() {
            return self.status;
        }
        self.datagrams += 1;
        if self.datagrams == 1 && !starts_like_quic(payload) {
            self.status = Status::NotQuic;
            return self.status;
        }
        if self.status == Status::Reading {
            if let Some((version, chlo)) = gquic::clear_chlo(payload) {
                self.gquic_done(version, chlo, up);
                return self.status;
            }
        }
        let mut rest = payload;
        while !rest.is_empty() && !self.is_finished() {
            match parse_packet(rest) {
                Ok((packet, tail)) => {
                    self.packet(&packet, up);
                    rest = tail;
                }
                Err(a) => {
                    self.flag(a);
                    break;
                }
            }
        }
        if self.datagrams >= MAX_DATAGRAMS && self.status == Status::Reading {
            self.give_up(if self.search.as_ref().is_some_and(|s| s.keys.is_some()) {
                GiveUp::Incomplete
            } else {
                GiveUp::NoInitialOpened
            });
        }
        self.status
    }

    pub fn status(&self) -> Status {
        self.status
    }

    /// No later datagram can change [`info`](Self::info): the search ended
    /// and, after a ClientHello, the server's CID was seen or the datagram
    /// budget is spent.
    pub fn is_finished(&self) -> bool {
        match self.status {
            Status::Reading => false,
            // Google QUIC's later packets are not IETF-shaped: after its
            // CHLO nothing more is read.
            Status::Done => {
                self.info.chlo.is_some()
                    || (self.info.server_scid.is_some() && !self.server_open)
                    || self.datagrams >= MAX_DATAGRAMS
            }
            Status::NotQuic | Status::GaveUp(_) => true,
        }
    }

    pub fn info(&self) -> &QuicInfo {
        &self.info
    }

    pub fn into_info(self) -> QuicInfo {
        self.info
    }

    /// Datagrams read so far.
    pub fn datagrams(&self) -> u32 {
        self.datagrams
    }

    /// The anomalies seen, each once. While no side is known as the
    /// client, an Initial that did not open counts as one.
    pub fn anomalies(&self) -> impl Iterator<Item = QuicAnomaly> + '_ {
        let bits = match self.client_up {
            None => self.anomalies | self.unopened[0] | self.unopened[1],
            Some(_) => self.anomalies,
        };
        QuicAnomaly::ALL
            .iter()
            .copied()
            .filter(move |a| bits & a.bit() != 0)
    }

    /// The side `up` is the client: its held anomalies count now.
    fn set_client(&mut self, up: bool) {
        if self.client_up.is_none() {
            self.client_up = Some(up);
            self.anomalies |= self.unopened[usize::from(up)];
            self.unopened = [0; 2];
        }
    }

    /// An Initial of side `up` that did not open with client keys. For a
    /// version not known here (keys tried on a guess) this is no anomaly.
    fn not_opened(&mut self, a: QuicAnomaly, p: &LongPacket<'_>, up: bool) {
        if p.keys_version != p.version {
            return;
        }
        match self.client_up {
            Some(client) if client == up => self.anomalies |= a.bit(),
            Some(_) => {}
            None => self.unopened[usize::from(up)] |= a.bit(),
        }
    }

    fn flag(&mut self, a: QuicAnomaly) {
        self.anomalies |= a.bit();
    }

    fn give_up(&mut self, why: GiveUp) {
        self.status = Status::GaveUp(why);
        self.search = None;
    }

    fn packet(&mut self, packet: &Packet<'_>, up: bool) {
        match *packet {
            Packet::Short => {}
            Packet::OtherVersion { version, .. } => {
                if self.info.version == 0 && known(version) {
                    self.info.version = version;
                }
            }
            Packet::VersionNegotiation { versions, .. } => {
                // Only servers send these (RFC 8999 §6).
                if self.client_up == Some(up) {
                    return;
                }
                self.set_client(!up);
                if self.info.server_versions.is_empty() {
                    self.info.server_versions = versions.take(MAX_SERVER_VERSIONS).collect();
                }
            }
            Packet::Long(p) => {
                // A version not known here counts once an Initial opened.
                if self.info.version == 0 && known(p.version) {
                    self.info.version = p.version;
                }
                let from_server = self.client_up == Some(!up);
                match p.kind {
                    // Only servers send these (RFC 9000 §17.2.5).
                    LongType::Retry if self.client_up != Some(up) => {
                        self.set_client(!up);
                        self.info.retry = true;
                    }
                    LongType::Initial | LongType::Handshake if from_server => {
                        if self.info.server_scid.is_none() {
                            self.info.server_scid = Some(p.scid.to_vec());
                        }
                        if p.kind == LongType::Initial && self.server_open {
                            self.server_initial(&p);
                        }
                    }
                    LongType::Initial if self.status == Status::Reading => {
                        self.client_initial(&p, up)
                    }
                    // After a Retry or a Version Negotiation the client
                    // starts over under a new DCID: the server's Initial
                    // keys follow it.
                    LongType::Initial
                        if self.status == Status::Done
                            && self.server_open
                            && self.client_up == Some(up)
                            && p.dcid != self.info.dcid.as_slice() =>
                    {
                        self.client_restart(&p, up)
                    }
                    _ => {}
                }
            }
        }
    }

    /// An Initial from the client side, or from a side not known yet.
    fn client_initial(&mut self, p: &LongPacket<'_>, up: bool) {
        let search = self.search.get_or_insert_with(Box::default);
        let Search {
            keys,
            largest_pn,
            crypto,
            scratch,
        } = &mut **search;
        let current = keys.as_ref().filter(|k| k.version == p.keys_version);
        let opened = current.map(|k| k.open(p, *largest_pn, scratch));
        let (pn, frames) = match opened {
            Some(Ok(opened)) => opened,
            // Same keys as the ones that just failed: nothing else to try.
            Some(Err(a)) if current.is_some_and(|k| k.dcid == p.dcid) => {
                self.not_opened(a, p, up);
                return;
            }
            _ => {
                let fresh = InitialKeys::client(p.keys_version, p.dcid);
                match fresh.as_ref().map(|k| k.open(p, None, scratch)) {
                    Some(Ok(opened)) => {
                        // A new attempt: the earlier one's CRYPTO bytes
                        // belong to another ClientHello (or repeat it).
                        if keys.is_some() {
                            self.info.restarts = self.info.restarts.saturating_add(1);
                            *crypto = CryptoStream::default();
                        }
                        *keys = fresh;
                        *largest_pn = None;
                        self.keys_version = p.keys_version;
                        self.server_dcid = p.dcid.to_vec();
                        self.info.version = p.version;
                        self.info.dcid = p.dcid.to_vec();
                        self.info.scid = p.scid.to_vec();
                        opened
                    }
                    Some(Err(a)) => {
                        self.not_opened(a, p, up);
                        return;
                    }
                    None => return,
                }
            }
        };
        self.set_client(up);
        let Some(Search {
            largest_pn,
            crypto,
            scratch,
            ..
        }) = self.search.as_deref_mut()
        else {
            return;
        };
        *largest_pn = Some(largest_pn.map_or(pn, |l| l.max(pn)));
        let plain = scratch.get(frames).unwrap_or(&[]);
        let gquic = profile(self.keys_version).is_some_and(|p| p.gquic_crypto);
        let read = read_frames(plain, crypto, gquic);
        // Q050 carries a CHLO, not a TLS ClientHello.
        if self.keys_version == gquic::Q050 {
            if let Some(chlo) = gquic::parse_chlo(crypto.prefix()) {
                self.gquic_done(gquic::Q050, chlo, up);
            }
            return;
        }
        let outcome = match read {
            Ok(()) => crypto.client_hello(),
            Err(Stop::Anomaly(a)) => {
                self.anomalies |= a.bit();
                crypto.client_hello()
            }
            Err(Stop::GiveUp(why)) => Err(why),
        };
        match outcome {
            Ok(None) => {}
            Ok(Some(ch)) => {
                self.info.client_hello = Some(ch);
                self.status = Status::Done;
                self.search = None;
            }
            Err(why) => self.give_up(why),
        }
    }

    /// A client Initial under a new DCID after the ClientHello was read.
    /// Of another version (after a Version Negotiation) it starts the
    /// attempt over: the hello, version and DCID become the new attempt's
    /// once its ClientHello is read (the first one stays until then). Of
    /// the same version (after a Retry), only the server's keys follow it
    /// when it opens; the flow's DCID stays the first, as Zeek reports it.
    fn client_restart(&mut self, p: &LongPacket<'_>, up: bool) {
        if p.version != self.info.version {
            self.status = Status::Reading;
            self.search = None;
            self.info.restarts = self.info.restarts.saturating_add(1);
            self.client_initial(p, up);
            return;
        }
        let Some(keys) = InitialKeys::client(p.keys_version, p.dcid) else {
            return;
        };
        let mut scratch = Vec::new();
        if keys.open(p, None, &mut scratch).is_ok() {
            self.server_dcid = p.dcid.to_vec();
        }
    }

    /// A Google QUIC CHLO was read: its server hello is no TLS one, so
    /// nothing more is sought.
    fn gquic_done(&mut self, version: u32, chlo: gquic::Chlo, up: bool) {
        self.set_client(up);
        self.info.version = version;
        self.info.chlo = Some(chlo);
        self.status = Status::Done;
        self.search = None;
        self.server_open = false;
    }

    /// An Initial from the server: opened with the server keys of the
    /// client's DCID, its CRYPTO frames put together until the ServerHello
    /// parses. One that does not open (another attempt's, or corrupt) is
    /// skipped; the search ends with the datagram budget.
    fn server_initial(&mut self, p: &LongPacket<'_>) {
        if self.server_dcid.is_empty() {
            return;
        }
        let search = self.server.get_or_insert_with(Box::default);
        let stale = search
            .keys
            .as_ref()
            .is_none_or(|k| k.dcid != self.server_dcid || k.version != self.keys_version);
        if stale {
            // A Retry or a new attempt changed the DCID: new keys.
            search.keys = InitialKeys::server(self.keys_version, &self.server_dcid);
            search.largest_pn = None;
            search.crypto = CryptoStream::default();
        }
        let Search {
            keys: Some(keys),
            largest_pn,
            crypto,
            scratch,
        } = &mut **search
        else {
            return;
        };
        let Ok((pn, frames)) = keys.open(p, *largest_pn, scratch) else {
            return;
        };
        *largest_pn = Some(largest_pn.map_or(pn, |l| l.max(pn)));
        let plain = scratch.get(frames).unwrap_or(&[]);
        let gquic = profile(self.keys_version).is_some_and(|p| p.gquic_crypto);
        let outcome = match read_frames(plain, crypto, gquic) {
            Ok(()) => crypto.server_hello(),
            Err(Stop::Anomaly(a)) => {
                self.anomalies |= a.bit();
                crypto.server_hello()
            }
            Err(Stop::GiveUp(why)) => Err(why),
        };
        match outcome {
            Ok(None) => return,
            Ok(Some(sh)) => self.info.server_hello = Some(sh),
            Err(_) => {}
        }
        self.server_open = false;
        self.server = None;
    }
}

/// A version whose Initials are read here, or a reserved one (a client
/// forcing version negotiation): a flow showing it is QUIC before any
/// Initial opened.
/// A version this flow's naming trusts: one whose keys are known, a
/// reserved one, or a QUIC family whose Initials are not opened here (IETF
/// drafts, mvfst, Google's Q0xx/T0xx): its long header alone names QUIC.
fn known(version: u32) -> bool {
    is_decryptable_version(version)
        || is_reserved_version(version)
        || version >> 8 == 0x00ff_0000
        || version >> 4 == 0x0fac_eb00
        || (matches!(version >> 24, 0x51 | 0x54)
            && version.to_be_bytes()[1..].iter().all(u8::is_ascii_digit))
}
