//! The M-mode state the hypervisor sets at entry, deliberately, instead of
//! inheriting what QEMU or an earlier boot stage left: interrupts off, no
//! modified privilege for loads and stores, and the environment
//! configuration (`menvcfg`, `mseccfg`) cleared, so that for example
//! hardware A/D-bit updating or Svpbmt left enabled by a previous stage
//! cannot change what a capsule's page tables mean.
//!
//! `menvcfg` exists from privileged spec 1.12 and `mseccfg` only with
//! Smepmp or Zkr, so each is probed: the access runs with a temporary trap
//! vector that skips it if the CSR is not there.

use core::arch::global_asm;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::arch::csr;

// Each probe: a0 = 1 if the CSR access (a write of zero, then a read into
// a1) completed, 0 if it raised an exception. The temporary vector skips
// the 4-byte CSR instruction; mret goes back to M-mode (the trap set MPP =
// M) with MIE as it was (off, at entry).
global_asm!(
    r#"
    .section .text
    .balign 4
    .globl diosix_probe_vector
diosix_probe_vector:
    li      a0, 0
    csrr    t2, mepc
    addi    t2, t2, 4
    csrw    mepc, t2
    mret

    // clear = 1: write zero, then read; clear = 0: only read (for a
    // read-only CSR, whose write would always trap).
    .macro PROBE name, csr, clear=1
    .globl \name
    .balign 4
\name:
    csrr    t0, mtvec
    la      t1, diosix_probe_vector
    csrw    mtvec, t1
    li      a0, 1
    li      a1, 0
    .if \clear
    csrw    \csr, zero
    .endif
    csrr    a1, \csr
    csrw    mtvec, t0
    ret
    .endm

    // a0 = 1 and a1 = the byte at a0's address if a load there completes,
    // a0 = 0 if it faults (a device that is not there).
    .globl diosix_probe_load_u8
    .balign 4
diosix_probe_load_u8:
    csrr    t0, mtvec
    la      t1, diosix_probe_vector
    csrw    mtvec, t1
    mv      t3, a0
    li      a0, 1
    li      a1, 0
    .option push
    .option norvc
    lbu     a1, 0(t3)
    .option pop
    csrw    mtvec, t0
    ret

    // The same for a 32-bit store of a1 to a0's address.
    .globl diosix_probe_store_u32
    .balign 4
diosix_probe_store_u32:
    csrr    t0, mtvec
    la      t1, diosix_probe_vector
    csrw    mtvec, t1
    mv      t3, a0
    li      a0, 1
    .option push
    .option norvc
    sw      a1, 0(t3)
    .option pop
    csrw    mtvec, t0
    ret

    PROBE diosix_probe_time, 0xc01, 0
    PROBE diosix_probe_htimedelta, 0x605, 0
    PROBE diosix_probe_stimecmp, 0x14d
    PROBE diosix_clear_menvcfg, 0x30a
    PROBE diosix_clear_mseccfg, 0x747
    PROBE diosix_clear_mcountinhibit, 0x320
    "#
);
#[cfg(target_arch = "riscv32")]
global_asm!(
    r#"
    PROBE diosix_clear_menvcfgh, 0x31a
    PROBE diosix_clear_mseccfgh, 0x757
    "#
);

/// What a probe returns: whether the CSR exists, and what it reads after
/// the write of zero.
#[repr(C)]
struct Probed {
    present: usize,
    value: usize,
}

unsafe extern "C" {
    fn diosix_clear_menvcfg() -> Probed;
    fn diosix_clear_mseccfg() -> Probed;
    fn diosix_clear_mcountinhibit() -> Probed;
    fn diosix_probe_load_u8(addr: usize) -> Probed;
    fn diosix_probe_store_u32(addr: usize, value: u32) -> Probed;
    fn diosix_probe_time() -> Probed;
    fn diosix_probe_htimedelta() -> Probed;
    fn diosix_probe_stimecmp() -> Probed;
    #[cfg(target_arch = "riscv32")]
    fn diosix_clear_menvcfgh() -> Probed;
    #[cfg(target_arch = "riscv32")]
    fn diosix_clear_mseccfgh() -> Probed;
}

/// mseccfg's Machine Mode Lockdown and Machine Mode Whitelist Policy bits:
/// sticky once set, and with either the PMP means something else than
/// what the isolation code programs.
const MSECCFG_MML: usize = 1 << 0;
const MSECCFG_MMWP: usize = 1 << 1;

/// What the entry state check found that diosix cannot run with.
pub enum StateError {
    /// An earlier stage locked mseccfg's MML or MMWP on.
    SecureConfigLocked(usize),
}

impl core::fmt::Display for StateError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StateError::SecureConfigLocked(v) => write!(
                f,
                "mseccfg is {v:#x}: an earlier boot stage locked Smepmp's machine-mode lockdown or whitelist \
                 policy on, and the PMP cannot then isolate capsules as diosix programs it"
            ),
        }
    }
}

/// Harts that have `mcountinhibit` (privileged spec 1.11 and later), a bit
/// per hart id below the word's width.
static COUNTINHIBIT: AtomicUsize = AtomicUsize::new(0);

/// True if the calling hart `hart` has `mcountinhibit` (checked at entry):
/// touching it where it is missing would be a fatal trap in M-mode.
pub fn has_countinhibit(hart: usize) -> bool {
    hart < usize::BITS as usize && COUNTINHIBIT.load(Ordering::Relaxed) & (1 << hart) != 0
}

/// Harts whose `time` CSR reads (many do not: the FU540's cores, QEMU's
/// `sifive_u`); on the others the hypervisor emulates it.
static TIME_CSR: AtomicUsize = AtomicUsize::new(0);

/// True if the calling hart `hart` has a readable `time` CSR.
pub fn has_time_csr(hart: usize) -> bool {
    hart < usize::BITS as usize && TIME_CSR.load(Ordering::Relaxed) & (1 << hart) != 0
}

/// Harts with the H extension's `htimedelta` (only where `time` has a
/// source: QEMU's `spike` traps it).
static HTIMEDELTA: AtomicUsize = AtomicUsize::new(0);

/// True if the calling hart `hart` has `htimedelta`.
pub fn has_htimedelta(hart: usize) -> bool {
    hart < usize::BITS as usize && HTIMEDELTA.load(Ordering::Relaxed) & (1 << hart) != 0
}

/// True if a byte load from `addr` completes instead of faulting: whether
/// a device answers there (a guessed console on an unknown board).
pub fn responds(addr: usize) -> bool {
    // SAFETY: the probe loads one byte under a temporary trap vector that
    // skips the load if it faults; it touches only mtvec (restored),
    // a0-a1 and t0-t3. A read of a UART's line status has no side effect.
    unsafe { diosix_probe_load_u8(addr).present != 0 }
}

/// Harts with Sstc turned on (menvcfg.STCE set and kept).
static SSTC: AtomicUsize = AtomicUsize::new(0);

/// True if hart `hart` has Sstc, turned on for its capsule's use: its S
/// timer interrupt then follows `stimecmp`, which S-mode may write.
pub fn has_sstc(hart: usize) -> bool {
    hart < usize::BITS as usize && SSTC.load(Ordering::Relaxed) & (1 << hart) != 0
}

/// Harts with `menvcfg`, and so `senvcfg` (privileged spec 1.12 on): a
/// capsule's `senvcfg` is switched with its vcore only where it exists.
static ENVCFG: AtomicUsize = AtomicUsize::new(0);

/// True if hart `hart` has `senvcfg`.
pub fn has_envcfg(hart: usize) -> bool {
    hart < usize::BITS as usize && ENVCFG.load(Ordering::Relaxed) & (1 << hart) != 0
}

/// The floating-point registers a hart has, from misa: a capsule's are
/// switched with its vcore where there are any, whatever the hypervisor's
/// own target (an imac build may run on harts with F and D).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Fpu {
    None,
    /// F only: 32-bit registers.
    Single,
    /// D: 64-bit registers.
    Double,
}

/// Each hart's [`Fpu`], two bits per hart id below the word's width / 2.
static FPU: AtomicUsize = AtomicUsize::new(0);

/// The FP registers hart `hart` has.
pub fn fpu(hart: usize) -> Fpu {
    if hart >= usize::BITS as usize / 2 {
        return Fpu::None;
    }
    match (FPU.load(Ordering::Relaxed) >> (2 * hart)) & 3 {
        1 => Fpu::Single,
        2 => Fpu::Double,
        _ => Fpu::None,
    }
}

fn note_fpu(hart: usize) {
    let misa = csr::misa::read();
    let kind = if misa & (1 << (b'd' - b'a')) != 0 {
        2
    } else if misa & (1 << (b'f' - b'a')) != 0 {
        1
    } else {
        0
    };
    if hart < usize::BITS as usize / 2 {
        FPU.fetch_or(kind << (2 * hart), Ordering::Relaxed);
    }
}

/// menvcfg.STCE (bit 63; on rv32 bit 31 of menvcfgh).
#[cfg(target_arch = "riscv64")]
fn enable_sstc() -> bool {
    const STCE: usize = 1 << 63;
    csr::menvcfg::set(STCE);
    csr::menvcfg::read() & STCE != 0
}

#[cfg(target_arch = "riscv32")]
fn enable_sstc() -> bool {
    const STCE: usize = 1 << 31;
    csr::menvcfgh::set(STCE);
    csr::menvcfgh::read() & STCE != 0
}

#[cfg(target_arch = "riscv64")]
fn disable_sstc() {
    csr::menvcfg::clear(1 << 63);
}

#[cfg(target_arch = "riscv32")]
fn disable_sstc() {
    csr::menvcfgh::clear(1 << 31);
}

/// Stores `value` at `addr` unless the store faults; true if it completed.
/// For a guessed device (QEMU virt's power-off register, before the device
/// tree names one), where a fault must not become a fatal trap.
pub fn store_if_present(addr: usize, value: u32) -> bool {
    // SAFETY: the store runs under a temporary trap vector that skips it
    // if it faults; it touches only mtvec (restored), a0 and t0-t3. The
    // caller means the store's effect (it powers the machine off).
    unsafe { diosix_probe_store_u32(addr, value).present != 0 }
}

/// Sets this hart's M-mode state at entry. Every hart calls it first.
pub fn init_hart() -> Result<(), StateError> {
    // No interrupt in M-mode (traps from capsules arrive whatever MIE
    // says, since they come from lower privilege), and plain M-mode
    // loads and stores.
    csr::mstatus::clear(csr::MIE | csr::MPRV);
    // SAFETY: each probe touches only mtvec (restored), a0-a1, t0-t2 and
    // the one CSR, which it clears: no feature of it is in use yet.
    unsafe {
        let envcfg = diosix_clear_menvcfg();
        #[cfg(target_arch = "riscv32")]
        let _ = diosix_clear_menvcfgh();
        // STCE is writable only where Sstc is implemented. stimecmp is
        // probed too: QEMU's spike keeps STCE but traps stimecmp (its harts
        // have no time source). Where both work it starts at "never".
        let hart = crate::arch::cpu::hart_id();
        if envcfg.present != 0 && hart < usize::BITS as usize {
            ENVCFG.fetch_or(1 << hart, Ordering::Relaxed);
        }
        note_fpu(hart);
        crate::arch::vector::probe(hart);
        if envcfg.present != 0 && crate::built::settings::OFFER_SSTC && enable_sstc() && hart < usize::BITS as usize {
            if diosix_probe_stimecmp().present != 0 {
                csr::clear_stimecmp();
                SSTC.fetch_or(1 << hart, Ordering::Relaxed);
            } else {
                disable_sstc();
            }
        }
        // Every counter counts (mcountinhibit zero), where it exists.
        if diosix_clear_mcountinhibit().present != 0 && hart < usize::BITS as usize {
            COUNTINHIBIT.fetch_or(1 << hart, Ordering::Relaxed);
        }
        if diosix_probe_time().present != 0 && hart < usize::BITS as usize {
            TIME_CSR.fetch_or(1 << hart, Ordering::Relaxed);
        }
        if diosix_probe_htimedelta().present != 0 && hart < usize::BITS as usize {
            HTIMEDELTA.fetch_or(1 << hart, Ordering::Relaxed);
        }
        let sec = diosix_clear_mseccfg();
        #[cfg(target_arch = "riscv32")]
        let _ = diosix_clear_mseccfgh();
        if sec.present != 0 && sec.value & (MSECCFG_MML | MSECCFG_MMWP) != 0 {
            return Err(StateError::SecureConfigLocked(sec.value));
        }
    }
    Ok(())
}
