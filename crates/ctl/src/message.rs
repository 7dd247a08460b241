//! The messages: what the manager asks ([`Request`]), what the hypervisor
//! answers ([`Reply`]), and how each is laid out in a frame's payload.
//!
//! Each message is its fields in the order they are declared, in the
//! encodings the crate docs list; list entries are laid out as `info.rs`
//! says. A [`CtlError`] is a code byte then its fields: VersionMismatch
//! 1, BadRequest 2, Busy 3, UnknownImage 4, BadImage 5, NoRoom 6,
//! TooManyCapsules 7, NoSuchCapsule 8, UploadTooBig 9, Refused 10.

use alloc::string::String;
use alloc::vec::Vec;

use crate::MAX_PAYLOAD;
use crate::error::{CtlError, DecodeError, EncodeError};
use crate::frame::{self, Frame};
use crate::info::{CapsuleInfo, ImageInfo};
use crate::wire::{Reader, Writer};

/// The most data one `UploadChunk` or `Output` carries, so that its
/// frame stays within [`MAX_PAYLOAD`].
pub const MAX_CHUNK: usize = MAX_PAYLOAD - 12;

const HELLO: u8 = 0x01;
const LIST_IMAGES: u8 = 0x02;
const START: u8 = 0x03;
const LIST_CAPSULES: u8 = 0x04;
const STOP: u8 = 0x05;
const RESTART: u8 = 0x06;
const FOCUS: u8 = 0x07;
const OUTPUT: u8 = 0x08;
const UPLOAD_BEGIN: u8 = 0x09;
const UPLOAD_CHUNK: u8 = 0x0a;
const UPLOAD_END: u8 = 0x0b;
const REMOVE_IMAGE: u8 = 0x0c;

const WELCOME: u8 = 0x81;
const IMAGES: u8 = 0x82;
const STARTED: u8 = 0x83;
const CAPSULES: u8 = 0x84;
const DONE: u8 = 0x85;
const OUTPUT_REPLY: u8 = 0x86;
const ERROR: u8 = 0x87;

/// What the capsule manager asks of the hypervisor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// The first request: the protocol version the manager speaks.
    Hello { version: u8 },
    /// The images capsules can be started from.
    ListImages,
    /// A new capsule from `image`. Unset, its name is the image's, and
    /// its RAM and vcores are what the hypervisor gives that image
    /// (bundled images' from `boot/capsules.toml`).
    Start {
        image: String,
        name: Option<String>,
        ram_mib: Option<u32>,
        vcores: Option<u32>,
    },
    /// The capsules there are, including stopped ones.
    ListCapsules,
    /// Stop capsule `id`.
    Stop { id: u32 },
    /// Stop capsule `id` and start it again from its image.
    Restart { id: u32 },
    /// Give the console's input to capsule `id`.
    Focus { id: u32 },
    /// The last `max` bytes capsule `id` wrote to its console (fewer if
    /// it has not kept that many, and at most [`MAX_CHUNK`]).
    Output { id: u32, max: u32 },
    /// An image named `name` of `size` bytes is about to be sent.
    UploadBegin { name: String, size: u64 },
    /// The image's bytes from `offset` on.
    UploadChunk { offset: u64, data: Vec<u8> },
    /// The image is all sent.
    UploadEnd,
    /// The uploaded image `name` is no longer listed or startable; its RAM
    /// goes back once no capsule started from it is left.
    RemoveImage { name: String },
}

/// What the hypervisor answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// To `Hello`: the hypervisor's version and the largest payload it
    /// takes.
    Welcome {
        version: u8,
        max_payload: u32,
    },
    Images(Vec<ImageInfo>),
    /// The new capsule's id.
    Started {
        id: u32,
    },
    Capsules(Vec<CapsuleInfo>),
    /// Done as asked.
    Done,
    /// A capsule's recent output.
    Output(Vec<u8>),
    Error(CtlError),
}

fn put_error(e: &CtlError, w: &mut Writer) {
    match e {
        CtlError::VersionMismatch { ours, theirs } => {
            w.u8(1);
            w.u8(*ours);
            w.u8(*theirs);
        }
        CtlError::BadRequest { why } => {
            w.u8(2);
            w.str(why);
        }
        CtlError::Busy => w.u8(3),
        CtlError::UnknownImage { name } => {
            w.u8(4);
            w.str(name);
        }
        CtlError::BadImage { name, why } => {
            w.u8(5);
            w.str(name);
            w.str(why);
        }
        CtlError::NoRoom {
            asked,
            free,
            largest,
        } => {
            w.u8(6);
            w.u64(*asked);
            w.u64(*free);
            w.u64(*largest);
        }
        CtlError::TooManyCapsules { max } => {
            w.u8(7);
            w.u32(*max);
        }
        CtlError::NoSuchCapsule { id } => {
            w.u8(8);
            w.u32(*id);
        }
        CtlError::UploadTooBig { size, max } => {
            w.u8(9);
            w.u64(*size);
            w.u64(*max);
        }
        CtlError::Refused { why } => {
            w.u8(10);
            w.str(why);
        }
    }
}

fn get_error(r: &mut Reader<'_>) -> Result<CtlError, DecodeError> {
    Ok(match r.u8()? {
        1 => CtlError::VersionMismatch {
            ours: r.u8()?,
            theirs: r.u8()?,
        },
        2 => CtlError::BadRequest { why: r.str()? },
        3 => CtlError::Busy,
        4 => CtlError::UnknownImage { name: r.str()? },
        5 => CtlError::BadImage {
            name: r.str()?,
            why: r.str()?,
        },
        6 => CtlError::NoRoom {
            asked: r.u64()?,
            free: r.u64()?,
            largest: r.u64()?,
        },
        7 => CtlError::TooManyCapsules { max: r.u32()? },
        8 => CtlError::NoSuchCapsule { id: r.u32()? },
        9 => CtlError::UploadTooBig {
            size: r.u64()?,
            max: r.u64()?,
        },
        10 => CtlError::Refused { why: r.str()? },
        value => {
            return Err(DecodeError::BadValue {
                what: "error code",
                value,
            });
        }
    })
}

impl Request {
    /// The frame kind that carries it.
    pub fn kind(&self) -> u8 {
        match self {
            Request::Hello { .. } => HELLO,
            Request::ListImages => LIST_IMAGES,
            Request::Start { .. } => START,
            Request::ListCapsules => LIST_CAPSULES,
            Request::Stop { .. } => STOP,
            Request::Restart { .. } => RESTART,
            Request::Focus { .. } => FOCUS,
            Request::Output { .. } => OUTPUT,
            Request::UploadBegin { .. } => UPLOAD_BEGIN,
            Request::UploadChunk { .. } => UPLOAD_CHUNK,
            Request::UploadEnd => UPLOAD_END,
            Request::RemoveImage { .. } => REMOVE_IMAGE,
        }
    }

    fn put(&self, w: &mut Writer) {
        match self {
            Request::Hello { version } => w.u8(*version),
            Request::Start {
                image,
                name,
                ram_mib,
                vcores,
            } => {
                w.str(image);
                w.opt(name.as_deref(), Writer::str);
                w.opt(ram_mib.as_ref(), |w, v| w.u32(*v));
                w.opt(vcores.as_ref(), |w, v| w.u32(*v));
            }
            Request::Stop { id } | Request::Restart { id } | Request::Focus { id } => w.u32(*id),
            Request::Output { id, max } => {
                w.u32(*id);
                w.u32(*max);
            }
            Request::UploadBegin { name, size } => {
                w.str(name);
                w.u64(*size);
            }
            Request::UploadChunk { offset, data } => {
                w.u64(*offset);
                w.blob(data);
            }
            Request::RemoveImage { name } => w.str(name),
            Request::ListImages | Request::ListCapsules | Request::UploadEnd => {}
        }
    }

    fn get(kind: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match kind {
            HELLO => Request::Hello { version: r.u8()? },
            LIST_IMAGES => Request::ListImages,
            START => Request::Start {
                image: r.str()?,
                name: r.opt(Reader::str)?,
                ram_mib: r.opt(Reader::u32)?,
                vcores: r.opt(Reader::u32)?,
            },
            LIST_CAPSULES => Request::ListCapsules,
            STOP => Request::Stop { id: r.u32()? },
            RESTART => Request::Restart { id: r.u32()? },
            FOCUS => Request::Focus { id: r.u32()? },
            OUTPUT => Request::Output {
                id: r.u32()?,
                max: r.u32()?,
            },
            UPLOAD_BEGIN => Request::UploadBegin {
                name: r.str()?,
                size: r.u64()?,
            },
            UPLOAD_CHUNK => Request::UploadChunk {
                offset: r.u64()?,
                data: r.blob()?,
            },
            UPLOAD_END => Request::UploadEnd,
            REMOVE_IMAGE => Request::RemoveImage { name: r.str()? },
            kind => return Err(DecodeError::UnknownKind { kind }),
        })
    }
}

impl Reply {
    /// The frame kind that carries it.
    pub fn kind(&self) -> u8 {
        match self {
            Reply::Welcome { .. } => WELCOME,
            Reply::Images(_) => IMAGES,
            Reply::Started { .. } => STARTED,
            Reply::Capsules(_) => CAPSULES,
            Reply::Done => DONE,
            Reply::Output(_) => OUTPUT_REPLY,
            Reply::Error(_) => ERROR,
        }
    }

    fn put(&self, w: &mut Writer) {
        match self {
            Reply::Welcome {
                version,
                max_payload,
            } => {
                w.u8(*version);
                w.u32(*max_payload);
            }
            Reply::Images(images) => w.list(images),
            Reply::Started { id } => w.u32(*id),
            Reply::Capsules(capsules) => w.list(capsules),
            Reply::Done => {}
            Reply::Output(bytes) => w.blob(bytes),
            Reply::Error(e) => put_error(e, w),
        }
    }

    fn get(kind: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match kind {
            WELCOME => Reply::Welcome {
                version: r.u8()?,
                max_payload: r.u32()?,
            },
            IMAGES => Reply::Images(r.list()?),
            STARTED => Reply::Started { id: r.u32()? },
            CAPSULES => Reply::Capsules(r.list()?),
            DONE => Reply::Done,
            OUTPUT_REPLY => Reply::Output(r.blob()?),
            ERROR => Reply::Error(get_error(r)?),
            kind => return Err(DecodeError::UnknownKind { kind }),
        })
    }
}

/// Request `r` in a frame with id `id`; an error only if it does not fit
/// (a chunk over [`MAX_CHUNK`], a string over 65535 bytes).
pub fn encode_request(id: u32, r: &Request) -> Result<Vec<u8>, EncodeError> {
    let mut w = Writer::new();
    r.put(&mut w);
    frame::encode(r.kind(), id, &w.finish()?)
}

/// Reply `r` to request `id`, in a frame; an error only if it does not
/// fit (a list over 65535 items, or more than [`MAX_PAYLOAD`] in all).
pub fn encode_reply(id: u32, r: &Reply) -> Result<Vec<u8>, EncodeError> {
    let mut w = Writer::new();
    r.put(&mut w);
    frame::encode(r.kind(), id, &w.finish()?)
}

impl Frame {
    /// The request this frame holds.
    pub fn request(&self) -> Result<Request, DecodeError> {
        let mut r = Reader::new(&self.payload);
        let request = Request::get(self.kind, &mut r)?;
        r.finish()?;
        Ok(request)
    }

    /// The reply this frame holds.
    pub fn reply(&self) -> Result<Reply, DecodeError> {
        let mut r = Reader::new(&self.payload);
        let reply = Reply::get(self.kind, &mut r)?;
        r.finish()?;
        Ok(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{capsule_info, feed, garbage, pieces, reply, request};
    use crate::{CapsuleState, Decoder, HEADER_LEN, ImageKind, Origin};
    use alloc::vec;
    use proptest::prelude::*;

    fn one_frame(bytes: &[u8]) -> Frame {
        let mut got = feed(&mut Decoder::new(), bytes, &[usize::MAX]);
        assert_eq!(got.len(), 1);
        got.pop().unwrap().unwrap()
    }

    fn every_request() -> Vec<Request> {
        vec![
            Request::Hello { version: 1 },
            Request::ListImages,
            Request::Start {
                image: "hello".into(),
                name: None,
                ram_mib: None,
                vcores: None,
            },
            Request::Start {
                image: "linux".into(),
                name: Some("web".into()),
                ram_mib: Some(256),
                vcores: Some(2),
            },
            Request::ListCapsules,
            Request::Stop { id: 3 },
            Request::Restart { id: 4 },
            Request::Focus { id: 5 },
            Request::Output { id: 6, max: 4096 },
            Request::UploadBegin {
                name: "new".into(),
                size: 1 << 33,
            },
            Request::UploadChunk {
                offset: 65_000,
                data: vec![1, 2, 3],
            },
            Request::UploadEnd,
            Request::RemoveImage { name: "new".into() },
        ]
    }

    fn capsule() -> CapsuleInfo {
        CapsuleInfo {
            id: 2,
            name: "linux".into(),
            state: CapsuleState::Running,
            vcores: 2,
            ram_bytes: 256 << 20,
            uptime_ms: 61_000,
            cpu_ms: 1_500,
            restarts: 1,
        }
    }

    fn every_reply() -> Vec<Reply> {
        let mut replies = vec![
            Reply::Welcome {
                version: 1,
                max_payload: MAX_PAYLOAD as u32,
            },
            Reply::Images(vec![]),
            Reply::Images(vec![
                ImageInfo {
                    name: "hello".into(),
                    kind: ImageKind::Elf,
                    size: 9000,
                    origin: Origin::Bundled,
                },
                ImageInfo {
                    name: "up".into(),
                    kind: ImageKind::Image,
                    size: 1 << 24,
                    origin: Origin::Uploaded,
                },
            ]),
            Reply::Started { id: 9 },
            Reply::Capsules(vec![
                capsule(),
                CapsuleInfo {
                    state: CapsuleState::Stopped,
                    ..capsule()
                },
            ]),
            Reply::Done,
            Reply::Output(b"login: ".to_vec()),
        ];
        replies.extend(
            [
                CtlError::VersionMismatch { ours: 1, theirs: 2 },
                CtlError::BadRequest {
                    why: "no upload begun".into(),
                },
                CtlError::Busy,
                CtlError::UnknownImage {
                    name: "nope".into(),
                },
                CtlError::BadImage {
                    name: "x".into(),
                    why: "not RISC-V".into(),
                },
                CtlError::NoRoom {
                    asked: 1 << 30,
                    free: 1 << 29,
                    largest: 1 << 28,
                },
                CtlError::TooManyCapsules { max: 8 },
                CtlError::NoSuchCapsule { id: 77 },
                CtlError::UploadTooBig {
                    size: 1 << 40,
                    max: 1 << 28,
                },
                CtlError::Refused {
                    why: "the boot capsule cannot be stopped".into(),
                },
            ]
            .map(Reply::Error),
        );
        replies
    }

    #[test]
    fn every_request_round_trips() {
        for (id, r) in every_request().into_iter().enumerate() {
            let f = one_frame(&encode_request(id as u32, &r).unwrap());
            assert_eq!((f.id, f.kind, f.is_reply()), (id as u32, r.kind(), false));
            assert_eq!(f.request(), Ok(r));
        }
    }

    #[test]
    fn every_reply_round_trips() {
        for (id, r) in every_reply().into_iter().enumerate() {
            let f = one_frame(&encode_reply(id as u32, &r).unwrap());
            assert_eq!((f.id, f.kind, f.is_reply()), (id as u32, r.kind(), true));
            assert_eq!(f.reply(), Ok(r));
        }
    }

    #[test]
    fn kinds_are_the_documented_numbers() {
        let requests: Vec<u8> = every_request().iter().map(Request::kind).collect();
        assert_eq!(requests, [1, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        let replies: Vec<u8> = every_reply().iter().take(8).map(Reply::kind).collect();
        assert_eq!(replies, [0x81, 0x82, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87]);
    }

    #[test]
    fn hello_and_version_mismatch_have_their_frozen_encoding() {
        let f = one_frame(&encode_request(1, &Request::Hello { version: 1 }).unwrap());
        assert_eq!((f.kind, f.payload.as_slice()), (1, &[1u8][..]));
        let e = Reply::Error(CtlError::VersionMismatch { ours: 1, theirs: 2 });
        let f = one_frame(&encode_reply(1, &e).unwrap());
        assert_eq!((f.kind, f.payload.as_slice()), (0x87, &[1u8, 1, 2][..]));
        let w = Reply::Welcome {
            version: 1,
            max_payload: 0x0001_0000,
        };
        let f = one_frame(&encode_reply(1, &w).unwrap());
        assert_eq!(
            (f.kind, f.payload.as_slice()),
            (0x81, &[1u8, 0, 0, 1, 0][..])
        );
    }

    #[test]
    fn a_huge_count_in_a_small_payload_fails_at_once() {
        let mut payload = vec![0xff, 0xff];
        payload.extend([0; 8]);
        for kind in [IMAGES, CAPSULES] {
            let f = Frame {
                kind,
                id: 1,
                payload: payload.clone(),
            };
            assert_eq!(f.reply(), Err(DecodeError::Truncated));
        }
        let f = Frame {
            kind: OUTPUT_REPLY,
            id: 1,
            payload: vec![0xff, 0xff, 0xff, 0xff, 0],
        };
        assert_eq!(f.reply(), Err(DecodeError::Truncated));
    }

    #[test]
    fn wrong_kinds_leftovers_and_bad_values_are_refused() {
        let stop = one_frame(&encode_request(1, &Request::Stop { id: 1 }).unwrap());
        assert_eq!(stop.reply(), Err(DecodeError::UnknownKind { kind: STOP }));
        let done = one_frame(&encode_reply(1, &Reply::Done).unwrap());
        assert_eq!(done.request(), Err(DecodeError::UnknownKind { kind: DONE }));
        let f = Frame {
            kind: 0x0d,
            id: 1,
            payload: vec![],
        };
        assert_eq!(f.request(), Err(DecodeError::UnknownKind { kind: 0x0d }));
        let f = Frame {
            kind: LIST_IMAGES,
            id: 1,
            payload: vec![0],
        };
        assert_eq!(f.request(), Err(DecodeError::Trailing { extra: 1 }));
        let f = Frame {
            kind: ERROR,
            id: 1,
            payload: vec![11],
        };
        assert_eq!(
            f.reply(),
            Err(DecodeError::BadValue {
                what: "error code",
                value: 11
            })
        );
        let mut f = one_frame(
            &encode_reply(
                1,
                &Reply::Images(vec![ImageInfo {
                    name: "a".into(),
                    kind: ImageKind::Elf,
                    size: 1,
                    origin: Origin::Bundled,
                }]),
            )
            .unwrap(),
        );
        f.payload[5] = 3;
        assert_eq!(
            f.reply(),
            Err(DecodeError::BadValue {
                what: "image kind",
                value: 3
            })
        );
    }

    #[test]
    fn a_largest_chunk_fits_and_one_byte_more_does_not() {
        let chunk = Request::UploadChunk {
            offset: 0,
            data: vec![7; MAX_CHUNK],
        };
        let bytes = encode_request(1, &chunk).unwrap();
        assert_eq!(bytes.len(), HEADER_LEN + MAX_PAYLOAD);
        assert_eq!(one_frame(&bytes).request(), Ok(chunk));
        let over = Request::UploadChunk {
            offset: 0,
            data: vec![7; MAX_CHUNK + 1],
        };
        assert_eq!(
            encode_request(1, &over),
            Err(EncodeError::PayloadTooLong {
                len: MAX_PAYLOAD + 1
            })
        );
        assert!(encode_reply(1, &Reply::Output(vec![0; MAX_CHUNK])).is_ok());
        let long = Request::Start {
            image: "i".repeat(70_000),
            name: None,
            ram_mib: None,
            vcores: None,
        };
        assert_eq!(
            encode_request(1, &long),
            Err(EncodeError::StringTooLong { len: 70_000 })
        );
    }

    proptest! {
        /// Any requests, framed and fed in any pieces, come out as sent.
        #[test]
        fn requests_round_trip_through_the_decoder(rs in proptest::collection::vec((any::<u32>(), request()), 1..12), sizes in pieces()) {
            let mut bytes = Vec::new();
            for (id, r) in &rs {
                bytes.extend(encode_request(*id, r)?);
            }
            let mut got = Vec::new();
            for f in feed(&mut Decoder::new(), &bytes, &sizes) {
                let f = f?;
                got.push((f.id, f.request()?));
            }
            prop_assert_eq!(got, rs);
        }

        /// Any replies, likewise.
        #[test]
        fn replies_round_trip_through_the_decoder(rs in proptest::collection::vec((any::<u32>(), reply()), 1..12), sizes in pieces()) {
            let mut bytes = Vec::new();
            for (id, r) in &rs {
                bytes.extend(encode_reply(*id, r)?);
            }
            let mut got = Vec::new();
            for f in feed(&mut Decoder::new(), &bytes, &sizes) {
                let f = f?;
                got.push((f.id, f.reply()?));
            }
            prop_assert_eq!(got, rs);
        }

        /// Garbage between frames costs nothing but itself: every frame
        /// behind it is still found, in order, and only errors say
        /// garbage was there.
        #[test]
        fn frames_are_found_between_garbage(
            parts in proptest::collection::vec((garbage(60), request()), 1..8),
            tail in proptest::collection::vec(any::<u8>(), 0..60),
            sizes in pieces(),
        ) {
            let mut bytes = Vec::new();
            for (id, (garbage, r)) in parts.iter().enumerate() {
                bytes.extend(garbage);
                bytes.extend(encode_request(id as u32, r)?);
            }
            bytes.extend(&tail);
            let mut got = Vec::new();
            for f in feed(&mut Decoder::new(), &bytes, &sizes) {
                match f {
                    Ok(f) => got.push(f.request()?),
                    Err(e) => prop_assert!(matches!(e, DecodeError::Garbage { .. }), "{:?}", e),
                }
            }
            let sent: Vec<Request> = parts.into_iter().map(|(_, r)| r).collect();
            prop_assert_eq!(got, sent);
        }

        /// Any payload under any kind reads as a message or an error,
        /// never a panic; and a message read back encodes to the same
        /// payload, so nothing is read two ways.
        #[test]
        fn any_payload_is_safe(kind in prop_oneof![0u8..0x10, 0x80u8..0x90, any::<u8>()], payload in proptest::collection::vec(any::<u8>(), 0..120)) {
            let f = Frame { kind, id: 0, payload };
            if let Ok(r) = f.request() {
                prop_assert_eq!(encode_request(0, &r)?, f.encode()?);
            }
            if let Ok(r) = f.reply() {
                prop_assert_eq!(encode_reply(0, &r)?, f.encode()?);
            }
        }

        /// Valid payloads with a byte changed or cut short are likewise
        /// safe.
        #[test]
        fn damaged_payloads_are_safe(r in reply(), at in any::<proptest::sample::Index>(), byte in any::<u8>(), cut in any::<bool>()) {
            let mut f = one_frame(&encode_reply(1, &r)?);
            if !f.payload.is_empty() {
                let i = at.index(f.payload.len());
                if cut { f.payload.truncate(i) } else { f.payload[i] = byte }
            }
            let _ = f.reply();
            let _ = f.request();
        }

        #[test]
        fn capsule_lists_round_trip(cs in proptest::collection::vec(capsule_info(), 0..20)) {
            let r = Reply::Capsules(cs);
            prop_assert_eq!(one_frame(&encode_reply(3, &r)?).reply()?, r);
        }
    }
}
