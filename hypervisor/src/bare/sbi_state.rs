//! Each vcore's SBI extension state (PMU counters, FWFT locks), and the
//! two hardware counters the PMU extension hands a capsule: `mcycle` and
//! `minstret`, run or held through `mcountinhibit` (a CSR of privileged
//! spec 1.11 and later; on a hart without it, probed at entry, they only
//! run).
//!
//! Each vcore is pinned to the hart with the same id, so the hart's
//! counters are its vcore's: no other capsule runs there. A scheduler that
//! moves vcores between harts must save and restore the counters' values
//! and their inhibit bits with the vcore (they are the capsule's, like
//! its S-mode CSRs).

use core::arch::asm;

use sbi::VcoreState;
use sbi::pmu::{CYCLE, HwOp, INSTRET};

use super::layout::MAX_HARTS;

static STATE: [spin::Mutex<VcoreState>; MAX_HARTS] = [const { spin::Mutex::new(VcoreState::new()) }; MAX_HARTS];

/// Runs `f` on vcore `hart`'s state. Only the vcore itself calls this,
/// from its SBI calls, so the lock is never contended.
pub fn with<R>(hart: usize, f: impl FnOnce(&mut VcoreState) -> R) -> R {
    f(&mut STATE[hart].lock())
}

/// Vcore `hart` is (re)started: its "hart reset". The PMU and FWFT
/// forget everything, and counters the last run of the vcore held run
/// again, as they do from the machine's reset.
pub fn reset(hart: usize) {
    let mut s = STATE[hart].lock();
    if !s.pmu.hardware_at_reset() {
        run(CYCLE, true);
        run(INSTRET, true);
    }
    *s = VcoreState::new();
}

/// Carries out a PMU request on this hart's counters.
pub fn counter_op(op: HwOp) {
    match op {
        HwOp::Write { idx, value } => write(idx, value),
        HwOp::Run { idx, run: r } => run(idx, r),
    }
}

fn run(idx: usize, run: bool) {
    // A hart without mcountinhibit cannot hold its counters: they run.
    if !super::machine::has_countinhibit(super::cpu::hart_id()) {
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
