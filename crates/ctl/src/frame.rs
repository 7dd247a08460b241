//! Frames on the byte stream, and the [`Decoder`] that finds them.
//!
//! The decoder keeps what it has been given until it makes a frame, and
//! holds at most one largest frame, header and all ([`Decoder::CAPACITY`]).
//! [`Decoder::push`] takes what fits and says how much that was; the
//! caller takes out what is complete (the decoder is an [`Iterator`])
//! and pushes the rest. Once the iterator has run dry there is always
//! room again, so feeding never stalls:
//!
//! ```
//! # let mut decoder = ctl::Decoder::new();
//! # let mut handle = |_f: Result<ctl::Frame, ctl::DecodeError>| {};
//! # let mut input: &[u8] = b"bytes read from the port";
//! while !input.is_empty() {
//!     let n = decoder.push(input);
//!     input = &input[n..];
//!     decoder.by_ref().for_each(&mut handle);
//! }
//! ```
//!
//! How it reads the stream, front first:
//!
//! * Bytes that cannot start a frame (anything before the next `DXC`, or
//!   a `DXC` whose header check fails) are dropped and reported as one
//!   [`DecodeError::Garbage`] per run.
//! * A sound header of another version, or with a payload longer than
//!   [`MAX_PAYLOAD`], is reported with its id, and its payload is passed
//!   over whole as it arrives, never stored: the header's check makes it
//!   trustworthy, and its payload might hold anything.
//! * A complete frame whose payload fails its check is reported
//!   ([`DecodeError::BadChecksum`]) and searched again from its second
//!   byte: if it lost bytes on the way, it swallowed the start of the
//!   frame behind it, which is found that way.
//! * A sound frame that is not complete yet waits for the rest.

use alloc::vec::Vec;
use core::fmt;

use crate::crc::crc32;
use crate::error::{DecodeError, EncodeError};
use crate::{MAX_PAYLOAD, VERSION};

/// The first three bytes of every frame.
pub const MAGIC: [u8; 3] = *b"DXC";
/// The bytes before a frame's payload.
pub const HEADER_LEN: usize = 21;

/// Where the header check begins.
const CHECK_AT: usize = 17;

/// One frame's content: which message, the request it belongs to, and
/// the message's encoding. Its version is always [`VERSION`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub kind: u8,
    pub id: u32,
    pub payload: Vec<u8>,
}

impl Frame {
    /// The frame as it goes on the wire.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        encode(self.kind, self.id, &self.payload)
    }

    /// Whether the kind is a reply's (top bit set) rather than a request's.
    pub fn is_reply(&self) -> bool {
        self.kind & 0x80 != 0
    }
}

/// A frame for `payload`, of this version.
pub(crate) fn encode(kind: u8, id: u32, payload: &[u8]) -> Result<Vec<u8>, EncodeError> {
    match u32::try_from(payload.len()) {
        Ok(len) if payload.len() <= MAX_PAYLOAD => Ok(seal(VERSION, kind, id, len, payload)),
        _ => Err(EncodeError::PayloadTooLong { len: payload.len() }),
    }
}

/// A header with its checks, then `payload`; `len` is what the header
/// says, whatever the payload is (tests make false headers with it).
pub(crate) fn seal(version: u8, kind: u8, id: u32, len: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.push(version);
    out.push(kind);
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc32(payload).to_le_bytes());
    let check = crc32(&out);
    out.extend_from_slice(&check.to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// A header that passed its check.
struct Header {
    version: u8,
    kind: u8,
    id: u32,
    len: u32,
    payload_crc: u32,
}

impl Header {
    /// The header at the front of `b`, if `b` holds a whole one that
    /// passes its check.
    fn read(b: &[u8]) -> Option<Header> {
        let h: &[u8; HEADER_LEN] = b.get(..HEADER_LEN)?.try_into().ok()?;
        let word = |at: usize| u32::from_le_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]);
        if h[..3] != MAGIC || crc32(&h[..CHECK_AT]) != word(CHECK_AT) {
            return None;
        }
        Some(Header {
            version: h[3],
            kind: h[4],
            id: word(5),
            len: word(9),
            payload_crc: word(13),
        })
    }
}

/// Finds frames in a byte stream; see the module docs.
#[derive(Default)]
pub struct Decoder {
    buf: Vec<u8>,
    /// Where the unread bytes in `buf` begin.
    start: usize,
    /// Bytes of a passed-over payload still to come, to drop as they do.
    skip: u64,
}

impl Decoder {
    /// The most bytes the decoder holds: one largest frame.
    pub const CAPACITY: usize = HEADER_LEN + MAX_PAYLOAD;

    pub fn new() -> Self {
        Decoder {
            buf: Vec::new(),
            start: 0,
            skip: 0,
        }
    }

    /// Bytes held, not yet made into frames or dropped.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// How many more bytes [`Decoder::push`] would take now (more, if
    /// some are a payload being passed over).
    pub fn room(&self) -> usize {
        Self::CAPACITY - self.buffered()
    }

    /// Takes as much of `bytes` as fits and returns how many that was.
    /// Fewer than all only when the decoder is full, and then taking the
    /// frames out (iterating until `None`) makes room.
    #[must_use = "the bytes not taken must be pushed again"]
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        let dropped = usize::try_from(self.skip).map_or(bytes.len(), |s| s.min(bytes.len()));
        self.skip -= dropped as u64;
        let (_, rest) = bytes.split_at(dropped);
        let n = rest.len().min(self.room());
        if n == 0 {
            return dropped;
        }
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start >= self.buffered() || self.buf.len() + n > Self::CAPACITY {
            // Moving the unread bytes costs no more than those already
            // read, or is needed to stay within the capacity.
            self.buf.drain(..self.start);
            self.start = 0;
        }
        if self.buf.capacity() < Self::CAPACITY {
            self.buf.reserve_exact(Self::CAPACITY - self.buf.len());
        }
        self.buf.extend_from_slice(&rest[..n]);
        dropped + n
    }

    /// Passes over a frame whose header is sound but which will not be
    /// read: what is held of it now, and the rest as it comes.
    fn pass_over(&mut self, len: u32) {
        let held = self.buffered() - HEADER_LEN;
        let now = usize::try_from(len).map_or(held, |len| len.min(held));
        self.start += HEADER_LEN + now;
        self.skip = u64::from(len) - now as u64;
    }

    /// What the sound header `h` at the front leads to.
    fn frame(&mut self, h: Header) -> Option<Result<Frame, DecodeError>> {
        if h.version != VERSION {
            self.pass_over(h.len);
            return Some(Err(DecodeError::Version {
                theirs: h.version,
                id: h.id,
            }));
        }
        let len = match usize::try_from(h.len) {
            Ok(len) if len <= MAX_PAYLOAD => len,
            _ => {
                self.pass_over(h.len);
                return Some(Err(DecodeError::TooLong {
                    len: h.len,
                    id: h.id,
                }));
            }
        };
        let payload = self
            .buf
            .get(self.start + HEADER_LEN..self.start + HEADER_LEN + len)?;
        if crc32(payload) != h.payload_crc {
            self.start += 1;
            return Some(Err(DecodeError::BadChecksum { id: h.id }));
        }
        let frame = Frame {
            kind: h.kind,
            id: h.id,
            payload: payload.to_vec(),
        };
        self.start += HEADER_LEN + len;
        Some(Ok(frame))
    }
}

impl fmt::Debug for Decoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder")
            .field("buffered", &self.buffered())
            .field("skip", &self.skip)
            .finish()
    }
}

/// Where in `b` a frame could start: the first `DXC`, or a beginning of
/// it cut off by the end of `b`; `b.len()` if nowhere.
fn magic_at(b: &[u8]) -> usize {
    (0..b.len())
        .find(|&i| {
            let n = (b.len() - i).min(MAGIC.len());
            b[i..i + n] == MAGIC[..n]
        })
        .unwrap_or(b.len())
}

impl Iterator for Decoder {
    type Item = Result<Frame, DecodeError>;

    /// The next frame or error; `None` when more bytes are needed. It
    /// yields again after more are pushed.
    fn next(&mut self) -> Option<Self::Item> {
        let mut skipped = 0;
        loop {
            let live = &self.buf[self.start..];
            let at = magic_at(live);
            if at > 0 {
                self.start += at;
                skipped += at;
                continue;
            }
            if live.len() < HEADER_LEN {
                break;
            }
            let Some(header) = Header::read(live) else {
                self.start += 1;
                skipped += 1;
                continue;
            };
            if skipped > 0 {
                // The frame stays at the front for the next call.
                return Some(Err(DecodeError::Garbage { skipped }));
            }
            return self.frame(header);
        }
        (skipped > 0).then_some(Err(DecodeError::Garbage { skipped }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{feed, garbage, pieces};
    use proptest::prelude::*;

    fn frame(kind: u8, id: u32, payload: &[u8]) -> Frame {
        Frame {
            kind,
            id,
            payload: payload.to_vec(),
        }
    }

    fn all(d: &mut Decoder, bytes: &[u8]) -> Vec<Result<Frame, DecodeError>> {
        feed(d, bytes, &[usize::MAX])
    }

    #[test]
    fn the_header_is_as_documented() {
        let b = frame(0x05, 0x0102_0304, b"xy").encode().unwrap();
        assert_eq!(&b[..5], b"DXC\x01\x05");
        assert_eq!(&b[5..9], [4, 3, 2, 1]);
        assert_eq!(&b[9..13], [2, 0, 0, 0]);
        assert_eq!(&b[13..17], crc32(b"xy").to_le_bytes());
        assert_eq!(&b[17..21], crc32(&b[..17]).to_le_bytes());
        assert_eq!(&b[21..], b"xy");
    }

    #[test]
    fn a_frame_comes_out_whole_and_only_once() {
        let mut d = Decoder::new();
        let f = frame(1, 7, b"hello");
        assert_eq!(all(&mut d, &f.encode().unwrap()), [Ok(f)]);
        assert_eq!(d.next(), None);
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn a_largest_frame_fits_and_a_larger_one_cannot_be_made() {
        let big = frame(0x0a, 1, &vec![0xa5; MAX_PAYLOAD]);
        let bytes = big.encode().unwrap();
        assert_eq!(bytes.len(), Decoder::CAPACITY);
        let mut d = Decoder::new();
        assert_eq!(d.push(&bytes), bytes.len());
        assert_eq!(d.room(), 0);
        assert_eq!(d.next(), Some(Ok(big)));
        assert_eq!(
            frame(0x0a, 1, &vec![0; MAX_PAYLOAD + 1]).encode(),
            Err(EncodeError::PayloadTooLong {
                len: MAX_PAYLOAD + 1
            })
        );
    }

    #[test]
    fn garbage_is_reported_once_per_run_then_frames_follow() {
        let mut d = Decoder::new();
        let f = frame(2, 9, b"");
        let mut bytes = b"noise DX DXC and more".to_vec();
        bytes.extend(f.encode().unwrap());
        assert_eq!(
            all(&mut d, &bytes),
            [Err(DecodeError::Garbage { skipped: 21 }), Ok(f)]
        );
    }

    #[test]
    fn another_version_is_passed_over_whole_with_its_id() {
        // Its payload holds a frame of ours, which must not be read.
        let inner = frame(3, 1, b"inner").encode().unwrap();
        let mut bytes = seal(2, 1, 77, inner.len() as u32, &inner);
        let after = frame(4, 2, b"after");
        bytes.extend(after.encode().unwrap());
        let mut d = Decoder::new();
        assert_eq!(
            feed(&mut d, &bytes, &[22, 3, 1]),
            [Err(DecodeError::Version { theirs: 2, id: 77 }), Ok(after)]
        );
    }

    #[test]
    fn a_too_long_payload_is_dropped_as_it_comes_never_held() {
        let len = 3 * MAX_PAYLOAD as u32;
        let mut bytes = seal(VERSION, 1, 5, len, &[]);
        bytes.extend(vec![0x44; len as usize]);
        let after = frame(4, 6, b"after");
        bytes.extend(after.encode().unwrap());
        let mut d = Decoder::new();
        let mut got = Vec::new();
        for piece in bytes.chunks(1000) {
            let mut piece = piece;
            while !piece.is_empty() {
                let n = d.push(piece);
                piece = &piece[n..];
                assert!(d.buffered() <= 1000 + HEADER_LEN);
                got.extend(d.by_ref());
            }
        }
        assert_eq!(got, [Err(DecodeError::TooLong { len, id: 5 }), Ok(after)]);
    }

    #[test]
    fn a_frame_that_lost_bytes_is_refused_and_the_next_one_found() {
        let mut lossy = frame(5, 1, b"stop capsule 12").encode().unwrap();
        lossy.remove(HEADER_LEN + 3);
        let next = frame(6, 2, b"0123456789");
        lossy.extend(next.encode().unwrap());
        let last = frame(7, 3, b"");
        lossy.extend(last.encode().unwrap());
        let got = all(&mut Decoder::new(), &lossy);
        assert_eq!(got[0], Err(DecodeError::BadChecksum { id: 1 }));
        assert!(matches!(got[1], Err(DecodeError::Garbage { .. })));
        assert_eq!(got[2..], [Ok(next), Ok(last)]);
    }

    #[test]
    fn a_full_decoder_takes_nothing_until_emptied() {
        let mut d = Decoder::new();
        let junk = vec![b'D'; Decoder::CAPACITY + 10];
        assert_eq!(d.push(&junk), Decoder::CAPACITY);
        assert_eq!(d.push(&junk), 0);
        assert!(matches!(d.next(), Some(Err(DecodeError::Garbage { .. }))));
        assert_eq!(d.next(), None);
        assert!(d.room() >= Decoder::CAPACITY - 2);
    }

    proptest! {
        /// Any bytes at all, in any pieces: no panic, never more held
        /// than one largest frame, and every error comes with progress.
        #[test]
        fn garbage_is_safe(
            bytes in garbage(2000),
            sizes in pieces(),
        ) {
            let mut d = Decoder::new();
            let _ = feed(&mut d, &bytes, &sizes);
            prop_assert!(d.buffered() <= Decoder::CAPACITY);
        }

        /// A frame cut short gives nothing, in whatever pieces it comes,
        /// until its last byte; then exactly itself.
        #[test]
        fn truncated_frames_wait(kind in any::<u8>(), id in any::<u32>(), payload in proptest::collection::vec(any::<u8>(), 0..300), sizes in pieces()) {
            let f = Frame { kind, id, payload };
            let bytes = f.encode().unwrap();
            let mut d = Decoder::new();
            let (body, last) = bytes.split_at(bytes.len() - 1);
            prop_assert!(feed(&mut d, body, &sizes).is_empty());
            prop_assert_eq!(feed(&mut d, last, &sizes), [Ok(f)]);
        }

        /// A single flipped bit anywhere never yields a frame that was
        /// not sent, and the frame behind it is still found.
        #[test]
        fn a_flipped_bit_never_passes(payload in proptest::collection::vec(any::<u8>(), 0..100), bit in any::<proptest::sample::Index>()) {
            let sent = frame(3, 11, &payload);
            let next = frame(4, 12, b"next");
            let mut bytes = sent.encode().unwrap();
            let at = bit.index(bytes.len() * 8);
            bytes[at / 8] ^= 1 << (at % 8);
            bytes.extend(next.encode().unwrap());
            let got = all(&mut Decoder::new(), &bytes);
            let frames: Vec<_> = got.into_iter().filter_map(Result::ok).collect();
            prop_assert_eq!(frames, [next]);
        }
    }
}
