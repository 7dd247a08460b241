//! The RISC-V Linux `Image` format: the raw kernel that distributions ship,
//! with a 64-byte header (Linux's Documentation/arch/riscv/boot-image-header.rst):
//!
//! | offset | field |
//! |---|---|
//! | 0x00 | code0, code1 (the first instructions) |
//! | 0x08 | text_offset: load offset from the start of RAM |
//! | 0x10 | image_size: memory the kernel occupies, bss included |
//! | 0x18 | flags (bit 0: endianness, 0 = little) |
//! | 0x20 | version |
//! | 0x30 | magic "RISCV\0\0\0" (deprecated) |
//! | 0x38 | magic2 "RSC\x05" |
//!
//! Execution starts at the first byte. The header does not say whether the
//! kernel is 32- or 64-bit, so an Image's width cannot be checked.

use crate::Error;

pub const HEADER_LEN: usize = 64;
const MAGIC2: &[u8; 4] = b"RSC\x05";

/// What the header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub text_offset: u64,
    /// Memory the kernel needs from its load address.
    pub mem_size: u64,
}

fn le64(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// True if `bytes` carries an Image header's magic number.
pub fn is_image(bytes: &[u8]) -> bool {
    bytes.get(0x38..0x3c) == Some(&MAGIC2[..])
}

/// Reads and checks the header of an Image of `bytes.len()` bytes.
pub fn header(bytes: &[u8]) -> Result<Header, Error> {
    if bytes.len() < HEADER_LEN || !is_image(bytes) {
        return Err(Error::Malformed("the Image header is truncated"));
    }
    if le64(bytes, 0x18) & 1 != 0 {
        return Err(Error::BigEndian);
    }
    let file = bytes.len() as u64;
    let size = le64(bytes, 0x10);
    // Kernels before the header had image_size leave it 0: the file is all.
    let mem_size = if size == 0 { file } else { size };
    if mem_size < file {
        return Err(Error::Malformed("the Image's image_size is smaller than the file"));
    }
    if mem_size > crate::MAX_LOAD_SPAN {
        return Err(Error::TooLarge(mem_size));
    }
    Ok(Header { text_offset: le64(bytes, 0x08), mem_size })
}
