//! Each vcore's SBI extension state (PMU counters, FWFT locks), and the
//! two hardware counters the PMU extension hands a capsule: `mcycle` and
//! `minstret`, run or held through `mcountinhibit` (a CSR of privileged
//! spec 1.11 and later; on a hart without it, probed at entry, they only
//! run).
//!
//! The SBI state lives in each vcore (`Vcore::sbi`). The hardware
//! counters are the hart's, not switched with vcores: a vcore that moves,
//! or shares its hart, sees counts that include other vcores' time (a
//! known limit). A counter one vcore held runs again when a vcore that
//! holds none comes to the hart.

use core::arch::asm;
use core::sync::atomic::{AtomicUsize, Ordering};

use sbi::VcoreState;
use sbi::pmu::{CYCLE, HwOp, INSTRET};

use crate::run::vcore::Vcore;

/// Vcore `v` is (re)started: its "hart reset". The PMU and FWFT forget
/// everything, and counters its last run held run again, as they do from
/// the machine's reset. Called on the hart about to run it.
pub fn reset(v: &Vcore) {
    let mut s = v.sbi.lock();
    if !s.pmu.hardware_at_reset() {
        run(CYCLE, true);
        run(INSTRET, true);
    }
    *s = VcoreState::new();
}

/// Harts where a vcore held a hardware counter, a bit each.
static HELD: AtomicUsize = AtomicUsize::new(0);

/// Vcore `v` comes to this hart: counters another vcore held run again
/// if `v` holds none.
pub fn switch_in(hart: usize, v: &Vcore) {
    let bit = 1usize << (hart % usize::BITS as usize);
    if HELD.load(Ordering::Relaxed) & bit != 0 && v.sbi.lock().pmu.hardware_at_reset() {
        run(CYCLE, true);
        run(INSTRET, true);
        HELD.fetch_and(!bit, Ordering::Relaxed);
    }
}

/// Carries out a PMU request on this hart's counters.
pub fn counter_op(op: HwOp) {
    match op {
        HwOp::Write { idx, value } => write(idx, value),
        HwOp::Run { idx, run: r } => run(idx, r),
    }
}

fn run(idx: usize, run: bool) {
    if !run {
        HELD.fetch_or(1 << (crate::arch::cpu::hart_id() % usize::BITS as usize), Ordering::Relaxed);
    }
    // A hart without mcountinhibit cannot hold its counters: they run.
    if !crate::arch::machine::has_countinhibit(crate::arch::cpu::hart_id()) {
        return;
    }
    let bit = 1usize << idx;
    // SAFETY: mcountinhibit only lets this hart's counters count or hold;
    // idx is CYCLE or INSTRET (bit 0 or 2).
    unsafe {
        if run {
            asm!("csrc 0x320, {0}", in(reg) bit);
        } else {
            asm!("csrs 0x320, {0}", in(reg) bit);
        }
    }
}

fn write(idx: usize, value: u64) {
    // SAFETY: sets this hart's cycle or instret count, which belongs to
    // the vcore asking. On rv32 the low half is zeroed first so that no
    // carry reaches the new high half.
    unsafe {
        match idx {
            #[cfg(target_arch = "riscv64")]
            CYCLE => asm!("csrw mcycle, {0}", in(reg) value),
            #[cfg(target_arch = "riscv64")]
            INSTRET => asm!("csrw minstret, {0}", in(reg) value),
            #[cfg(target_arch = "riscv32")]
            CYCLE => asm!("csrw mcycle, zero", "csrw mcycleh, {1}", "csrw mcycle, {0}",
                          in(reg) value as u32, in(reg) (value >> 32) as u32),
            #[cfg(target_arch = "riscv32")]
            INSTRET => asm!("csrw minstret, zero", "csrw minstreth, {1}", "csrw minstret, {0}",
                            in(reg) value as u32, in(reg) (value >> 32) as u32),
            _ => {}
        }
    }
}
