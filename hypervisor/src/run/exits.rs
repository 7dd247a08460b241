//! What a capsule's trap into M-mode means: the run loop's other half.
//!
//! The trap vector saves the vcore's registers and calls [`guest_trap`],
//! which decodes the cause into an [`Exit`], handles it for the vcore
//! running on the hart, and hands the scheduler what the vcore does next
//! (`sched::After`). The scheduler returns the context to enter: the same
//! vcore's or another's.

use core::sync::atomic::{AtomicUsize, Ordering};

use sbi::{Action, Call, ResetKind, Suspend};

use crate::run::capsule::{self, Ending, VcoreRef};
use crate::run::console::println;
use crate::arch::guest::Context;
use crate::run::sbi_host::VcoreHost;
use crate::run::sched::{self, After};
use crate::run::vcore::{self, Resume};
use crate::devices::mmio::{self, NotEmulated};
use crate::{arch::{cpu, csr, machine}, run::{emulate, reflect, timer}};

/// Exceptions the capsule's kernel handles itself: misaligned accesses,
/// breakpoints, system calls from its user space, and page faults.
/// Access faults (PMP), calls into SBI and illegal instructions stay with
/// the hypervisor: illegal instructions because a capsule's `wfi` arrives
/// as one (mstatus.TW), and on harts without `time` its reads are
/// emulated; every other one is passed on to the kernel as the hart would
/// have delivered it.
///
/// On a hart with the H extension the kernel runs in HS-mode and may run
/// its own guests in VS/VU-mode, so what a hypervisor kernel handles is
/// delegated too, as on real hardware under OpenSBI: ecalls from VS-mode,
/// guest-page faults and virtual-instruction traps. Without H these
/// medeleg bits are read-only zero and writing them changes nothing.
const DELEGATED_EXCEPTIONS: usize = (1 << 0) | (1 << 3) | (1 << 4) | (1 << 6) | (1 << 8)
    | (1 << 10) | (1 << 12) | (1 << 13) | (1 << 15) | (1 << 20) | (1 << 21) | (1 << 22) | (1 << 23);
/// Interrupts at S level go straight to the capsule.
const DELEGATED_INTERRUPTS: usize = csr::SSIP | csr::STIP | csr::SEIP;

/// The `wfi` instruction's encoding.
const WFI: usize = 0x1050_0073;

/// Sets up this hart to run vcores: delegation, counters, a trapping
/// `wfi`, and the interrupts M-mode takes (software: kicks and fences;
/// timer: set by `timer::program`).
pub fn prepare_hart(hart: usize) {
    csr::medeleg::write(DELEGATED_EXCEPTIONS);
    csr::mideleg::write(DELEGATED_INTERRUPTS);
    csr::mcounteren::write(csr::COUNTERS);
    csr::mip::clear(csr::STIP | csr::SSIP);
    if machine::has_sstc(hart) {
        csr::clear_stimecmp();
    }
    csr::mstatus::clear(csr::MPRV | csr::TVM | csr::TSR | csr::MPP_MASK);
    csr::mstatus::set(csr::TW | csr::MPP_S);
    csr::mie::write(csr::MSIP);
}

/// Why a capsule's vcore entered M-mode.
enum Exit {
    /// The machine timer: a deadline, a slice end or the tick.
    Timer,
    /// Another hart's kick or fence request.
    Software,
    /// `ecall` from S-mode: an SBI call.
    Sbi,
    /// A load, store or fetch outside the capsule's PMP window.
    AccessFault(usize),
    IllegalInstruction,
    /// Anything else the capsule cannot go on from.
    Other { interrupt: bool, code: usize },
}

impl Exit {
    fn decode(cause: usize) -> Exit {
        let interrupt = cause >> (usize::BITS - 1) != 0;
        let code = cause & !(1 << (usize::BITS - 1));
        match (interrupt, code) {
            (true, 7) => Exit::Timer,
            (true, 3) => Exit::Software,
            (false, 9) => Exit::Sbi,
            (false, 1 | 5 | 7) => Exit::AccessFault(code),
            (false, 2) => Exit::IllegalInstruction,
            _ => Exit::Other { interrupt, code },
        }
    }
}

/// Called from the trap vector with the capsule's saved registers;
/// returns the context to resume.
pub extern "C" fn guest_trap(ctx: &'static mut Context) -> *mut Context {
    let hart = cpu::hart_id();
    let Some(v) = sched::current(hart) else {
        // A trap from S/U-mode with no vcore on the hart cannot happen:
        // mscratch is set only when one is entered.
        crate::run::console::force_println!("[diosix] hart {hart}: a capsule trap with no vcore running");
        crate::platform::power::exit(3)
    };
    let after = handle(hart, v, ctx, Exit::decode(csr::mcause::read()));
    sched::after_trap(hart, after)
}

fn handle(hart: usize, v: &VcoreRef, ctx: &mut Context, exit: Exit) -> After {
    match exit {
        Exit::Timer => {
            if timer::on_tick(hart) { After::Preempt } else { After::Resume }
        }
        Exit::Software => {
            sched::serve_mailbox(hart);
            After::Resume
        }
        Exit::Sbi => sbi_call(hart, v, ctx),
        Exit::AccessFault(code) => reflect_access_fault(v, ctx, code),
        Exit::IllegalInstruction => illegal_instruction(hart, v, ctx),
        Exit::Other { interrupt, code } => died(v, ctx, cpu::exception_name(interrupt, code)),
    }
}

/// `wfi` from the capsule's kernel (mstatus.TW makes it trap), reads of a
/// missing `time` CSR, and everything else passed on to the kernel.
fn illegal_instruction(hart: usize, v: &VcoreRef, ctx: &mut Context) -> After {
    let from_s = csr::mstatus::read() & csr::MPP_MASK == csr::MPP_S;
    if from_s && csr::mtval::read() == WFI {
        ctx.pc = ctx.pc.wrapping_add(4);
        // An interrupt it has enabled is already pending: wfi ends at once.
        if csr::mip::read() & csr::sie::read() & crate::arch::sstate::S_PENDING != 0 {
            return After::Resume;
        }
        return After::Block;
    }
    match emulate::illegal_instruction(ctx, hart) {
        Ok(()) => After::Resume,
        Err(_) => died(v, ctx, "illegal instruction with no working trap handler"),
    }
}

fn sbi_call(hart: usize, v: &VcoreRef, ctx: &mut Context) -> After {
    let r = &ctx.regs;
    let call = Call {
        eid: r[Context::A7],
        fid: r[Context::A6],
        args: [r[10], r[11], r[12], r[13], r[14], r[15]],
    };
    // An ecall at the very top of the address space resumes at 0, as the
    // hart's own pc would wrap; it must not overflow here.
    ctx.pc = ctx.pc.wrapping_add(4);
    let mut host = VcoreHost { hart, vcore: v };
    match sbi::dispatch(&mut host, call) {
        Action::Return(ret) => {
            ctx.regs[Context::A0] = ret.error;
            ctx.regs[Context::A1] = ret.value;
            After::Resume
        }
        Action::ReturnLegacy(value) => {
            ctx.regs[Context::A0] = value;
            After::Resume
        }
        Action::StopHart => {
            let others_stopped = v
                .capsule
                .vcores
                .iter()
                .filter(|o| o.id != v.id)
                .all(|o| o.hsm.load(Ordering::SeqCst) == vcore::STOPPED);
            if others_stopped {
                // No vcore is left to start the others again: the capsule
                // can never run another instruction.
                return died(v, ctx, "it stopped all its vcores (HSM hart_stop on the last one)");
            }
            After::Stop
        }
        Action::Suspend(how) => suspend(v, ctx, how),
        Action::Reset { kind, reason } => {
            let ending = match kind {
                ResetKind::Shutdown => Ending::Shutdown { failure: reason == 1 },
                ResetKind::ColdReboot | ResetKind::WarmReboot => Ending::Reboot { failure: reason == 1 },
            };
            capsule::end(&v.capsule, ending);
            After::Gone
        }
    }
}

/// HSM `hart_suspend` and SUSP `system_suspend`: the vcore waits, off its
/// hart, until an S interrupt it has enabled in `sie` is pending; then it
/// returns from the call with success (retentive) or starts at the resume
/// address as after a start.
fn suspend(v: &VcoreRef, ctx: &mut Context, how: Suspend) -> After {
    v.hsm.store(vcore::SUSPENDED, Ordering::SeqCst);
    let resume = match how {
        Suspend::Retentive => {
            ctx.regs[Context::A0] = 0;
            ctx.regs[Context::A1] = 0;
            Resume::InPlace
        }
        Suspend::NonRetentive { addr, opaque } => Resume::At { addr, opaque },
        Suspend::System { addr, opaque } => {
            println!("[diosix] {} suspended to RAM (vcore {})", v.capsule.title(), v.id);
            Resume::FromSystemSuspend { addr, opaque }
        }
    };
    if csr::mip::read() & csr::sie::read() & crate::arch::sstate::S_PENDING != 0 {
        // Something it waits for is pending already: it resumes at once.
        if resume == Resume::InPlace {
            v.hsm.store(vcore::STARTED, Ordering::SeqCst);
            return After::Resume;
        }
        // Through the scheduler, so a non-retentive resume starts afresh.
        *v.resume.lock() = resume;
        return After::Requeue;
    }
    *v.resume.lock() = resume;
    After::Block
}

/// Reports reflected access faults, up to a limit.
static REFLECTED: AtomicUsize = AtomicUsize::new(0);
const REPORT_LIMIT: usize = 32;

/// An access outside the capsule's PMP window: a device access is
/// emulated (`mmio.rs`); anything else is delivered to the capsule's
/// kernel exactly as the hardware would if it were delegated.
fn reflect_access_fault(v: &VcoreRef, ctx: &mut Context, cause: usize) -> After {
    let why = match mmio::emulate(&v.capsule, ctx, cause) {
        Ok(()) => return After::Resume,
        Err(NotEmulated::Refused(why)) => Some(why),
        Err(NotEmulated::NotDevice) => None,
    };
    let tval = csr::mtval::read();
    if REFLECTED.fetch_add(1, Ordering::Relaxed) < REPORT_LIMIT {
        let name = cpu::exception_name(false, cause);
        let (title, id, pc) = (v.capsule.title(), v.id, ctx.pc);
        match why {
            Some(why) => println!(
                "[diosix] {title} vcore {id}: {name} at {tval:#x} (pc {pc:#x}) is a device access not emulated: {why}; reflected to its kernel"
            ),
            None => println!(
                "[diosix] {title} vcore {id}: {name} at {tval:#x} (pc {pc:#x}) is outside the capsule; reflected to its kernel"
            ),
        }
    }
    match reflect::to_supervisor(ctx, cause, tval) {
        Ok(()) => After::Resume,
        Err(_) => died(v, ctx, "access fault with no working trap handler"),
    }
}

/// The capsule cannot go on: it ends (the boot capsule takes the machine
/// with it).
fn died(v: &VcoreRef, ctx: &Context, why: &str) -> After {
    let detail = alloc::format!(
        "{why}; vcore {} at pc {:#x} (mcause {:#x}, mtval {:#x})",
        v.id,
        ctx.pc,
        csr::mcause::read(),
        csr::mtval::read()
    );
    capsule::end(&v.capsule, Ending::Died(&detail));
    After::Gone
}
