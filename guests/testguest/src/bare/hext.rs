//! The H extension, which diosix does not virtualise yet but which a hart
//! (QEMU's default `rv64`/`rv32`) may have: the capsule's kernel then runs
//! in HS-mode and can enter VS-mode itself. What happens there must be
//! what real hardware under firmware does: an `ecall` from VS-mode comes
//! to this kernel as cause 10 with hstatus.SPV set, and an access fault in
//! VS-mode (PMP) as cause 5 with SPV and GVA set, never ending the machine
//! or landing in the wrong mode.

use core::arch::{asm, global_asm};
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::trap::SEEN;

const HSTATUS_GVA: usize = 1 << 6;
const HSTATUS_SPV: usize = 1 << 7;

/// True while the test runs in VS-mode: the trap handler then logs what
/// arrives, and an `ebreak` brings the test back to HS-mode.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Traps that arrived while ACTIVE: (scause, stval, hstatus).
static LOG: [[AtomicUsize; 3]; 4] = [const { [const { AtomicUsize::new(0) }; 3] }; 4];
static LOGGED: AtomicUsize = AtomicUsize::new(0);

global_asm!(
    r#"
    .section .text
    .balign 4
    .globl testguest_visit_vs
    // a0: an address outside the capsule. Enters VS-mode (bare G-stage and
    // VS-stage translation) at 1f, which makes an ecall, loads from a0 and
    // comes back with ebreak; returns in HS-mode.
testguest_visit_vs:
    la      t0, 1f
    csrw    sepc, t0
    li      t0, 1 << 8
    csrs    sstatus, t0
    li      t0, 1 << 7
    csrs    0x600, t0
    sret
1:  ecall
    .option push
    .option norvc
    lw      t0, 0(a0)
    .option pop
    ebreak
    ret
    "#
);

unsafe extern "C" {
    fn testguest_visit_vs(outside: usize);
}

/// Called by the trap handler for every exception: logs it while the test
/// runs, and on the closing `ebreak` makes the handler's sret return to
/// HS-mode instead of VS-mode.
pub fn on_exception(cause: usize, tval: usize) {
    if !ACTIVE.load(Ordering::SeqCst) {
        return;
    }
    let hstatus: usize;
    // SAFETY: ACTIVE is only set on a hart with the H extension.
    unsafe { asm!("csrr {0}, 0x600", out(reg) hstatus) };
    let i = LOGGED.fetch_add(1, Ordering::SeqCst);
    if let Some(slot) = LOG.get(i) {
        for (cell, v) in slot.iter().zip([cause, tval, hstatus]) {
            cell.store(v, Ordering::SeqCst);
        }
    }
    if cause == 3 {
        ACTIVE.store(false, Ordering::SeqCst);
        // SAFETY: the trap came from VS-mode (SPV set, SPP = S); clearing
        // SPV makes the handler's sret return to HS-mode.
        unsafe { asm!("csrc 0x600, {0}", in(reg) HSTATUS_SPV) };
    }
}

fn entry(i: usize) -> (usize, usize, usize) {
    let l = &LOG[i];
    (l[0].load(Ordering::SeqCst), l[1].load(Ordering::SeqCst), l[2].load(Ordering::SeqCst))
}

/// True if this hart has the H extension (its CSRs answer).
pub fn present(hart: usize) -> bool {
    let seen = &SEEN[hart % 16];
    let before = seen.exceptions.load(Ordering::SeqCst);
    // SAFETY: reads hstatus; without H this is an illegal instruction,
    // which our handler counts and skips.
    unsafe { asm!(".option push", ".option norvc", "csrr {0}, 0x600", ".option pop", out(reg) _) };
    seen.exceptions.load(Ordering::SeqCst) == before
}

pub fn run(hart: usize, check: impl Fn(&str, bool, core::fmt::Arguments) -> bool) -> bool {
    if !present(hart) {
        say!("testguest: no H extension on this hart: nothing to test");
        return true;
    }
    say!("testguest: the hart has the H extension; entering VS-mode");
    // SAFETY: bare translation for VS-mode (VS-stage and G-stage), its
    // interrupts off; then a visit that returns here in HS-mode.
    unsafe {
        asm!("csrw 0x680, zero", "csrw 0x280, zero", "csrw 0x200, zero");
        ACTIVE.store(true, Ordering::SeqCst);
        testguest_visit_vs(0x8000_0000);
    }
    let n = LOGGED.load(Ordering::SeqCst);
    let (c0, _, h0) = entry(0);
    let (c1, t1, h1) = entry(1);
    let (c2, _, _) = entry(2);
    let mut ok = check("back in HS-mode after three traps from VS-mode", n == 3 && c2 == 3,
        format_args!("{n} traps, the last cause {c2}"));
    ok &= check("ecall from VS-mode reaches the kernel as cause 10 with SPV set",
        c0 == 10 && h0 & HSTATUS_SPV != 0, format_args!("cause {c0}, hstatus {h0:#x}"));
    ok &= check("an access fault in VS-mode reaches the kernel as cause 5 with SPV and GVA set",
        c1 == 5 && t1 == 0x8000_0000 && h1 & HSTATUS_SPV != 0 && h1 & HSTATUS_GVA != 0,
        format_args!("cause {c1}, stval {t1:#x}, hstatus {h1:#x}"));
    ok
}
