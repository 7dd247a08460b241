//! What can go wrong, in words.
//!
//! [`CtlError`] is what the hypervisor answers a request it cannot do
//! with; the manager shows its `Display` to the user as it is, so each is
//! one English sentence, starting with a capital and ending with a full
//! stop, with the numbers that explain it (memory in MiB). Names and
//! reasons from the other side are shown with control characters made
//! harmless, so that they cannot steer the terminal.
//!
//! [`DecodeError`] is a frame or payload refused on the way in, and
//! [`EncodeError`] a message too big to send.

use alloc::string::String;
use core::fmt;

use crate::text::{Mib, clean};
use crate::{MAX_PAYLOAD, VERSION};

/// Why the hypervisor did not do what was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CtlError {
    /// The request's protocol version is not the hypervisor's.
    VersionMismatch { ours: u8, theirs: u8 },
    /// The request made no sense: a frame that could not be read, or a
    /// request out of place (a chunk with no upload begun, say).
    BadRequest { why: String },
    /// Something else is under way that this request must wait for.
    Busy,
    /// No image has this name.
    UnknownImage { name: String },
    /// An image that is not a kernel diosix can start, and why.
    BadImage { name: String, why: String },
    /// Not enough RAM: `asked` bytes, with `free` bytes free in all and
    /// `largest` bytes in the largest piece.
    NoRoom { asked: u64, free: u64, largest: u64 },
    /// As many capsules exist as can.
    TooManyCapsules { max: u32 },
    /// No capsule has this id.
    NoSuchCapsule { id: u32 },
    /// An upload bigger than the hypervisor takes, both in bytes.
    UploadTooBig { size: u64, max: u64 },
    /// Understood, but not allowed (stopping the boot capsule, a name
    /// already taken), and why.
    Refused { why: String },
}

impl fmt::Display for CtlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CtlError::VersionMismatch { ours, theirs } => write!(
                f,
                "The hypervisor speaks control protocol version {ours}, but the request was in version {theirs}."
            ),
            CtlError::BadRequest { why } => {
                because(f, "The hypervisor could not make sense of the request", why)
            }
            CtlError::Busy => f.write_str(
                "The hypervisor is busy with an earlier request; try again in a moment.",
            ),
            CtlError::UnknownImage { name } => {
                write!(f, "There is no image called \"{}\".", clean(name))
            }
            CtlError::BadImage { name, why } => {
                let lead = alloc::format!("The image \"{}\" cannot be started", clean(name));
                because(f, &lead, why)
            }
            CtlError::NoRoom {
                asked,
                free,
                largest,
            } if largest < free => write!(
                f,
                "There is no room for {} of RAM: {} is free, but the largest free piece is {}.",
                Mib(*asked),
                Mib(*free),
                Mib(*largest)
            ),
            CtlError::NoRoom { asked, free, .. } => write!(
                f,
                "There is no room for {} of RAM: only {} is free.",
                Mib(*asked),
                Mib(*free)
            ),
            CtlError::TooManyCapsules { max } => write!(
                f,
                "No more capsules can be made: {max} is the most there can be at once."
            ),
            CtlError::NoSuchCapsule { id } => write!(f, "There is no capsule {id}."),
            CtlError::UploadTooBig { size, max } => write!(
                f,
                "The upload is {}, more than the {} the hypervisor takes.",
                Mib(*size),
                Mib(*max)
            ),
            CtlError::Refused { why } => because(f, "The hypervisor refused", why),
        }
    }
}

/// `lead: why.`, or `lead.` with no reason; a reason's own full stops
/// are dropped so the sentence ends with exactly one.
fn because(f: &mut fmt::Formatter<'_>, lead: &str, why: &str) -> fmt::Result {
    let why = clean(why);
    let why = why.trim_end_matches(|c: char| c == '.' || c.is_whitespace());
    if why.trim().is_empty() {
        write!(f, "{lead}.")
    } else {
        write!(f, "{lead}: {why}.")
    }
}

impl core::error::Error for CtlError {}

/// A frame or payload that could not be read.
///
/// The first four come from the [`crate::Decoder`], the rest from
/// reading a frame's payload as a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Bytes that do not start a frame were dropped.
    Garbage { skipped: usize },
    /// A frame of another protocol version; passed over whole.
    Version { theirs: u8, id: u32 },
    /// A frame longer than [`MAX_PAYLOAD`]; passed over whole.
    TooLong { len: u32, id: u32 },
    /// A frame whose payload does not match its check: it was damaged on
    /// the way. Its bytes are searched again for frames.
    BadChecksum { id: u32 },
    /// A kind byte that names no message of this kind (request or reply).
    UnknownKind { kind: u8 },
    /// The payload ends inside a field, or a count runs past its end.
    Truncated,
    /// Bytes are left over after the message.
    Trailing { extra: usize },
    /// A string that is not UTF-8.
    BadUtf8,
    /// A one-byte field with a value it cannot have.
    BadValue { what: &'static str, value: u8 },
}

impl DecodeError {
    /// The id of the frame refused, when its header was sound enough to
    /// trust it, so that the refusal can be answered.
    pub fn id(&self) -> Option<u32> {
        match *self {
            DecodeError::Version { id, .. }
            | DecodeError::TooLong { id, .. }
            | DecodeError::BadChecksum { id } => Some(id),
            _ => None,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Garbage { skipped } => {
                write!(f, "Skipped {skipped} bytes that were not a control frame.")
            }
            DecodeError::Version { theirs, id } => write!(
                f,
                "Frame {id} is in control protocol version {theirs}, but this side speaks version {VERSION}."
            ),
            DecodeError::TooLong { len, id } => write!(
                f,
                "Frame {id} has a {len}-byte payload, more than the {MAX_PAYLOAD} allowed."
            ),
            DecodeError::BadChecksum { id } => {
                write!(
                    f,
                    "Frame {id} was damaged on the way: its checksum does not match."
                )
            }
            DecodeError::UnknownKind { kind } => {
                write!(f, "Message kind {kind:#04x} is not one this side knows.")
            }
            DecodeError::Truncated => f.write_str("The message ends in the middle of a field."),
            DecodeError::Trailing { extra } => {
                write!(
                    f,
                    "The message has {extra} bytes left over after its last field."
                )
            }
            DecodeError::BadUtf8 => f.write_str("A string in the message is not valid UTF-8."),
            DecodeError::BadValue { what, value } => {
                write!(
                    f,
                    "The message's {what} has the value {value}, which means nothing."
                )
            }
        }
    }
}

impl core::error::Error for DecodeError {}

/// A message too big for the frame or for one of its counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// A string longer than a `u16` count can say.
    StringTooLong { len: usize },
    /// A list longer than a `u16` count can say.
    ListTooLong { len: usize },
    /// A payload longer than [`MAX_PAYLOAD`].
    PayloadTooLong { len: usize },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::StringTooLong { len } => write!(
                f,
                "A string of {len} bytes is longer than the {} a message can hold.",
                u16::MAX
            ),
            EncodeError::ListTooLong { len } => write!(
                f,
                "A list of {len} items is longer than the {} a message can hold.",
                u16::MAX
            ),
            EncodeError::PayloadTooLong { len } => write!(
                f,
                "The message is {len} bytes, more than the {MAX_PAYLOAD} a frame can carry."
            ),
        }
    }
}

impl core::error::Error for EncodeError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ctl_error;
    use alloc::string::ToString;
    use proptest::prelude::*;

    const MIB: u64 = 1 << 20;

    fn is_sentence(s: &str) -> bool {
        s.starts_with(|c: char| c.is_uppercase())
            && s.ends_with('.')
            && !s.ends_with("..")
            && !s.contains(char::is_control)
    }

    #[test]
    fn no_room_shows_mib() {
        let e = CtlError::NoRoom {
            asked: 128 * MIB,
            free: 96 * MIB,
            largest: 96 * MIB,
        };
        assert_eq!(
            e.to_string(),
            "There is no room for 128 MiB of RAM: only 96 MiB is free."
        );
        let e = CtlError::NoRoom {
            asked: 128 * MIB,
            free: 200 * MIB,
            largest: 64 * MIB + MIB / 2,
        };
        assert_eq!(
            e.to_string(),
            "There is no room for 128 MiB of RAM: 200 MiB is free, but the largest free piece is 64.5 MiB."
        );
    }

    #[test]
    fn reasons_end_in_one_full_stop_and_may_be_missing() {
        let e = CtlError::Refused {
            why: "the boot capsule cannot be stopped.".into(),
        };
        assert_eq!(
            e.to_string(),
            "The hypervisor refused: the boot capsule cannot be stopped."
        );
        let e = CtlError::BadRequest { why: " ".into() };
        assert_eq!(
            e.to_string(),
            "The hypervisor could not make sense of the request."
        );
        let e = CtlError::BadImage {
            name: "x\x1b[2J".into(),
            why: "it is built for x86-64".into(),
        };
        assert_eq!(
            e.to_string(),
            "The image \"x?[2J\" cannot be started: it is built for x86-64."
        );
    }

    #[test]
    fn the_rest_say_their_numbers() {
        let cases = [
            (
                CtlError::VersionMismatch { ours: 1, theirs: 2 },
                "version 1, but the request was in version 2",
            ),
            (CtlError::TooManyCapsules { max: 8 }, "8 is the most"),
            (CtlError::NoSuchCapsule { id: 42 }, "capsule 42."),
            (
                CtlError::UploadTooBig {
                    size: 300 * MIB,
                    max: 256 * MIB,
                },
                "300 MiB, more than the 256 MiB",
            ),
            (
                CtlError::UnknownImage {
                    name: "hello".into(),
                },
                "\"hello\"",
            ),
            (CtlError::Busy, "try again"),
        ];
        for (e, part) in cases {
            let s = e.to_string();
            assert!(s.contains(part), "{s:?} lacks {part:?}");
            assert!(is_sentence(&s), "{s:?}");
        }
    }

    #[test]
    fn decode_errors_are_sentences_and_trusted_ones_carry_an_id() {
        let all = [
            DecodeError::Garbage { skipped: 3 },
            DecodeError::Version { theirs: 2, id: 7 },
            DecodeError::TooLong {
                len: 100_000,
                id: 8,
            },
            DecodeError::BadChecksum { id: 9 },
            DecodeError::UnknownKind { kind: 0x42 },
            DecodeError::Truncated,
            DecodeError::Trailing { extra: 2 },
            DecodeError::BadUtf8,
            DecodeError::BadValue {
                what: "image kind",
                value: 9,
            },
        ];
        for e in all {
            assert!(is_sentence(&e.to_string()), "{e}");
        }
        let ids: alloc::vec::Vec<_> = all.iter().filter_map(DecodeError::id).collect();
        assert_eq!(ids, [7, 8, 9]);
        for e in [
            EncodeError::StringTooLong { len: 1 },
            EncodeError::ListTooLong { len: 1 },
            EncodeError::PayloadTooLong { len: 1 },
        ] {
            assert!(is_sentence(&e.to_string()), "{e}");
        }
    }

    proptest! {
        /// Whatever the fields, every error reads as one sentence, and
        /// NoRoom gives its numbers in MiB.
        #[test]
        fn every_ctl_error_is_a_sentence(e in ctl_error()) {
            let s = e.to_string();
            prop_assert!(is_sentence(&s), "{:?}", s);
            if let CtlError::NoRoom { asked, free, .. } = e {
                prop_assert!(s.contains(&Mib(asked).to_string()), "{:?}", s);
                prop_assert!(s.contains(&Mib(free).to_string()), "{:?}", s);
                prop_assert!(s.contains(" MiB"));
            }
        }
    }
}
