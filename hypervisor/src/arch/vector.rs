//! A capsule's vector registers (the V extension, or an embedded Zve*
//! subset), switched with its vcores on harts that have them.
//!
//! diosix does not offer V to capsules (their ISA string leaves it out),
//! but a hart that has it lets S-mode turn `sstatus.VS` on all the same,
//! as it lets S-mode use H. Without switching, a capsule could then read
//! the vector registers another capsule's vcore left on the hart. So on a
//! hart where `mstatus.VS` can be turned on, v0..v31 and the vector CSRs
//! are part of a vcore's state, copied when the hart changes vcore (as FP
//! is, `fpu.rs`): whole-register stores and loads (`vs8r.v`, `vl8re8.v`),
//! which copy the registers whatever `vtype` and `vl` say; then `vl` and
//! `vtype` go back with `vsetvl`, and `vcsr` and `vstart` last.
//!
//! M-mode may use vector instructions only while `mstatus.VS` is not Off,
//! so VS is made Dirty for the copy; the caller puts the capsule's own VS
//! back (it is part of the capsule's sstatus).

use alloc::vec::Vec;
use core::arch::{asm, global_asm};
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::arch::csr;

/// mstatus.VS.
pub const VS_MASK: usize = 3 << 9;

/// Harts with vector registers, a bit per hart id.
static HARTS: AtomicUsize = AtomicUsize::new(0);
/// The largest `vlenb` (bytes per vector register) of any hart.
static VLENB: AtomicUsize = AtomicUsize::new(0);

/// One vcore's vector state. `regs` holds v0..v31 back to back (32 times
/// the hart's `vlenb`); empty until the vcore first leaves a hart with
/// vector registers, and empty means all zero.
pub struct VecRegs {
    vstart: usize,
    vcsr: usize,
    vl: usize,
    vtype: usize,
    regs: Vec<u8>,
}

impl VecRegs {
    pub const fn new() -> VecRegs {
        VecRegs { vstart: 0, vcsr: 0, vl: 0, vtype: 0, regs: Vec::new() }
    }

    /// Zero, with room for the longest registers of any hart, so that
    /// switching vcores does not allocate.
    pub fn sized() -> VecRegs {
        let mut v = VecRegs::new();
        v.regs.resize(32 * max_vlenb(), 0);
        v
    }

    /// All zero, as at a hart's reset: the buffer is kept.
    pub fn clear(&mut self) {
        self.regs.fill(0);
        (self.vstart, self.vcsr, self.vl, self.vtype) = (0, 0, 0, 0);
    }
}

// a0 = the first byte of v0..v31 (32 * vlenb bytes), a1 = 8 * vlenb (one
// group of eight registers). Assembled with V whatever the target; called
// only on harts with vector registers, with VS on and vstart zero.
global_asm!(
    r#"
    .section .text
    .option push
    .option arch, +v
    // The four groups of eight registers, one after the other.
    .macro V_GROUPS name, op
    .balign 4
    .globl \name
\name:
    .irp group, 0, 8, 16, 24
    \op    v\group, (a0)
    add     a0, a0, a1
    .endr
    ret
    .endm

    V_GROUPS diosix_vector_save, vs8r.v
    V_GROUPS diosix_vector_load, vl8re8.v
    .option pop
    "#
);

unsafe extern "C" {
    fn diosix_vector_save(to: *mut u8, group: usize);
    fn diosix_vector_load(from: *const u8, group: usize);
}

/// Finds whether this hart has vector registers: `mstatus.VS` is WARL
/// and reads zero where there are none. Called once per hart at entry.
pub fn probe(hart: usize) {
    csr::mstatus::set(VS_MASK);
    let present = csr::mstatus::read() & VS_MASK != 0;
    if present && hart < usize::BITS as usize {
        HARTS.fetch_or(1 << hart, Ordering::Relaxed);
        VLENB.fetch_max(vlenb(), Ordering::Relaxed);
    }
    csr::mstatus::clear(VS_MASK);
}

/// True if hart `hart` has vector registers.
pub fn present(hart: usize) -> bool {
    hart < usize::BITS as usize && HARTS.load(Ordering::Relaxed) & (1 << hart) != 0
}

/// The largest register length of any hart, in bytes (0: no vectors).
pub fn max_vlenb() -> usize {
    VLENB.load(Ordering::Relaxed)
}

/// This hart's `vlenb` (VS on, the hart has vectors).
fn vlenb() -> usize {
    let v: usize;
    // SAFETY: reads a read-only CSR the hart has (the probe found VS).
    unsafe { asm!("csrr {0}, 0xc22", out(reg) v) };
    v
}

/// Copies this hart's vector state into `to`. The caller has saved the
/// capsule's sstatus (VS included) and restores it after.
pub fn save(hart: usize, to: &mut VecRegs) {
    if !present(hart) {
        return;
    }
    csr::mstatus::set(VS_MASK);
    let vlenb = vlenb();
    // SAFETY: vector CSRs the hart has (VS is on); reading them has no
    // effect, and vstart goes to zero for the whole-register stores
    // below (its value is saved first and put back by `load`).
    unsafe {
        asm!("csrr {0}, 0x008", out(reg) to.vstart);
        asm!("csrr {0}, 0x00f", out(reg) to.vcsr);
        asm!("csrr {0}, 0xc20", out(reg) to.vl);
        asm!("csrr {0}, 0xc21", out(reg) to.vtype);
        asm!("csrw 0x008, zero");
    }
    to.regs.resize(32 * vlenb, 0);
    // SAFETY: `regs` has room for v0..v31 at this hart's length; the
    // routine writes exactly that, with VS on and vstart zero.
    unsafe { diosix_vector_save(to.regs.as_mut_ptr(), 8 * vlenb) };
}

/// Loads this hart's vector state from `from` (zero if it has none yet).
/// As for [`save`].
pub fn load(hart: usize, from: &mut VecRegs) {
    if !present(hart) {
        return;
    }
    csr::mstatus::set(VS_MASK);
    let vlenb = vlenb();
    // A vcore whose state came from a hart with shorter registers (or
    // none yet) gets the rest as zero.
    if from.regs.len() < 32 * vlenb {
        from.regs.resize(32 * vlenb, 0);
    }
    // SAFETY: vstart zero for the whole-register loads; the routine reads
    // v0..v31 at this hart's length from `regs`, which holds at least that.
    unsafe {
        asm!("csrw 0x008, zero");
        diosix_vector_load(from.regs.as_ptr(), 8 * vlenb);
    }
    // vsetvl puts back vl (the saved vl is at most VLMAX for the saved
    // vtype, so AVL = vl gives it back exactly) and vtype; a vtype with
    // vill set sets vill again, with vl zero, as it was. Then vcsr, and
    // vstart last (every vector instruction zeroes it).
    // SAFETY: the vcore's own values, into CSRs only it uses.
    unsafe {
        asm!(
            ".option push",
            ".option arch, +v",
            "vsetvl zero, {vl}, {vtype}",
            ".option pop",
            "csrw 0x00f, {vcsr}",
            "csrw 0x008, {vstart}",
            vl = in(reg) from.vl,
            vtype = in(reg) from.vtype,
            vcsr = in(reg) from.vcsr,
            vstart = in(reg) from.vstart,
        );
    }
}
