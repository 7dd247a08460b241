//! Sstc from inside a capsule: where the capsule's device tree lists it,
//! the guest programs its own `stimecmp` and its timer interrupt comes at
//! the deadline, not before; where it does not, writing `stimecmp` is an
//! illegal instruction the guest's own handler sees.

use core::arch::asm;
use core::sync::atomic::Ordering;

use super::sbi;
use super::scenarios::Ram;
use super::trap::{self, SEEN};

/// Writes `stimecmp` (rv32: the low half to all-ones first, so no mix of
/// halves lies in the past).
fn set_stimecmp(deadline: u64) {
    // SAFETY: writes the S-mode timer compare register; without Sstc this
    // raises an illegal-instruction exception, which the handler skips.
    unsafe {
        #[cfg(target_arch = "riscv64")]
        asm!("csrw 0x14d, {0}", in(reg) deadline as usize);
        #[cfg(target_arch = "riscv32")]
        asm!("csrw 0x14d, {0}", "csrw 0x15d, {1}", "csrw 0x14d, {2}",
             in(reg) usize::MAX, in(reg) (deadline >> 32) as usize, in(reg) deadline as usize);
    }
}

fn stip_pending() -> bool {
    let sip: usize;
    // SAFETY: reads sip.
    unsafe { asm!("csrr {0}, sip", out(reg) sip) };
    sip & (1 << 5) != 0
}

pub fn run(hart: usize, ram: &Ram, check: fn(&str, bool, core::fmt::Arguments) -> bool) -> bool {
    let seen = &SEEN[hart % 16];
    if !ram.sstc {
        let before = seen.exceptions.load(Ordering::SeqCst);
        set_stimecmp(u64::MAX);
        let trapped = seen.exceptions.load(Ordering::SeqCst) == before + 1;
        let cause = seen.cause.load(Ordering::SeqCst);
        return check(
            "without sstc in the tree, writing stimecmp is an illegal instruction",
            trapped && cause == 2,
            format_args!("trapped {trapped}, cause {cause}"),
        );
    }
    set_stimecmp(u64::MAX);
    let mut ok = check("sstc: stimecmp at never clears the timer interrupt", !stip_pending(), format_args!("sip.STIP set"));
    trap::enable(1 << 5);
    let irqs = seen.timer_irqs.load(Ordering::SeqCst);
    let deadline = sbi::time() + ram.timebase / 50; // 20 ms
    set_stimecmp(deadline);
    // As in the SBI timer check: the interrupt first, then the clock.
    let mut early = false;
    loop {
        let fired = seen.timer_irqs.load(Ordering::SeqCst) != irqs;
        if sbi::time() >= deadline {
            break;
        }
        early |= fired;
    }
    let deadline_passed = sbi::time() + ram.timebase / 2; // 500 ms
    while seen.timer_irqs.load(Ordering::SeqCst) == irqs && sbi::time() < deadline_passed {
        core::hint::spin_loop();
    }
    let arrived = seen.timer_irqs.load(Ordering::SeqCst) != irqs;
    let at = seen.timer_at.load(Ordering::SeqCst) as u64;
    ok &= check("sstc: no timer interrupt before the stimecmp deadline", !early, format_args!("arrived early"));
    ok &= check(
        "sstc: timer interrupt from stimecmp after the deadline",
        arrived && at >= (deadline & usize::MAX as u64),
        format_args!("arrived {arrived} at {at}, deadline {deadline}"),
    );
    let exceptions = seen.exceptions.load(Ordering::SeqCst);
    ok &= check("sstc: no exception from stimecmp writes", exceptions == 0, format_args!("{exceptions} exceptions"));
    ok
}
