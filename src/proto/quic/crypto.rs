//! The CRYPTO stream of Initial packets (RFC 9000 §19.6), put together by
//! offset with first-arrival-wins overlaps, and the frames an Initial may
//! carry.

use super::*;
use crate::decode::ranges::RangeBuffer;
use crate::proto::tls::ClientHello;
use crate::proto::tls::{parse_client_hello_message, parse_server_hello_message, ServerHello};
use crate::proto::Parse;

/// Frame types that a client Initial may carry (RFC 9000 §12.4, §19).
pub(super) mod frame {
    pub const PADDING: u64 = 0x00;
    pub const PING: u64 = 0x01;
    pub const ACK: u64 = 0x02;
    pub const ACK_ECN: u64 = 0x03;
    pub const CRYPTO: u64 = 0x06;
    /// Google QUIC over TLS: the handshake stream, laid out as CRYPTO.
    pub const GQUIC_CRYPTO: u64 = 0x08;
    pub const CONNECTION_CLOSE: u64 = 0x1c;
    pub const CONNECTION_CLOSE_APP: u64 = 0x1d;
}

/// The CRYPTO stream of an Initial space, put together by offset in a
/// [`RangeBuffer`] (first arrival wins: retransmissions repeat the same
/// bytes).
#[derive(Debug)]
pub(super) struct CryptoStream {
    pub(super) bytes: RangeBuffer,
}

impl Default for CryptoStream {
    fn default() -> CryptoStream {
        CryptoStream {
            bytes: RangeBuffer::new(MAX_CRYPTO_BYTES),
        }
    }
}

impl CryptoStream {
    /// Place `data` at `offset`: past [`MAX_CRYPTO_BYTES`] or in more than
    /// [`MAX_CRYPTO_RANGES`] pieces, the search gives up.
    pub(super) fn insert(&mut self, offset: u64, data: &[u8]) -> Result<(), GiveUp> {
        if data.is_empty() {
            return Ok(());
        }
        let start = usize::try_from(offset).map_err(|_| GiveUp::CryptoCap)?;
        if start
            .checked_add(data.len())
            .is_none_or(|end| end > MAX_CRYPTO_BYTES)
        {
            return Err(GiveUp::CryptoCap);
        }
        self.bytes.insert(start, data);
        if self.bytes.ranges().len() > MAX_CRYPTO_RANGES {
            return Err(GiveUp::CryptoFragmented);
        }
        Ok(())
    }

    /// The bytes held without a hole from offset 0.
    pub(super) fn prefix(&self) -> &[u8] {
        self.bytes.prefix()
    }

    /// The ClientHello, once the whole handshake message is held.
    pub(super) fn client_hello(&self) -> Result<Option<ClientHello>, GiveUp> {
        self.first_message(parse_client_hello_message)
    }

    /// The ServerHello (a server Initial's CRYPTO stream), once held.
    pub(super) fn server_hello(&self) -> Result<Option<ServerHello>, GiveUp> {
        self.first_message(parse_server_hello_message)
    }

    /// The stream's first handshake message, once all of it is held.
    fn first_message<T>(&self, parse: fn(&[u8]) -> Parse<T>) -> Result<Option<T>, GiveUp> {
        let p = self.prefix();
        let &[_, a, b, c, ..] = p else {
            return Ok(None);
        };
        let need = 4 + (usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c));
        match parse(p.get(..need).unwrap_or(p)) {
            Parse::Done(m) => Ok(Some(m)),
            Parse::Malformed(why) => Err(GiveUp::BadClientHello(why)),
            Parse::NeedMore if need > MAX_CRYPTO_BYTES => Err(GiveUp::CryptoCap),
            Parse::NeedMore => Ok(None),
        }
    }
}

/// Why reading a packet's frames stopped early.
pub(super) enum Stop {
    Anomaly(QuicAnomaly),
    GiveUp(GiveUp),
}

/// Read the frames of an Initial's plaintext, CRYPTO data into `crypto`
/// (RFC 9000 §19); with `gquic`, frames of type 0x08 carry it (T050, T051).
pub(super) fn read_frames(
    plain: &[u8],
    crypto: &mut CryptoStream,
    gquic: bool,
) -> Result<(), Stop> {
    let bad = Stop::Anomaly(QuicAnomaly::BadFrame);
    let mut r = Reader(plain);
    while let Some(&first) = r.0.first() {
        // PADDING is most of an Initial: skip a run at once.
        if u64::from(first) == frame::PADDING {
            let run = r.0.iter().position(|b| *b != 0).unwrap_or(r.0.len());
            r.take(run);
            continue;
        }
        let Some(ty) = r.varint() else {
            return Err(bad);
        };
        let ok = match ty {
            frame::PING => Some(()),
            frame::ACK | frame::ACK_ECN => skip_ack(&mut r, ty == frame::ACK_ECN),
            frame::CRYPTO | frame::GQUIC_CRYPTO if ty == frame::CRYPTO || gquic => {
                let (Some(offset), Some(len)) = (r.varint(), r.varint()) else {
                    return Err(bad);
                };
                let Some(data) = r.take_u64(len) else {
                    return Err(bad);
                };
                crypto.insert(offset, data).map_err(Stop::GiveUp)?;
                Some(())
            }
            frame::CONNECTION_CLOSE | frame::CONNECTION_CLOSE_APP => (|| {
                r.varint()?; // error code
                if ty == frame::CONNECTION_CLOSE {
                    r.varint()?; // frame type
                }
                let n = r.varint()?;
                r.take_u64(n).map(|_| ())
            })(),
            _ => None,
        };
        if ok.is_none() {
            return Err(bad);
        }
    }
    Ok(())
}

/// Skip an ACK frame's body (RFC 9000 §19.3). Every range costs at least
/// two bytes, so the loop ends with the input.
pub(super) fn skip_ack(r: &mut Reader<'_>, ecn: bool) -> Option<()> {
    r.varint()?; // largest acknowledged
    r.varint()?; // delay
    let ranges = r.varint()?;
    r.varint()?; // first range
    for _ in 0..ranges {
        r.varint()?; // gap
        r.varint()?; // length
    }
    if ecn {
        for _ in 0..3 {
            r.varint()?;
        }
    }
    Some(())
}
