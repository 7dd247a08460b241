//! Scenarios for a test guest that shares the machine with other capsules:
//! each prints what the test needs to compare the capsules' runs.
//!
//! - `ticks:<n>`: n timer interrupts 10 ms apart, idle in `wfi` between them;
//! - `spin:<ms>`: a busy loop for ms of wall time; its count and time window,
//!   and (time, count) samples every quarter second;
//! - `attack:<lo>-<hi>`: loads, stores and fetches every 16 MiB from lo to
//!   hi (hex) outside its own RAM, each of which must fault back to it;
//! - `zeroed`: its free RAM must read as zero; then it dirties that RAM and
//!   dies, for a capsule given the RAM later to check in turn;
//! - `crash`: dies at once.

use core::arch::asm;
use core::fmt::Arguments;
use core::sync::atomic::Ordering;

use super::sbi;
use super::scenarios::{self, Access, Ram};
use super::trap::{self, SEEN};

/// Prints `testguest: PASS <name>` or `testguest: FAIL <name>: <detail>`
/// (as `scenarios::check`, with a formatted name).
fn verdict(name: Arguments, ok: bool, detail: Arguments) -> bool {
    if ok {
        say!("testguest: PASS {name}");
    } else {
        say!("testguest: FAIL {name}: {detail}");
    }
    ok
}

/// Waits in `wfi` until `done()`. S-mode interrupts are masked (sstatus.SIE)
/// from the test through the `wfi`, so one arriving in between still ends
/// the `wfi` (it is pending and enabled in sie) and is taken, not lost,
/// when they are unmasked.
fn idle_until(done: impl Fn() -> bool) {
    loop {
        // SAFETY: masks S-mode interrupts on this hart.
        unsafe { asm!("csrci sstatus, 2") };
        let finished = done();
        if !finished {
            // SAFETY: waits for an interrupt; nothing else.
            unsafe { asm!("wfi") };
        }
        // SAFETY: unmasks them; our handler takes what is pending.
        unsafe { asm!("csrsi sstatus, 2") };
        if finished {
            return;
        }
    }
}

/// `ticks:<n>`: sets the SBI timer 10 ms ahead, n times, idling in `wfi`
/// for each interrupt; a progress line every 10. An interrupt before its
/// deadline fails the run. Deadlines advance by 10 ms, or run 10 ms from
/// now if the capsule was held off past the next one (no bursts to catch up).
pub fn ticks(hart: usize, ram: &Ram, arg: &str) -> bool {
    let Some(n) = arg.parse::<u32>().ok().filter(|&n| n > 0) else {
        return verdict(format_args!("ticks"), false, format_args!("`{arg}` is not a number of ticks"));
    };
    let seen = &SEEN[hart % 16];
    let period = ram.timebase / 100;
    let start = sbi::time();
    let mut deadline = start + period;
    // The count is read before each deadline is set: the interrupt may come
    // (and its handler count it) before the wait starts, if the capsule is
    // held off its hart in between.
    let mut taken = seen.timer_irqs.load(Ordering::SeqCst);
    let e = sbi::set_timer(deadline);
    if e != 0 {
        return verdict(format_args!("ticks {n}"), false, format_args!("set_timer gave {e}"));
    }
    trap::enable(1 << 5);
    let (mut count, mut early) = (0, 0);
    while count < n {
        idle_until(|| seen.timer_irqs.load(Ordering::SeqCst) != taken);
        // The handler records the time low word (all of it on rv64).
        let at = seen.timer_at.load(Ordering::SeqCst);
        if (at.wrapping_sub(deadline as usize) as isize) < 0 {
            early += 1;
        }
        count += 1;
        if count % 10 == 0 {
            say!("testguest: ticks {count}");
        }
        if count < n {
            let now = sbi::time();
            deadline += period;
            if deadline <= now {
                deadline = now + period;
            }
            taken = seen.timer_irqs.load(Ordering::SeqCst);
            sbi::set_timer(deadline);
        }
    }
    let ms = (sbi::time() - start) * 1000 / ram.timebase;
    say!("testguest: ticks took {ms} ms");
    verdict(format_args!("ticks {n}"), early == 0, format_args!("{early} of {n} timer interrupts came before their deadline"))
}

/// `spin:<ms>`: counts iterations of an add loop, reading `time` every
/// 4096, for ms of wall time from its start. A test compares the counts
/// and windows of capsules spinning at once.
pub fn spin(ram: &Ram, arg: &str) -> bool {
    let Ok(ms) = arg.parse::<u64>() else {
        return verdict(format_args!("spin"), false, format_args!("`{arg}` is not a number of milliseconds"));
    };
    let start = sbi::time();
    let until = start + ram.timebase * ms / 1000;
    // A sample every quarter second: a test compares two capsules' counts
    // over the time both ran, whatever their starts and ends.
    let every = (ram.timebase / 4).max(1);
    let mut next_sample = start + every;
    let mut count = 0u64;
    loop {
        count += add_loop(4096);
        let now = sbi::time();
        if now >= next_sample {
            say!("testguest: spin sample {now} {count}");
            next_sample += every;
        }
        if now >= until {
            break;
        }
    }
    let end = sbi::time();
    say!("testguest: spin window {start} {end}");
    say!("testguest: spin count {count}");
    verdict(format_args!("spin"), true, format_args!(""))
}

fn add_loop(n: usize) -> u64 {
    let mut count = 0usize;
    // SAFETY: register arithmetic only.
    unsafe {
        asm!("1:", "addi {c}, {c}, 1", "addi {n}, {n}, -1", "bnez {n}, 1b",
             c = inout(reg) count, n = inout(reg) n => _, options(nomem, nostack));
    }
    count as u64
}

/// What the attack stores: seen anywhere, a store landed.
const PATTERN: usize = 0xa77a_c4ed;
/// Distance between attacked addresses, and most addresses attacked.
const STRIDE: usize = 16 << 20;
const MAX_TARGETS: usize = 64;

/// `attack:<lo>-<hi>` (hex, `0x` optional): at every 16 MiB from lo up to
/// hi, skipping the capsule's own RAM, a store of [`PATTERN`], a load
/// (which would show the pattern if the store had landed) and a call. Each
/// must come back to this kernel as its access fault with stval = the
/// address. One PASS line per kind of access, one FAIL line per address
/// and access that got through, then `PASS attack` if all were contained.
pub fn attack(hart: usize, ram: &Ram, arg: &str) -> bool {
    let hex = |s: &str| usize::from_str_radix(s.trim_start_matches("0x"), 16).ok();
    let Some((lo, hi)) = arg.split_once('-').and_then(|(l, h)| Some((hex(l)?, hex(h)?))).filter(|(l, h)| l <= h) else {
        return verdict(format_args!("attack"), false, format_args!("`{arg}` is not <lo_hex>-<hi_hex>"));
    };
    let accesses = [Access::Store(PATTERN), Access::Load, Access::Fetch];
    let mut failed = [0usize; 3];
    let mut targets = 0;
    let mut next = Some(lo);
    while let Some(addr) = next.filter(|&a| a <= hi) {
        next = addr.checked_add(STRIDE);
        if (ram.base..ram.end).contains(&addr) {
            continue;
        }
        if targets == MAX_TARGETS {
            say!("testguest: attack stops at {MAX_TARGETS} addresses, before {addr:#x}");
            break;
        }
        targets += 1;
        for (access, failures) in accesses.into_iter().zip(&mut failed) {
            let got = scenarios::probe(hart, access, addr);
            if !got.contained(access, addr) {
                *failures += 1;
                let landed = matches!(access, Access::Load) && got.value as u32 == PATTERN as u32;
                say!("testguest: FAIL attack {}: at {addr:#x}: {got}{}", access.name(),
                     if landed { "; it read back the stored value" } else { "" });
            }
        }
    }
    say!("testguest: attack: {targets} addresses from {lo:#x} to {hi:#x}, own RAM {:#x}..{:#x}", ram.base, ram.end);
    if targets == 0 {
        return verdict(format_args!("attack"), false, format_args!("no address to attack outside the capsule's RAM"));
    }
    for (access, failures) in accesses.into_iter().zip(failed) {
        if failures == 0 {
            say!("testguest: PASS attack {}", access.name());
        }
    }
    let total: usize = failed.iter().sum();
    verdict(format_args!("attack"), total == 0, format_args!("{total} accesses got through"))
}

/// The capsule's RAM that the guest neither loaded nor uses: RAM less the
/// image (code, data, stacks and heap) and the device tree, as up to three
/// page-aligned spans (below the image, between it and the tree, above
/// the tree); empty spans have start == end.
fn free_spans(ram: &Ram) -> [(usize, usize); 3] {
    unsafe extern "C" {
        fn _start();
        static __image_end: u8;
    }
    let image = (_start as *const () as usize, &raw const __image_end as usize);
    let tree = (ram.tree, ram.tree + ram.tree_size);
    let page = |lo: usize, hi: usize| {
        let (lo, hi) = (lo.next_multiple_of(4096), hi & !4095);
        (lo, hi.max(lo))
    };
    [page(ram.base, image.0), page(image.1, tree.0), page(tree.1, ram.end)]
}

/// The first non-zero word of `lo..hi` among those it samples: every word of
/// the first and last page, and one 8-byte word in every other page (at an
/// offset that moves from page to page).
fn first_nonzero(lo: usize, hi: usize) -> Option<(usize, u64)> {
    let read = |a: usize| {
        // SAFETY: an aligned address inside the capsule's own RAM that
        // nothing of the guest's uses.
        let v = unsafe { (a as *const u64).read_volatile() };
        (v != 0).then_some((a, v))
    };
    if lo == hi {
        return None;
    }
    let whole = |p: usize| (p..p + 4096).step_by(8).find_map(read);
    whole(lo)
        .or_else(|| (lo + 4096..hi - 4096).step_by(4096).find_map(|p| read(p + (p >> 12) * 8 % 4096)))
        .or_else(|| whole(hi - 4096))
}

/// `zeroed`: checks that the free RAM (see [`free_spans`]) reads as zero,
/// then fills it with 0xa5 bytes and dies as `die` does, so that a capsule
/// given this RAM afterwards finds it dirty if the hypervisor does not
/// clear it.
pub fn zeroed(ram: &Ram) -> bool {
    let spans = free_spans(ram);
    let dirt = spans.iter().find_map(|&(lo, hi)| first_nonzero(lo, hi));
    let free: usize = spans.iter().map(|(lo, hi)| hi - lo).sum();
    match dirt {
        None => verdict(format_args!("zeroed"), true, format_args!("")),
        Some((at, v)) => verdict(format_args!("zeroed"), false, format_args!("{at:#x} holds {v:#x}")),
    };
    say!("testguest: zeroed: checked {free} free bytes");
    for (lo, hi) in spans {
        // SAFETY: free RAM of this capsule (see free_spans): nothing of the
        // guest's lies there.
        unsafe { core::ptr::write_bytes(lo as *mut u8, 0xa5, hi - lo) };
    }
    say!("testguest: dirtied {free}");
    scenarios::die()
}

/// `crash`: dies at once, as `die` does.
pub fn crash() -> bool {
    say!("testguest: crashing");
    scenarios::die()
}
