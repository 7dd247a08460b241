//! What the lists say about each image and capsule, and how one entry is
//! laid out: its fields in the order declared, each enumeration one
//! byte (the numbers are in the `coded!` lines below and never reused).

use alloc::string::String;
use core::fmt;

use crate::error::DecodeError;
use crate::wire::{Reader, Wire, Writer};

/// How an image is laid out; the hypervisor checks every image before
/// listing it, so these are all that can be started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageKind {
    /// An ELF executable (Linux's `vmlinux`).
    Elf,
    /// A raw RISC-V Linux `Image`, with its 64-byte header.
    Image,
}

/// Where an image came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Built into the hypervisor's executable (`boot/capsules.toml`).
    Bundled,
    /// Sent by the manager since boot; gone at the next.
    Uploaded,
}

/// One image capsules can be started from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageInfo {
    pub name: String,
    pub kind: ImageKind,
    /// In bytes.
    pub size: u64,
    pub origin: Origin,
}

/// Where a capsule is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapsuleState {
    /// Being loaded; its vcores have not run yet.
    Starting,
    Running,
    /// Asked to stop; its vcores are being taken back.
    Stopping,
    /// Not running, its RAM freed; it can be restarted.
    Stopped,
    /// Stopped, and about to be started again.
    Restarting,
}

/// One capsule, as `ListCapsules` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapsuleInfo {
    pub id: u32,
    pub name: String,
    pub state: CapsuleState,
    pub vcores: u32,
    pub ram_bytes: u64,
    /// Since it last started.
    pub uptime_ms: u64,
    /// Time its vcores have run, all together, since it last started.
    pub cpu_ms: u64,
    /// How many times it has been started again.
    pub restarts: u32,
}

/// A one-byte enumeration: its code, and the way back.
macro_rules! coded {
    ($name:ident, $what:literal, { $($variant:ident = $code:literal),* $(,)? }) => {
        impl $name {
            fn code(self) -> u8 {
                match self {
                    $($name::$variant => $code,)*
                }
            }

            fn from_code(value: u8) -> Result<Self, DecodeError> {
                match value {
                    $($code => Ok($name::$variant),)*
                    value => Err(DecodeError::BadValue { what: $what, value }),
                }
            }
        }
    };
}

coded!(ImageKind, "image kind", { Elf = 1, Image = 2 });
coded!(Origin, "image origin", { Bundled = 1, Uploaded = 2 });
coded!(CapsuleState, "capsule state", {
    Starting = 1, Running = 2, Stopping = 3, Stopped = 4, Restarting = 5,
});

impl fmt::Display for ImageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ImageKind::Elf => "ELF",
            ImageKind::Image => "Image",
        })
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Bundled => "bundled",
            Origin::Uploaded => "uploaded",
        })
    }
}

impl fmt::Display for CapsuleState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CapsuleState::Starting => "starting",
            CapsuleState::Running => "running",
            CapsuleState::Stopping => "stopping",
            CapsuleState::Stopped => "stopped",
            CapsuleState::Restarting => "restarting",
        })
    }
}

impl Wire for ImageInfo {
    const MIN_LEN: usize = 2 + 1 + 8 + 1;

    fn put(&self, w: &mut Writer) {
        w.str(&self.name);
        w.u8(self.kind.code());
        w.u64(self.size);
        w.u8(self.origin.code());
    }

    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ImageInfo {
            name: r.str()?,
            kind: ImageKind::from_code(r.u8()?)?,
            size: r.u64()?,
            origin: Origin::from_code(r.u8()?)?,
        })
    }
}

impl Wire for CapsuleInfo {
    const MIN_LEN: usize = 4 + 2 + 1 + 4 + 8 + 8 + 8 + 4;

    fn put(&self, w: &mut Writer) {
        w.u32(self.id);
        w.str(&self.name);
        w.u8(self.state.code());
        w.u32(self.vcores);
        w.u64(self.ram_bytes);
        w.u64(self.uptime_ms);
        w.u64(self.cpu_ms);
        w.u32(self.restarts);
    }

    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(CapsuleInfo {
            id: r.u32()?,
            name: r.str()?,
            state: CapsuleState::from_code(r.u8()?)?,
            vcores: r.u32()?,
            ram_bytes: r.u64()?,
            uptime_ms: r.u64()?,
            cpu_ms: r.u64()?,
            restarts: r.u32()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

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

    fn encoded(item: &impl Wire) -> alloc::vec::Vec<u8> {
        let mut w = Writer::new();
        item.put(&mut w);
        w.finish().unwrap()
    }

    #[test]
    fn entries_take_at_least_their_min_len() {
        let empty_image = ImageInfo {
            name: String::new(),
            kind: ImageKind::Elf,
            size: 0,
            origin: Origin::Bundled,
        };
        assert_eq!(encoded(&empty_image).len(), ImageInfo::MIN_LEN);
        let unnamed = CapsuleInfo {
            name: String::new(),
            ..capsule()
        };
        assert_eq!(encoded(&unnamed).len(), CapsuleInfo::MIN_LEN);
    }

    #[test]
    fn an_entry_is_its_fields_in_order() {
        let image = ImageInfo {
            name: "ab".into(),
            kind: ImageKind::Image,
            size: 0x0102,
            origin: Origin::Uploaded,
        };
        assert_eq!(
            encoded(&image),
            [2, 0, b'a', b'b', 2, 2, 1, 0, 0, 0, 0, 0, 0, 2]
        );
        let bytes = encoded(&capsule());
        assert_eq!(bytes[..4], [2, 0, 0, 0]);
        assert_eq!(bytes[11], 2, "running");
        let mut r = Reader::new(&bytes);
        assert_eq!(CapsuleInfo::get(&mut r), Ok(capsule()));
        assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    fn unknown_codes_are_refused() {
        assert_eq!(
            CapsuleState::from_code(6),
            Err(DecodeError::BadValue {
                what: "capsule state",
                value: 6
            })
        );
        assert_eq!(
            Origin::from_code(0),
            Err(DecodeError::BadValue {
                what: "image origin",
                value: 0
            })
        );
    }

    #[test]
    fn enumerations_read_as_words() {
        assert_eq!(ImageKind::Elf.to_string(), "ELF");
        assert_eq!(ImageKind::Image.to_string(), "Image");
        assert_eq!(Origin::Uploaded.to_string(), "uploaded");
        assert_eq!(CapsuleState::Restarting.to_string(), "restarting");
    }
}
