//! The control protocol: how the boot capsule's capsule manager (its
//! `/init`) asks the hypervisor to list, start, stop and watch capsules
//! and to take new images, and how the hypervisor answers.
//!
//! # Transport
//!
//! A virtio-console port named [`PORT`] (`diosix.ctl`): a reliable byte
//! stream in each direction, with no message boundaries. So messages
//! travel in frames, and each side runs a [`Decoder`] over what it reads.
//!
//! # Frames
//!
//! A frame is a [`HEADER_LEN`]-byte header, then its payload. Numbers are
//! little-endian.
//!
//! | offset | size | field                                              |
//! |-------:|-----:|----------------------------------------------------|
//! |      0 |    3 | magic, `DXC` ([`MAGIC`])                           |
//! |      3 |    1 | protocol version ([`VERSION`])                     |
//! |      4 |    1 | kind: which message the payload holds              |
//! |      5 |    4 | request id (a reply carries its request's)         |
//! |      9 |    4 | payload length, at most [`MAX_PAYLOAD`]            |
//! |     13 |    4 | CRC-32 of the payload                              |
//! |     17 |    4 | CRC-32 of header bytes 0 to 16                     |
//! |     21 |  len | payload                                            |
//!
//! The two checks are what make resynchronising safe. The header's own
//! check means a `DXC` that happens to sit in garbage, or inside another
//! frame's payload, is not taken for a header: without it, a false
//! header claiming 60 KiB would swallow the real frames behind it until
//! 60 KiB more arrived, and in a conversation where each side waits for
//! the other that is never. The payload's check means a frame that lost
//! or changed bytes on the way is refused rather than read as some other
//! valid message (a `Stop` of the wrong capsule). A damaged frame is
//! scanned again from its second byte, so a frame it swallowed is still
//! found.
//!
//! # Messages
//!
//! The kind byte says which [`Request`] or [`Reply`] the payload holds;
//! replies have the top bit set. Inside a payload: integers are
//! little-endian; a string is a `u16` byte count then UTF-8; an optional
//! value is a flag byte (0 absent, 1 present) then the value; a list is a
//! `u16` item count then the items; a byte blob is a `u32` count then the
//! bytes; an enumeration is one byte. A payload holds exactly one
//! message: bytes left over are an error, as is any count that runs past
//! the end.
//!
//! | kind | request                                  | kind | reply            |
//! |-----:|------------------------------------------|-----:|------------------|
//! | 0x01 | `Hello { version }`                      | 0x81 | `Welcome { version, max_payload }` |
//! | 0x02 | `ListImages`                             | 0x82 | `Images(list)`   |
//! | 0x03 | `Start { image, name, ram_mib, vcores }` | 0x83 | `Started { id }` |
//! | 0x04 | `ListCapsules`                           | 0x84 | `Capsules(list)` |
//! | 0x05 | `Stop { id }`                            | 0x85 | `Done`           |
//! | 0x06 | `Restart { id }`                         | 0x86 | `Output(blob)`   |
//! | 0x07 | `Focus { id }`                           | 0x87 | `Error(code, ...)` |
//! | 0x08 | `Output { id, max }`                     |      |                  |
//! | 0x09 | `UploadBegin { name, size }`             |      |                  |
//! | 0x0a | `UploadChunk { offset, data }`           |      |                  |
//! | 0x0b | `UploadEnd`                              |      |                  |
//! | 0x0c | `RemoveImage { name }`                   |      |                  |
//!
//! # Conversation
//!
//! The manager asks, the hypervisor answers: every request gets exactly
//! one reply, with the request's id, in the order the requests came. The
//! manager chooses the ids (counting up is enough). It starts with
//! `Hello`, and the hypervisor says `Welcome` with its version and the
//! largest payload it takes, or [`CtlError::VersionMismatch`].
//!
//! What each request is answered with, other than `Error`: `ListImages`
//! with `Images`, `Start` with `Started`, `ListCapsules` with `Capsules`,
//! `Output` with `Output`, everything else with `Done`. `Focus` gives the
//! capsule the console's input; the hypervisor says so on the console,
//! naming the key that moves the input on. An upload is `UploadBegin`,
//! then `UploadChunk`s in order (each `offset` is the bytes sent before
//! it, each `data` at most [`MAX_CHUNK`] bytes), then `UploadEnd`, which
//! the hypervisor answers once it has checked the image; the image is
//! then listed as uploaded and can be started by name, until
//! `RemoveImage` names it (a capsule started from it keeps it, to restart
//! from, until that capsule is gone).
//!
//! A frame that cannot be read gets no reply if its header cannot be
//! trusted (garbage), and otherwise `Error` with its id:
//! `VersionMismatch` for a frame of another version, `BadRequest` for
//! the rest (a damaged frame, or a payload that is not a request).
//! [`DecodeError::id`] gives the id of a frame the decoder refused. A
//! peer that waits too long for a reply may ask again: if the first
//! frame lost bytes, the new one completes it, its check fails, and the
//! new frame is found inside it.
//!
//! # Versions
//!
//! Any change to a message's encoding or meaning raises [`VERSION`]. A
//! new request kind does not: a hypervisor without it answers
//! `BadRequest` (an unknown kind), which the manager shows as a sentence.
//! Version 1 gained `RemoveImage` this way.
//! What does not change, so that a mismatch can always be said: the
//! frame layout above, and the encodings of `Hello`, `Welcome` and
//! `Error` with [`CtlError::VersionMismatch`]. The decoder reports a
//! frame of another version with its id and passes over its payload
//! whole.
//!
//! The human side, parsing sizes and laying out tables for the manager's
//! commands, is in [`text`].

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod crc;
mod error;
mod frame;
mod info;
mod message;
pub mod text;
mod wire;

#[cfg(test)]
mod testing;

pub use error::{CtlError, DecodeError, EncodeError};
pub use frame::{Decoder, Frame, HEADER_LEN, MAGIC};
pub use info::{CapsuleInfo, CapsuleState, ImageInfo, ImageKind, Origin};
pub use message::{MAX_CHUNK, Reply, Request, encode_reply, encode_request};

/// The protocol version this crate speaks.
pub const VERSION: u8 = 1;
/// The largest payload a frame may carry: 64 KiB.
pub const MAX_PAYLOAD: usize = 64 * 1024;
/// The name of the virtio-console port the protocol runs over.
pub const PORT: &str = "diosix.ctl";
