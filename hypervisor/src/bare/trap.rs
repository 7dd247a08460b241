//! Traps taken in M-mode.
//!
//! Until capsules run, any trap is a fault in the hypervisor itself: it is
//! reported with the hart, cause and addresses, and the machine is powered
//! off with a failure status so nothing is left hanging.

use core::arch::global_asm;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::{cpu, power};

global_asm!(
    r#"
    .section .text
    .balign 4
    .globl diosix_trap_vector
diosix_trap_vector:
    csrr    a0, mcause
    csrr    a1, mepc
    csrr    a2, mtval
    call    {fatal}
1:  j       1b
    "#,
    fatal = sym fatal_trap,
);

unsafe extern "C" {
    #[link_name = "diosix_trap_vector"]
    pub fn trap_vector();
}

/// Bit n set: hart n is already reporting a fatal trap.
static IN_TRAP: AtomicUsize = AtomicUsize::new(0);

extern "C" fn fatal_trap(cause: usize, epc: usize, tval: usize) -> ! {
    let hart = cpu::hart_id();
    let bit = 1usize << (hart % usize::BITS as usize);
    if IN_TRAP.fetch_or(bit, Ordering::SeqCst) & bit != 0 {
        // A fault while reporting a fault: stop without touching anything.
        power::exit_quietly(3);
    }
    let interrupt = cause >> (usize::BITS - 1) != 0;
    let code = cause & !(1 << (usize::BITS - 1));
    crate::bare::console::force_println!(
        "[diosix] hart {hart}: fatal {} {code} ({}) at pc {epc:#x}, mtval {tval:#x}",
        if interrupt { "interrupt" } else { "exception" },
        cpu::exception_name(interrupt, code),
    );
    power::exit(3)
}
