//! A capsule's floating-point registers, saved and restored when a hart
//! switches between vcores.
//!
//! The registers are switched on harts whose misa has F or D, whatever
//! the hypervisor's own target: an imac build may run on harts with FP,
//! and a capsule could otherwise read another's FP values. M-mode may use
//! FP instructions only while mstatus.FS is not Off, so FS is made Dirty
//! for the copy and the capsule's own FS value is put back by the caller
//! (it is part of the capsule's sstatus).
//!
//! FS cannot say whether a capsule's registers changed: the capsule's
//! kernel owns sstatus.FS and clears it (Linux runs its kernel with FS
//! Off while a user task's values are still in the registers). So the
//! registers are copied whenever the hart changes vcore, and not at all
//! when the same vcore goes on running (see `sched.rs`).

use core::arch::global_asm;

use crate::arch::csr;
use crate::arch::machine::Fpu;

/// f0..f31 (each in the low bits of its slot) and fcsr.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct FpRegs {
    pub f: [u64; 32],
    pub fcsr: usize,
}

impl FpRegs {
    pub const ZERO: FpRegs = FpRegs { f: [0; 32], fcsr: 0 };
}

// Four routines from two macros: save or load f0..f31 (each in an 8-byte
// slot, with `fsd`/`fld` on harts with D, `fsw`/`flw` on those with F
// only) and fcsr at offset 256. a0 = the FpRegs.
global_asm!(
    r#"
    .section .text
    .option push
    .option arch, +d
    .macro FP_SAVE name, store
    .balign 4
    .globl \name
\name:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    \store  f\n, (\n * 8)(a0)
    .endr
    frcsr   t0
    .if {xlenb} == 8
    sd      t0, 256(a0)
    .else
    sw      t0, 256(a0)
    .endif
    ret
    .endm

    .macro FP_LOAD name, load
    .balign 4
    .globl \name
\name:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    \load   f\n, (\n * 8)(a0)
    .endr
    .if {xlenb} == 8
    ld      t0, 256(a0)
    .else
    lw      t0, 256(a0)
    .endif
    fscsr   t0
    ret
    .endm

    FP_SAVE diosix_fp_save_d, fsd
    FP_LOAD diosix_fp_load_d, fld
    FP_SAVE diosix_fp_save_f, fsw
    FP_LOAD diosix_fp_load_f, flw
    .option pop
    "#,
    xlenb = const core::mem::size_of::<usize>(),
);

const _: () = assert!(core::mem::offset_of!(FpRegs, fcsr) == 256);

unsafe extern "C" {
    fn diosix_fp_save_d(to: *mut FpRegs);
    fn diosix_fp_load_d(from: *const FpRegs);
    fn diosix_fp_save_f(to: *mut FpRegs);
    fn diosix_fp_load_f(from: *const FpRegs);
}

/// Copies this hart's FP registers into `to`. The caller has saved the
/// capsule's sstatus (FS included) and restores it after.
pub fn save(kind: Fpu, to: &mut FpRegs) {
    if kind == Fpu::None {
        return;
    }
    csr::mstatus::set(csr::FS_MASK);
    // SAFETY: the hart has the registers (misa says so) and FS is on, so
    // the stores cannot trap; `to` is a valid FpRegs, which the routine
    // fills within its 264 bytes.
    unsafe {
        match kind {
            Fpu::Double => diosix_fp_save_d(to),
            _ => diosix_fp_save_f(to),
        }
    }
}

/// Loads this hart's FP registers from `from`. As for [`save`].
pub fn load(kind: Fpu, from: &FpRegs) {
    if kind == Fpu::None {
        return;
    }
    csr::mstatus::set(csr::FS_MASK);
    // SAFETY: as in `save`; the routine only reads `from`.
    unsafe {
        match kind {
            Fpu::Double => diosix_fp_load_d(from),
            _ => diosix_fp_load_f(from),
        }
    }
}
