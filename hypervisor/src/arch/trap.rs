//! Traps taken in M-mode.
//!
//! A trap taken while the hypervisor itself runs is a fault in the
//! hypervisor: it is reported with the hart, cause and addresses, and the
//! machine is powered off with a failure status so nothing is left hanging.

use core::sync::atomic::{AtomicUsize, Ordering};

use crate::{arch::cpu, platform::power};

unsafe extern "C" {
    /// The M-mode trap vector, in `guest.rs`: capsule traps go to
    /// `vcore::guest_trap`, the hypervisor's own to [`fatal_trap`].
    #[link_name = "diosix_trap_vector"]
    pub fn trap_vector();
}

/// Bit n set: hart n is already reporting a fatal trap.
static IN_TRAP: AtomicUsize = AtomicUsize::new(0);

pub extern "C" fn fatal_trap(cause: usize, epc: usize, tval: usize) -> ! {
    let hart = cpu::hart_id();
    let bit = 1usize << (hart % usize::BITS as usize);
    if IN_TRAP.fetch_or(bit, Ordering::SeqCst) & bit != 0 {
        // A fault while reporting a fault: stop without touching anything.
        power::exit_quietly(3);
    }
    let interrupt = cause >> (usize::BITS - 1) != 0;
    let code = cause & !(1 << (usize::BITS - 1));
    crate::run::console::force_println!(
        "[diosix] hart {hart}: fatal {} {code} ({}) at pc {epc:#x}, mtval {tval:#x}",
        if interrupt { "interrupt" } else { "exception" },
        cpu::exception_name(interrupt, code),
    );
    power::exit(3)
}
