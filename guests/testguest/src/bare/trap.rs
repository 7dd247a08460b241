//! The test guest's S-mode trap handler: records what arrived, skips a
//! faulting instruction (or, for a [`fetch`] probe, returns from the
//! probe's call), and acknowledges interrupts.

use core::arch::{asm, global_asm};
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Per hart: the last exception's cause and tval, and interrupt counts.
pub struct Seen {
    pub cause: AtomicUsize,
    pub tval: AtomicUsize,
    pub exceptions: AtomicUsize,
    pub timer_irqs: AtomicUsize,
    pub soft_irqs: AtomicUsize,
    pub timer_at: AtomicUsize,
    /// A [`fetch`] probe is under way: its exception resumes at `ra`.
    pub fetch_probe: AtomicBool,
    /// External interrupts taken, and the source the last one claimed.
    pub ext_irqs: AtomicUsize,
    pub ext_source: AtomicUsize,
}

pub static SEEN: [Seen; 16] = [const {
    Seen {
        cause: AtomicUsize::new(0),
        tval: AtomicUsize::new(0),
        exceptions: AtomicUsize::new(0),
        timer_irqs: AtomicUsize::new(0),
        soft_irqs: AtomicUsize::new(0),
        timer_at: AtomicUsize::new(0),
        fetch_probe: AtomicBool::new(false),
        ext_irqs: AtomicUsize::new(0),
        ext_source: AtomicUsize::new(0),
    }
}; 16];

global_asm!(
    r#"
    .equ XLENB, {xlenb}
    .section .text
    .balign 4
    .globl testguest_trap
testguest_trap:
    addi    sp, sp, -32 * XLENB
    .irp n, 1,5,6,7,10,11,12,13,14,15,16,17,28,29,30,31
    .if XLENB == 8
    sd      x\n, (\n * 8)(sp)
    .else
    sw      x\n, (\n * 4)(sp)
    .endif
    .endr
    csrr    a0, scause
    csrr    a1, stval
    csrr    a2, sepc
    mv      a3, ra
    call    {handler}
    csrw    sepc, a0
    .irp n, 1,5,6,7,10,11,12,13,14,15,16,17,28,29,30,31
    .if XLENB == 8
    ld      x\n, (\n * 8)(sp)
    .else
    lw      x\n, (\n * 4)(sp)
    .endif
    .endr
    addi    sp, sp, 32 * XLENB
    sret
    "#,
    xlenb = const core::mem::size_of::<usize>(),
    handler = sym handle,
);

unsafe extern "C" {
    fn testguest_trap();
}

pub fn hart() -> usize {
    let tp: usize;
    // SAFETY: tp holds the hart id (set by entry.rs).
    unsafe { asm!("mv {0}, tp", out(reg) tp) };
    tp
}

/// Points stvec at the handler.
pub fn install() {
    // SAFETY: sets this hart's S-mode trap vector to our handler.
    unsafe { asm!("csrw stvec, {0}", in(reg) testguest_trap as *const () as usize) };
}

/// Enables S-mode interrupts of the kinds in `sie_bits`.
pub fn enable(sie_bits: usize) {
    // SAFETY: our handler deals with timer and software interrupts.
    unsafe { asm!("csrs sie, {0}", "csrsi sstatus, 2", in(reg) sie_bits) };
}

/// Calls `target` as code: an instruction fetch the capsule must not be
/// able to make. The exception it raises is recorded as any other, and the
/// handler resumes here, at the call's return address, since there is no
/// instruction at the faulting pc to step over.
pub fn fetch(target: usize) {
    let seen = &SEEN[hart() % 16];
    seen.fetch_probe.store(true, Ordering::SeqCst);
    // SAFETY: `target` lies outside the capsule, so the fetch faults and
    // the handler returns to the instruction after the jalr with only the
    // caller-saved registers (declared clobbered) changed. Were isolation
    // broken, whatever ran there could do anything; the probe is for
    // finding that out.
    unsafe { asm!("jalr ra, 0({0})", in(reg) target, clobber_abi("C")) };
    seen.fetch_probe.store(false, Ordering::SeqCst);
}

/// `ra`: the interrupted code's return address, for a [`fetch`] probe.
extern "C" fn handle(cause: usize, tval: usize, epc: usize, ra: usize) -> usize {
    let seen = &SEEN[hart() % 16];
    let interrupt = cause >> (usize::BITS - 1) != 0;
    let code = cause & !(1 << (usize::BITS - 1));
    if interrupt {
        match code {
            5 => {
                seen.timer_at.store(super::sbi::time() as usize, Ordering::SeqCst);
                seen.timer_irqs.fetch_add(1, Ordering::SeqCst);
                super::sbi::set_timer(u64::MAX);
            }
            9 => {
                seen.ext_source.store(super::devices::on_external(hart()), Ordering::SeqCst);
                seen.ext_irqs.fetch_add(1, Ordering::SeqCst);
            }
            1 => {
                seen.soft_irqs.fetch_add(1, Ordering::SeqCst);
                // SAFETY: acknowledges the software interrupt.
                unsafe { asm!("csrci sip, 2") };
            }
            _ => {}
        }
        return epc;
    }
    super::hext::on_exception(cause, tval);
    seen.cause.store(cause, Ordering::SeqCst);
    seen.tval.store(tval, Ordering::SeqCst);
    seen.exceptions.fetch_add(1, Ordering::SeqCst);
    if seen.fetch_probe.swap(false, Ordering::SeqCst) {
        return ra;
    }
    // Skip the faulting instruction: 2 bytes if compressed, else 4.
    // SAFETY: epc is the address of an instruction we executed.
    let low = unsafe { (epc as *const u16).read_volatile() };
    epc + if low & 3 == 3 { 4 } else { 2 }
}
