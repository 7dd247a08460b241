//! Emulating a capsule's load or store to one of its device windows.
//!
//! The windows (`vdev::map`) lie outside the capsule's PMP window, so an
//! access there traps to M-mode as a load or store access fault. The
//! faulting pc is a virtual address in the capsule's kernel (or one of
//! its programs): the hypervisor translates it through the capsule's live
//! page tables with `insn::walk` (every table read checked against the
//! capsule's RAM, so M-mode never touches anything else and never takes a
//! fault of its own), reads the instruction, decodes it with
//! `insn::decode_access`, forms the address from the base register as the
//! hart did, translates that too, and if it lands in a device window
//! performs the access on the device model, writes a load's result to
//! its register and steps past the instruction.
//!
//! Anything else (a fetch, an instruction that is not an integer load or
//! store, an address in no window, a width the device refuses, a trap
//! from a virtual mode on a hart with H) is [`NotEmulated`], and the
//! caller delivers the access fault to the capsule's kernel as before.

use alloc::sync::Arc;
use core::fmt;

use insn::walk::{self, AccessType, WalkError};
use insn::{AccessKind, decode_access};
use vdev::AccessError;
use vdev::map::{self, DeviceKind};

use crate::run::capsule::Capsule;
use crate::arch::guest::{self, CapsuleRam, Context};
use crate::arch::csr;

const LOAD_FAULT: usize = 5;
const STORE_FAULT: usize = 7;
const XLEN32: bool = usize::BITS == 32;
const PAGE: u64 = 4096;

/// Why an access fault was not emulated.
pub enum NotEmulated {
    /// Not a device access at all: the fault goes to the kernel quietly
    /// (it is reported as an access outside the capsule).
    NotDevice,
    /// An access to a device window that the device refused, or that
    /// could not be decoded: said once per capsule, then reflected.
    Refused(Refusal),
}

pub enum Refusal {
    /// The instruction at pc could not be read: its walk failed.
    Fetch(WalkError),
    /// Not an integer load or store of the fault's kind.
    NotLoadStore(u32),
    /// The access crosses into the next page.
    CrossesPage,
    Device(DeviceKind, u64, u8, AccessError),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Fetch(e) => write!(f, "its instruction could not be read ({e:?})"),
            Refusal::NotLoadStore(i) => write!(f, "instruction {i:#x} is not an integer load or store"),
            Refusal::CrossesPage => write!(f, "the access crosses a page boundary"),
            Refusal::Device(kind, offset, width, e) => {
                write!(f, "the {} refused a {width}-byte access at offset {offset:#x} ({e:?})", kind.name())
            }
        }
    }
}

/// Emulates the access that raised fault `cause` for capsule `c`'s vcore
/// whose registers are `ctx`; on success `ctx` resumes after it.
pub fn emulate(c: &Arc<Capsule>, ctx: &mut Context, cause: usize) -> Result<(), NotEmulated> {
    if cause != LOAD_FAULT && cause != STORE_FAULT {
        return Err(NotEmulated::NotDevice);
    }
    if csr::has_h() && csr::mstatus_high() & csr::MPV_HIGH != 0 {
        // From the capsule's own guest: its addresses are two stages away.
        return Err(NotEmulated::NotDevice);
    }
    let ram = CapsuleRam(c.ram);
    let satp = csr::satp::read() as u64;
    let insn = fetch(&ram, satp, ctx.pc as u64).map_err(|e| NotEmulated::Refused(Refusal::Fetch(e)))?;
    let access = decode_access(insn, XLEN32)
        .filter(|a| matches!(a.kind, AccessKind::Store) == (cause == STORE_FAULT))
        .ok_or(NotEmulated::Refused(Refusal::NotLoadStore(insn)))?;

    let base = if access.base == 0 { 0 } else { ctx.regs[access.base] };
    let va = (base as u64).wrapping_add(access.offset as u64) & if XLEN32 { 0xffff_ffff } else { u64::MAX };
    let kind = if cause == STORE_FAULT { AccessType::Store } else { AccessType::Load };
    let Ok(pa) = walk::translate(&ram, satp, va, XLEN32, kind) else {
        return Err(NotEmulated::NotDevice);
    };
    let Some((window, offset)) = map::find(pa, access.width) else {
        return Err(NotEmulated::NotDevice);
    };
    if va % PAGE + u64::from(access.width) > PAGE {
        return Err(NotEmulated::Refused(Refusal::CrossesPage));
    }
    let store = match access.kind {
        AccessKind::Store => Some(if access.reg == 0 { 0 } else { ctx.regs[access.reg] as u64 }),
        AccessKind::Load { .. } => None,
    };
    let refused = |e| NotEmulated::Refused(Refusal::Device(window.kind, offset, access.width, e));
    let value = c.devices.access(c, window, offset, access.width, store).map_err(refused)?;
    if let AccessKind::Load { .. } = access.kind
        && access.reg != 0
    {
        ctx.regs[access.reg] = access.extend(value) as usize;
    }
    ctx.pc = ctx.pc.wrapping_add(access.len as usize);
    Ok(())
}

/// The instruction at virtual address `pc`: 16 bits, or 32 whose second
/// half may lie on the next page.
fn fetch(ram: &CapsuleRam, satp: u64, pc: u64) -> Result<u32, WalkError> {
    let half = |va: u64| -> Result<u16, WalkError> {
        let pa = walk::translate(ram, satp, va, XLEN32, AccessType::Fetch)?;
        let mut b = [0u8; 2];
        if guest::read(ram.0, pa, &mut b) { Ok(u16::from_le_bytes(b)) } else { Err(WalkError::OutOfRam { addr: pa }) }
    };
    let low = half(pc)?;
    if low & 0b11 != 0b11 {
        return Ok(u32::from(low));
    }
    let high = half(pc.wrapping_add(2))?;
    Ok(u32::from(low) | u32::from(high) << 16)
}
