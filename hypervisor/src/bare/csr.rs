//! Control and status registers the hypervisor reads and writes around a
//! capsule. All CSR access outside the entry and trap assembly is here.

use core::arch::asm;

macro_rules! csr_rw {
    ($($name:ident),*) => {
        $(
            #[allow(dead_code)] // every CSR gets every accessor
            pub mod $name {
                use super::asm;
                #[inline(always)]
                pub fn read() -> usize {
                    let v: usize;
                    // SAFETY: reading this CSR has no side effects.
                    unsafe { asm!(concat!("csrr {0}, ", stringify!($name)), out(reg) v) };
                    v
                }
                #[inline(always)]
                pub fn write(v: usize) {
                    // SAFETY: called only by the capsule set-up and trap
                    // code, which owns this hart's M-mode and S-mode state.
                    unsafe { asm!(concat!("csrw ", stringify!($name), ", {0}"), in(reg) v) };
                }
                #[inline(always)]
                pub fn set(bits: usize) {
                    // SAFETY: as for `write`.
                    unsafe { asm!(concat!("csrs ", stringify!($name), ", {0}"), in(reg) bits) };
                }
                #[inline(always)]
                pub fn clear(bits: usize) {
                    // SAFETY: as for `write`.
                    unsafe { asm!(concat!("csrc ", stringify!($name), ", {0}"), in(reg) bits) };
                }
            }
        )*
    };
}

csr_rw!(mstatus, mie, mip, mcause, mtval, medeleg, mideleg, mcounteren, mvendorid, marchid, mimpid,
        stvec, scause, stval, sepc, satp);

// mstatus fields.
pub const SIE: usize = 1 << 1;
pub const SPIE: usize = 1 << 5;
pub const SPP: usize = 1 << 8;
pub const MPP_MASK: usize = 3 << 11;
pub const MPP_S: usize = 1 << 11;
pub const VS_MASK: usize = 3 << 9;
pub const FS_MASK: usize = 3 << 13;
pub const MPRV: usize = 1 << 17;
pub const SUM: usize = 1 << 18;
pub const MXR: usize = 1 << 19;
pub const TVM: usize = 1 << 20;
pub const TW: usize = 1 << 21;
pub const TSR: usize = 1 << 22;

// Interrupt bits (mip/mie).
pub const SSIP: usize = 1 << 1;
pub const MSIP: usize = 1 << 3;
pub const STIP: usize = 1 << 5;
pub const MTIP: usize = 1 << 7;
pub const SEIP: usize = 1 << 9;

/// Run `fence.i` on this hart.
pub fn fence_i() {
    // SAFETY: an instruction-stream fence has no other effect.
    unsafe { asm!("fence.i") };
}

/// Flush this hart's address-translation caches.
pub fn sfence_vma() {
    // SAFETY: a full TLB flush has no other effect.
    unsafe { asm!("sfence.vma") };
}
