//! Requests harts post to each other: a kick (look at the run queue and
//! at the running vcore's pending bits) and fences to run. The poster
//! sets bits and raises the target's machine software interrupt; the
//! target handles them in M-mode and clears them.

use core::sync::atomic::{AtomicUsize, Ordering};

use crate::platform::clint;
use crate::arch::layout::MAX_HARTS;

pub const KICK: usize = 1 << 0;
pub const FENCE_I: usize = 1 << 1;
pub const SFENCE_VMA: usize = 1 << 2;

struct Mailbox {
    pending: AtomicUsize,
    /// Fences asked for and fences run, as counts: a poster waits until
    /// `fences_done` reaches the count its request made, so a fence that
    /// another hart's request triggered can never be mistaken for its own
    /// unless it ran after the request.
    fences_asked: AtomicUsize,
    fences_done: AtomicUsize,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Mailbox = Mailbox {
    pending: AtomicUsize::new(0),
    fences_asked: AtomicUsize::new(0),
    fences_done: AtomicUsize::new(0),
};

static BOXES: [Mailbox; MAX_HARTS] = [EMPTY; MAX_HARTS];

/// Orders this hart's memory accesses against its device (I/O) accesses.
/// The pending bits are ordinary memory and MSIP is a device register: the
/// atomics' ordering says nothing about I/O, and a core that reorders the
/// two can raise (or clear) the interrupt before the bits are visible.
fn io_fence() {
    // SAFETY: a fence has no effect but ordering.
    unsafe { core::arch::asm!("fence iorw, iorw") };
}

/// Posts `bits` to `hart` and interrupts it.
pub fn post(hart: usize, bits: usize) {
    BOXES[hart].pending.fetch_or(bits, Ordering::SeqCst);
    // The bits are visible before the interrupt that makes `hart` look.
    io_fence();
    clint::set_msip(hart, true);
}

/// The requests posted to `hart` (the caller must be `hart`), after
/// clearing its software interrupt so a later post raises it again. The
/// caller marks them [`done`] once carried out: a poster waiting for a
/// fence watches its bit.
pub fn take(hart: usize) -> usize {
    clint::set_msip(hart, false);
    // The interrupt is cleared before the bits are read: a post that
    // lands after the read raises it again, so nothing is lost.
    io_fence();
    BOXES[hart].pending.load(Ordering::SeqCst)
}

/// Marks `bits` on `hart` as carried out.
pub fn done(hart: usize, bits: usize) {
    BOXES[hart].pending.fetch_and(!bits, Ordering::SeqCst);
}

/// Asks `hart` to run its fences (fence.i and sfence.vma both: running
/// more than asked is always correct); returns the ticket to wait for.
pub fn ask_fences(hart: usize) -> usize {
    let ticket = BOXES[hart].fences_asked.fetch_add(1, Ordering::SeqCst).wrapping_add(1);
    post(hart, FENCE_I | SFENCE_VMA);
    ticket
}

/// Waits until `hart` has run the fences of `ticket`, calling `meanwhile`
/// so the waiting hart still serves its own mailbox.
pub fn wait_for_fences(hart: usize, ticket: usize, mut meanwhile: impl FnMut()) {
    let mb = &BOXES[hart];
    while (mb.fences_done.load(Ordering::SeqCst).wrapping_sub(ticket) as isize) < 0 {
        meanwhile();
        core::hint::spin_loop();
    }
}

/// On `hart` itself: the fence count to report once the fences run.
pub fn fences_to_run(hart: usize) -> usize {
    BOXES[hart].fences_asked.load(Ordering::SeqCst)
}

/// On `hart` itself: how many fences have run.
pub fn fences_done(hart: usize) -> usize {
    BOXES[hart].fences_done.load(Ordering::SeqCst)
}

/// On `hart` itself: fences up to `count` have run.
pub fn fences_ran(hart: usize, count: usize) {
    BOXES[hart].fences_done.store(count, Ordering::SeqCst);
}
