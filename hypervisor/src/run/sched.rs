//! The scheduler: which vcore each hart runs, and the switch between them.
//!
//! Runnable vcores of every capsule wait on one run queue; any hart takes
//! the next: the one that has run least (`crates/sched`, which says why a
//! first-come queue is not enough). A vcore runs until its time
//! slice ends while another waits, it waits itself (`wfi`, an SBI
//! suspend), it stops, or its capsule ends. A hart with nothing to run
//! sleeps in `wfi` until a vcore is queued (the queuer wakes it with a
//! software interrupt), a deadline passes, or another hart asks it for a
//! fence.
//!
//! A switch saves the outgoing vcore's S-mode state (and FP and vector
//! registers) and loads the incoming one's. The hart's TLB and
//! instruction cache are flushed unless the incoming vcore is the one
//! whose entries they hold, and the PMP window is reprogrammed when the
//! capsule changes: nothing of one capsule stays reachable, or readable,
//! to another.

use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicUsize, Ordering};

use ::sched::RunQueue;

use crate::run::capsule::VcoreRef;
use crate::run::console::{force_println, println};
use crate::arch::guest::{self, Context};
use crate::arch::layout::{self, MAX_HARTS};
use crate::run::vcore::{self, BLOCKED, OFF, QUEUED, RUNNING, Resume, Vcore};
use crate::{
    arch::{csr, machine},
    platform::{clint, power},
    isolation::pmp,
    run::{mailbox, sbi_state, timer},
};

/// The time slice, in milliseconds (build setting `DIOSIX_SLICE_MS`).
use crate::built::settings::{SCHED_STATS, SLICE_MS};

static QUEUE: spin::Mutex<RunQueue<VcoreRef>> = spin::Mutex::new(RunQueue::new(0));

/// Sets the run queue's grace for sleepers (one slice) once the
/// timebase is known.
pub fn init() {
    *QUEUE.lock() = RunQueue::new(timer::slice_ticks(SLICE_MS));
}

/// Harts asleep with nothing to run, a bit each.
static IDLE: AtomicUsize = AtomicUsize::new(0);

/// Per hart, the serial of the vcore whose TLB entries and FP and vector
/// values the hart may hold, and the capsule its PMP window is set for
/// (0: none).
static TLB_OWNER: [AtomicUsize; MAX_HARTS] = [const { AtomicUsize::new(0) }; MAX_HARTS];
static FP_OWNER: [AtomicUsize; MAX_HARTS] = [const { AtomicUsize::new(0) }; MAX_HARTS];
static PMP_OWNER: [AtomicUsize; MAX_HARTS] = [const { AtomicUsize::new(0) }; MAX_HARTS];
static SLICE_END: [vcore::Ticks; MAX_HARTS] = [const { vcore::Ticks::new(u64::MAX) }; MAX_HARTS];

/// The vcore each hart runs.
struct Current(UnsafeCell<[Option<VcoreRef>; MAX_HARTS]>);

// SAFETY: each hart touches only its own slot (indexed by its own id).
unsafe impl Sync for Current {}

static CURRENT: Current = Current(UnsafeCell::new([const { None }; MAX_HARTS]));

/// The calling hart's slot.
fn slot(hart: usize) -> &'static mut Option<VcoreRef> {
    // SAFETY: only `hart` itself calls this with its own id, and it uses
    // the reference before asking for another (no two live at once).
    unsafe { &mut (*CURRENT.0.get())[hart] }
}

/// The vcore running on the calling hart `hart`, if any.
pub fn current(hart: usize) -> Option<&'static VcoreRef> {
    slot(hart).as_ref()
}

/// Puts a vcore already marked QUEUED on the run queue and wakes an idle
/// hart for it.
pub fn enqueue(v: VcoreRef) {
    v.queued_at.set(clint::mtime());
    let vruntime = v.vruntime.get();
    let vcore = v.clone();
    let queued_with = QUEUE.lock().push(v, vruntime);
    vcore.vruntime.set(queued_with);
    kick_idle();
}

/// True if a vcore is waiting for a hart.
pub fn anyone_waiting() -> bool {
    !QUEUE.lock().is_empty()
}

fn kick_idle() {
    let idle = IDLE.load(Ordering::SeqCst);
    if idle != 0 {
        mailbox::post(idle.trailing_zeros() as usize, mailbox::KICK);
    }
}

/// A BLOCKED vcore has a reason to run: queue it.
pub fn wake(v: &VcoreRef) {
    if v.shift(BLOCKED, QUEUED) {
        enqueue(v.clone());
    }
}

/// Tells vcore `v` that its pending bits changed: a running vcore's
/// hart merges them at once, a blocked one that waits for them wakes.
pub fn notify(v: &VcoreRef) {
    match v.run.load(Ordering::SeqCst) {
        RUNNING => {
            let hart = v.on_hart.load(Ordering::SeqCst);
            if hart < MAX_HARTS {
                mailbox::post(hart, mailbox::KICK);
            }
        }
        BLOCKED if v.should_wake(clint::mtime()) => wake(v),
        _ => {}
    }
}

/// Vcore `v`'s external interrupt line changed (`devices/glue.rs`): the vcore
/// this hart runs gets it in mip at once; one running on another hart is
/// kicked so that hart copies it ([`merge_pending`]), as a hart that is
/// still switching it in does; a blocked vcore waiting for it wakes.
pub fn external_changed(v: &VcoreRef) {
    match v.run.load(Ordering::SeqCst) {
        RUNNING => {
            let me = crate::arch::cpu::hart_id();
            if current(me).is_some_and(|cur| cur.serial == v.serial) {
                apply_seip(v);
                return;
            }
            let hart = v.on_hart.load(Ordering::SeqCst);
            if hart < MAX_HARTS && hart != me {
                mailbox::post(hart, mailbox::KICK);
            }
        }
        BLOCKED if v.should_wake(clint::mtime()) => wake(v),
        _ => {}
    }
}

/// Copies the vcore's external interrupt line into mip.SEIP.
fn apply_seip(v: &Vcore) {
    if v.seip.load(Ordering::SeqCst) {
        csr::mip::set(csr::SEIP);
    } else {
        csr::mip::clear(csr::SEIP);
    }
}

/// Takes what others left for the running vcore `v` into the hart: IPIs
/// become a pending S software interrupt, fences run.
pub fn merge_pending(v: &Vcore) {
    apply_seip(v);
    let bits = v.pending.swap(0, Ordering::SeqCst);
    if bits & vcore::IPI != 0 {
        csr::mip::set(csr::SSIP);
    }
    if bits & vcore::FENCE != 0 {
        flush();
    }
}

fn flush() {
    csr::sfence_vma();
    csr::fence_i();
}

/// What the running vcore does next, as its trap's handling decided.
pub enum After {
    /// Go on running.
    Resume,
    /// Its slice ended: let a waiting vcore run.
    Preempt,
    /// It waits for an interrupt (wfi, suspend).
    Block,
    /// It goes back on the run queue even if nothing else waits (to be
    /// switched in afresh: a non-retentive resume).
    Requeue,
    /// It stopped (HSM hart_stop).
    Stop,
    /// Its capsule is ending (already marked dying).
    Gone,
}

/// After a trap: carries out `after` for the hart's vcore, then returns
/// the context to enter (perhaps another vcore's, after waiting for one).
pub fn after_trap(hart: usize, after: After) -> *mut Context {
    if !SCHED_STATS {
        return next(hart, after);
    }
    let before = (csr::instret(), clint::mtime(), current(hart).map(|v| v.capsule.id));
    IDLED[hart].store(false, Ordering::Relaxed);
    let ctx = next(hart, after);
    let now = current(hart).map(|v| v.capsule.id);
    if before.2.is_some() && now.is_some() && before.2 != now && !IDLED[hart].load(Ordering::Relaxed) {
        let mut s = STATS.lock();
        s.0 += 1;
        s.1 += csr::instret().wrapping_sub(before.0);
        s.2 += clint::mtime().wrapping_sub(before.1);
    }
    ctx
}

/// With `DIOSIX_SCHED_STATS`: switches between capsules (not counting
/// those where the hart slept between), their instructions and timer
/// ticks, from the trap handler's return to the next capsule's entry.
static STATS: spin::Mutex<(u64, u64, u64)> = spin::Mutex::new((0, 0, 0));
static IDLED: [core::sync::atomic::AtomicBool; MAX_HARTS] = [const { core::sync::atomic::AtomicBool::new(false) }; MAX_HARTS];

/// Says what [`STATS`] counted (when the machine powers off).
pub fn report_stats() {
    if !SCHED_STATS {
        return;
    }
    let (n, insns, ticks) = *STATS.lock();
    let ns = (ticks as u128 * 1_000_000_000 / timer::hz() as u128) as u64;
    let per = |x: u64| x.checked_div(n).unwrap_or(0);
    println!(
        "[diosix] scheduler: {n} switches between capsules, {} instructions and {} ns each on average",
        per(insns),
        per(ns)
    );
}

fn next(hart: usize, after: After) -> *mut Context {
    let Some(cur) = slot(hart).take() else {
        return pick(hart);
    };
    let after = if cur.capsule.is_dying() { After::Gone } else { after };
    match after {
        After::Resume => return keep(hart, cur),
        After::Preempt => {
            if anyone_waiting() {
                switch_out(hart, &cur, true);
                cur.run.store(QUEUED, Ordering::SeqCst);
                enqueue(cur);
            } else {
                return keep(hart, cur);
            }
        }
        After::Block => {
            switch_out(hart, &cur, true);
            block(cur);
        }
        After::Requeue => {
            switch_out(hart, &cur, true);
            cur.run.store(QUEUED, Ordering::SeqCst);
            enqueue(cur);
        }
        After::Stop => {
            switch_out(hart, &cur, true);
            // Nothing it asked for outlives it: no deadline, no pending
            // IPI (a start gives it fresh S-mode state too).
            cur.deadline.set(u64::MAX);
            cur.pending.store(0, Ordering::SeqCst);
            cur.run.store(OFF, Ordering::SeqCst);
            cur.hsm.store(vcore::STOPPED, Ordering::SeqCst);
        }
        After::Gone => {
            switch_out(hart, &cur, false);
            cur.run.store(OFF, Ordering::SeqCst);
            // The last reference may be this one: the capsule's RAM is
            // zeroed and freed as it drops (not under any lock).
            drop(cur);
        }
    }
    pick(hart)
}

/// The same vcore goes on: a new slice if its ended, and then the timer
/// set (its other deadlines did not change: a hart sets its timer again
/// whenever one of them does).
fn keep(hart: usize, cur: VcoreRef) -> *mut Context {
    let now = clint::mtime();
    let new_slice = SLICE_END[hart].get() <= now;
    if new_slice {
        SLICE_END[hart].set(now.saturating_add(timer::slice_ticks(SLICE_MS)));
    }
    let ctx: *mut Context = {
        // SAFETY: this hart owns the running vcore.
        let ctx = unsafe { cur.context() };
        ctx as *mut Context
    };
    *slot(hart) = Some(cur);
    if new_slice {
        timer::program(hart);
    }
    ctx
}

/// The vcore waits: BLOCKED, unless a reason to run arrived meanwhile.
fn block(v: VcoreRef) {
    // SAFETY: this hart still owns the vcore (it is RUNNING until the
    // store below).
    let sie = unsafe { v.sstate().sie };
    v.wake_on.store(sie & crate::arch::sstate::S_PENDING, Ordering::SeqCst);
    v.run.store(BLOCKED, Ordering::SeqCst);
    timer::sleeping(v.deadline.get());
    // A capsule that waits has finished writing for now: its partial line
    // (a prompt, the echo of a key) goes out.
    if v.capsule.is_idle() {
        crate::run::console::flush(v.capsule.id);
    }
    // A pending bit set before the store above was not seen by its poster
    // as BLOCKED: look again.
    if v.should_wake(clint::mtime()) {
        wake(&v);
    }
}

/// Saves the vcore's state from the hart (all of it if `save`; a dying
/// capsule's is dropped), and leaves the hart holding nothing it needs.
fn switch_out(hart: usize, v: &VcoreRef, save: bool) {
    let now = clint::mtime();
    let ran = now.saturating_sub(v.ran_since.get());
    v.ran.add(ran);
    v.vruntime.add(ran);
    if save {
        // SAFETY: this hart owns the vcore until its run state changes.
        let s = unsafe { v.sstate() };
        s.save(hart, true);
        if machine::has_sstc(hart) {
            v.deadline.set(timer::read_stimecmp());
        }
        FP_OWNER[hart].store(v.serial, Ordering::SeqCst);
    } else {
        FP_OWNER[hart].store(0, Ordering::SeqCst);
    }
    if machine::has_sstc(hart) {
        csr::clear_stimecmp();
    }
    csr::mip::clear(csr::SSIP | csr::SEIP | if machine::has_sstc(hart) { 0 } else { csr::STIP });
    TLB_OWNER[hart].store(v.serial, Ordering::SeqCst);
    v.last_hart.store(hart, Ordering::SeqCst);
    v.on_hart.store(usize::MAX, Ordering::SeqCst);
    SLICE_END[hart].set(u64::MAX);
}

/// Takes the next runnable vcore, dropping those whose capsule is ending.
fn pop() -> Option<VcoreRef> {
    let mut dead = Vec::new();
    let next = QUEUE.lock().pop(|v| !v.capsule.is_dying(), |v| {
        v.run.store(OFF, Ordering::SeqCst);
        dead.push(v);
    });
    let next = next.map(|(v, _)| {
        v.run.store(RUNNING, Ordering::SeqCst);
        v
    });
    // Outside the lock: a capsule's last reference going zeroes its RAM.
    drop(dead);
    next
}

/// Waits for a vcore to run, then switches to it.
fn pick(hart: usize) -> *mut Context {
    let bit = 1usize << hart;
    loop {
        serve_mailbox(hart);
        timer::on_tick(hart);
        if let Some(v) = pop() {
            return switch_in(hart, v);
        }
        IDLE.fetch_or(bit, Ordering::SeqCst);
        if anyone_waiting() {
            IDLE.fetch_and(!bit, Ordering::SeqCst);
            continue;
        }
        timer::program(hart);
        if SCHED_STATS {
            IDLED[hart].store(true, Ordering::Relaxed);
        }
        riscv::asm::wfi();
        IDLE.fetch_and(!bit, Ordering::SeqCst);
    }
}

/// Loads vcore `v` into the hart; returns its context to enter.
fn switch_in(hart: usize, v: VcoreRef) -> *mut Context {
    v.on_hart.store(hart, Ordering::SeqCst);
    let now = clint::mtime();
    let waited = now.saturating_sub(v.queued_at.get());
    v.steal.add(waited);
    v.ran_since.set(now);
    let id = v.capsule.id as usize;
    if PMP_OWNER[hart].swap(id, Ordering::SeqCst) != id
        && let Err(e) = pmp::confine_to(&v.capsule.ram)
    {
        force_println!("[diosix] cannot confine capsule {} on hart {hart}: {e}", v.capsule.id);
        power::exit(2);
    }
    let same_hart = v.last_hart.load(Ordering::SeqCst) == hart;
    if !(same_hart && TLB_OWNER[hart].load(Ordering::SeqCst) == v.serial) {
        flush();
    }
    let resume = core::mem::replace(&mut *v.resume.lock(), Resume::InPlace);
    // SAFETY: this hart took the vcore off the queue: it owns it.
    let (ctx, s) = unsafe { (v.context(), v.sstate()) };
    if let Resume::FromSystemSuspend { .. } = resume {
        println!("[diosix] {} resumed from suspend to RAM", v.capsule.title());
    }
    if let Resume::At { addr, opaque } | Resume::FromSystemSuspend { addr, opaque } = resume {
        // A start (or a non-retentive resume) is the vcore's hart reset:
        // registers, S-mode state, SBI state and the TLB start afresh.
        flush();
        s.reset();
        ctx.regs = [0; 32];
        ctx.regs[Context::A0] = v.id;
        ctx.regs[Context::A1] = opaque;
        ctx.pc = addr;
        if v.hsm.load(Ordering::SeqCst) == vcore::START_PENDING {
            sbi_state::reset(&v);
        }
    }
    let fp_held = same_hart && FP_OWNER[hart].load(Ordering::SeqCst) == v.serial;
    s.load(hart, !fp_held);
    FP_OWNER[hart].store(v.serial, Ordering::SeqCst);
    TLB_OWNER[hart].store(v.serial, Ordering::SeqCst);
    // Its timer: Sstc's stimecmp holds it while it runs; elsewhere a
    // deadline already passed raises STIP now.
    if machine::has_sstc(hart) {
        csr::set_stimecmp(v.deadline.get());
    } else if v.deadline.get() <= now {
        v.deadline.set(u64::MAX);
        csr::mip::set(csr::STIP);
    }
    sbi_state::switch_in(hart, &v);
    merge_pending(&v);
    v.hsm.store(vcore::STARTED, Ordering::SeqCst);
    crate::run::sta::publish(hart, &v, waited);
    ctx.hv_sp = layout::stack_top(hart);
    let ptr = ctx as *mut Context;
    SLICE_END[hart].set(now.saturating_add(timer::slice_ticks(SLICE_MS)));
    *slot(hart) = Some(v);
    timer::program(hart);
    ptr
}

/// The slice end of `hart` (for the timer).
pub fn slice_end(hart: usize) -> u64 {
    SLICE_END[hart].get()
}

/// Serves what other harts posted to this one: fences, and kicks (a
/// queued vcore, or pending bits for the running one).
pub fn serve_mailbox(hart: usize) {
    let bits = mailbox::take(hart);
    run_requested_fences(hart);
    if let Some(v) = current(hart) {
        merge_pending(v);
    }
    mailbox::done(hart, bits);
}

/// Runs the fences other harts asked of this one, if any. Decided by the
/// counters, not the mailbox bits: a request that arrives while an
/// earlier one is served bumps the count and raises msip again.
fn run_requested_fences(hart: usize) {
    let count = mailbox::fences_to_run(hart);
    if count != mailbox::fences_done(hart) {
        flush();
        mailbox::fences_ran(hart, count);
    }
}

/// Starts the scheduler on this hart, which runs no vcore yet: the
/// hart's trap set-up, then the first vcore it finds.
pub fn start(hart: usize) -> ! {
    vcore_traps::prepare_hart(hart);
    let ctx = pick(hart);
    // SAFETY: pick returns the context of the vcore this hart now owns,
    // with its state loaded.
    guest::enter(unsafe { &mut *ctx })
}

use crate::run::exits as vcore_traps;
