//! The hart itself: where harts start, the trap vector, the crossing into
//! and out of a capsule, and the registers saved and restored around it.
//! Inline assembly and CSR access live here (and in `platform`'s drivers
//! for device registers), so the layers above are plain Rust.

pub mod cpu;
pub mod csr;
pub mod entry;
pub mod fpu;
pub mod guest;
pub mod heap;
pub mod hstate;
pub mod layout;
pub mod machine;
pub mod phys;
pub mod sstate;
pub mod trap;
pub mod vector;

/// The width of this hypervisor's harts, and so of the kernels it runs.
#[cfg(target_arch = "riscv64")]
pub const XLEN: payload::Xlen = payload::Xlen::Rv64;
#[cfg(target_arch = "riscv32")]
pub const XLEN: payload::Xlen = payload::Xlen::Rv32;
