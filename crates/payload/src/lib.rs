//! Checking a capsule kernel (`supervisor`) before it is embedded or loaded:
//! an ELF `vmlinux`, or a raw RISC-V `Image` (see [`image`]).
//!
//! The ELF parsing itself is the `elf` crate's (zero-copy, no allocation,
//! errors instead of panics); this crate adds what a hypervisor must insist
//! on: the right class and machine for the target, an executable image, and
//! load segments that are sane, inside the file and do not overlap.
#![cfg_attr(not(test), no_std)]

mod error;
pub mod image;
mod kernel;

pub use error::Error;
pub use kernel::{Format, Kernel, Segment, Xlen, MAX_LOAD_SPAN, MAX_SEGMENTS};
