//! Decoding the few instructions the hypervisor emulates for a capsule.
//!
//! Reading the `time` CSR ([`time_read`]): a hart without it (the FU540's
//! U54 cores, and QEMU's `sifive_u`, whose CLINT does not provide it) raises
//! an illegal-instruction exception for `rdtime`, and firmware is expected
//! to answer it from the CLINT's `mtime`, as OpenSBI does. Linux's
//! `get_cycles` and its vDSO read the clock that way.
//!
//! Integer loads and stores ([`access`]): the first pure pieces of MMIO
//! emulation. A capsule's access to a device window that PMP denies traps
//! to M-mode as an access fault; the hypervisor decodes the instruction at
//! the faulting pc to emulate it on a device model and step past it.
//!
//! Finding that instruction ([`walk`]): the faulting pc is a virtual
//! address in the capsule's kernel, so the hypervisor translates it through
//! the kernel's own page tables, read from the capsule's RAM through a
//! bounds-checked [`GuestMemory`].
//!
//! Everything here is pure: no CSR, and memory only through that trait, so
//! all of it is tested on the host.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod access;
pub mod walk;

pub use access::{Access, AccessKind, decode_access};
pub use walk::{AccessType, GuestMemory, WalkError, translate};

/// A read of the `time` CSR (`rdtime rd`, and on rv32 `rdtimeh rd`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRead {
    /// The destination register, 0 to 31 (0: the value is discarded).
    pub rd: usize,
    /// `timeh`: the upper 32 bits (rv32 only).
    pub high: bool,
}

const SYSTEM: u32 = 0x73;
const CSRRS: u32 = 2;
const CSR_TIME: u32 = 0xc01;
const CSR_TIMEH: u32 = 0xc81;

/// `insn` (32 bits, as `mtval` holds it for an illegal instruction) as a
/// read of `time`: `csrrs rd, time, x0`, the only form that reads without
/// writing. `timeh` exists only where XLEN is 32.
pub fn time_read(insn: u32, xlen32: bool) -> Option<TimeRead> {
    let field = |shift: u32, bits: u32| (insn >> shift) & ((1 << bits) - 1);
    if field(0, 7) != SYSTEM || field(12, 3) != CSRRS || field(15, 5) != 0 {
        return None;
    }
    let rd = field(7, 5) as usize;
    match field(20, 12) {
        CSR_TIME => Some(TimeRead { rd, high: false }),
        CSR_TIMEH if xlen32 => Some(TimeRead { rd, high: true }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rdtime_into_any_register() {
        // rdtime a0 = csrrs a0, time, zero = 0xc0102573
        assert_eq!(time_read(0xc010_2573, false), Some(TimeRead { rd: 10, high: false }));
        // rdtime t0 = 0xc01022f3; rdtime zero = 0xc0102073
        assert_eq!(time_read(0xc010_22f3, true), Some(TimeRead { rd: 5, high: false }));
        assert_eq!(time_read(0xc010_2073, false), Some(TimeRead { rd: 0, high: false }));
    }

    #[test]
    fn rdtimeh_only_on_rv32() {
        // rdtimeh a1 = csrrs a1, timeh, zero = 0xc81025f3
        assert_eq!(time_read(0xc810_25f3, true), Some(TimeRead { rd: 11, high: true }));
        assert_eq!(time_read(0xc810_25f3, false), None);
    }

    #[test]
    fn everything_else_is_not_a_time_read() {
        // rdcycle a0 (0xc0002573), csrrw a0, time, a1 (0xc0159573),
        // csrrs a0, time, a1 (0xc015a573), csrrc (0xc0103573), csrrsi a0,
        // time, 0 (0xc0106573: not the canonical form), an ecall, zero.
        for insn in [0xc000_2573, 0xc015_9573, 0xc015_a573, 0xc010_3573, 0xc010_6573, 0x0000_0073, 0] {
            assert_eq!(time_read(insn, true), None, "{insn:#x}");
        }
    }

    #[test]
    fn no_input_panics() {
        for i in 0..=u16::MAX as u32 {
            let _ = time_read(i.wrapping_mul(0x9e37_79b9), i & 1 == 0);
        }
    }
}
