//! What each SBI call costs the caller, in retired instructions (the
//! ecall, the SBI implementation's work in M-mode, the return): the same
//! loop under diosix and under plain OpenSBI, read from `instret`. Under
//! QEMU with `-icount` the count is exact; without it QEMU derives
//! `instret` from host time, so only `-icount` runs mean anything.
//! Prints `testguest: cost <call>: <n> instructions` for `cargo xtask bench`.

use core::arch::asm;

use super::sbi::{self, BASE, DBCN, IPI, RFNC};
use super::scenarios::{self, Ram};
use super::trap::{self, SEEN};
use core::sync::atomic::Ordering;

/// Calls per measurement: enough to average out the loop's own cost.
const CALLS: usize = 1000;

fn instret() -> usize {
    let n: usize;
    // SAFETY: reads instret, which both diosix and OpenSBI let S-mode read.
    unsafe { asm!("rdinstret {0}", out(reg) n) };
    n
}

/// Average instructions for one `f()` over `calls` calls, less the loop's own.
fn per_call(calls: usize, mut f: impl FnMut()) -> usize {
    let empty = {
        let start = instret();
        for _ in 0..calls {
            core::hint::black_box(());
        }
        instret().wrapping_sub(start)
    };
    let start = instret();
    for _ in 0..calls {
        f();
    }
    instret().wrapping_sub(start).saturating_sub(empty) / calls
}

/// A whole timer event: from SBI `set_timer` with a deadline already due
/// to the guest's handler having run (which turns the timer off through
/// SBI again). With Sstc the interrupt comes from `stimecmp` and never
/// enters M-mode; without, the hypervisor takes a machine timer interrupt
/// and raises the guest's.
fn timer_event(hart: usize) -> usize {
    const EVENTS: usize = 100;
    let seen = &SEEN[hart % 16];
    trap::enable(1 << 5);
    let mut total = 0usize;
    for _ in 0..EVENTS {
        let irqs = seen.timer_irqs.load(Ordering::SeqCst);
        let start = instret();
        sbi::set_timer(0);
        while seen.timer_irqs.load(Ordering::SeqCst) == irqs {
            core::hint::spin_loop();
        }
        total = total.wrapping_add(instret().wrapping_sub(start));
    }
    total / EVENTS
}

pub fn run(hart: usize, ram: &Ram) -> bool {
    let report = |name: &str, n: usize| say!("testguest: cost {name}: {n} instructions");
    report("base_get_spec_version", per_call(CALLS, || {
        sbi::call(BASE, 0, [0; 3]);
    }));
    report("set_timer", per_call(CALLS, || {
        sbi::set_timer(u64::MAX);
    }));
    report("timer_event", timer_event(hart));
    // The console: one byte per call (a dot each; a line end after).
    static DOT: u8 = b'.';
    let dbcn = per_call(CALLS, || {
        sbi::call(DBCN, 0, [1, &DOT as *const u8 as usize, 0]);
    });
    say!("");
    report("console_write_byte", dbcn);
    report("send_ipi_self", per_call(CALLS, || {
        sbi::call(IPI, 0, [1, hart, 0]);
        // SAFETY: clears the software interrupt just raised (it is not enabled).
        unsafe { asm!("csrci sip, 2") };
    }));
    report("remote_sfence_vma_self", per_call(CALLS, || {
        sbi::call(RFNC, 1, [1, hart, 0]);
    }));
    report("remote_fence_i_self", per_call(CALLS, || {
        sbi::call(RFNC, 0, [1, hart, 0]);
    }));
    // Another hart: only the IPI, which does not wait for it. A fence on
    // another hart waits for its answer, and under `-icount` QEMU runs
    // harts in turn, so the wait is QEMU's time slice, not anyone's cost.
    match scenarios::other_hart(hart, ram) {
        Some(other) if scenarios::start_spinning(other, ram) => report("send_ipi_other", per_call(CALLS, || {
            sbi::call(IPI, 0, [1, other, 0]);
        })),
        Some(other) => say!("testguest: cost: hart {other} did not start"),
        None => say!("testguest: cost: one hart only, no IPI to another"),
    }
    true
}
