//! What the tests share: feeding a decoder in pieces, and strategies for
//! every message.

use alloc::string::String;
use alloc::vec::Vec;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use crate::{
    CapsuleInfo, CapsuleState, CtlError, DecodeError, Decoder, Frame, ImageInfo, ImageKind, Origin,
    Reply, Request,
};

/// Pushes `bytes` into `d` in pieces of the sizes in `sizes` (in turn,
/// round again as needed; 0 counts as 1), taking out everything the
/// decoder yields after each push. Checks on the way that the decoder
/// never holds more than its capacity and always makes progress.
pub(crate) fn feed(
    d: &mut Decoder,
    bytes: &[u8],
    sizes: &[usize],
) -> Vec<Result<Frame, DecodeError>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut size = sizes.iter().cycle();
    while !rest.is_empty() {
        let n = size.next().copied().unwrap_or(1).clamp(1, rest.len());
        let mut piece = &rest[..n];
        rest = &rest[n..];
        while !piece.is_empty() {
            let taken = d.push(piece);
            piece = &piece[taken..];
            assert!(d.buffered() <= Decoder::CAPACITY);
            let before = out.len();
            out.extend(d.by_ref());
            assert!(taken > 0 || out.len() > before, "the decoder stalled");
        }
    }
    out
}

/// Piece sizes, from single bytes to more than a frame.
pub(crate) fn pieces() -> impl Strategy<Value = Vec<usize>> {
    vec(prop_oneof![1usize..8, 1usize..200, 1usize..70_000], 1..8)
}

/// Up to `max` bytes of garbage, rich in the bytes a header starts with
/// (`D`, `X`, `C` and version 1) so that false starts are common.
pub(crate) fn garbage(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u16>(), 0..max).prop_map(|words| {
        words
            .into_iter()
            .map(|w| match (w >> 8) as u8 {
                hi @ 0..96 => [b'D', b'X', b'C', 1][usize::from(hi % 4)],
                _ => w as u8,
            })
            .collect()
    })
}

/// Any text, control characters and all.
pub(crate) fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z0-9_-]{0,12}", "(?s).{0,24}"]
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..300)
}

pub(crate) fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        any::<u8>().prop_map(|version| Request::Hello { version }),
        Just(Request::ListImages),
        (
            text(),
            option::of(text()),
            option::of(any::<u32>()),
            option::of(any::<u32>())
        )
            .prop_map(|(image, name, ram_mib, vcores)| Request::Start {
                image,
                name,
                ram_mib,
                vcores
            }),
        Just(Request::ListCapsules),
        any::<u32>().prop_map(|id| Request::Stop { id }),
        any::<u32>().prop_map(|id| Request::Restart { id }),
        any::<u32>().prop_map(|id| Request::Focus { id }),
        (any::<u32>(), any::<u32>()).prop_map(|(id, max)| Request::Output { id, max }),
        (text(), any::<u64>()).prop_map(|(name, size)| Request::UploadBegin { name, size }),
        (any::<u64>(), bytes()).prop_map(|(offset, data)| Request::UploadChunk { offset, data }),
        Just(Request::UploadEnd),
        text().prop_map(|name| Request::RemoveImage { name }),
    ]
}

fn image_info() -> impl Strategy<Value = ImageInfo> {
    (
        text(),
        prop_oneof![Just(ImageKind::Elf), Just(ImageKind::Image)],
        any::<u64>(),
        prop_oneof![Just(Origin::Bundled), Just(Origin::Uploaded)],
    )
        .prop_map(|(name, kind, size, origin)| ImageInfo {
            name,
            kind,
            size,
            origin,
        })
}

pub(crate) fn capsule_state() -> impl Strategy<Value = CapsuleState> {
    prop_oneof![
        Just(CapsuleState::Starting),
        Just(CapsuleState::Running),
        Just(CapsuleState::Stopping),
        Just(CapsuleState::Stopped),
        Just(CapsuleState::Restarting),
    ]
}

pub(crate) fn capsule_info() -> impl Strategy<Value = CapsuleInfo> {
    (
        any::<u32>(),
        text(),
        capsule_state(),
        any::<u32>(),
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        any::<u32>(),
    )
        .prop_map(
            |(id, name, state, vcores, ram_bytes, uptime_ms, cpu_ms, restarts)| CapsuleInfo {
                id,
                name,
                state,
                vcores,
                ram_bytes,
                uptime_ms,
                cpu_ms,
                restarts,
            },
        )
}

pub(crate) fn ctl_error() -> impl Strategy<Value = CtlError> {
    prop_oneof![
        (any::<u8>(), any::<u8>())
            .prop_map(|(ours, theirs)| CtlError::VersionMismatch { ours, theirs }),
        text().prop_map(|why| CtlError::BadRequest { why }),
        Just(CtlError::Busy),
        text().prop_map(|name| CtlError::UnknownImage { name }),
        (text(), text()).prop_map(|(name, why)| CtlError::BadImage { name, why }),
        (any::<u64>(), any::<u64>(), any::<u64>()).prop_map(|(asked, free, largest)| {
            CtlError::NoRoom {
                asked,
                free,
                largest,
            }
        }),
        any::<u32>().prop_map(|max| CtlError::TooManyCapsules { max }),
        any::<u32>().prop_map(|id| CtlError::NoSuchCapsule { id }),
        (any::<u64>(), any::<u64>()).prop_map(|(size, max)| CtlError::UploadTooBig { size, max }),
        text().prop_map(|why| CtlError::Refused { why }),
    ]
}

pub(crate) fn reply() -> impl Strategy<Value = Reply> {
    prop_oneof![
        (any::<u8>(), any::<u32>()).prop_map(|(version, max_payload)| Reply::Welcome {
            version,
            max_payload
        }),
        vec(image_info(), 0..6).prop_map(Reply::Images),
        any::<u32>().prop_map(|id| Reply::Started { id }),
        vec(capsule_info(), 0..6).prop_map(Reply::Capsules),
        Just(Reply::Done),
        bytes().prop_map(Reply::Output),
        ctl_error().prop_map(Reply::Error),
    ]
}
