//! Running a capsule's vcores on the harts: starting and stopping them
//! (SBI HSM), and everything a capsule's trap into M-mode can mean.
//!
//! Each vcore is pinned to the physical hart with the same id, so a trap
//! is handled on the hart it happened on and nothing but the general
//! registers needs saving.

use core::sync::atomic::{AtomicUsize, Ordering};

use sbi::{Action, Call, ResetKind, Suspend};

use super::capsule::{self, Capsule};
use super::console::{force_println, println};
use super::guest::{self, Context};
use super::layout::MAX_HARTS;
use super::sbi_host::VcoreHost;
use super::{cpu, csr, emulate, machine, mailbox, pmp, power, reflect, sbi_state, timer};

// SBI HSM states.
pub const STARTED: usize = 0;
pub const STOPPED: usize = 1;
pub const START_PENDING: usize = 2;
pub const SUSPENDED: usize = 4;
pub const SUSPEND_PENDING: usize = 5;
pub const RESUME_PENDING: usize = 6;

static STATE: [AtomicUsize; MAX_HARTS] = [const { AtomicUsize::new(STOPPED) }; MAX_HARTS];

/// Exceptions the capsule's kernel handles itself: misaligned accesses,
/// illegal instructions (including touching M-mode CSRs), breakpoints,
/// system calls from its user space, and page faults. Access faults (PMP)
/// and calls into SBI stay with the hypervisor.
///
/// On a hart with the H extension the kernel runs in HS-mode and may run
/// its own guests in VS/VU-mode, so what a hypervisor kernel handles is
/// delegated too, as on real hardware under OpenSBI: ecalls from VS-mode,
/// guest-page faults and virtual-instruction traps. Without H these
/// medeleg bits are read-only zero and writing them changes nothing.
const DELEGATED_EXCEPTIONS: usize = (1 << 0) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 6) | (1 << 8)
    | (1 << 10) | (1 << 12) | (1 << 13) | (1 << 15) | (1 << 20) | (1 << 21) | (1 << 22) | (1 << 23);
/// Interrupts at S level go straight to the capsule.
const DELEGATED_INTERRUPTS: usize = csr::SSIP | csr::STIP | csr::SEIP;
/// cycle, time and instret readable from S-mode (mcounteren) and, as
/// firmware such as OpenSBI leaves it for Linux, from U-mode (scounteren):
/// the vDSO's clock_gettime reads `time` in user space, and a program
/// that does so dies of SIGILL if scounteren.TM is clear.
const COUNTERS: usize = 0b111;

pub fn state(hart: usize) -> usize {
    STATE.get(hart).map_or(STOPPED, |s| s.load(Ordering::SeqCst))
}

/// True if `hart`'s vcore may hold address translations of its capsule:
/// it runs, or is suspended (and serves fence requests while it waits).
pub fn holds_translations(hart: usize) -> bool {
    !matches!(state(hart), STOPPED | START_PENDING)
}

/// Moves a stopped hart to start-pending; false if it was not stopped.
fn claim_for_start(hart: usize) -> bool {
    STATE.get(hart).is_some_and(|s| {
        s.compare_exchange(STOPPED, START_PENDING, Ordering::SeqCst, Ordering::SeqCst).is_ok()
    })
}

/// Prepares this hart to run `c`: its PMP window, delegation and counters.
fn prepare_hart(c: &Capsule) {
    if let Err(e) = pmp::confine_to(&c.ram) {
        println!("[diosix] cannot confine the {} on hart {}: {e}", c.name, cpu::hart_id());
        power::exit(2);
    }
    // Nothing left over from a previous run of a vcore on this hart.
    csr::mip::clear(csr::STIP | csr::SSIP);
    if machine::has_sstc(cpu::hart_id()) {
        timer::clear_stimecmp();
    }
    csr::fence_i();
    // A hart without the `time` CSR keeps illegal instructions, to
    // emulate reads of it (`emulate.rs`) and pass the rest on.
    let keep = if machine::has_time_csr(cpu::hart_id()) { 0 } else { 1 << 2 };
    csr::medeleg::write(DELEGATED_EXCEPTIONS & !keep);
    csr::mideleg::write(DELEGATED_INTERRUPTS);
    csr::mcounteren::write(COUNTERS);
    csr::scounteren::write(COUNTERS);
    csr::mie::write(csr::MSIP);
}

/// Enters capsule `c` on `hart` in S-mode at `pc`, with a0 = the vcore's
/// id in the capsule and a1 as Linux expects: MMU off, S interrupts off,
/// FP off until the kernel enables it.
fn enter_at(hart: usize, c: &Capsule, pc: u64, a1: usize) -> ! {
    let Some(a0) = c.vcore_of(hart) else {
        force_println!("[diosix] hart {hart} runs no vcore of the {}", c.name);
        power::exit(2)
    };
    // SAFETY: we are `hart`, and no other reference to its context lives
    // (the trap path that may have used it has been left for good).
    let ctx = unsafe { guest::context(hart) };
    ctx.regs = [0; 32];
    ctx.regs[Context::A0] = a0;
    ctx.regs[Context::A1] = a1;
    ctx.pc = pc as usize;
    csr::satp::write(0);
    csr::mstatus::clear(
        csr::MPP_MASK | csr::SPP | csr::SPIE | csr::SIE | csr::FS_MASK | csr::VS_MASK
            | csr::MPRV | csr::SUM | csr::MXR | csr::TVM | csr::TW | csr::TSR,
    );
    csr::mstatus::set(csr::MPP_S);
    mailbox::done(hart, mailbox::START);
    STATE[hart].store(STARTED, Ordering::SeqCst);
    guest::enter(hart, ctx)
}

/// Starts the boot capsule's first vcore on the boot hart.
pub fn start_boot(hart: usize, c: &'static Capsule, timebase_hz: u64) -> ! {
    prepare_hart(c);
    timer::start_watchdog(hart, timebase_hz);
    enter_at(hart, c, c.entry, c.tree as usize)
}

/// Starts the boot capsule's first vcore on `hart`, which is not the
/// calling (boot) hart, the way `hart_start` starts one: through its
/// mailbox, with a0 = its id and a1 = the device tree. The watchdog goes
/// with it.
pub fn hand_boot_to(hart: usize, c: &'static Capsule, timebase_hz: u64) {
    timer::start_watchdog_on_entry(hart, timebase_hz);
    if !start_on(hart, c.entry as usize, c.tree as usize) {
        println!("[diosix] hart {hart} is not waiting for a vcore; the boot capsule cannot start");
        power::exit(2);
    }
}

/// Starts a vcore on the stopped `hart` at `addr` with a1 = `opaque`,
/// through its mailbox (HSM `hart_start`, and the hand-over above); false
/// if the hart was not stopped.
pub fn start_on(hart: usize, addr: usize, opaque: usize) -> bool {
    if !claim_for_start(hart) {
        return false;
    }
    let mb = mailbox::of(hart);
    mb.start_addr.store(addr, Ordering::SeqCst);
    mb.start_opaque.store(opaque, Ordering::SeqCst);
    mailbox::post(hart, mailbox::START);
    true
}

/// A hart with no vcore to run: wait for HSM `hart_start`, serving fences
/// meanwhile.
pub fn park(hart: usize) -> ! {
    // STATE is already STOPPED (initially, or set by hart_stop); storing it
    // here could undo a hart_start that claimed this hart meanwhile.
    csr::mie::write(csr::MSIP);
    loop {
        let bits = mailbox::take(hart);
        run_requested_fences(hart);
        mailbox::done(hart, bits & !mailbox::START);
        // enter_at marks the START request done.
        if bits & mailbox::START != 0
            && let Some(c) = capsule::boot()
        {
            let mb = mailbox::of(hart);
            let addr = mb.start_addr.load(Ordering::SeqCst);
            let opaque = mb.start_opaque.load(Ordering::SeqCst);
            // A start is the vcore's hart reset: PMU and FWFT state go.
            sbi_state::reset(hart);
            prepare_hart(c);
            timer::entering(hart);
            enter_at(hart, c, addr as u64, opaque);
        }
        riscv::asm::wfi();
    }
}

/// Runs the fences other harts asked of this one, if any, and says so.
/// Decided by the counters, not the mailbox bits: a request that arrives
/// while an earlier one is served bumps the count and raises msip again,
/// so it is never lost with the bits that `done` clears.
fn run_requested_fences(hart: usize) {
    let count = mailbox::fences_to_run(hart);
    if count != mailbox::fences_done(hart) {
        run_fences(mailbox::FENCE_I | mailbox::SFENCE_VMA);
        mailbox::fences_ran(hart, count);
    }
}

/// Runs the fences named in `bits` on this hart.
pub fn run_fences(bits: usize) {
    if bits & mailbox::FENCE_I != 0 {
        csr::fence_i();
    }
    if bits & mailbox::SFENCE_VMA != 0 {
        csr::sfence_vma();
    }
}

/// Carries out what other harts posted to this (running) hart.
pub fn serve_mailbox(hart: usize) {
    let bits = mailbox::take(hart);
    if bits & mailbox::IPI != 0 {
        csr::mip::set(csr::SSIP);
    }
    run_requested_fences(hart);
    mailbox::done(hart, bits & !mailbox::START);
}

/// Called from the trap vector with the capsule's saved registers;
/// returns the context to resume.
pub extern "C" fn guest_trap(ctx: &'static mut Context) -> *mut Context {
    let hart = cpu::hart_id();
    let cause = csr::mcause::read();
    let interrupt = cause >> (usize::BITS - 1) != 0;
    let code = cause & !(1 << (usize::BITS - 1));
    let Some(c) = capsule::boot() else {
        capsule_died(hart, ctx, "trap before the capsule existed");
    };
    match (interrupt, code) {
        (true, 7) => {
            // A vcore deadline (then an S timer interrupt is raised) or the
            // watchdog's tick.
            if let timer::Expired::CapsuleSilent(s) = timer::on_interrupt(hart) {
                let why = alloc::format!("it stopped responding (no console poll for {s} s; a kernel panic?)");
                capsule_died(hart, ctx, &why);
            }
        }
        (true, 3) => serve_mailbox(hart),
        (false, 9) => sbi_call(hart, c, ctx),
        (false, 1 | 5 | 7) => reflect_access_fault(hart, c, ctx, cause),
        (false, 2) => {
            if emulate::illegal_instruction(ctx).is_err() {
                capsule_died(hart, ctx, "illegal instruction with no working trap handler");
            }
        }
        _ => capsule_died(hart, ctx, cpu::exception_name(interrupt, code)),
    }
    ctx
}

fn sbi_call(hart: usize, c: &'static Capsule, ctx: &mut Context) {
    let r = &ctx.regs;
    let call = Call {
        eid: r[Context::A7],
        fid: r[Context::A6],
        args: [r[10], r[11], r[12], r[13], r[14], r[15]],
    };
    // An ecall at the very top of the address space resumes at 0, as the
    // hart's own pc would wrap; it must not overflow here.
    ctx.pc = ctx.pc.wrapping_add(4);
    let Some(vcore) = c.vcore_of(hart) else {
        capsule_died(hart, ctx, "an SBI call from a hart that runs none of its vcores");
    };
    let mut host = VcoreHost { hart, vcore, capsule: c };
    match sbi::dispatch(&mut host, call) {
        Action::Return(ret) => {
            ctx.regs[Context::A0] = ret.error;
            ctx.regs[Context::A1] = ret.value;
        }
        Action::ReturnLegacy(v) => ctx.regs[Context::A0] = v,
        Action::StopHart => {
            timer::stop(hart);
            STATE[hart].store(STOPPED, Ordering::SeqCst);
            csr::mie::write(0);
            if c.harts.iter().filter_map(|v| c.hart_of(v)).all(|h| state(h) == STOPPED) {
                // No vcore is left to start the others again: the capsule
                // can never run another instruction.
                capsule_died(hart, ctx, "it stopped all its vcores (HSM hart_stop on the last one)");
            }
            park(hart)
        }
        Action::Suspend(how) => suspend(hart, c, ctx, how),
        Action::Reset { kind, reason } => {
            let why = if reason == 1 { " (system failure)" } else { "" };
            match kind {
                ResetKind::Shutdown => {
                    println!("\n[diosix] {} shut down the system{why}", c.name);
                    power::exit(if reason == 1 { 5 } else { 0 })
                }
                ResetKind::ColdReboot | ResetKind::WarmReboot => {
                    println!("\n[diosix] {} asked for a reboot{why}: resetting the machine", c.name);
                    power::reset()
                }
            }
        }
    }
}

/// HSM `hart_suspend` and SUSP `system_suspend`: the vcore goes through
/// SUSPEND_PENDING to SUSPENDED, waits in M-mode (serving its mailbox
/// and timer meanwhile) until an S interrupt it has enabled in `sie` is
/// pending, then through RESUME_PENDING to STARTED: after the `ecall`
/// with success (retentive), or at the resume address as after a start.
fn suspend(hart: usize, c: &Capsule, ctx: &mut Context, how: Suspend) {
    STATE[hart].store(SUSPEND_PENDING, Ordering::SeqCst);
    if let Suspend::System { .. } = how {
        println!("[diosix] {} suspended to RAM (vcore {hart})", c.name);
    }
    STATE[hart].store(SUSPENDED, Ordering::SeqCst);
    wait_for_guest_interrupt(hart);
    STATE[hart].store(RESUME_PENDING, Ordering::SeqCst);
    match how {
        Suspend::Retentive => {
            ctx.regs[Context::A0] = 0;
            ctx.regs[Context::A1] = 0;
            STATE[hart].store(STARTED, Ordering::SeqCst);
        }
        Suspend::NonRetentive { addr, opaque } => enter_at(hart, c, addr as u64, opaque),
        Suspend::System { addr, opaque } => {
            println!("[diosix] {} resumed from suspend to RAM", c.name);
            enter_at(hart, c, addr as u64, opaque)
        }
    }
}

/// Waits until an S interrupt the vcore has enabled (its `sie` is `mie`'s
/// S bits) is pending, handling the hart's machine interrupts meanwhile:
/// requests from other harts, and the timer, which raises STIP when the
/// vcore's deadline passes. A `wfi` wakes for any interrupt enabled in
/// `mie`, although M-mode runs with mstatus.MIE clear here.
fn wait_for_guest_interrupt(hart: usize) {
    const GUEST: usize = csr::SSIP | csr::STIP | csr::SEIP;
    loop {
        let pending = csr::mip::read();
        if pending & csr::MSIP != 0 {
            serve_mailbox(hart);
        }
        if pending & csr::MTIP != 0
            && let timer::Expired::CapsuleSilent(_) = timer::on_interrupt(hart)
        {
            // A suspended capsule is asleep, not dead: it cannot poll its
            // console now. It gets the watchdog's full time again.
            timer::console_polled();
        }
        if csr::mip::read() & csr::mie::read() & GUEST != 0 {
            return;
        }
        riscv::asm::wfi();
    }
}

/// Reports reflected access faults, up to a limit.
static REFLECTED: AtomicUsize = AtomicUsize::new(0);
const REPORT_LIMIT: usize = 32;

/// An access outside the capsule's PMP window: deliver the fault to the
/// capsule's kernel exactly as the hardware would if it were delegated.
fn reflect_access_fault(hart: usize, c: &Capsule, ctx: &mut Context, cause: usize) {
    let tval = csr::mtval::read();
    let name = cpu::exception_name(false, cause);
    if REFLECTED.fetch_add(1, Ordering::Relaxed) < REPORT_LIMIT {
        println!(
            "[diosix] {} vcore {hart}: {name} at {tval:#x} (pc {:#x}) is outside the capsule; reflected to its kernel",
            c.name, ctx.pc
        );
    }
    if reflect::to_supervisor(ctx, cause, tval).is_err() {
        capsule_died(hart, ctx, "access fault with no working trap handler");
    }
}

/// The boot capsule cannot go on: say which and why, then power off with
/// a failure status (the boot capsule is the system).
fn capsule_died(hart: usize, ctx: &Context, why: &str) -> ! {
    force_println!(
        "\n[diosix] boot capsule died: {why}; vcore {hart} at pc {:#x} (mcause {:#x}, mtval {:#x})",
        ctx.pc,
        csr::mcause::read(),
        csr::mtval::read()
    );
    power::exit(4)
}
