//! What the test guest checks, chosen by `diosix.test=<scenario>` on its
//! command line. Each check prints `testguest: PASS <name>` or
//! `testguest: FAIL <name>: <detail>`; the test suite reads those lines.

use core::arch::asm;
use core::sync::atomic::{AtomicUsize, Ordering};

use devtree::{Fdt, Platform};

use super::sbi::{self, BASE, DBCN, HSM, IPI, RFNC, SRST};
use super::trap::{self, SEEN};

/// What a started secondary hart does (its HSM opaque value).
const MODE_STOP: usize = 0x5700;
const MODE_IPI: usize = 0x1b10;
const MODE_SPIN: usize = 0x5b1e;

static ARRIVED: [AtomicUsize; 16] = [const { AtomicUsize::new(0) }; 16];
/// The hart that runs the scenario (the IPI test's partner answers it).
static MAIN_HART: AtomicUsize = AtomicUsize::new(0);

/// The capsule as its device tree describes it.
pub struct Ram {
    pub end: usize,
    pub harts: [usize; 16],
    pub hart_count: usize,
    pub timebase: u64,
}

/// The scenario named on the command line, and the capsule's RAM and harts.
pub fn read_tree(dtb: usize) -> (&'static str, Ram) {
    // SAFETY: the hypervisor passes a device tree at dtb; only the header
    // is read before its size is known.
    let header = unsafe { core::slice::from_raw_parts(dtb as *const u8, 40) };
    let size = Fdt::total_size(header).unwrap_or(40);
    let blob = unsafe { core::slice::from_raw_parts(dtb as *const u8, size) };
    let fdt = Fdt::parse(blob).expect("the capsule's device tree parses");
    let p = Platform::from_fdt(&fdt).expect("the capsule's device tree describes RAM and harts");
    let mut ram = Ram {
        end: p.ram[0].end() as usize,
        harts: [0; 16],
        hart_count: 0,
        timebase: p.timebase_hz.unwrap_or(10_000_000),
    };
    for h in p.harts.iter().take(16) {
        ram.harts[ram.hart_count] = h.id as usize;
        ram.hart_count += 1;
    }
    let scenario = p
        .bootargs
        .unwrap_or("")
        .split_ascii_whitespace()
        .find_map(|w| w.strip_prefix("diosix.test="))
        .unwrap_or("hello");
    (scenario, ram)
}

fn check(name: &str, ok: bool, detail: core::fmt::Arguments) -> bool {
    if ok {
        say!("testguest: PASS {name}");
    } else {
        say!("testguest: FAIL {name}: {detail}");
    }
    ok
}

fn wait_until(ram: &Ram, ms: u64, mut done: impl FnMut() -> bool) -> bool {
    let deadline = sbi::time() + ram.timebase / 1000 * ms;
    while sbi::time() < deadline {
        if done() {
            return true;
        }
        core::hint::spin_loop();
    }
    done()
}

pub fn run(scenario: &str, hart: usize, ram: Ram) -> bool {
    match scenario {
        "hello" => true,
        "sbi" => base(),
        "timer" => timer(hart, &ram),
        "hsm" => hsm(hart, &ram),
        "ipi" => ipi(hart, &ram),
        "rfence" => rfence(hart, &ram),
        "console" => console(&ram),
        "srst" => srst(),
        "die" => die(),
        s if s == "fuzz" || s.starts_with("fuzz:") => super::fuzz::run(s, hart, &ram),
        "hext" => super::hext::run(hart, check),
        "spoof" => super::hostile::spoof(),
        "top-ecall" => super::hostile::top_ecall(check),
        s => match s.strip_prefix("isolation:") {
            Some(what) => isolation(hart, what, &ram),
            None => check("scenario", false, format_args!("unknown scenario {s}")),
        },
    }
}

/// A hart started through HSM.
pub fn secondary(hart: usize, opaque: usize) -> ! {
    ARRIVED[hart % 16].store(opaque, Ordering::SeqCst);
    match opaque {
        MODE_STOP => sbi::hart_stop(),
        MODE_IPI => {
            trap::enable(1 << 1);
            while SEEN[hart % 16].soft_irqs.load(Ordering::SeqCst) == 0 {
                // SAFETY: waits for the IPI.
                unsafe { asm!("wfi") };
            }
            // Answer the boot hart's IPI with one of our own.
            let back = MAIN_HART.load(Ordering::SeqCst);
            sbi::call(IPI, 0, [1 << back, 0, 0]);
            sbi::hart_stop()
        }
        _ => loop {
            core::hint::spin_loop();
        },
    }
}

fn other_hart(hart: usize, ram: &Ram) -> Option<usize> {
    ram.harts[..ram.hart_count].iter().copied().find(|&h| h != hart)
}

fn secondary_entry() -> usize {
    unsafe extern "C" {
        fn testguest_secondary();
    }
    testguest_secondary as *const () as usize
}

fn start(hart: usize, mode: usize) -> isize {
    ARRIVED[hart % 16].store(0, Ordering::SeqCst);
    sbi::call(HSM, 0, [hart, secondary_entry(), mode]).0
}

fn base() -> bool {
    let mut ok = true;
    let (e, v) = sbi::call(BASE, 0, [0; 3]);
    ok &= check("spec version is 2.0", e == 0 && v == 0x0200_0000, format_args!("{e} {v:#x}"));
    let (e, v) = sbi::call(BASE, 1, [0; 3]);
    ok &= check("implementation id is 5 (Diosix)", e == 0 && v == 5, format_args!("{e} {v}"));
    for (name, eid) in [("BASE", BASE), ("TIME", sbi::TIME), ("IPI", IPI), ("RFENCE", RFNC), ("HSM", HSM), ("SRST", SRST), ("DBCN", DBCN), ("legacy console", 1)] {
        let (e, v) = sbi::call(BASE, 3, [eid, 0, 0]);
        ok &= check(name, e == 0 && v != 0, format_args!("probe gave {e} {v}"));
    }
    for (name, eid) in [("PMU absent", 0x0050_4D55), ("NACL absent", 0x4E41_434C), ("STA absent", 0x0053_5441), ("FWFT absent", 0x4657_4654)] {
        let (e, v) = sbi::call(BASE, 3, [eid, 0, 0]);
        ok &= check(name, e == 0 && v == 0, format_args!("probe gave {e} {v}"));
    }
    let (e, _) = sbi::call(0x0abc_def0, 0, [0; 3]);
    ok &= check("unknown extension is not supported", e == sbi::ERR_NOT_SUPPORTED, format_args!("{e}"));
    let (e, _) = sbi::call(BASE, 99, [0; 3]);
    ok &= check("unknown function is not supported", e == sbi::ERR_NOT_SUPPORTED, format_args!("{e}"));
    let (e, _) = sbi::call(BASE, 4, [0; 3]);
    ok &= check("mvendorid readable", e == 0, format_args!("{e}"));
    ok
}

fn timer(hart: usize, ram: &Ram) -> bool {
    let seen = &SEEN[hart % 16];
    trap::enable(1 << 5);
    let start = sbi::time();
    let deadline = start + ram.timebase / 50; // 20 ms
    let e = sbi::set_timer(deadline);
    // Look for the interrupt first, then at the clock: an interrupt seen
    // before a clock read that is still short of the deadline really came
    // early. (The other order misjudges a vcpu descheduled by the host
    // between the two reads, as on a loaded machine: the clock read before
    // the pause is early, the interrupt seen after it is on time.)
    let mut early = false;
    loop {
        let seen_irq = seen.timer_irqs.load(Ordering::SeqCst) != 0;
        if sbi::time() >= deadline {
            break;
        }
        early |= seen_irq;
    }
    let arrived = wait_until(ram, 2000, || seen.timer_irqs.load(Ordering::SeqCst) != 0);
    let at = seen.timer_at.load(Ordering::SeqCst) as u64;
    let mut ok = check("set_timer succeeds", e == 0, format_args!("{e}"));
    ok &= check("no timer interrupt before the deadline", !early, format_args!("arrived early"));
    ok &= check("timer interrupt after the deadline", arrived && at >= (deadline & usize::MAX as u64),
        format_args!("arrived {arrived} at {at}, deadline {deadline}"));
    ok
}

fn hsm(hart: usize, ram: &Ram) -> bool {
    let Some(other) = other_hart(hart, ram) else {
        return check("a second vcore", false, format_args!("the capsule has one hart"));
    };
    let status = |h: usize| sbi::call(HSM, 2, [h, 0, 0]);
    let mut ok = check("other hart starts stopped", status(other) == (0, 1), format_args!("{:?}", status(other)));
    ok &= check("own hart is started", status(hart) == (0, 0), format_args!("{:?}", status(hart)));
    for round in 0..2 {
        let e = start(other, MODE_STOP);
        ok &= check("hart_start", e == 0, format_args!("round {round}: {e}"));
        let ran = wait_until(ram, 2000, || ARRIVED[other % 16].load(Ordering::SeqCst) == MODE_STOP);
        ok &= check("started hart runs with its opaque value", ran, format_args!("round {round}"));
        let stopped = wait_until(ram, 2000, || status(other) == (0, 1));
        ok &= check("hart_stop returns it to stopped", stopped, format_args!("{:?}", status(other)));
    }
    let e = start(hart, MODE_STOP);
    ok &= check("starting a started hart is refused", e == sbi::ERR_ALREADY_AVAILABLE, format_args!("{e}"));
    let e = sbi::call(HSM, 0, [99, secondary_entry(), 0]).0;
    ok &= check("starting a hart the capsule lacks is refused", e == sbi::ERR_INVALID_PARAM, format_args!("{e}"));
    let e = sbi::call(HSM, 0, [other, 0x8000_0000, 0]).0;
    ok &= check("starting outside the capsule is refused", e == sbi::ERR_INVALID_ADDRESS, format_args!("{e}"));
    let e = status(99).0;
    ok &= check("status of a hart the capsule lacks", e == sbi::ERR_INVALID_PARAM, format_args!("{e}"));
    ok
}

fn ipi(hart: usize, ram: &Ram) -> bool {
    let Some(other) = other_hart(hart, ram) else {
        return check("a second vcore", false, format_args!("the capsule has one hart"));
    };
    MAIN_HART.store(hart, Ordering::SeqCst);
    trap::enable(1 << 1);
    let mut ok = check("hart_start", start(other, MODE_IPI) == 0, format_args!(""));
    ok &= check("other hart running", wait_until(ram, 2000, || ARRIVED[other % 16].load(Ordering::SeqCst) == MODE_IPI), format_args!(""));
    let e = sbi::call(IPI, 0, [1 << other, 0, 0]).0;
    ok &= check("send_ipi", e == 0, format_args!("{e}"));
    let back = wait_until(ram, 2000, || SEEN[hart % 16].soft_irqs.load(Ordering::SeqCst) != 0);
    ok &= check("IPI delivered and answered", back && SEEN[other % 16].soft_irqs.load(Ordering::SeqCst) == 1,
        format_args!("back {back}, other saw {}", SEEN[other % 16].soft_irqs.load(Ordering::SeqCst)));
    let e = sbi::call(IPI, 0, [1, 40, 0]).0;
    ok &= check("IPI to a hart the capsule lacks is refused", e == sbi::ERR_INVALID_PARAM, format_args!("{e}"));
    ok
}

fn rfence(hart: usize, ram: &Ram) -> bool {
    let Some(other) = other_hart(hart, ram) else {
        return check("a second vcore", false, format_args!("the capsule has one hart"));
    };
    let mut ok = check("hart_start", start(other, MODE_SPIN) == 0, format_args!(""));
    ok &= check("other hart running", wait_until(ram, 2000, || ARRIVED[other % 16].load(Ordering::SeqCst) == MODE_SPIN), format_args!(""));
    for (name, fid, args) in [
        ("remote fence.i on all harts", 0, [0, usize::MAX, 0]),
        ("remote sfence.vma on the other hart", 1, [1 << other, 0, 0]),
        ("remote sfence.vma.asid on both", 2, [(1 << other) | (1 << hart), 0, 0]),
    ] {
        let e = sbi::call(RFNC, fid, args).0;
        ok &= check(name, e == 0, format_args!("{e}"));
    }
    let e = sbi::call(RFNC, 0, [1, 40, 0]).0;
    ok &= check("fence on a hart the capsule lacks is refused", e == sbi::ERR_INVALID_PARAM, format_args!("{e}"));
    let e = sbi::call(RFNC, 3, [0, usize::MAX, 0]).0;
    ok &= check("hypervisor fences are not supported", e == sbi::ERR_NOT_SUPPORTED, format_args!("{e}"));
    ok
}

fn console(ram: &Ram) -> bool {
    static LINE: &[u8] = b"testguest: written with one DBCN call\r\n";
    let (e, n) = sbi::call(DBCN, 0, [LINE.len(), LINE.as_ptr() as usize, 0]);
    let mut ok = check("DBCN write", e == 0 && n == LINE.len(), format_args!("{e} {n}"));
    for b in b"testguest: legacy putchar\r\n" {
        sbi::legacy(1, *b as usize);
    }
    let (e, _) = sbi::call(DBCN, 0, [8, 0x8000_0000, 0]);
    ok &= check("DBCN write from outside the capsule is refused", e == sbi::ERR_INVALID_PARAM, format_args!("{e}"));
    let c = sbi::legacy(2, 0);
    ok &= check("legacy getchar with no input", c == usize::MAX, format_args!("{c:#x}"));
    say!("testguest: type three characters");
    let mut buf = [0u8; 3];
    let mut got = 0;
    wait_until(ram, 10_000, || {
        let (e, n) = sbi::call(DBCN, 1, [buf.len() - got, buf[got..].as_mut_ptr() as usize, 0]);
        if e == 0 {
            got += n;
        }
        got == buf.len()
    });
    let text = core::str::from_utf8(&buf[..got]).unwrap_or("?");
    say!("testguest: read '{text}'");
    ok &= check("DBCN read", got == 3, format_args!("read {got} bytes"));
    ok
}

fn srst() -> bool {
    let e = sbi::call(SRST, 0, [3, 0, 0]).0;
    let mut ok = check("unknown reset type is refused", e == sbi::ERR_INVALID_PARAM, format_args!("{e}"));
    let e = sbi::call(SRST, 0, [0, 2, 0]).0;
    ok &= check("reserved reset reason is refused", e == sbi::ERR_INVALID_PARAM, format_args!("{e}"));
    ok
}

/// Breaks its own trap handling and then faults: the hypervisor must
/// stop the capsule (there is nowhere to reflect the fault to).
fn die() -> bool {
    say!("testguest: faulting with no trap handler");
    // SAFETY: deliberately removes our trap vector, then makes an access
    // the hypervisor refuses; nothing after this is expected to run.
    unsafe { asm!("csrw stvec, zero") };
    load(0x8000_0000);
    check("the capsule was stopped", false, format_args!("execution went on"))
}

fn load(addr: usize) {
    // SAFETY: a deliberate load that the hypervisor's PMP must stop; the
    // fault handler skips it.
    unsafe { asm!(".option push", ".option norvc", "lw {0}, 0({1})", ".option pop", out(reg) _, in(reg) addr) };
}

fn store(addr: usize) {
    // SAFETY: a deliberate store that PMP must stop; the handler skips it.
    unsafe { asm!(".option push", ".option norvc", "sw zero, 0({0})", ".option pop", in(reg) addr) };
}

/// An access the capsule must not be able to make: the fault must come
/// back to this kernel, and execution go on.
fn isolation(hart: usize, what: &str, ram: &Ram) -> bool {
    let seen = &SEEN[hart % 16];
    let target = match what {
        "hv" => 0x8000_0000,
        "ram" => ram.end + 0x1000,
        "uart" => 0x1000_0000,
        "clint" => 0x0200_4000,
        "plic" => 0x0c00_0000,
        "poweroff" => 0x0010_0000,
        "mcsr" => {
            let before = seen.exceptions.load(Ordering::SeqCst);
            // SAFETY: a deliberate read of an M-mode CSR from S-mode.
            unsafe { asm!(".option push", ".option norvc", "csrr {0}, mstatus", ".option pop", out(reg) _) };
            let cause = seen.cause.load(Ordering::SeqCst);
            let mut ok = check("reading mstatus faults as illegal instruction",
                seen.exceptions.load(Ordering::SeqCst) == before + 1 && cause == 2, format_args!("cause {cause}"));
            // SAFETY: a deliberate write of an M-mode CSR from S-mode.
            unsafe { asm!(".option push", ".option norvc", "csrw mtvec, zero", ".option pop") };
            let cause = seen.cause.load(Ordering::SeqCst);
            ok &= check("writing mtvec faults as illegal instruction",
                seen.exceptions.load(Ordering::SeqCst) == before + 2 && cause == 2, format_args!("cause {cause}"));
            return ok;
        }
        other => return check("isolation target", false, format_args!("unknown target {other}")),
    };
    let mut ok = true;
    for (kind, cause) in [("load", 5), ("store", 7)] {
        let before = seen.exceptions.load(Ordering::SeqCst);
        if kind == "load" { load(target) } else { store(target) }
        let got = seen.cause.load(Ordering::SeqCst);
        let tval = seen.tval.load(Ordering::SeqCst);
        ok &= check(kind, seen.exceptions.load(Ordering::SeqCst) == before + 1 && got == cause && tval == target,
            format_args!("{what} at {target:#x}: cause {got}, tval {tval:#x}"));
    }
    say!("testguest: still running after touching {what}");
    ok
}
