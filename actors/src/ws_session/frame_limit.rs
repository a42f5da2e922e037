//! A frame-size check that acts on the frame header, before the payload.
//!
//! actix-http's codec enforces `max_frame_size` only once a whole frame is
//! buffered: a server that announces a huge frame makes the client buffer it
//! (the limit caps delivery, not memory), and a 64-bit length with its top
//! bit set comes back as `Overflow` on every poll without consuming a byte,
//! so a reader that skips the error spins on it forever. [`FrameLimit`] wraps
//! the codec and answers `Overflow` as soon as a header announces more than
//! the limit; the session then gives the connection up, so the error is seen
//! once per connection and nothing of the frame is buffered.

use actix_codec::{Decoder, Encoder};
use awc::error::WsProtocolError;
use awc::ws::{Codec, Frame, Message};
use bytes::BytesMut;

/// The WebSocket codec with the size limit checked on each frame's header.
#[derive(Debug)]
pub struct FrameLimit {
    codec: Codec,
    max: u64,
}

impl FrameLimit {
    /// Wraps `codec`, refusing frames that announce more than `max` bytes.
    pub fn new(codec: Codec, max: usize) -> Self {
        FrameLimit {
            codec,
            max: u64::try_from(max).unwrap_or(u64::MAX),
        }
    }
}

/// The payload length a frame header at the start of `buf` announces, or
/// `None` while the header is incomplete (RFC 6455 §5.2).
pub fn announced_len(buf: &[u8]) -> Option<u64> {
    let second = *buf.get(1)?;
    match second & 0x7f {
        126 => {
            let bytes: [u8; 2] = buf.get(2..4)?.try_into().ok()?;
            Some(u64::from(u16::from_be_bytes(bytes)))
        }
        127 => {
            let bytes: [u8; 8] = buf.get(2..10)?.try_into().ok()?;
            Some(u64::from_be_bytes(bytes))
        }
        short => Some(u64::from(short)),
    }
}

impl Decoder for FrameLimit {
    type Item = Frame;
    type Error = WsProtocolError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, WsProtocolError> {
        if announced_len(src).is_some_and(|len| len > self.max) {
            return Err(WsProtocolError::Overflow);
        }
        self.codec.decode(src)
    }
}

impl Encoder<Message> for FrameLimit {
    type Error = WsProtocolError;

    fn encode(&mut self, item: Message, dst: &mut BytesMut) -> Result<(), WsProtocolError> {
        self.codec.encode(item, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announced_lengths() {
        let cases: &[(&[u8], Option<u64>)] = &[
            (&[], None),
            (&[0x81], None),
            (&[0x81, 0x05], Some(5)),
            (&[0x81, 0x7d], Some(125)),
            (&[0x81, 0x7e, 0x01], None),
            (&[0x81, 0x7e, 0x01, 0x00], Some(256)),
            (&[0x81, 0x7f, 0, 0, 0, 0, 0, 0x20, 0], None),
            (&[0x81, 0x7f, 0, 0, 0, 0, 0, 0x20, 0, 0], Some(2 << 20)),
            (&[0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0], Some(1 << 63)),
        ];
        for (header, want) in cases {
            assert_eq!(announced_len(header), *want, "{header:x?}");
        }
    }

    #[test]
    fn a_header_over_the_limit_fails_at_once_and_one_within_waits_for_its_payload() {
        let mut codec = FrameLimit::new(Codec::new().client_mode(), 1 << 20);
        let mut over = BytesMut::from(&[0x81u8, 0x7f, 0, 0, 0, 0, 0, 0x20, 0, 0][..]);
        assert!(matches!(
            codec.decode(&mut over),
            Err(WsProtocolError::Overflow)
        ));
        let mut within = BytesMut::from(&[0x81u8, 0x7e, 0x01, 0x00, b'x'][..]);
        assert!(matches!(codec.decode(&mut within), Ok(None)));
        let mut whole = BytesMut::from(&[0x81u8, 0x02, b'[', b']'][..]);
        assert!(matches!(codec.decode(&mut whole), Ok(Some(Frame::Text(_)))));
    }
}
