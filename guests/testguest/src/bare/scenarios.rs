//! What the test guest checks, chosen by `diosix.test=<scenario>` on its
//! command line. Each check prints `testguest: PASS <name>` or
//! `testguest: FAIL <name>: <detail>`; the test suite reads those lines.

use core::arch::asm;
use core::sync::atomic::{AtomicUsize, Ordering};

use devtree::{Fdt, Platform};

use super::sbi::{self, BASE, DBCN, FWFT, HSM, IPI, PMU, RFNC, SRST, SUSP};
use super::trap::{self, SEEN};

/// What a started secondary hart does (its HSM opaque value).
const MODE_STOP: usize = 0x5700;
const MODE_IPI: usize = 0x1b10;
const MODE_SPIN: usize = 0x5b1e;
/// Suspend retentively, record what the call returned, stop.
const MODE_RET_SUSPEND: usize = 0x2e75;
/// Suspend non-retentively, to resume as MODE_RESUMED.
const MODE_NONRET_SUSPEND: usize = 0x7e57;
/// Arrived at the resume address of a non-retentive suspend.
const MODE_RESUMED: usize = 0x2e5d;
/// Spin until RELEASE, then stop.
const MODE_HOLD: usize = 0x401d;
/// The main hart, back from a system suspend.
const MODE_SYS_RESUMED: usize = 0x5a5e;

/// Per hart: what a hart_suspend call returned, if it returned.
static SUSPEND_RESULT: [AtomicUsize; 16] = [const { AtomicUsize::new(NOT_RETURNED) }; 16];
const NOT_RETURNED: usize = 0xdead;
/// Per hart: satp and sstatus as a resumed hart found them, and its a0.
static RESUMED_SATP: [AtomicUsize; 16] = [const { AtomicUsize::new(usize::MAX) }; 16];
static RESUMED_SSTATUS: [AtomicUsize; 16] = [const { AtomicUsize::new(usize::MAX) }; 16];
static RESUMED_A0: [AtomicUsize; 16] = [const { AtomicUsize::new(usize::MAX) }; 16];
static RELEASE: AtomicUsize = AtomicUsize::new(0);
/// Across a system suspend: the checks so far, and the timer's deadline.
static SUSP_OK: AtomicUsize = AtomicUsize::new(0);
static SUSP_DEADLINE: AtomicUsize = AtomicUsize::new(0);

static ARRIVED: [AtomicUsize; 16] = [const { AtomicUsize::new(0) }; 16];
/// The hart that runs the scenario (the IPI test's partner answers it).
static MAIN_HART: AtomicUsize = AtomicUsize::new(0);

/// The capsule as its device tree describes it.
pub struct Ram {
    /// The capsule's RAM, `base..end` (its tree's first memory range).
    pub base: usize,
    pub end: usize,
    /// Where the device tree is (a1 at entry), and its size from its header.
    pub tree: usize,
    pub tree_size: usize,
    pub harts: [usize; 16],
    pub hart_count: usize,
    pub timebase: u64,
    /// The capsule's harts list Sstc: it may write its own `stimecmp`.
    pub sstc: bool,
    /// The capsule's harts list D: it has FP registers of 64 bits.
    pub fpu: bool,
}

impl Ram {
    /// The device tree the capsule booted with.
    pub fn tree_blob(&self) -> &'static [u8] {
        // SAFETY: the hypervisor put a tree of this size (from its own
        // header) at `tree`, inside our RAM, and nothing writes it.
        unsafe { core::slice::from_raw_parts(self.tree as *const u8, self.tree_size) }
    }
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
        base: p.ram[0].start() as usize,
        end: p.ram[0].end() as usize,
        tree: dtb,
        tree_size: size,
        harts: [0; 16],
        hart_count: 0,
        timebase: p.timebase_hz.unwrap_or(10_000_000),
        sstc: p.harts.first().is_some_and(|h| h.isa.split('_').any(|e| e == "sstc")),
        fpu: p.harts.first().is_some_and(|h| h.isa.split('_').next().is_some_and(|l| l.get(4..).is_some_and(|x| x.contains('d')))),
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
        "pmu" => pmu(),
        "fwft" => fwft(),
        "suspend" => suspend(hart, &ram),
        "susp" => system_suspend(hart, &ram),
        "timer" => timer(hart, &ram),
        "sstc" => super::sstc::run(hart, &ram, check),
        "cost" => super::cost::run(hart, &ram),
        "hsm" => hsm(hart, &ram),
        "ipi" => ipi(hart, &ram),
        "rfence" => rfence(hart, &ram),
        "console" => console(&ram),
        "srst" => srst(),
        "die" => die(),
        s if s.starts_with("keep:") => super::keep::run(hart, &ram, &s[5..]),
        "zeroed" => super::multi::zeroed(&ram),
        "crash" => super::multi::crash(),
        s if s == "fuzz" || s.starts_with("fuzz:") => super::fuzz::run(s, hart, &ram),
        "hext" => super::hext::run(hart, check),
        "uart" => super::devices::uart(ram.tree_blob()),
        "plic" => super::devices::plic(hart),
        "pvpanic" => super::devices::pvpanic(&ram),
        "virtio" => super::virtio::run(true, ram.end),
        "virtio-second" => super::virtio::run(false, ram.end),
        "spoof" => super::hostile::spoof(),
        "top-ecall" => super::hostile::top_ecall(check),
        "stop-all" => super::hostile::stop_all(),
        s => match s.split_once(':') {
            Some(("isolation", what)) => isolation(hart, what, &ram),
            Some(("ticks", n)) => super::multi::ticks(hart, &ram, n),
            Some(("spin", ms)) => super::multi::spin(&ram, ms),
            Some(("attack", range)) => super::multi::attack(hart, &ram, range),
            _ => check("scenario", false, format_args!("unknown scenario {s}")),
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
        MODE_RET_SUSPEND => {
            trap::enable(1 << 1);
            let (e, _) = sbi::call(HSM, 3, [0, 0, 0]);
            SUSPEND_RESULT[hart % 16].store(e as usize, Ordering::SeqCst);
            sbi::hart_stop()
        }
        MODE_NONRET_SUSPEND => {
            // The IPI is to wake the hart, and be taken once it has resumed.
            // SAFETY: enables software interrupts in sie only (sstatus.SIE
            // stays clear, as a started hart has it).
            unsafe { asm!("csrs sie, {0}", in(reg) 1 << 1) };
            let (e, _) = sbi::call(HSM, 3, [0x8000_0000, secondary_entry(), MODE_RESUMED]);
            SUSPEND_RESULT[hart % 16].store(e as usize, Ordering::SeqCst);
            sbi::hart_stop()
        }
        MODE_RESUMED => {
            let (satp, sstatus) = resume_csrs();
            RESUMED_SATP[hart % 16].store(satp, Ordering::SeqCst);
            RESUMED_SSTATUS[hart % 16].store(sstatus, Ordering::SeqCst);
            RESUMED_A0[hart % 16].store(hart, Ordering::SeqCst);
            trap::enable(1 << 1);
            while SEEN[hart % 16].soft_irqs.load(Ordering::SeqCst) == 0 {
                core::hint::spin_loop();
            }
            sbi::hart_stop()
        }
        MODE_HOLD => {
            while RELEASE.load(Ordering::SeqCst) == 0 {
                core::hint::spin_loop();
            }
            sbi::hart_stop()
        }
        MODE_SYS_RESUMED => system_resumed(hart),
        _ => loop {
            core::hint::spin_loop();
        },
    }
}

pub(super) fn other_hart(hart: usize, ram: &Ram) -> Option<usize> {
    ram.harts[..ram.hart_count].iter().copied().find(|&h| h != hart)
}

fn secondary_entry() -> usize {
    unsafe extern "C" {
        fn testguest_secondary();
    }
    testguest_secondary as *const () as usize
}

/// Starts `other` spinning (for the cost measurements); true once it runs.
pub(super) fn start_spinning(other: usize, ram: &Ram) -> bool {
    start(other, MODE_SPIN) == 0 && wait_until(ram, 2000, || ARRIVED[other % 16].load(Ordering::SeqCst) == MODE_SPIN)
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
    for (name, eid) in [
        ("BASE", BASE),
        ("TIME", sbi::TIME),
        ("IPI", IPI),
        ("RFENCE", RFNC),
        ("HSM", HSM),
        ("SRST", SRST),
        ("DBCN", DBCN),
        ("legacy console", 1),
        ("PMU present", PMU),
        ("SUSP present", SUSP),
        ("FWFT present", FWFT),
        ("STA present", 0x0053_5441),
    ] {
        let (e, v) = sbi::call(BASE, 3, [eid, 0, 0]);
        ok &= check(name, e == 0 && v != 0, format_args!("probe gave {e} {v}"));
    }
    for (name, eid) in [("NACL absent", 0x4E41_434C), ("SSE absent", 0x0053_5345), ("CPPC absent", 0x4350_5043)] {
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
pub(super) fn die() -> bool {
    say!("testguest: faulting with no trap handler");
    // SAFETY: deliberately removes our trap vector, then makes an access
    // the hypervisor refuses; nothing after this is expected to run.
    unsafe { asm!("csrw stvec, zero") };
    load(0x8000_0000);
    check("the capsule was stopped", false, format_args!("execution went on"))
}

/// A 32-bit load; 0 if it faulted (the handler skips it).
fn load(addr: usize) -> usize {
    let mut value = 0;
    // SAFETY: a deliberate load that the hypervisor's PMP must stop; the
    // fault handler skips it.
    unsafe { asm!(".option push", ".option norvc", "lw {0}, 0({1})", ".option pop", inout(reg) value, in(reg) addr) };
    value
}

fn store(addr: usize, value: usize) {
    // SAFETY: a deliberate store that PMP must stop; the handler skips it.
    unsafe { asm!(".option push", ".option norvc", "sw {1}, 0({0})", ".option pop", in(reg) addr, in(reg) value) };
}

/// One way of touching memory the capsule must not reach.
#[derive(Clone, Copy)]
pub(super) enum Access {
    Load,
    /// A 32-bit store of this value.
    Store(usize),
    /// A call into it: an instruction fetch.
    Fetch,
}

impl Access {
    pub(super) fn name(self) -> &'static str {
        match self {
            Access::Load => "load",
            Access::Store(_) => "store",
            Access::Fetch => "fetch",
        }
    }

    /// The access fault that must answer it: load, store/AMO or
    /// instruction access fault.
    fn fault(self) -> usize {
        match self {
            Access::Load => 5,
            Access::Store(_) => 7,
            Access::Fetch => 1,
        }
    }
}

/// What a [`probe`] came to, as this hart's trap handler saw it.
pub(super) struct Outcome {
    exceptions: usize,
    cause: usize,
    tval: usize,
    /// What a load read (0 if it faulted).
    pub value: usize,
}

impl Outcome {
    /// Exactly one exception: `access`'s own access fault, at `target`.
    pub(super) fn contained(&self, access: Access, target: usize) -> bool {
        self.exceptions == 1 && self.cause == access.fault() && self.tval == target
    }
}

impl core::fmt::Display for Outcome {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.exceptions {
            0 => write!(f, "no exception"),
            1 => write!(f, "cause {}, tval {:#x}", self.cause, self.tval),
            n => write!(f, "{n} exceptions, the last cause {}, tval {:#x}", self.cause, self.tval),
        }
    }
}

/// Makes `access` at `target`, an address outside the capsule; the fault
/// must come back to this kernel's handler and execution go on.
pub(super) fn probe(hart: usize, access: Access, target: usize) -> Outcome {
    let seen = &SEEN[hart % 16];
    let before = seen.exceptions.load(Ordering::SeqCst);
    let mut value = 0;
    match access {
        Access::Load => value = load(target),
        Access::Store(v) => store(target, v),
        Access::Fetch => trap::fetch(target),
    }
    Outcome {
        exceptions: seen.exceptions.load(Ordering::SeqCst) - before,
        cause: seen.cause.load(Ordering::SeqCst),
        tval: seen.tval.load(Ordering::SeqCst),
        value,
    }
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
        // QEMU virt's PLIC spans 0x0c00_0000..0x0c60_0000; the capsule's
        // own emulated PLIC covers the first 0x21_0000 of that, so the
        // real one's registers beyond are the target.
        "plic" => 0x0c40_0000,
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
    for access in [Access::Load, Access::Store(0)] {
        let got = probe(hart, access, target);
        ok &= check(access.name(), got.contained(access, target), format_args!("{what} at {target:#x}: {got}"));
    }
    say!("testguest: still running after touching {what}");
    ok
}

/// satp and sstatus, read first thing after a resume.
fn resume_csrs() -> (usize, usize) {
    let (satp, sstatus): (usize, usize);
    // SAFETY: reads two S-mode CSRs.
    unsafe { asm!("csrr {0}, satp", "csrr {1}, sstatus", out(reg) satp, out(reg) sstatus) };
    (satp, sstatus)
}

fn pmu() -> bool {
    let p = |fid: usize, a: [usize; 6]| sbi::call6(PMU, fid, a);
    let mut ok = true;
    let (e, n) = p(0, [0; 6]);
    ok &= check("PMU: 19 counters", e == 0 && n == 19, format_args!("{e} {n}"));
    let width = 63 << 12;
    for (name, idx, want) in [
        ("PMU: counter 0 is cycle", 0, (0, 0xc00 | width)),
        ("PMU: index 1 (time) is no counter", 1, (sbi::ERR_INVALID_PARAM, 0)),
        ("PMU: counter 2 is instret", 2, (0, 0xc02 | width)),
        ("PMU: counter 3 is a firmware counter", 3, (0, (1 << (usize::BITS - 1)) | width)),
        ("PMU: counter 19 does not exist", 19, (sbi::ERR_INVALID_PARAM, 0)),
    ] {
        let got = p(1, [idx, 0, 0, 0, 0, 0]);
        ok &= check(name, got == want, format_args!("{got:?}, expected {want:?}"));
    }
    // Hardware counters: cycles on counter 0; it holds while stopped.
    let all = ((1 << 19) - 1) & !0b10;
    let got = p(2, [0, all, 0, 0x1, 0, 0]);
    ok &= check("PMU: cycles match counter 0", got == (0, 0), format_args!("{got:?}"));
    let e = p(4, [0, 1, 0, 0, 0, 0]).0;
    let (a, b) = (sbi::cycle(), { spin(1000); sbi::cycle() });
    ok &= check("PMU: a stopped cycle counter holds its value", e == 0 && a == b, format_args!("{e}: {a} then {b}"));
    let e = p(4, [0, 1, 0, 0, 0, 0]).0;
    ok &= check("PMU: stopping it again", e == sbi::ERR_ALREADY_STOPPED, format_args!("{e}"));
    let e = p(3, [0, 1, 1, 0, 0, 0]).0;
    let (c, d) = (sbi::cycle(), { spin(1000); sbi::cycle() });
    ok &= check("PMU: started from 0, it counts", e == 0 && d != c, format_args!("{e}: {c} then {d}"));
    let e = p(3, [0, 1, 0, 0, 0, 0]).0;
    ok &= check("PMU: starting it again", e == sbi::ERR_ALREADY_STARTED, format_args!("{e}"));
    let got = p(2, [0, all, 0, 0x2, 0, 0]);
    ok &= check("PMU: instructions match counter 2", got == (0, 2), format_args!("{got:?}"));
    for (name, event) in [("branch misses", 0x6), ("a cache event", 0x1_0000), ("a raw event", 0x2_0000), ("a firmware event not counted", 0xf_0004)] {
        let e = p(2, [0, all, 0, event, 0, 0]).0;
        ok &= check("PMU: no counter for", e == sbi::ERR_NOT_SUPPORTED, format_args!("{name}: {e}"));
    }
    // Leave the hardware counters unconfigured and running, as before.
    let e = p(4, [0, 0b101, 1, 0, 0, 0]).0;
    let e2 = p(3, [0, 0b101, 0, 0, 0, 0]).0;
    ok &= check("PMU: reset and restarted", (e, e2) == (sbi::ERR_ALREADY_STOPPED, 0) || (e, e2) == (0, 0), format_args!("{e} {e2}"));
    // A firmware counter for set_timer calls.
    let (e, idx) = p(2, [0, 0xffff << 3, 0b110, 0xf_0005, 0, 0]);
    ok &= check("PMU: firmware counter for set_timer", e == 0 && (3..19).contains(&idx), format_args!("{e} {idx}"));
    for _ in 0..3 {
        sbi::set_timer(u64::MAX);
    }
    let got = p(5, [idx, 0, 0, 0, 0, 0]);
    ok &= check("PMU: it counted three set_timer calls", got == (0, 3), format_args!("{got:?}"));
    let got = p(6, [idx, 0, 0, 0, 0, 0]);
    ok &= check("PMU: its upper half", got == (0, 0), format_args!("{got:?}"));
    let e = p(4, [idx, 1, 1, 0, 0, 0]).0;
    ok &= check("PMU: firmware counter stopped and reset", e == 0, format_args!("{e}"));
    for (name, fid, a, want) in [
        ("PMU: an unconfigured firmware counter cannot start", 3, [idx, 1, 0, 0, 0, 0], sbi::ERR_INVALID_PARAM),
        ("PMU: firmware read of a hardware counter", 5, [0, 0, 0, 0, 0, 0], sbi::ERR_INVALID_PARAM),
        ("PMU: starting a counter that does not exist", 3, [40, 1, 0, 0, 0, 0], sbi::ERR_INVALID_PARAM),
        ("PMU: an undefined config flag", 2, [0, all, 1 << 8, 0x1, 0, 0], sbi::ERR_INVALID_PARAM),
        ("PMU: a snapshot start without shared memory", 3, [0, 1, 0b10, 0, 0, 0], sbi::ERR_NO_SHMEM),
        ("PMU: snapshot memory is not offered", 7, [0, 0, 0, 0, 0, 0], sbi::ERR_NOT_SUPPORTED),
        ("PMU: event_get_info (SBI 3.0) is not offered", 8, [0, 0, 0, 0, 0, 0], sbi::ERR_NOT_SUPPORTED),
    ] {
        let e = p(fid, a).0;
        ok &= check(name, e == want, format_args!("{e}, expected {want}"));
    }
    ok
}

fn spin(n: usize) {
    for _ in 0..n {
        core::hint::spin_loop();
    }
}

fn fwft() -> bool {
    let set = |f: usize, v: usize, flags: usize| sbi::call(FWFT, 0, [f, v, flags]).0;
    let get = |f: usize| sbi::call(FWFT, 1, [f, 0, 0]);
    let mut ok = check("FWFT: misaligned exceptions are delegated", get(0) == (0, 1), format_args!("{:?}", get(0)));
    for (name, got, want) in [
        ("FWFT: delegating them again", set(0, 1, 0), 0),
        ("FWFT: taking them back is denied", set(0, 0, 0), sbi::ERR_DENIED),
        ("FWFT: a value that is no value", set(0, 2, 0), sbi::ERR_INVALID_PARAM),
        ("FWFT: an undefined flag", set(0, 1, 0b10), sbi::ERR_INVALID_PARAM),
        ("FWFT: hardware A/D updating is not supported", get(4).0, sbi::ERR_NOT_SUPPORTED),
        ("FWFT: setting it neither", set(4, 1, 0), sbi::ERR_NOT_SUPPORTED),
        ("FWFT: landing pads are not supported", get(1).0, sbi::ERR_NOT_SUPPORTED),
        ("FWFT: shadow stacks are not supported", get(2).0, sbi::ERR_NOT_SUPPORTED),
        ("FWFT: double trap is not supported", get(3).0, sbi::ERR_NOT_SUPPORTED),
        ("FWFT: pointer masking is not supported", get(5).0, sbi::ERR_NOT_SUPPORTED),
        ("FWFT: a reserved feature is denied", get(6).0, sbi::ERR_DENIED),
        ("FWFT: a platform feature is denied", get(0x4000_0000).0, sbi::ERR_DENIED),
        ("FWFT: setting a global platform feature is denied", set(0xc000_0000, 0, 0), sbi::ERR_DENIED),
        ("FWFT: lock", set(0, 1, 1), 0),
        ("FWFT: a locked feature cannot be set", set(0, 1, 0), sbi::ERR_DENIED_LOCKED),
    ] {
        ok &= check(name, got == want, format_args!("{got}, expected {want}"));
    }
    ok &= check("FWFT: a locked feature reads", get(0) == (0, 1), format_args!("{:?}", get(0)));
    ok
}

/// HSM suspend: another vcore suspends, this one sees it SUSPENDED and
/// wakes it with an IPI; retentive, then non-retentive.
fn suspend(hart: usize, ram: &Ram) -> bool {
    let Some(other) = other_hart(hart, ram) else {
        return check("a second vcore", false, format_args!("the capsule has one hart"));
    };
    MAIN_HART.store(hart, Ordering::SeqCst);
    let status = |h: usize| sbi::call(HSM, 2, [h, 0, 0]);
    let o = other % 16;
    let mut ok = true;
    for (name, t) in [
        ("reserved retentive suspend type", 1),
        ("platform-specific retentive suspend type", 0x1000_0000),
        ("reserved non-retentive suspend type", 0x8000_0001),
        ("platform-specific non-retentive suspend type", 0x9000_0000),
    ] {
        let e = sbi::call(HSM, 3, [t, secondary_entry(), 0]).0;
        ok &= check(name, e == sbi::ERR_INVALID_PARAM, format_args!("{e}"));
    }
    let e = sbi::call(HSM, 3, [0x8000_0000, 0x8000_0000, 0]).0;
    ok &= check("resuming outside the capsule is refused", e == sbi::ERR_INVALID_ADDRESS, format_args!("{e}"));

    SUSPEND_RESULT[o].store(NOT_RETURNED, Ordering::SeqCst);
    let irqs = SEEN[o].soft_irqs.load(Ordering::SeqCst);
    ok &= check("hart_start", start(other, MODE_RET_SUSPEND) == 0, format_args!(""));
    let seen = wait_until(ram, 2000, || status(other) == (0, 4));
    ok &= check("a retentively suspended hart reports SUSPENDED", seen, format_args!("{:?}", status(other)));
    let early = SUSPEND_RESULT[o].load(Ordering::SeqCst);
    ok &= check("it stays suspended until woken", early == NOT_RETURNED, format_args!("returned {early:#x}"));
    sbi::call(IPI, 0, [1 << other, 0, 0]);
    let back = wait_until(ram, 2000, || SUSPEND_RESULT[o].load(Ordering::SeqCst) != NOT_RETURNED);
    let got = SUSPEND_RESULT[o].load(Ordering::SeqCst);
    ok &= check("retentive suspend returns success after an IPI", back && got == 0, format_args!("{got:#x}"));
    ok &= check("the waking IPI is delivered", SEEN[o].soft_irqs.load(Ordering::SeqCst) > irqs, format_args!(""));
    ok &= check("then it stops", wait_until(ram, 2000, || status(other) == (0, 1)), format_args!("{:?}", status(other)));

    SUSPEND_RESULT[o].store(NOT_RETURNED, Ordering::SeqCst);
    let irqs = SEEN[o].soft_irqs.load(Ordering::SeqCst);
    ok &= check("hart_start", start(other, MODE_NONRET_SUSPEND) == 0, format_args!(""));
    let seen = wait_until(ram, 2000, || status(other) == (0, 4));
    ok &= check("a non-retentively suspended hart reports SUSPENDED", seen, format_args!("{:?}", status(other)));
    sbi::call(IPI, 0, [1 << other, 0, 0]);
    let arrived = wait_until(ram, 2000, || ARRIVED[o].load(Ordering::SeqCst) == MODE_RESUMED);
    let got = SUSPEND_RESULT[o].load(Ordering::SeqCst);
    ok &= check("non-retentive suspend resumes at the resume address with its opaque value",
        arrived && got == NOT_RETURNED, format_args!("arrived {arrived}, call returned {got:#x}"));
    let (satp, sstatus, a0) = (RESUMED_SATP[o].load(Ordering::SeqCst), RESUMED_SSTATUS[o].load(Ordering::SeqCst), RESUMED_A0[o].load(Ordering::SeqCst));
    ok &= check("resumed with a0 = hartid, satp = 0 and sstatus.SIE = 0", a0 == other && satp == 0 && sstatus & 2 == 0,
        format_args!("a0 {a0}, satp {satp:#x}, sstatus {sstatus:#x}"));
    let taken = wait_until(ram, 2000, || SEEN[o].soft_irqs.load(Ordering::SeqCst) > irqs);
    ok &= check("the waking IPI is taken after resuming", taken, format_args!(""));
    ok &= check("then it stops", wait_until(ram, 2000, || status(other) == (0, 1)), format_args!("{:?}", status(other)));
    ok
}

/// SUSP: the refusals, then a real suspend to RAM with a timer to wake
/// from; the run ends in [`system_resumed`].
fn system_suspend(hart: usize, ram: &Ram) -> bool {
    let Some(other) = other_hart(hart, ram) else {
        return check("a second vcore", false, format_args!("the capsule has one hart"));
    };
    MAIN_HART.store(hart, Ordering::SeqCst);
    let susp = |t: usize, addr: usize| sbi::call(SUSP, 0, [t, addr, MODE_SYS_RESUMED]).0;
    let mut ok = true;
    for (name, got, want) in [
        ("SUSP: a reserved sleep type", susp(1, secondary_entry()), sbi::ERR_INVALID_PARAM),
        ("SUSP: a platform-specific sleep type", susp(0x8000_0000, secondary_entry()), sbi::ERR_INVALID_PARAM),
        ("SUSP: resuming outside the capsule", susp(0, 0x8000_0000), sbi::ERR_INVALID_ADDRESS),
        ("SUSP: an unknown function", sbi::call(SUSP, 1, [0; 3]).0, sbi::ERR_NOT_SUPPORTED),
    ] {
        ok &= check(name, got == want, format_args!("{got}, expected {want}"));
    }
    RELEASE.store(0, Ordering::SeqCst);
    ok &= check("hart_start", start(other, MODE_HOLD) == 0, format_args!(""));
    ok &= check("other hart running", wait_until(ram, 2000, || ARRIVED[other % 16].load(Ordering::SeqCst) == MODE_HOLD), format_args!(""));
    let e = susp(0, secondary_entry());
    ok &= check("SUSP: denied while another vcore runs", e == sbi::ERR_DENIED, format_args!("{e}"));
    RELEASE.store(1, Ordering::SeqCst);
    let stopped = wait_until(ram, 2000, || sbi::call(HSM, 2, [other, 0, 0]) == (0, 1));
    ok &= check("other hart stopped", stopped, format_args!(""));

    // The timer wakes the capsule: enabled in sie, with sstatus.SIE clear
    // so that it cannot be taken (and cleared) before the suspend.
    // SAFETY: masks S interrupts, then enables the timer's in sie.
    unsafe { asm!("csrci sstatus, 2", "csrs sie, {0}", in(reg) 1 << 5) };
    let deadline = sbi::time() + ram.timebase / 20; // 50 ms
    SUSP_DEADLINE.store(deadline as usize, Ordering::SeqCst);
    SUSP_OK.store(ok as usize, Ordering::SeqCst);
    say!("testguest: suspending to RAM");
    sbi::set_timer(deadline);
    let e = susp(0, secondary_entry());
    check("SUSP: suspend to RAM", false, format_args!("the call returned {e}"))
}

/// Back from a system suspend, at the resume address: finish the run.
fn system_resumed(hart: usize) -> ! {
    let (satp, sstatus) = resume_csrs();
    let sip: usize;
    // SAFETY: reads sip.
    unsafe { asm!("csrr {0}, sip", out(reg) sip) };
    let now = sbi::time() as usize;
    let deadline = SUSP_DEADLINE.load(Ordering::SeqCst);
    let mut ok = SUSP_OK.load(Ordering::SeqCst) != 0;
    ok &= check("SUSP: resumed at the resume address with a0 = hartid", hart == MAIN_HART.load(Ordering::SeqCst),
        format_args!("a0 {hart}"));
    ok &= check("SUSP: resumed with satp = 0 and sstatus.SIE = 0", satp == 0 && sstatus & 2 == 0,
        format_args!("satp {satp:#x}, sstatus {sstatus:#x}"));
    ok &= check("SUSP: woken by the timer, after its deadline", sip & (1 << 5) != 0 && now.wrapping_sub(deadline) as isize >= 0,
        format_args!("sip {sip:#x}, now {now}, deadline {deadline}"));
    say!("testguest: {}", if ok { "all passed" } else { "FAILED" });
    if ok { sbi::shutdown() } else { sbi::shutdown_failure() }
}
