//! Each hart's machine timer, shared by everything that needs a deadline
//! on it: the running vcore's SBI timer (on harts without Sstc), the end
//! of its time slice, the earliest deadline of the vcores that sleep
//! waiting for their timer, and the hypervisor's one-second tick (the
//! watchdog). On a hart with Sstc a running vcore's deadline is its own
//! `stimecmp` instead, which raises its timer interrupt without M-mode.

use crate::run::capsule;
use crate::platform::clint;
use crate::arch::csr;
use crate::arch::machine;
use crate::run::sched;
use crate::run::vcore::Ticks;

/// The earliest deadline of a vcore blocked waiting (perhaps for its
/// timer); `u64::MAX` if none. Changed under a lock, so that a sweep that
/// recomputes it cannot lose a deadline a blocking hart adds meanwhile;
/// read without it (every hart reads it each time it sets its timer, and
/// a global lock there made four harts on QEMU's spike crawl).
static SLEEPERS: spin::Mutex<()> = spin::Mutex::new(());
static EARLIEST_SLEEPER: Ticks = Ticks::new(u64::MAX);
/// When the hypervisor's next tick is due.
static TICK: Ticks = Ticks::new(u64::MAX);
static TIMEBASE_HZ: Ticks = Ticks::new(10_000_000);
/// When the console is next polled for a capsule whose UART driver waits
/// for a receive interrupt (`u64::MAX`: no capsule does, and typed input
/// is picked up by polling drivers, SBI reads and the tick).
static INPUT_POLL: Ticks = Ticks::new(u64::MAX);
const INPUT_POLL_MS: u64 = 20;

/// Sets the timebase and starts the one-second tick.
pub fn init(timebase_hz: u64) {
    TIMEBASE_HZ.set(timebase_hz.max(1));
    TICK.set(clint::mtime().saturating_add(timebase_hz.max(1)));
}

pub fn hz() -> u64 {
    TIMEBASE_HZ.get()
}

/// Timer ticks in `ms` milliseconds.
pub fn slice_ticks(ms: u64) -> u64 {
    (hz().saturating_mul(ms) / 1000).max(1)
}

/// Milliseconds in `ticks` timer ticks (no overflow for any u64).
pub fn ms(ticks: u64) -> u64 {
    (u128::from(ticks) * 1000 / u128::from(hz())) as u64
}

/// Programs this hart's mtimecmp for the earliest of its deadlines.
pub fn program(hart: usize) {
    let mut next = EARLIEST_SLEEPER.get().min(TICK.get()).min(INPUT_POLL.get());
    if let Some(v) = sched::current(hart) {
        next = next.min(sched::slice_end(hart));
        if !machine::has_sstc(hart) {
            next = next.min(v.deadline.get());
        }
    }
    clint::set_mtimecmp(hart, next);
    if next == u64::MAX {
        csr::mie::clear(csr::MTIP);
    } else {
        csr::mie::set(csr::MTIP);
    }
}

/// Some capsule's UART driver now waits for a receive interrupt (`on`),
/// or none does any more: the console is polled for them every
/// `INPUT_POLL_MS` meanwhile.
pub fn input_polling(on: bool) {
    if on {
        INPUT_POLL.set(clint::mtime().saturating_add(slice_ticks(INPUT_POLL_MS)));
        program(crate::arch::cpu::hart_id());
    } else {
        INPUT_POLL.set(u64::MAX);
    }
}

/// A vcore blocks with `deadline`: the harts wake for it then.
pub fn sleeping(deadline: u64) {
    let _g = SLEEPERS.lock();
    if deadline < EARLIEST_SLEEPER.get() {
        EARLIEST_SLEEPER.set(deadline);
    }
}

/// The hart's machine timer fired (or the hart looks while idle): wakes
/// the sleepers whose deadline passed, and runs the tick if it is due.
/// Returns true if the running vcore's slice has ended.
pub fn on_tick(hart: usize) -> bool {
    let now = clint::mtime();
    if let Some(v) = sched::current(hart)
        && !machine::has_sstc(hart)
        && v.deadline.get() <= now
    {
        v.deadline.set(u64::MAX);
        csr::mip::set(csr::STIP);
    }
    let mut held = alloc::vec::Vec::new();
    // One hart sweeps at a time; the others go on (the sweep wakes all
    // that are due).
    if EARLIEST_SLEEPER.get() <= now
        && let Some(_g) = SLEEPERS.try_lock()
        && EARLIEST_SLEEPER.get() <= now
    {
        EARLIEST_SLEEPER.set(capsule::wake_sleepers(now, &mut held));
    }
    drop(held);
    let tick = TICK.get();
    if tick <= now {
        // One hart takes the tick: the first to move it on.
        let next = now.saturating_add(hz());
        if claim(&TICK, tick, next) {
            crate::run::console::pump();
            crate::run::console::flush_quiet();
            capsule::watchdog(now, hz());
        }
    }
    let poll = INPUT_POLL.get();
    if poll <= now && claim(&INPUT_POLL, poll, now.saturating_add(slice_ticks(INPUT_POLL_MS))) {
        crate::run::console::pump();
        crate::devices::glue::deliver_input();
    }
    let ended = sched::current(hart).is_some() && sched::slice_end(hart) <= now;
    // The deadline that fired is in the past: the timer goes to the next.
    program(hart);
    ended
}

/// Moves a periodic deadline from `seen` to `next` unless another hart
/// did already (or it was turned off meanwhile): true for the hart that
/// moved it, which does the work.
fn claim(deadline: &Ticks, seen: u64, next: u64) -> bool {
    static CLAIM: spin::Mutex<()> = spin::Mutex::new(());
    let _g = CLAIM.lock();
    if deadline.get() != seen {
        return false;
    }
    deadline.set(next);
    true
}

/// Reads this hart's `stimecmp` (Sstc).
pub fn read_stimecmp() -> u64 {
    #[cfg(target_arch = "riscv64")]
    return csr::stimecmp::read() as u64;
    #[cfg(target_arch = "riscv32")]
    return ((csr::stimecmph::read() as u64) << 32) | csr::stimecmp::read() as u64;
}


/// SBI set_timer from the vcore running on this hart: an S timer
/// interrupt for it at `deadline`.
pub fn set_guest_deadline(hart: usize, v: &crate::run::vcore::Vcore, deadline: u64) {
    if machine::has_sstc(hart) {
        csr::set_stimecmp(deadline);
        return;
    }
    csr::mip::clear(csr::STIP);
    v.deadline.set(deadline);
    program(hart);
}
