//! A vcore: one virtual hart of a capsule, with everything it carries from
//! hart to hart (general registers, S-mode state, FP registers, its SBI
//! timer deadline, pending IPIs and fences, its SBI extension state), and
//! the states it goes through.
//!
//! A vcore is owned by at most one hart at a time: the hart that took it
//! off the run queue (`sched.rs`) and runs it. Only that hart touches its
//! registers; other harts reach it through atomics only (pending bits,
//! its HSM and run states, its deadline).

use core::cell::UnsafeCell;
#[cfg(target_arch = "riscv64")]
use core::sync::atomic::AtomicU64;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use sbi::VcoreState;

use crate::arch::csr;
use crate::arch::guest::Context;
use crate::arch::sstate::SState;

// SBI HSM states (the vcore's, as its capsule sees them).
pub const STARTED: usize = 0;
pub const STOPPED: usize = 1;
pub const START_PENDING: usize = 2;
pub const SUSPENDED: usize = 4;

// Where a vcore is, for the scheduler.
/// Not started, or stopped (HSM): it never runs until started.
pub const OFF: usize = 0;
/// Waiting in `wfi` or an SBI suspend for an interrupt it has enabled.
pub const BLOCKED: usize = 1;
/// On the run queue.
pub const QUEUED: usize = 2;
/// Owned by a hart, which runs it (or is switching it in or out).
pub const RUNNING: usize = 3;

/// Pending bits other harts set for a vcore ([`Vcore::pending`]): the
/// S software interrupt (an SBI IPI) is mip's own bit.
pub const IPI: usize = csr::SSIP;
/// It must flush its TLB and instruction cache before it runs again.
pub const FENCE: usize = 1 << 16;

/// What the vcore does when it next runs after waking from a suspend.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// Return from the call (wfi, retentive suspend).
    InPlace,
    /// Start again at `addr` with a1 = `opaque` (non-retentive suspend,
    /// system suspend, hart_start).
    At { addr: usize, opaque: usize },
    /// As `At`, after the whole capsule was suspended (SUSP).
    FromSystemSuspend { addr: usize, opaque: usize },
}

/// A time shared between harts. rv32 has no 64-bit atomics, so a spin
/// lock guards it there; it is held for a load or a store only.
#[cfg(target_arch = "riscv64")]
pub struct Ticks(AtomicU64);
#[cfg(target_arch = "riscv32")]
pub struct Ticks(spin::Mutex<u64>);

impl Ticks {
    #[cfg(target_arch = "riscv64")]
    pub const fn new(v: u64) -> Ticks {
        Ticks(AtomicU64::new(v))
    }
    #[cfg(target_arch = "riscv64")]
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
    #[cfg(target_arch = "riscv64")]
    pub fn set(&self, v: u64) {
        self.0.store(v, Ordering::SeqCst)
    }
    #[cfg(target_arch = "riscv32")]
    pub const fn new(v: u64) -> Ticks {
        Ticks(spin::Mutex::new(v))
    }
    #[cfg(target_arch = "riscv32")]
    pub fn get(&self) -> u64 {
        *self.0.lock()
    }
    #[cfg(target_arch = "riscv32")]
    pub fn set(&self, v: u64) {
        *self.0.lock() = v
    }
    pub fn add(&self, d: u64) {
        self.set(self.get().saturating_add(d))
    }
}

/// Gives every vcore ever made a number of its own, never reused: a hart
/// remembers which vcore's TLB entries and FP values it holds by it (an
/// address could be reused by a later capsule's vcore).
static SERIALS: AtomicUsize = AtomicUsize::new(1);

pub struct Vcore {
    /// Its id in its capsule (0..n), as the capsule's device tree and SBI
    /// calls name it.
    pub id: usize,
    pub serial: usize,
    /// Saved by the trap vector; the hart that owns the vcore only.
    ctx: UnsafeCell<Context>,
    /// Its S-mode state while it is not running; the owner only.
    sstate: UnsafeCell<SState>,
    /// HSM state.
    pub hsm: AtomicUsize,
    /// OFF, BLOCKED, QUEUED or RUNNING.
    pub run: AtomicUsize,
    /// The hart running it, or `usize::MAX`.
    pub on_hart: AtomicUsize,
    /// The hart it last ran on (`usize::MAX`: none yet).
    pub last_hart: AtomicUsize,
    /// IPI and FENCE, set by others, taken when it runs.
    pub pending: AtomicUsize,
    /// S interrupts that wake it while BLOCKED (its sie then).
    pub wake_on: AtomicUsize,
    /// Its external interrupt line: its context at the capsule's PLIC
    /// has an interrupt to claim. The hart running it copies this into
    /// mip.SEIP before every entry.
    pub seip: AtomicBool,
    /// Its SBI timer deadline (`u64::MAX`: none). While it runs on a hart
    /// with Sstc the deadline is that hart's `stimecmp` instead.
    pub deadline: Ticks,
    /// How it goes on when it next runs.
    pub resume: spin::Mutex<Resume>,
    /// When it last went on the run queue (for steal time).
    pub queued_at: Ticks,
    /// Time it waited, runnable, for a hart; and time it ran.
    pub steal: Ticks,
    pub ran: Ticks,
    /// What the run queue orders by: the time it ran, raised after it
    /// slept (`crates/sched`).
    pub vruntime: Ticks,
    /// When it last started running.
    pub ran_since: Ticks,
    /// PMU and FWFT state (SBI).
    pub sbi: spin::Mutex<VcoreState>,
}

// SAFETY: `ctx` and `sstate` are touched only by the one hart that owns
// the vcore (run state RUNNING, taken under the run queue's lock or by a
// compare-and-swap that only one hart can win); everything else is an
// atomic or a lock.
unsafe impl Sync for Vcore {}

impl Vcore {
    pub fn new(id: usize) -> Vcore {
        Vcore {
            id,
            serial: SERIALS.fetch_add(1, Ordering::Relaxed),
            ctx: UnsafeCell::new(Context { regs: [0; 32], pc: 0, hv_sp: 0 }),
            sstate: UnsafeCell::new(SState::new()),
            hsm: AtomicUsize::new(STOPPED),
            run: AtomicUsize::new(OFF),
            on_hart: AtomicUsize::new(usize::MAX),
            last_hart: AtomicUsize::new(usize::MAX),
            pending: AtomicUsize::new(0),
            wake_on: AtomicUsize::new(0),
            seip: AtomicBool::new(false),
            deadline: Ticks::new(u64::MAX),
            resume: spin::Mutex::new(Resume::InPlace),
            queued_at: Ticks::new(0),
            steal: Ticks::new(0),
            ran: Ticks::new(0),
            vruntime: Ticks::new(0),
            ran_since: Ticks::new(0),
            sbi: spin::Mutex::new(VcoreState::new()),
        }
    }

    /// Its saved registers.
    ///
    /// # Safety
    /// The caller is the hart that owns the vcore (it runs it or is
    /// switching it), and holds no other reference to them.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn context(&self) -> &mut Context {
        // SAFETY: per the contract, the owner alone touches them.
        unsafe { &mut *self.ctx.get() }
    }

    /// Its saved S-mode state. Same contract as [`Vcore::context`].
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn sstate(&self) -> &mut SState {
        // SAFETY: per the contract, the owner alone touches it.
        unsafe { &mut *self.sstate.get() }
    }

    /// Moves the run state from `from` to `to`; false if it was not `from`.
    pub fn shift(&self, from: usize, to: usize) -> bool {
        self.run.compare_exchange(from, to, Ordering::SeqCst, Ordering::SeqCst).is_ok()
    }

    pub fn is(&self, run: usize) -> bool {
        self.run.load(Ordering::SeqCst) == run
    }

    /// True if, BLOCKED, it has a reason to run now: a pending interrupt
    /// it waits for, or its deadline passed while it waits for the timer.
    pub fn should_wake(&self, now: u64) -> bool {
        let on = self.wake_on.load(Ordering::SeqCst);
        (self.pending.load(Ordering::SeqCst) & on & IPI != 0)
            || (on & csr::STIP != 0 && self.deadline.get() <= now)
            || (on & csr::SEIP != 0 && self.seip.load(Ordering::SeqCst))
    }
}
