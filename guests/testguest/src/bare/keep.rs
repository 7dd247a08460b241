//! `keep:<ms>:<seed>`: the registers a vcore owns stay its own while it
//! shares a hart with other capsules' vcores. It checks that its FP
//! registers start at zero (nothing left by another capsule), then fills
//! them and `sscratch` with values from `seed` and, for `ms` of wall time
//! (being preempted all along), checks they still hold them.
//!
//! FP is checked where the capsule's ISA lists D (whatever this build's
//! own target): a hypervisor switching FP state must do so there;
//! `vsscratch` and `henvcfg` where the hart has the H extension, whose
//! state is the capsule's too; and the vector registers (v0..v31, vl, vtype, vxrm)
//! where the hart has them, which a capsule can turn on although its ISA
//! leaves V out (`vregs.rs`): they must start at zero and stay its own.

use core::arch::{asm, global_asm};

use super::sbi;
use super::vregs::{self, MAX_VLENB, Regs};
use super::scenarios::Ram;

/// f0..f31, then fcsr.
type Fp = [u64; 33];

// a0 = 33 doublewords: f0..f31, then fcsr. Assembled with D whatever
// this build's target; called only where the hart has D and FS is on.
global_asm!(
    r#"
    .section .text
    .option push
    .option arch, +d
    .balign 4
    .globl testguest_fp_store
testguest_fp_store:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    fsd     f\n, (\n * 8)(a0)
    .endr
    frcsr   t0
    sw      t0, 256(a0)
    sw      zero, 260(a0)
    ret

    .balign 4
    .globl testguest_fp_load
testguest_fp_load:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    fld     f\n, (\n * 8)(a0)
    .endr
    lw      t0, 256(a0)
    fscsr   t0
    ret
    .option pop
    "#
);

unsafe extern "C" {
    fn testguest_fp_store(out: *mut Fp);
    fn testguest_fp_load(from: *const Fp);
}

/// Stores the FP registers and fcsr into `out`.
fn read_fp(out: &mut Fp) {
    // SAFETY: fills the 33 doublewords of `out`; sstatus.FS is on (set by
    // the caller) and the hart has D (its ISA says so).
    unsafe { testguest_fp_store(out) }
}

/// Loads the FP registers and fcsr from `v`.
fn write_fp(v: &Fp) {
    // SAFETY: as in read_fp, only reading `v`.
    unsafe { testguest_fp_load(v) }
}

/// The H extension's `vsscratch` (0x240), on a hart with H.
fn vsscratch() -> usize {
    let v: usize;
    // SAFETY: reads the capsule's own VS scratch register (H present).
    unsafe { asm!("csrr {0}, 0x240", out(reg) v) };
    v
}

/// The H extension's `henvcfg` (0x60a; its low half on rv32).
fn henvcfg() -> usize {
    let v: usize;
    // SAFETY: reads the capsule's own HS-level envcfg (H present).
    unsafe { asm!("csrr {0}, 0x60a", out(reg) v) };
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
    let vector = vregs::enable().filter(|&vlenb| {
        let fits = vlenb <= MAX_VLENB;
        if !fits {
            say!("testguest: FAIL keep: vector registers of {vlenb} bytes are longer than the check handles");
            ok = false;
        }
        fits
    });
    let mut vwant: Regs = [0; 32 * MAX_VLENB];
    let mut vconfig = (0, 0, 0);
    if let Some(vlenb) = vector {
        let mut fresh: Regs = [0xa5; 32 * MAX_VLENB];
        vregs::store(vlenb, &mut fresh);
        if let Some(i) = fresh[..32 * vlenb].iter().position(|&b| b != 0) {
            say!("testguest: FAIL keep: vector register v{} byte {} started at {:#x}, not 0", i / vlenb, i % vlenb, fresh[i]);
            ok = false;
        } else {
            say!("testguest: PASS keep: vector registers start at zero");
        }
        for (i, b) in vwant.iter_mut().enumerate().take(32 * vlenb) {
            *b = (pattern.rotate_left(i as u32) as u8) ^ (i as u8);
        }
        vregs::load(vlenb, &vwant);
        // A configuration of its own: vl 3 or 4 (e32: every VLEN has
        // room), and a rounding mode from the seed.
        vregs::configure(3 + (seed as usize & 1), seed as usize);
        vconfig = vregs::config();
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
    let mut envcfg = 0;
    if h {
        // SAFETY: sets the capsule's own VS scratch register, and
        // henvcfg.FIOM (bit 0) from the seed: odd and even seeds differ.
        unsafe {
            asm!("csrw 0x240, {0}", in(reg) vs);
            asm!("csrw 0x60a, {0}", in(reg) seed as usize & 1);
        }
        // What the hart kept of it (FIOM is WARL).
        envcfg = henvcfg();
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
        if h && henvcfg() != envcfg {
            say!("testguest: FAIL keep: henvcfg became {:#x}, was {envcfg:#x}, after {rounds} rounds", henvcfg());
            ok = false;
        }
        if sscratch() != scratch {
            say!("testguest: FAIL keep: sscratch became {:#x} after {rounds} rounds", sscratch());
            ok = false;
        }
        if let Some(vlenb) = vector {
            let mut now: Regs = [0; 32 * MAX_VLENB];
            vregs::store(vlenb, &mut now);
            if let Some(i) = (0..32 * vlenb).find(|&i| now[i] != vwant[i]) {
                say!("testguest: FAIL keep: vector register v{} byte {} became {:#x}, was {:#x}, after {rounds} rounds", i / vlenb, i % vlenb, now[i], vwant[i]);
                ok = false;
            }
            let config = vregs::config();
            if config != vconfig {
                say!("testguest: FAIL keep: (vl, vtype, vxrm) became {config:x?}, was {vconfig:x?}, after {rounds} rounds");
                ok = false;
            }
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
            say!("testguest: PASS keep: vsscratch and henvcfg ({envcfg:#x}) (H extension) kept");
        }
        if vector.is_some() {
            say!("testguest: PASS keep: vector registers and configuration kept");
        }
        say!("testguest: PASS keep: sscratch{} kept for {ms} ms ({rounds} rounds)", if ram.fpu { " and FP registers" } else { "" });
    }
    ok
}
