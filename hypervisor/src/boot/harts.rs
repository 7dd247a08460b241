//! Which harts have started and checked in.

use core::sync::atomic::{AtomicUsize, Ordering};

use crate::arch::layout::MAX_HARTS;

static ONLINE: AtomicUsize = AtomicUsize::new(0);

/// Mark the calling hart as running in M-mode.
pub fn check_in(hart: usize) {
    if hart < MAX_HARTS {
        ONLINE.fetch_or(1 << hart, Ordering::SeqCst);
    }
}

/// Harts that started but cannot run capsules (a check failed): they are
/// not waited for, and never online.
static LEFT_OUT: AtomicUsize = AtomicUsize::new(0);

/// Takes the calling hart out: it cannot run capsules after all.
pub fn check_out(hart: usize) {
    if hart < MAX_HARTS {
        LEFT_OUT.fetch_or(1 << hart, Ordering::SeqCst);
        ONLINE.fetch_and(!(1 << hart), Ordering::SeqCst);
    }
}

/// True once `hart` has either checked in or been left out.
fn accounted_for(hart: usize) -> bool {
    is_online(hart) || (hart < MAX_HARTS && LEFT_OUT.load(Ordering::SeqCst) & (1 << hart) != 0)
}

pub fn is_online(hart: usize) -> bool {
    hart < MAX_HARTS && ONLINE.load(Ordering::SeqCst) & (1 << hart) != 0
}

/// Wait until every hart in `expected` has checked in or `spins` polls
/// have passed; true if they all did.
pub fn wait_for<I: Iterator<Item = usize> + Clone>(expected: I, spins: usize) -> bool {
    for _ in 0..spins {
        if expected.clone().all(accounted_for) {
            break;
        }
        core::hint::spin_loop();
    }
    expected.clone().all(is_online)
}

static RELEASED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Harts the device tree says can run vcores (S-mode and an MMU), a bit
/// each: others (a monitor core such as the FU540's E51) check in but
/// never run the scheduler.
static USABLE: AtomicUsize = AtomicUsize::new(0);

/// The boot hart has set up what the others use (console, CLINT) and
/// says which harts may run vcores.
pub fn release(usable: impl Iterator<Item = usize>) {
    let mask = usable.filter(|&h| h < MAX_HARTS).fold(0, |m, h| m | (1 << h));
    USABLE.store(mask, Ordering::SeqCst);
    RELEASED.store(true, Ordering::SeqCst);
}

/// True if `hart` checked in and may run vcores.
pub fn runs_vcores(hart: usize) -> bool {
    is_online(hart) && USABLE.load(Ordering::SeqCst) & (1 << hart) != 0
}

/// Spins until [`release`].
pub fn wait_for_release() {
    while !RELEASED.load(Ordering::SeqCst) {
        core::hint::spin_loop();
    }
}
