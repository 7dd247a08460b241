//! The H extension's state a capsule's kernel may set up on a hart that
//! has H (QEMU's default harts do). diosix hides H from capsules' ISA, but
//! the hardware lets S-mode (HS-mode) use it all the same, so its CSRs are
//! a capsule's state like any other and are switched with its vcores:
//! otherwise one capsule could read another's `vsatp`, `vsscratch` or
//! guest-stage root, or run on the state another left.

use core::arch::asm;

/// Reads and writes the listed CSRs, by number (the assembler may not
/// know them by name when the target lacks H).
macro_rules! h_state {
    ($($name:ident = $num:literal),* $(,)?) => {
        /// The H CSRs of one vcore.
        #[derive(Clone, Copy, Default)]
        pub struct HState {
            $(pub $name: usize,)*
            /// Where the hart has it (`save_timedelta`), both halves.
            pub htimedelta: u64,
            /// Where the hart has envcfg CSRs (`save_envcfg`), both halves.
            pub henvcfg: u64,
        }

        impl HState {
            pub const ZERO: HState = HState { $($name: 0,)* htimedelta: 0, henvcfg: 0 };

            /// Saves them from this hart (which has H).
            pub fn save(&mut self) {
                $(
                    // SAFETY: reading an H CSR on a hart with H has no side effect.
                    unsafe { asm!(concat!("csrr {0}, ", stringify!($num)), out(reg) self.$name) };
                )*
            }

            /// Loads them into this hart (which has H).
            pub fn load(&self) {
                $(
                    // SAFETY: the values are the vcore's own, written as it
                    // left them (or zero); they configure only its HS/VS
                    // state, which PMP bounds like everything S-mode does.
                    unsafe { asm!(concat!("csrw ", stringify!($num), ", {0}"), in(reg) self.$name) };
                )*
            }
        }
    };
}

h_state!(
    hstatus = 0x600,
    hedeleg = 0x602,
    hideleg = 0x603,
    hie = 0x604,
    hcounteren = 0x606,
    hgeie = 0x607,
    htval = 0x643,
    hvip = 0x645,
    htinst = 0x64a,
    vsstatus = 0x200,
    vsie = 0x204,
    vstvec = 0x205,
    vsscratch = 0x240,
    vsepc = 0x241,
    vscause = 0x242,
    vstval = 0x243,
    vsatp = 0x280,
    hgatp = 0x680,
);

/// `htimedelta` (VS-mode's offset from `time`, 0x605; on rv32 its high
/// half is 0x615), which exists only where the hart has a time source
/// (QEMU's `spike` has none and traps it): switched where
/// `machine::has_htimedelta` found it.
pub fn save_timedelta() -> u64 {
    // SAFETY: read only where the probe found the CSR.
    unsafe { read64::<0x605, 0x615>() }
}

pub fn load_timedelta(v: u64) {
    // SAFETY: written only where the probe found the CSR; the value is
    // the vcore's own.
    unsafe { write64::<0x605, 0x615>(v) }
}

/// `henvcfg` (0x60a; high half 0x61a on rv32): the environment VS-mode
/// gets, which a capsule's kernel may set as it may any H CSR. It exists
/// on harts with H and the envcfg CSRs (`machine::has_envcfg`).
pub fn save_envcfg() -> u64 {
    // SAFETY: read only on harts with H and envcfg.
    unsafe { read64::<0x60a, 0x61a>() }
}

pub fn load_envcfg(v: u64) {
    // SAFETY: written only on harts with H and envcfg; the bits the hart
    // lets S-mode set are the vcore's own (menvcfg, which M-mode keeps,
    // bounds what they can do).
    unsafe { write64::<0x60a, 0x61a>(v) }
}

/// Reads a 64-bit CSR: `LO` on rv64; `LO` and its high half `HI` on rv32.
///
/// # Safety
/// The hart must have the CSRs.
unsafe fn read64<const LO: u16, const HI: u16>() -> u64 {
    let lo: usize;
    // SAFETY: per the contract; a CSR read has no side effect here.
    unsafe { asm!("csrr {0}, {csr}", out(reg) lo, csr = const LO) };
    let mut hi: usize = 0;
    if cfg!(target_arch = "riscv32") {
        // SAFETY: as above (rv32: the high half exists with the CSR).
        unsafe { asm!("csrr {0}, {csr}", out(reg) hi, csr = const HI) };
    }
    ((hi as u64) << 32) | lo as u64
}

/// Writes a 64-bit CSR, as [`read64`] reads it.
///
/// # Safety
/// The hart must have the CSRs; the value must be the vcore's own.
unsafe fn write64<const LO: u16, const HI: u16>(v: u64) {
    // SAFETY: per the contract.
    unsafe { asm!("csrw {csr}, {0}", in(reg) v as usize, csr = const LO) };
    if cfg!(target_arch = "riscv32") {
        // SAFETY: as above.
        unsafe { asm!("csrw {csr}, {0}", in(reg) (v >> 32) as usize, csr = const HI) };
    }
}

/// Drops this hart's guest-stage and VS-stage translations
/// (`hfence.gvma` and `hfence.vvma`, all of them), on a hart with H.
pub fn flush() {
    // SAFETY: TLB fences have no effect but dropping cached translations.
    // Encoded as words: the assembler may not know them without H.
    unsafe { asm!(".word 0x62000073", ".word 0x22000073") };
}
