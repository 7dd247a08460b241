//! Each hart's machine timer, shared between its vcore's deadline (SBI
//! set_timer) and, on the boot capsule's first hart, the hypervisor's
//! watchdog tick. On a hart with Sstc the vcore's deadline is its own
//! `stimecmp` instead, which raises its timer interrupt without M-mode.
//!
//! The watchdog: a live Linux polls its SBI console for input at least
//! every 2 s (the hvc driver backs off to that when idle), from a kernel
//! thread. A kernel that has panicked no longer schedules threads, so the
//! polling stops, although its timer interrupts go on. Once a capsule has
//! polled its console, [`SILENCE_LIMIT_S`] seconds without a poll mean it
//! is dead. A capsule that never polls is never judged.

use core::sync::atomic::{AtomicUsize, Ordering};

use super::clint;
use super::csr;
use super::machine;
use super::layout::MAX_HARTS;

use super::settings::WATCHDOG_SECONDS as SILENCE_LIMIT_S;

/// A 64-bit time shared between harts. rv32 has no 64-bit atomics, so a
/// spin lock guards it; it is held for a load or a store only.
struct Ticks(spin::Mutex<u64>);

impl Ticks {
    const fn new(v: u64) -> Ticks {
        Ticks(spin::Mutex::new(v))
    }
    fn load(&self, _: Ordering) -> u64 {
        *self.0.lock()
    }
    fn store(&self, v: u64, _: Ordering) {
        *self.0.lock() = v;
    }
}

static GUEST_DEADLINE: [Ticks; MAX_HARTS] = [const { Ticks::new(u64::MAX) }; MAX_HARTS];
static TICK_DEADLINE: Ticks = Ticks::new(u64::MAX);
static WATCHDOG_HART: AtomicUsize = AtomicUsize::new(usize::MAX);
static LAST_SIGN_OF_LIFE: Ticks = Ticks::new(0);
static ARMED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
static TIMEBASE_HZ: Ticks = Ticks::new(10_000_000);

/// Programs this hart's mtimecmp for the earlier of its two deadlines.
fn program(hart: usize) {
    let guest = GUEST_DEADLINE[hart].load(Ordering::SeqCst);
    let tick = if WATCHDOG_HART.load(Ordering::SeqCst) == hart {
        TICK_DEADLINE.load(Ordering::SeqCst)
    } else {
        u64::MAX
    };
    let next = guest.min(tick);
    clint::set_mtimecmp(hart, next);
    if next == u64::MAX {
        csr::mie::clear(csr::MTIP);
    } else {
        csr::mie::set(csr::MTIP);
    }
}

/// Starts the watchdog on this hart.
pub fn start_watchdog(hart: usize, timebase_hz: u64) {
    TIMEBASE_HZ.store(timebase_hz.max(1), Ordering::SeqCst);
    if SILENCE_LIMIT_S == 0 {
        return;
    }
    WATCHDOG_HART.store(hart, Ordering::SeqCst);
    TICK_DEADLINE.store(clint::mtime().saturating_add(timebase_hz), Ordering::SeqCst);
    program(hart);
}

/// The hart whose first entry into a capsule starts the watchdog, when
/// the boot hart hands the boot capsule's first vcore to another hart.
static WATCHDOG_ON_ENTRY: AtomicUsize = AtomicUsize::new(usize::MAX);

/// The watchdog starts on `hart` when it first enters the capsule.
pub fn start_watchdog_on_entry(hart: usize, timebase_hz: u64) {
    TIMEBASE_HZ.store(timebase_hz.max(1), Ordering::SeqCst);
    WATCHDOG_ON_ENTRY.store(hart, Ordering::SeqCst);
}

/// On `hart`, about to enter a capsule: starts the watchdog if it was
/// handed here.
pub fn entering(hart: usize) {
    if WATCHDOG_ON_ENTRY.compare_exchange(hart, usize::MAX, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
        start_watchdog(hart, TIMEBASE_HZ.load(Ordering::SeqCst));
    }
}

/// The capsule polled its console: it is alive, and from now on watched.
pub fn console_polled() {
    LAST_SIGN_OF_LIFE.store(clint::mtime(), Ordering::Relaxed);
    ARMED.store(true, Ordering::Relaxed);
}

/// Writes this hart's `stimecmp` (Sstc): the S timer interrupt is pending
/// from `deadline` on. On rv32 the low half goes to all-ones first, so no
/// mix of old and new halves lies in the past.
fn set_stimecmp(deadline: u64) {
    #[cfg(target_arch = "riscv64")]
    csr::stimecmp::write(deadline as usize);
    #[cfg(target_arch = "riscv32")]
    {
        csr::stimecmp::write(usize::MAX);
        csr::stimecmph::write((deadline >> 32) as usize);
        csr::stimecmp::write(deadline as usize);
    }
}

/// No S timer interrupt from `stimecmp` (a hart with Sstc, as it starts
/// or as its vcore starts or stops).
pub fn clear_stimecmp() {
    set_stimecmp(u64::MAX);
}

/// SBI set_timer: an S timer interrupt for this hart's vcore at `deadline`.
pub fn set_guest_deadline(hart: usize, deadline: u64) {
    if machine::has_sstc(hart) {
        set_stimecmp(deadline);
        return;
    }
    csr::mip::clear(csr::STIP);
    GUEST_DEADLINE[hart].store(deadline, Ordering::SeqCst);
    program(hart);
}

/// What a machine timer interrupt found.
pub enum Expired {
    Nothing,
    /// The capsule has not polled its console for this many seconds.
    CapsuleSilent(u64),
}

/// Handles this hart's machine timer interrupt.
pub fn on_interrupt(hart: usize) -> Expired {
    let now = clint::mtime();
    let mut verdict = Expired::Nothing;
    if GUEST_DEADLINE[hart].load(Ordering::SeqCst) <= now {
        GUEST_DEADLINE[hart].store(u64::MAX, Ordering::SeqCst);
        csr::mip::set(csr::STIP);
    }
    if WATCHDOG_HART.load(Ordering::SeqCst) == hart && TICK_DEADLINE.load(Ordering::SeqCst) <= now {
        let hz = TIMEBASE_HZ.load(Ordering::SeqCst);
        let silent = now.saturating_sub(LAST_SIGN_OF_LIFE.load(Ordering::Relaxed)) / hz;
        if ARMED.load(Ordering::Relaxed) && silent >= SILENCE_LIMIT_S {
            verdict = Expired::CapsuleSilent(silent);
        }
        TICK_DEADLINE.store(now.saturating_add(hz), Ordering::SeqCst);
    }
    program(hart);
    verdict
}

/// Forgets this hart's deadlines (its vcore stopped).
pub fn stop(hart: usize) {
    GUEST_DEADLINE[hart].store(u64::MAX, Ordering::SeqCst);
    if machine::has_sstc(hart) {
        clear_stimecmp();
    }
    if WATCHDOG_HART.load(Ordering::SeqCst) == hart {
        // The watchdog cannot run on a parked hart; a capsule that stops
        // its boot vcore keeps running on the others unwatched.
        WATCHDOG_HART.store(usize::MAX, Ordering::SeqCst);
    }
    clint::set_mtimecmp(hart, u64::MAX);
}
