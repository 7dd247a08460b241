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

/// The 16550 UART the device tree names, if any.
fn uart_base(ram: &Ram) -> Option<usize> {
    let fdt = devtree::Fdt::parse(ram.tree_blob()).ok()?;
    match devtree::Platform::from_fdt(&fdt).ok()?.console? {
        devtree::Console::Uart(u) if u.reg_shift == 0 => Some(u.mmio.base as usize),
        _ => None,
    }
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
    // A device register: under diosix the emulated UART (a PMP fault,
    // a page-table walk, a decode and the model), on OpenSBI QEMU's own
    // UART at the same address (no trap at all).
    match uart_base(ram) {
        Some(base) => {
            report("mmio_uart_lsr_read", per_call(CALLS, || {
                // SAFETY: a byte load from the UART's LSR, which has no
                // side effect.
                unsafe { asm!("lbu {0}, 5({1})", out(reg) _, in(reg) base) };
            }));
            report("mmio_uart_scratch_write", per_call(CALLS, || {
                // SAFETY: a byte store to the UART's scratch register.
                unsafe { asm!("sb zero, 7({0})", in(reg) base) };
            }));
        }
        None => say!("testguest: cost: the device tree names no UART"),
    }
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
