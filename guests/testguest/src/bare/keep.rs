//! `keep:<ms>:<seed>`: the registers a vcore owns stay its own while it
//! shares a hart with other capsules' vcores. It checks that its FP
//! registers start at zero (nothing left by another capsule), then fills
//! them and `sscratch` with values from `seed` and, for `ms` of wall time
//! (being preempted all along), checks they still hold them.
//!
//! FP is checked where the capsule's ISA lists D (whatever this build's
//! own target): a hypervisor switching FP state must do so there; and
//! `vsscratch` where the hart has the H extension, whose state is the
//! capsule's too.

use core::arch::asm;

use super::sbi;
use super::scenarios::Ram;

/// f0..f31, then fcsr.
type Fp = [u64; 33];

/// Stores the FP registers and fcsr into `out`.
fn read_fp(out: &mut Fp) {
    let fcsr: usize;
    // SAFETY: stores 33 doublewords into `out`; sstatus.FS is on (set by
    // the caller), and the hart has D (its ISA says so).
    unsafe {
        asm!(
            ".option push",
            ".option arch, +d",
            "fsd f0, 0({p})", "fsd f1, 8({p})", "fsd f2, 16({p})", "fsd f3, 24({p})",
            "fsd f4, 32({p})", "fsd f5, 40({p})", "fsd f6, 48({p})", "fsd f7, 56({p})",
            "fsd f8, 64({p})", "fsd f9, 72({p})", "fsd f10, 80({p})", "fsd f11, 88({p})",
            "fsd f12, 96({p})", "fsd f13, 104({p})", "fsd f14, 112({p})", "fsd f15, 120({p})",
            "fsd f16, 128({p})", "fsd f17, 136({p})", "fsd f18, 144({p})", "fsd f19, 152({p})",
            "fsd f20, 160({p})", "fsd f21, 168({p})", "fsd f22, 176({p})", "fsd f23, 184({p})",
            "fsd f24, 192({p})", "fsd f25, 200({p})", "fsd f26, 208({p})", "fsd f27, 216({p})",
            "fsd f28, 224({p})", "fsd f29, 232({p})", "fsd f30, 240({p})", "fsd f31, 248({p})",
            "frcsr {t}",
            ".option pop",
            p = in(reg) out.as_mut_ptr(),
            t = out(reg) fcsr,
        );
    }
    out[32] = fcsr as u64;
}

/// Loads the FP registers and fcsr from `v`.
fn write_fp(v: &Fp) {
    // SAFETY: as in read_fp, loading instead.
    unsafe {
        asm!(
            ".option push",
            ".option arch, +d",
            "fld f0, 0({p})", "fld f1, 8({p})", "fld f2, 16({p})", "fld f3, 24({p})",
            "fld f4, 32({p})", "fld f5, 40({p})", "fld f6, 48({p})", "fld f7, 56({p})",
            "fld f8, 64({p})", "fld f9, 72({p})", "fld f10, 80({p})", "fld f11, 88({p})",
            "fld f12, 96({p})", "fld f13, 104({p})", "fld f14, 112({p})", "fld f15, 120({p})",
            "fld f16, 128({p})", "fld f17, 136({p})", "fld f18, 144({p})", "fld f19, 152({p})",
            "fld f20, 160({p})", "fld f21, 168({p})", "fld f22, 176({p})", "fld f23, 184({p})",
            "fld f24, 192({p})", "fld f25, 200({p})", "fld f26, 208({p})", "fld f27, 216({p})",
            "fld f28, 224({p})", "fld f29, 232({p})", "fld f30, 240({p})", "fld f31, 248({p})",
            "fscsr {t}",
            ".option pop",
            p = in(reg) v.as_ptr(),
            t = in(reg) v[32] as usize,
        );
    }
}

/// The H extension's `vsscratch` (0x240), on a hart with H.
fn vsscratch() -> usize {
    let v: usize;
    // SAFETY: reads the capsule's own VS scratch register (H present).
    unsafe { asm!("csrr {0}, 0x240", out(reg) v) };
    v
}

fn sscratch() -> usize {
    let v: usize;
    // SAFETY: reads the capsule's own S-mode scratch register.
    unsafe { asm!("csrr {0}, sscratch", out(reg) v) };
    v
}

pub fn run(hart: usize, ram: &Ram, arg: &str) -> bool {
    let mut parts = arg.split(':');
    let (Some(Ok(ms)), Some(Ok(seed))) = (parts.next().map(str::parse::<u64>), parts.next().map(str::parse::<u64>)) else {
        say!("testguest: FAIL keep: `{arg}` is not <ms>:<seed>");
        return false;
    };
    let mut ok = true;
    let pattern = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    if ram.fpu {
        // FS = Initial: the registers become usable.
        // SAFETY: turns the capsule's own FP unit on.
        unsafe { asm!("csrs sstatus, {0}", in(reg) 1usize << 13) };
        let mut fresh: Fp = [u64::MAX; 33];
        read_fp(&mut fresh);
        if let Some(i) = fresh.iter().position(|&v| v != 0) {
            say!("testguest: FAIL keep: FP register {i} started at {:#x}, not 0", fresh[i]);
            ok = false;
        } else {
            say!("testguest: PASS keep: FP registers start at zero");
        }
    }
    let mut want: Fp = [0; 33];
    for (i, w) in want.iter_mut().enumerate().take(32) {
        *w = pattern.rotate_left(i as u32);
    }
    // fcsr: the rounding mode and flags, 8 bits.
    want[32] = (seed & 0xff) | 1;
    let scratch = pattern as usize ^ 0x5c5c;
    // SAFETY: the test guest's trap handler does not use sscratch.
    unsafe { asm!("csrw sscratch, {0}", in(reg) scratch) };
    if ram.fpu {
        write_fp(&want);
    }
    // Where the hart has H, its CSRs are this capsule's too.
    let h = super::hext::present(hart);
    let vs = !scratch;
    if h {
        // SAFETY: sets the capsule's own VS scratch register.
        unsafe { asm!("csrw 0x240, {0}", in(reg) vs) };
    }
    let start = sbi::time();
    let until = start + ram.timebase * ms / 1000;
    let mut rounds = 0u64;
    while sbi::time() < until && ok {
        rounds += 1;
        if h && vsscratch() != vs {
            say!("testguest: FAIL keep: vsscratch became {:#x} after {rounds} rounds", vsscratch());
            ok = false;
        }
        if sscratch() != scratch {
            say!("testguest: FAIL keep: sscratch became {:#x} after {rounds} rounds", sscratch());
            ok = false;
        }
        if ram.fpu {
            let mut now: Fp = [0; 33];
            read_fp(&mut now);
            if let Some(i) = (0..33).find(|&i| now[i] != want[i]) {
                say!("testguest: FAIL keep: FP register {i} became {:#x}, was {:#x}, after {rounds} rounds", now[i], want[i]);
                ok = false;
            }
        }
    }
    if ok {
        if h {
            say!("testguest: PASS keep: vsscratch (H extension) kept");
        }
        say!("testguest: PASS keep: sscratch{} kept for {ms} ms ({rounds} rounds)", if ram.fpu { " and FP registers" } else { "" });
    }
    ok
}
