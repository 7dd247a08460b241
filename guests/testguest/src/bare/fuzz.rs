//! `diosix.test=fuzz[:<seed>[:<calls>]]`: a storm of pseudo-random SBI
//! calls (100 000 by default), then checks that the capsule still gets
//! correct answers.
//!
//! Extension and function IDs are drawn from every extension diosix
//! implements (and those being added: PMU, SUSP, FWFT), the legacy range,
//! their neighbours and random values; arguments from edge values, hart
//! ids, hypervisor RAM, device MMIO, the capsule's own edges, addresses
//! inside it, huge and small sizes and random words. The seed is printed,
//! and given back on the command line it replays the same calls.
//!
//! Every call must come back (the hypervisor must not fault: that powers
//! the machine off) with a2..a7 unchanged and, outside the legacy range, a
//! standard SBI error code; unknown extensions and functions must get
//! SBI_ERR_NOT_SUPPORTED, and probes and the BASE identity must be right.
//!
//! Calls that legitimately end or freeze the run are filtered out (see
//! `sanitize`): system reset and legacy shutdown, hart_stop, a suspend
//! that would wait, SUSP suspend, and starting the other hart at a random
//! address in the capsule (it would run junk). Calls that would make the
//! hypervisor *write* capsule memory (DBCN read, PMU shared memory) are
//! pointed at a scratch page instead of at our code, stack and canary.

use core::arch::asm;
use core::sync::atomic::Ordering;

use super::sbi::{self, BASE, DBCN, HSM, IPI, RFNC, SRST, TIME};
use super::scenarios::Ram;
use super::trap::{self, SEEN};

const PMU: usize = 0x0050_4D55;
const SUSP: usize = 0x5355_5350;
const FWFT: usize = 0x4657_4654;
const STA: usize = 0x0053_5441;

const DEFAULT_CALLS: u64 = 100_000;

/// Extensions diosix implements, with their highest function ID.
const IMPLEMENTED: [(usize, usize); 7] = [(BASE, 6), (TIME, 0), (IPI, 0), (RFNC, 6), (HSM, 3), (SRST, 0), (DBCN, 2)];
/// Extensions that may or may not be implemented yet: any standard answer.
const MAYBE: [usize; 4] = [PMU, SUSP, FWFT, STA];
/// Other IDs worth trying: reserved, experimental, vendor and firmware
/// ranges, extensions diosix does not offer, and extremes.
const ODD_EIDS: [usize; 16] = [
    0x09, 0x0f, 0x11, 0x0800_0000, 0x08FF_FFFF, 0x0900_0000, 0x09FF_FFFF, 0x0A00_0000,
    0x0AFF_FFFF, 0x0B00_0000, 0x4E41_434C, 0x0053_5345, 0x4350_5043, 0x4D50_5859, 0x7FFF_FFFF, usize::MAX,
];
/// The virt board's device registers: UART, CLINT (msip, mtimecmp, mtime),
/// PLIC, test/power-off device, RTC, PCIe.
const MMIO: [usize; 10] = [
    0x1000_0000, 0x1000_0005, 0x0200_0000, 0x0200_4000, 0x0200_bff8, 0x0c00_0000, 0x0c20_0004, 0x0010_0000,
    0x0010_1000, 0x3000_0000,
];
/// What a hart started through HSM does with this opaque value: stop
/// again at once (scenarios.rs's MODE_STOP).
const MODE_STOP: usize = 0x5700;
const SBI_ERR_NOT_SUPPORTED: usize = -2isize as usize;
/// The lowest standard SBI error (SBI 3.0's ERR_DENIED_LOCKED).
const LOWEST_ERROR: isize = -15;

/// Memory the hypervisor may be asked to fill.
#[repr(C, align(4096))]
struct Page([u8; 4096]);
static mut SCRATCH: Page = Page([0; 4096]);
/// What a DBCN write of capsule memory prints (kept readable).
static PRINTABLE: [u8; 64] = *b"{fuzz: bytes a DBCN write read from inside the capsule .......}\n";
/// Words nothing may change; filled from the seed.
static mut CANARY: [u64; 64] = [0; 64];

unsafe extern "C" {
    fn _start();
    fn testguest_secondary();
}

/// splitmix64: small, fast, and the same on rv32 and rv64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn word(&mut self) -> usize {
        self.next() as usize
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len())]
    }
}

/// Where the storm happens.
struct Ctx {
    hart: usize,
    other: Option<usize>,
    /// The capsule's RAM: the test guest is loaded at its base.
    lo: usize,
    end: usize,
    timebase: u64,
}

impl Ctx {
    fn inside(&self, addr: usize) -> bool {
        (self.lo..self.end).contains(&addr)
    }
}

fn scratch() -> usize {
    core::ptr::addr_of_mut!(SCRATCH) as usize
}

fn canary() -> *mut u64 {
    core::ptr::addr_of_mut!(CANARY) as *mut u64
}

fn eid(r: &mut Rng) -> usize {
    match r.below(20) {
        0..=10 => r.pick(&IMPLEMENTED).0,
        11..=12 => r.pick(&MAYBE),
        13..=15 => r.below(9),
        16 => r.pick(&ODD_EIDS),
        17 => r.pick(&IMPLEMENTED).0.wrapping_add(r.pick(&[1, usize::MAX, 1 << 16])),
        18 => r.word() & 0xFFFF_FFFF,
        _ => r.word(),
    }
}

fn fid(r: &mut Rng, eid: usize) -> usize {
    let max = match IMPLEMENTED.iter().find(|i| i.0 == eid) {
        Some(&(_, max)) => max,
        None => [(PMU, 8), (SUSP, 0), (FWFT, 1), (STA, 0)].iter().find(|m| m.0 == eid).map_or(8, |m| m.1),
    };
    match r.below(10) {
        // Mostly the extension's own functions (and the one after them).
        0..=5 => r.below(max + 2),
        6 => r.below(64),
        7 => r.pick(&[usize::MAX, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 1 << (usize::BITS - 1)]),
        _ => r.word(),
    }
}

fn arg(r: &mut Rng, c: &Ctx) -> usize {
    let top = 1usize << (usize::BITS - 1);
    let size = c.end - c.lo;
    match r.below(16) {
        0 => 0,
        1 => usize::MAX,
        2 => r.below(4),
        3 => r.pick(&[usize::MAX - 1, top, top - 1, 0x8000_0000, 0xFFFF_FFFF, 0xF000_0000, 0xE000_0000, 0x9000_0000]),
        4 => r.pick(&[c.hart, c.other.unwrap_or(1), 2, 15, 16, 31, 32, 63, 64]),
        // Hypervisor RAM, below the capsule.
        5 => 0x8000_0000 + (r.below(c.lo.saturating_sub(0x8000_0000).max(1)) & r.pick(&[!0, !7, !0xfff])),
        6 => r.pick(&MMIO) + r.pick(&[0, 0, 4, 8, 0x1000]),
        // Just outside the capsule, or straddling its edges.
        7 => r.pick(&[c.lo - 1, c.lo - 4, c.lo - 8, c.lo - 0x1000, c.end, c.end - 1, c.end - 4, c.end - 8, c.end.wrapping_add(0x1000)])
            .wrapping_add(r.pick(&[0, 0, 2])),
        // Inside: anywhere, our code, the scratch page, the canary.
        8 => match r.below(4) {
            0 => c.lo + r.below(size),
            1 => c.lo,
            2 => scratch() + r.below(4096),
            _ => canary() as usize,
        },
        9 => r.pick(&[usize::MAX, usize::MAX / 2, (1u64 << 32) as usize, size, size + 1, 0x1000_0000, 0x10_0000, 4097]),
        10 => 1 + r.below(300),
        // A timer deadline soon after now (the low half on rv32).
        11 => (sbi::time() + r.next() % (c.timebase / 100 + 1)) as usize,
        _ => r.word(),
    }
}

/// Takes out calls that would end or freeze the run, and points calls
/// that write capsule memory at the scratch page. `None`: skip this call.
fn sanitize(c: &Ctx, eid: usize, fid: usize, mut a: [usize; 6]) -> Option<[usize; 6]> {
    let capsule = c.end - c.lo;
    match (eid, fid) {
        // Legacy shutdown, whatever the function ID.
        (0x08, _) => return None,
        // SRST system_reset with a type and reason that really reset or
        // shut down (0..=2, and vendor types from 0xF0000000, which an
        // implementation may honour); bad ones must be refused, so stay.
        (SRST, 0) => {
            let (kind, reason) = (a[0] as u32, a[1] as u32);
            let valid_reason = reason <= 1 || reason >= 0xE000_0000;
            if valid_reason && (kind <= 2 || kind >= 0xF000_0000) {
                return None;
            }
        }
        // hart_stop never returns.
        (HSM, 1) => return None,
        // hart_suspend: only the reserved types, which must be refused;
        // a retentive one waits for an interrupt that may never come, a
        // non-retentive one would resume at a random address.
        (HSM, 3) => {
            let t = a[0] as u32;
            if !((1..0x1000_0000).contains(&t) || (0x8000_0001..0x9000_0000).contains(&t)) {
                return None;
            }
        }
        // hart_start at a random address inside the capsule would run
        // junk on the other vcore: start it at our secondary entry
        // instead, to stop again at once (it races with the storm).
        (HSM, 0) if c.inside(a[1]) => {
            a[1] = testguest_secondary as *const () as usize;
            a[2] = MODE_STOP;
        }
        // SUSP system_suspend: only reserved sleep types.
        (SUSP, 0) if !(1..0x8000_0000).contains(&(a[0] as u32)) => return None,
        // DBCN write of capsule memory prints it: print readable bytes.
        (DBCN, 0) if c.inside(a[1]) => {
            a[1] = PRINTABLE.as_ptr() as usize;
            if a[0] <= capsule {
                a[0] %= PRINTABLE.len() + 1;
            }
        }
        // DBCN read writes whatever input there is into capsule memory.
        (DBCN, 1) if c.inside(a[1]) => {
            a[1] = scratch();
            if a[0] <= capsule {
                a[0] %= 4097;
            }
        }
        // Single bytes: readable ones, random upper bits.
        (DBCN, 2) | (0x01, _) => a[0] = (a[0] & !0xff) | (b' ' + (a[0] % 95) as u8) as usize,
        // PMU snapshot_set_shmem and event_get_info write the memory they
        // are given.
        (PMU, 7) if c.inside(a[0]) => a[0] = scratch(),
        (PMU, 8) if c.inside(a[0]) => {
            a[0] = scratch();
            a[2] %= 4096 / 16 + 1;
        }
        // STA set_shmem: the steal-time record is written (zeroed, then
        // updated whenever the vcore waited for a hart) where it is set:
        // inside the capsule only on the scratch page.
        (STA, 0) if c.inside(a[0]) => {
            a[0] = scratch() + (a[0] % 64) * 64 % 4096;
            a[1] = 0;
        }
        // FWFT set: standard features (landing pads, shadow stacks,
        // pointer masking, ...) would change how our own code runs; they
        // may only be set to 0, off.
        (FWFT, 0) if (a[0] as u32 & 0x3FFF_FFFF) < 0x100 => a[1] = 0,
        _ => {}
    }
    Some(a)
}

/// One ecall with all eight argument registers; returns a0, a1 and
/// whether a2..a7 came back as they went in (SBI preserves every
/// register but a0 and a1).
fn ecall(eid: usize, fid: usize, a: [usize; 6]) -> (usize, usize, bool) {
    let (mut r0, mut r1, mut r2, mut r3, mut r4, mut r5, mut r6, mut r7) = (a[0], a[1], a[2], a[3], a[4], a[5], fid, eid);
    // SAFETY: ecall traps to the hypervisor, which returns here; every
    // argument register is declared as possibly changed, so nothing the
    // compiler keeps depends on the hypervisor getting that right.
    unsafe {
        asm!("ecall", inout("a0") r0, inout("a1") r1, inout("a2") r2, inout("a3") r3,
             inout("a4") r4, inout("a5") r5, inout("a6") r6, inout("a7") r7);
    }
    (r0, r1, [r2, r3, r4, r5, r6, r7] == [a[2], a[3], a[4], a[5], fid, eid])
}

/// What a call's answer must look like; `Err` says what is wrong.
fn judge(eid: usize, fid: usize, a: &[usize; 6], error: usize, value: usize) -> Result<(), &'static str> {
    if eid <= 8 {
        return Ok(()); // legacy: a0 is the result, whatever it is
    }
    let e = error as isize;
    if !(LOWEST_ERROR..=0).contains(&e) {
        return Err("error is not a standard SBI error code");
    }
    let Some(&(_, max_fid)) = IMPLEMENTED.iter().find(|i| i.0 == eid) else {
        if !MAYBE.contains(&eid) && error != SBI_ERR_NOT_SUPPORTED {
            return Err("an unknown extension did not answer SBI_ERR_NOT_SUPPORTED");
        }
        return Ok(());
    };
    if fid > max_fid && error != SBI_ERR_NOT_SUPPORTED {
        return Err("an unknown function did not answer SBI_ERR_NOT_SUPPORTED");
    }
    if eid == BASE {
        let wrong = match fid {
            0 => (error, value) != (0, 0x0200_0000),
            1 => (error, value) != (0, 5),
            3 => {
                let present = a[0] <= 8 || IMPLEMENTED.iter().any(|i| i.0 == a[0]);
                let known = present || MAYBE.contains(&a[0]);
                error != 0 || (present && value != 1) || (!known && value != 0)
            }
            _ => false,
        };
        if wrong {
            return Err("BASE gave a wrong answer");
        }
    }
    Ok(())
}

fn check(name: &str, ok: bool, detail: core::fmt::Arguments) -> bool {
    if ok {
        say!("testguest: PASS {name}");
    } else {
        say!("testguest: FAIL {name}: {detail}");
    }
    ok
}

fn wait_ms(c: &Ctx, ms: u64, mut done: impl FnMut() -> bool) -> bool {
    let deadline = sbi::time() + c.timebase / 1000 * ms;
    while sbi::time() < deadline {
        if done() {
            return true;
        }
        core::hint::spin_loop();
    }
    done()
}

fn parse_number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// The seed and call count from `fuzz[:<seed>[:<calls>]]`.
fn options(scenario: &str, hart: usize) -> Option<(u64, u64)> {
    let mut parts = scenario.split(':');
    if parts.next() != Some("fuzz") {
        return None;
    }
    let seed = match parts.next() {
        Some(s) => parse_number(s)?,
        None => Rng(sbi::time() ^ ((hart as u64) << 48)).next(),
    };
    let calls = match parts.next() {
        Some(s) => parse_number(s)?,
        None => DEFAULT_CALLS,
    };
    parts.next().is_none().then_some((seed, calls))
}

pub fn run(scenario: &str, hart: usize, ram: &Ram) -> bool {
    let Some((seed, calls)) = options(scenario, hart) else {
        return check("fuzz options", false, format_args!("`{scenario}` is not fuzz[:<seed>[:<calls>]]"));
    };
    let c = Ctx {
        hart,
        other: ram.harts[..ram.hart_count].iter().copied().find(|&h| h != hart),
        lo: _start as *const () as usize,
        end: ram.end,
        timebase: ram.timebase,
    };
    say!("testguest: fuzz seed {seed:#x}, {calls} calls (replay: diosix.test=fuzz:{seed:#x})");
    for i in 0..64 {
        // SAFETY: only this hart touches the canary, through raw pointers.
        unsafe { canary().add(i).write_volatile(Rng(seed ^ i as u64).next()) };
    }
    let seen = &SEEN[hart % 16];
    let exceptions = seen.exceptions.load(Ordering::SeqCst);
    let mut r = Rng(seed);
    let (mut made, mut skipped, mut succeeded, mut wrong) = (0u64, 0u64, 0u64, 0u64);
    let started = sbi::time();
    while made < calls {
        let eid = eid(&mut r);
        let fid = fid(&mut r, eid);
        let raw = core::array::from_fn(|_| arg(&mut r, &c));
        let Some(a) = sanitize(&c, eid, fid, raw) else {
            skipped += 1;
            continue;
        };
        let (error, value, kept) = ecall(eid, fid, a);
        made += 1;
        let verdict = if kept { judge(eid, fid, &a, error, value) } else { Err("a2..a7 changed") };
        match verdict {
            Ok(()) => succeeded += (eid > 8 && error == 0) as u64,
            Err(why) => {
                wrong += 1;
                if wrong <= 5 {
                    say!("testguest: FAIL fuzz call {made}: eid {eid:#x} fid {fid:#x} args {a:#x?} gave ({error:#x}, {value:#x}): {why}");
                }
            }
        }
        if made % 4096 == 0 {
            // A console poll, as a live kernel makes: keeps the watchdog fed.
            sbi::legacy(2, 0);
        }
        if made % 25_000 == 0 && made < calls {
            say!("\ntestguest: fuzz: {made} calls");
        }
    }
    let ms = (sbi::time() - started) / (c.timebase / 1000).max(1);
    say!("\ntestguest: fuzz: {made} calls in {ms} ms ({succeeded} succeeded, {skipped} run-ending ones skipped)");
    let mut ok = check("every fuzz call came back with a well-formed answer", wrong == 0,
        format_args!("{wrong} wrong answers (seed {seed:#x})"));
    ok &= after_the_storm(&c, seed, exceptions);
    if !ok {
        say!("testguest: FAIL fuzz: replay with diosix.test=fuzz:{seed:#x}:{calls}");
    }
    ok
}

/// The capsule must still be whole and get correct answers.
fn after_the_storm(c: &Ctx, seed: u64, exceptions: usize) -> bool {
    let seen = &SEEN[c.hart % 16];
    let n = seen.exceptions.load(Ordering::SeqCst) - exceptions;
    let mut ok = check("fuzz: no fault reached the capsule", n == 0,
        format_args!("{n} exceptions, the last cause {}", seen.cause.load(Ordering::SeqCst)));

    // SAFETY: as where the canary was filled.
    let bad = (0..64).filter(|&i| unsafe { canary().add(i).read_volatile() } != Rng(seed ^ i as u64).next()).count();
    ok &= check("fuzz: memory canary untouched", bad == 0, format_args!("{bad} of 64 words changed"));

    let (e, v) = sbi::call(BASE, 0, [0; 3]);
    ok &= check("fuzz: spec version is still 2.0", (e, v) == (0, 0x0200_0000), format_args!("{e} {v:#x}"));
    let (e, v) = sbi::call(BASE, 1, [0; 3]);
    ok &= check("fuzz: implementation id is still 5", (e, v) == (0, 5), format_args!("{e} {v}"));

    let status = |h: usize| sbi::call(HSM, 2, [h, 0, 0]);
    ok &= check("fuzz: own vcore is started", status(c.hart) == (0, 0), format_args!("{:?}", status(c.hart)));
    if let Some(other) = c.other {
        // The storm may have started it; it stops itself at once.
        let stopped = wait_ms(c, 2000, || status(other) == (0, 1));
        ok &= check("fuzz: the other vcore is back to stopped", stopped, format_args!("{:?}", status(other)));
        let e = sbi::call(HSM, 0, [other, testguest_secondary as *const () as usize, MODE_STOP]).0;
        let again = e == 0 && wait_ms(c, 2000, || status(other) == (0, 1));
        ok &= check("fuzz: it still starts and stops", again, format_args!("start gave {e}, status {:?}", status(other)));
    }

    // The timer: clear whatever the storm left pending, then a deadline
    // 20 ms on must raise one interrupt, not before it.
    sbi::set_timer(u64::MAX);
    let before = seen.timer_irqs.load(Ordering::SeqCst);
    let deadline = sbi::time() + c.timebase / 50;
    let e = sbi::set_timer(deadline);
    trap::enable(1 << 5);
    let arrived = wait_ms(c, 2000, || seen.timer_irqs.load(Ordering::SeqCst) != before);
    let at = seen.timer_at.load(Ordering::SeqCst) as u64;
    ok &= check("fuzz: set_timer still raises a timer interrupt", e == 0 && arrived && at >= (deadline & usize::MAX as u64),
        format_args!("set_timer gave {e}, arrived {arrived} at {at}, deadline {deadline}"));

    // An IPI to ourselves: clear a pending one first (S-mode may).
    // SAFETY: clears sip.SSIP; the handler counts software interrupts.
    unsafe { asm!("csrci sip, 2") };
    trap::enable(1 << 1);
    wait_ms(c, 1, || false);
    let before = seen.soft_irqs.load(Ordering::SeqCst);
    let e = sbi::call(IPI, 0, [1 << c.hart, 0, 0]).0;
    let arrived = wait_ms(c, 2000, || seen.soft_irqs.load(Ordering::SeqCst) != before);
    ok &= check("fuzz: an IPI to itself still arrives", e == 0 && arrived, format_args!("send_ipi gave {e}, arrived {arrived}"));

    static LINE: &[u8] = b"testguest: fuzz: a known line through one DBCN write\r\n";
    let (e, n) = sbi::call(DBCN, 0, [LINE.len(), LINE.as_ptr() as usize, 0]);
    ok &= check("fuzz: DBCN write still works", (e, n) == (0, LINE.len()), format_args!("{e} {n}"));
    ok
}
