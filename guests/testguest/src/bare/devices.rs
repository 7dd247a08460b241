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

// `hart` is the vcore id (tp), which is also its PLIC context.

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

/// The PLIC, as the capsule's device tree gives it.
const PLIC: usize = 0x0c00_0000;
const UART_IRQ: usize = 10;

fn plic_read(offset: usize) -> usize {
    access(Op::Load { width: 4, signed: false }, PLIC + offset, 0)
}
fn plic_write(offset: usize, v: usize) {
    access(Op::Store { width: 4 }, PLIC + offset, v);
}
fn claim_offset(context: usize) -> usize {
    0x20_0004 + 0x1000 * context
}

/// The trap handler's part for an external interrupt on vcore `hart`:
/// claim it, silence the UART (its THR-empty interrupt), complete it;
/// returns the source claimed.
pub fn on_external(hart: usize) -> usize {
    let source = plic_read(claim_offset(hart));
    access(Op::Store { width: 1 }, 0x1000_0000 + IER, 0);
    plic_write(claim_offset(hart), source);
    source
}

/// `diosix.test=plic`: the UART's interrupt through the PLIC to this
/// vcore, the PLIC's rules seen from a driver, and every width and
/// offset of its registers, refused ones faulting back.
pub fn plic(hart: usize) -> bool {
    let seen = &SEEN[hart % 16];
    let uart = 0x1000_0000;
    let before = exceptions();
    // Source 10 at priority 1, enabled for this vcore's context only,
    // threshold 0.
    plic_write(4 * UART_IRQ, 1);
    plic_write(0x2000 + 0x80 * hart, 1 << UART_IRQ);
    plic_write(0x20_0000 + 0x1000 * hart, 0);
    let mut ok = check("plic: priority, enable and threshold read back",
        plic_read(4 * UART_IRQ) == 1 && plic_read(0x2000 + 0x80 * hart) == 1 << UART_IRQ,
        format_args!("priority {}, enable {:#x}", plic_read(4 * UART_IRQ), plic_read(0x2000 + 0x80 * hart)));
    ok &= check("plic: nothing pending while the UART is quiet", plic_read(0x1000) == 0 && plic_read(claim_offset(hart)) == 0,
        format_args!("pending {:#x}", plic_read(0x1000)));
    // The UART's THR-empty interrupt, with S external interrupts masked
    // in sstatus for now: it shows as pending.
    access(Op::Store { width: 1 }, uart + IER, 0x02);
    ok &= check("plic: the UART's line makes source 10 pending", plic_read(0x1000) == 1 << UART_IRQ,
        format_args!("pending {:#x}", plic_read(0x1000)));
    // SAFETY: reads sip; SEIP must follow the PLIC's output.
    let sip: usize = unsafe { let v; asm!("csrr {0}, sip", out(reg) v); v };
    ok &= check("plic: the vcore sees SEIP", sip & (1 << 9) != 0, format_args!("sip {sip:#x}"));
    // A threshold at the priority masks it.
    plic_write(0x20_0000 + 0x1000 * hart, 1);
    let masked = plic_read(claim_offset(hart));
    plic_write(0x20_0000 + 0x1000 * hart, 0);
    ok &= check("plic: a threshold equal to the priority masks it", masked == 0, format_args!("claimed {masked}"));
    // Now taken as an interrupt: the handler claims, silences, completes.
    super::trap::enable(1 << 9);
    let got = wait(|| seen.ext_irqs.load(Ordering::SeqCst) > 0);
    ok &= check("plic: the UART's interrupt arrives as an S external interrupt and claims as source 10",
        got && seen.ext_source.load(Ordering::SeqCst) == UART_IRQ,
        format_args!("{} interrupts, source {}", seen.ext_irqs.load(Ordering::SeqCst), seen.ext_source.load(Ordering::SeqCst)));
    // SAFETY: as above.
    let sip: usize = unsafe { let v; asm!("csrr {0}, sip", out(reg) v); v };
    ok &= check("plic: completed with the line low, nothing is left pending", plic_read(0x1000) == 0 && sip & (1 << 9) == 0,
        format_args!("pending {:#x}, sip {sip:#x}", plic_read(0x1000)));
    // SAFETY: masks S external interrupts again.
    unsafe { asm!("csrc sie, {0}", in(reg) 1 << 9) };
    ok &= check("plic: a driver's accesses raise no fault", exceptions() == before,
        format_args!("{} faults", exceptions() - before));
    ok &= sweep_plic(hart);
    say!("testguest: still running after the PLIC sweep");
    ok
}

fn wait(done: impl Fn() -> bool) -> bool {
    for _ in 0..10_000_000 {
        if done() {
            return true;
        }
        core::hint::spin_loop();
    }
    done()
}

/// Every width at offsets across the PLIC's areas: aligned words in the
/// defined areas are the device's (reads only: a write could reprogram
/// it); every other access must fault back with its address.
fn sweep_plic(hart: usize) -> bool {
    let widths: &[u8] = if usize::BITS == 64 { &[1, 2, 4, 8] } else { &[1, 2, 4] };
    // (offset, an aligned word read there is accepted)
    let probes: &[(usize, bool)] = &[
        (0x0, true), (0x28, true), (0x7c, true), (0x80, true), (0xffc, true), // priorities (and the unused ones)
        (0x1000, true), (0x1004, true), (0x107c, true), (0x1080, false), (0x1ffc, false), // pending, then a gap
        (0x2000, true), (0x2004, true), (0x2000 + 0x80 * 16, false), // enables; a context beyond the vcores
        (0x20_0000, true), (0x20_0008, false), (0x20_0ffc, false), (0x20_0000 + 0x1000 * 16, false),
        (0x21_0000, false), (0x3f_fffc, false),
    ];
    let (mut tried, mut wrong) = (0, 0);
    for &(off, accepted) in probes {
        // Offsets beyond this capsule's contexts: the capsule has fewer
        // vcores than 16, so they are refused like the rest.
        for &width in widths {
            for delta in [0usize, 1, 2] {
                if delta >= width as usize && delta != 0 {
                    continue;
                }
                let addr = PLIC + off + delta;
                let emulated = accepted && width == 4 && delta == 0;
                let seen = &SEEN[hart % 16];
                let before = exceptions();
                access(Op::Load { width, signed: false }, addr, 0);
                let faults = exceptions() - before;
                let (cause, tval) = (seen.cause.load(Ordering::SeqCst), seen.tval.load(Ordering::SeqCst));
                let good = if emulated {
                    faults == 0
                } else {
                    faults == 1 && (cause == 4 || cause == 5) && (addr..addr + width as usize).contains(&tval)
                };
                tried += 1;
                if !good {
                    wrong += 1;
                    say!("testguest: FAIL plic sweep: load {width} bytes at +{:#x}: {faults} faults, cause {cause}, tval {tval:#x}", off + delta);
                }
            }
        }
    }
    check("plic: every other width, offset and alignment is refused and comes back as a fault", wrong == 0,
        format_args!("{wrong} of {tried} accesses went wrong"))
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

/// The pvpanic register, where the device tree offers it.
const PVPANIC: usize = 0x1000_2000;

/// `diosix.test=pvpanic`: the panic register, read as Linux's driver
/// reads it, every other access refused; then a panic is reported, and
/// the guest spins as Linux does after a panic until the hypervisor ends
/// it. Built with `DIOSIX_PVPANIC=0` the tree has no such device and the
/// window faults like any other address outside the capsule.
pub fn pvpanic(ram: &super::scenarios::Ram) -> bool {
    let node = Fdt::parse(ram.tree_blob()).ok().and_then(|f| f.find_path("/soc/pvpanic@10002000").map(|n| n.is_compatible("qemu,pvpanic-mmio")));
    let before = exceptions();
    if node.is_none() {
        access(Op::Load { width: 1, signed: false }, PVPANIC, 0);
        access(Op::Store { width: 1 }, PVPANIC, 1);
        return check("pvpanic: not offered, and its window faults", exceptions() == before + 2,
            format_args!("{} faults", exceptions() - before));
    }
    let mut ok = check("pvpanic: the device tree offers qemu,pvpanic-mmio", node == Some(true), format_args!("{node:?}"));
    let caps = access(Op::Load { width: 1, signed: false }, PVPANIC, 0);
    ok &= check("pvpanic: it takes the panicked and crash-loaded events", caps == 3 && exceptions() == before,
        format_args!("read {caps:#x}, {} faults", exceptions() - before));
    let widths: &[u8] = if usize::BITS == 64 { &[2, 4, 8] } else { &[2, 4] };
    let mut tried = 0;
    let before = exceptions();
    for store in [false, true] {
        let op = |width| if store { Op::Store { width } } else { Op::Load { width, signed: false } };
        for &width in widths {
            access(op(width), PVPANIC, 0);
            tried += 1;
        }
        for off in [1, 2, 8] {
            access(op(1), PVPANIC + off, 0);
            tried += 1;
        }
    }
    ok &= check("pvpanic: other widths and offsets fault back", exceptions() == before + tried,
        format_args!("{} faults of {tried} accesses", exceptions() - before));
    // SHUTDOWN and unknown bits are not events here: nothing happens.
    access(Op::Store { width: 1 }, PVPANIC, 0xfc);
    let start = super::sbi::time();
    while super::sbi::time() < start + 2 * ram.timebase {}
    say!("testguest: still running 2 s after writing bits it does not take");
    if !ok {
        return false;
    }
    say!("testguest: reporting a panic");
    access(Op::Store { width: 1 }, PVPANIC, 1);
    // As Linux after its panic notifiers: spin, reading the time.
    loop {
        super::sbi::time();
    }
}
