//! Control and status registers the hypervisor reads and writes around a
//! capsule. All CSR access outside the entry and trap assembly is here.

use core::arch::asm;

macro_rules! csr_rw {
    ($($name:ident),*) => {
        $( csr_rw!(@one $name, stringify!($name)); )*
    };
    // A CSR the assembler may not know by name (those of the H extension
    // when the target lacks it), given by number.
    ($($name:ident = $num:literal),*) => {
        $( csr_rw!(@one $name, stringify!($num)); )*
    };
    (@one $name:ident, $csr:expr) => {
        #[allow(dead_code)] // every CSR gets every accessor
        pub mod $name {
            use super::asm;
            #[inline(always)]
            pub fn read() -> usize {
                let v: usize;
                // SAFETY: reading this CSR has no side effects.
                unsafe { asm!(concat!("csrr {0}, ", $csr), out(reg) v) };
                v
            }
            #[inline(always)]
            pub fn write(v: usize) {
                // SAFETY: called only by the capsule set-up and trap
                // code, which owns this hart's M-mode and S-mode state.
                unsafe { asm!(concat!("csrw ", $csr, ", {0}"), in(reg) v) };
            }
            #[inline(always)]
            pub fn set(bits: usize) {
                // SAFETY: as for `write`.
                unsafe { asm!(concat!("csrs ", $csr, ", {0}"), in(reg) bits) };
            }
            #[inline(always)]
            pub fn clear(bits: usize) {
                // SAFETY: as for `write`.
                unsafe { asm!(concat!("csrc ", $csr, ", {0}"), in(reg) bits) };
            }
        }
    };
}

csr_rw!(mstatus, mie, mip, mcause, mtval, medeleg, mideleg, mcounteren, mvendorid, marchid, mimpid,
        stvec, scause, stval, sepc, satp, scounteren, misa, sstatus, sie, sip, sscratch);
// senvcfg (privileged spec 1.12), touched only on harts that have it.
csr_rw!(senvcfg = 0x10a);

// The H extension's CSRs, touched only on harts whose misa has H: mtval2,
// mtinst, hstatus, htval, htinst.
csr_rw!(mtval2 = 0x34b, mtinst = 0x34a, hstatus = 0x600, htval = 0x643, htinst = 0x64a);
// Sstc's S-mode timer compare and the environment configuration that
// turns it on (menvcfg.STCE), touched only on harts found to have them.
csr_rw!(stimecmp = 0x14d, menvcfg = 0x30a);
#[cfg(target_arch = "riscv32")]
csr_rw!(stimecmph = 0x15d, menvcfgh = 0x31a);
// rv32 keeps mstatus's upper half (MPV, GVA, MBE, SBE) in mstatush.
#[cfg(target_arch = "riscv32")]
csr_rw!(mstatush = 0x310);

// mstatus fields.
pub const SIE: usize = 1 << 1;
pub const MIE: usize = 1 << 3;
pub const SPIE: usize = 1 << 5;
pub const SPP: usize = 1 << 8;
pub const MPP_MASK: usize = 3 << 11;
pub const MPP_S: usize = 1 << 11;
pub const FS_MASK: usize = 3 << 13;
pub const MPRV: usize = 1 << 17;
pub const TVM: usize = 1 << 20;
pub const TW: usize = 1 << 21;
pub const TSR: usize = 1 << 22;

// mstatus's upper fields with the H extension: bit 39/38 on rv64, bit 7/6
// of mstatush on rv32.
/// The trap came from a virtualised mode (VS or VU).
pub const MPV_HIGH: u64 = 1 << 39;
/// mtval holds a guest virtual address.
pub const GVA_HIGH: u64 = 1 << 38;

// hstatus fields.
pub const HSTATUS_GVA: usize = 1 << 6;
pub const HSTATUS_SPV: usize = 1 << 7;
pub const HSTATUS_SPVP: usize = 1 << 8;

/// misa's H bit.
pub const MISA_H: usize = 1 << (b'h' - b'a');

/// True if this hart has the H extension. Read from misa each time (one
/// CSR read on a path that is rare), so a board whose harts differ is
/// handled per hart.
pub fn has_h() -> bool {
    misa::read() & MISA_H != 0
}

/// cycle, time and instret readable from S-mode (mcounteren) and, as
/// firmware such as OpenSBI leaves it for Linux, from U-mode (scounteren):
/// the vDSO's clock_gettime reads `time` in user space, and a program
/// that does so dies of SIGILL if scounteren.TM is clear.
pub const COUNTERS: usize = 0b111;

/// Writes this hart's `stimecmp` (Sstc): the S timer interrupt is pending
/// from `deadline` on. On rv32 the low half goes to all-ones first, so no
/// mix of old and new halves lies in the past.
pub fn set_stimecmp(deadline: u64) {
    #[cfg(target_arch = "riscv64")]
    stimecmp::write(deadline as usize);
    #[cfg(target_arch = "riscv32")]
    {
        stimecmp::write(usize::MAX);
        stimecmph::write((deadline >> 32) as usize);
        stimecmp::write(deadline as usize);
    }
}

/// No S timer interrupt from `stimecmp` (a hart with Sstc, as it starts
/// or as a vcore leaves it).
pub fn clear_stimecmp() {
    set_stimecmp(u64::MAX);
}

/// mstatus's MPV and GVA bits, wherever this target keeps them.
pub fn mstatus_high() -> u64 {
    #[cfg(target_arch = "riscv64")]
    return mstatus::read() as u64 & (MPV_HIGH | GVA_HIGH);
    #[cfg(target_arch = "riscv32")]
    return ((mstatush::read() as u64) << 32) & (MPV_HIGH | GVA_HIGH);
}

/// Clears `bits` (of MPV_HIGH, GVA_HIGH) in mstatus or mstatush.
pub fn mstatus_high_clear(bits: u64) {
    #[cfg(target_arch = "riscv64")]
    mstatus::clear(bits as usize);
    #[cfg(target_arch = "riscv32")]
    mstatush::clear((bits >> 32) as usize);
}

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

/// This hart's retired-instruction count.
pub fn instret() -> u64 {
    #[cfg(target_arch = "riscv64")]
    {
        let v: usize;
        // SAFETY: reading minstret has no side effects.
        unsafe { asm!("csrr {0}, minstret", out(reg) v) };
        v as u64
    }
    #[cfg(target_arch = "riscv32")]
    loop {
        let (hi, lo, hi2): (usize, usize, usize);
        // SAFETY: as above; the high half is read twice to catch a carry.
        unsafe { asm!("csrr {0}, minstreth", "csrr {1}, minstret", "csrr {2}, minstreth", out(reg) hi, out(reg) lo, out(reg) hi2) };
        if hi == hi2 {
            return ((hi as u64) << 32) | lo as u64;
        }
    }
}
