//! The devices the hypervisor emulates, driven directly (`diosix.test=uart`):
//! the 16550 UART its device tree names as `stdout-path`, first as a
//! driver would use it, then with every width at every offset, aligned
//! or not, inside and beyond the window. A refused access must come back
//! to this kernel as a fault naming its address, and the hypervisor must
//! go on.

use core::arch::asm;
use core::sync::atomic::Ordering;

use devtree::{Console as DtConsole, Fdt};

use super::trap::{SEEN, hart};

const RBR_THR: usize = 0;
const IER: usize = 1;
const IIR: usize = 2;
const LCR: usize = 3;
const MCR: usize = 4;
const LSR: usize = 5;
const SCR: usize = 7;

fn check(name: &str, ok: bool, detail: core::fmt::Arguments) -> bool {
    if ok {
        say!("testguest: PASS {name}");
    } else {
        say!("testguest: FAIL {name}: {detail}");
    }
    ok
}

/// One access of `width` bytes: `lb`/`lbu`-style loads are sign- or
/// zero-extended as the instruction says.
#[derive(Clone, Copy)]
enum Op {
    Load { width: u8, signed: bool },
    Store { width: u8 },
}

/// Performs `op` at `addr` (a store writes `value`); returns what a load
/// read.
fn access(op: Op, addr: usize, value: usize) -> usize {
    let mut v = value;
    // SAFETY: deliberate accesses to the capsule's device window; the
    // hypervisor either emulates them or the fault comes back to our
    // handler, which skips the instruction. Nothing in our RAM is touched.
    unsafe {
        match op {
            Op::Load { width: 1, signed: true } => asm!("lb {0}, 0({1})", inout(reg) v, in(reg) addr),
            Op::Load { width: 1, .. } => asm!("lbu {0}, 0({1})", inout(reg) v, in(reg) addr),
            Op::Load { width: 2, signed: true } => asm!("lh {0}, 0({1})", inout(reg) v, in(reg) addr),
            Op::Load { width: 2, .. } => asm!("lhu {0}, 0({1})", inout(reg) v, in(reg) addr),
            Op::Load { width: 4, .. } => asm!("lw {0}, 0({1})", inout(reg) v, in(reg) addr),
            #[cfg(target_arch = "riscv64")]
            Op::Load { width: 8, .. } => asm!("ld {0}, 0({1})", inout(reg) v, in(reg) addr),
            Op::Store { width: 1 } => asm!("sb {0}, 0({1})", in(reg) v, in(reg) addr),
            Op::Store { width: 2 } => asm!("sh {0}, 0({1})", in(reg) v, in(reg) addr),
            Op::Store { width: 4 } => asm!("sw {0}, 0({1})", in(reg) v, in(reg) addr),
            #[cfg(target_arch = "riscv64")]
            Op::Store { width: 8 } => asm!("sd {0}, 0({1})", in(reg) v, in(reg) addr),
            _ => {}
        }
    }
    v
}

/// The compressed forms Linux's `readl`/`writel` become: `c.lw`/`c.sw`
/// (base and value in x8..x15).
fn compressed_word(addr: usize, store: bool) {
    // SAFETY: as in `access`.
    unsafe {
        if store {
            asm!(".option push", ".option rvc", "c.sw a1, 0(a0)", ".option pop", in("a0") addr, in("a1") 0usize);
        } else {
            asm!(".option push", ".option rvc", "c.lw a1, 0(a0)", ".option pop", in("a0") addr, out("a1") _);
        }
    }
}

fn exceptions() -> usize {
    SEEN[hart() % 16].exceptions.load(Ordering::SeqCst)
}

/// Runs the scenario; true if every check passed.
pub fn uart(tree: &'static [u8]) -> bool {
    let Ok(fdt) = Fdt::parse(tree) else {
        return check("uart: device tree", false, format_args!("does not parse"));
    };
    let stdout = fdt.find_path("/chosen").and_then(|c| c.str_property("stdout-path"));
    let found = devtree::Platform::from_fdt(&fdt).ok().and_then(|p| match p.console {
        Some(DtConsole::Uart(u)) => Some(u),
        _ => None,
    });
    let Some(u) = found else {
        return check("uart: the device tree has a UART", false, format_args!("stdout-path {stdout:?}"));
    };
    let base = u.mmio.base as usize;
    let mut ok = check("uart: stdout-path names it", stdout == Some("/soc/serial@10000000") && base == 0x1000_0000,
        format_args!("{stdout:?} at {base:#x}"));
    let r = |off: usize| access(Op::Load { width: 1, signed: false }, base + off, 0);
    let w = |off: usize, v: u8| {
        access(Op::Store { width: 1 }, base + off, v as usize);
    };
    let before = exceptions();

    // As a polling driver writes a line.
    for &b in b"testguest: the UART says hello\n" {
        while r(LSR) & 0x20 == 0 {}
        w(RBR_THR, b);
    }
    w(SCR, 0xa5);
    ok &= check("uart: scratch keeps a byte, lb sign-extends it and lbu does not",
        r(SCR) == 0xa5 && access(Op::Load { width: 1, signed: true }, base + SCR, 0) == (-0x5bisize) as usize,
        format_args!("{:#x}", r(SCR)));
    w(LCR, 0x83);
    w(RBR_THR, 0x12);
    w(IER, 0x34);
    let latch = (r(RBR_THR), r(IER));
    w(LCR, 0x03);
    ok &= check("uart: the divisor latch sits behind LCR.DLAB", latch == (0x12, 0x34) && r(IER) == 0,
        format_args!("{latch:?}, IER {:#x}", r(IER)));
    w(MCR, 0x10);
    w(RBR_THR, b'Z');
    let looped = (r(LSR) & 1, r(RBR_THR), r(LSR) & 1);
    w(MCR, 0);
    ok &= check("uart: loopback returns what it sends", looped == (1, b'Z' as usize, 0), format_args!("{looped:?}"));
    w(IER, 0x02);
    let iir = (r(IIR) & 0x0f, r(IIR) & 0x0f);
    w(IER, 0);
    ok &= check("uart: enabling the THR-empty interrupt raises it; reading IIR clears it", iir == (0x02, 0x01),
        format_args!("{iir:?}"));
    ok &= check("uart: a driver's accesses raise no fault", exceptions() == before,
        format_args!("{} faults", exceptions() - before));

    ok &= sweep(base);
    say!("testguest: still running after the UART sweep");
    ok
}

/// Every width at every offset of the window and past it, loads and
/// stores: byte accesses to the eight registers are the device's; every
/// other access must fault back to us with its address.
fn sweep(base: usize) -> bool {
    let widths: &[u8] = if usize::BITS == 64 { &[1, 2, 4, 8] } else { &[1, 2, 4] };
    let offsets = (0..0x108).chain([0x800, 0xffc, 0xffe, 0xfff]);
    let (mut tried, mut wrong) = (0, 0);
    for off in offsets {
        for &width in widths {
            for store in [false, true] {
                let emulated = width == 1 && off < 8;
                // Byte stores to the registers would print or reprogram the
                // UART; they were tried above.
                if emulated && store {
                    continue;
                }
                let addr = base + off;
                let op = if store { Op::Store { width } } else { Op::Load { width, signed: true } };
                let seen = &SEEN[hart() % 16];
                let before = exceptions();
                access(op, addr, 0);
                let faults = exceptions() - before;
                let (cause, tval) = (seen.cause.load(Ordering::SeqCst), seen.tval.load(Ordering::SeqCst));
                // An access fault, or (where the hart checks alignment
                // first) a misaligned one; either names an address inside
                // the access.
                let causes: &[usize] = if store { &[6, 7] } else { &[4, 5] };
                let good = if emulated {
                    faults == 0
                } else {
                    faults == 1 && causes.contains(&cause) && (addr..addr + width as usize).contains(&tval)
                };
                tried += 1;
                if !good {
                    wrong += 1;
                    if wrong <= 8 {
                        say!("testguest: FAIL uart sweep: {} {width} bytes at +{off:#x}: {faults} faults, cause {cause}, tval {tval:#x}",
                            if store { "store" } else { "load" });
                    }
                }
            }
        }
    }
    for store in [false, true] {
        let before = exceptions();
        compressed_word(base + RBR_THR, store);
        let cause = SEEN[hart() % 16].cause.load(Ordering::SeqCst);
        tried += 1;
        if exceptions() != before + 1 || cause != if store { 7 } else { 5 } {
            wrong += 1;
            say!("testguest: FAIL uart sweep: c.{} was not refused with an access fault (cause {cause})", if store { "sw" } else { "lw" });
        }
    }
    check("uart: every other width, offset and alignment is refused and comes back as a fault", wrong == 0,
        format_args!("{wrong} of {tried} accesses went wrong"))
}
