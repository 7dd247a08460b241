//! The core-local interruptors (SiFive CLINT layout, as on QEMU's virt
//! board, or ACLINT MSWI + MTIMER devices): per-hart software interrupt
//! bits, timer compare registers and `mtime` counters. A board may have
//! one per NUMA node or socket; each hart uses the registers of the
//! device that serves it, as `devtree` worked out from the tree.

use core::sync::atomic::{AtomicUsize, Ordering};

use devtree::HartTimer;

use crate::arch::{cpu, csr, layout::MAX_HARTS};

/// Per hart id: the address of its msip word, its mtimecmp and the mtime
/// it is compared with; 0 where no device serves the hart.
static MSIP: [AtomicUsize; MAX_HARTS] = [const { AtomicUsize::new(0) }; MAX_HARTS];
static MTIMECMP: [AtomicUsize; MAX_HARTS] = [const { AtomicUsize::new(0) }; MAX_HARTS];
static MTIME: [AtomicUsize; MAX_HARTS] = [const { AtomicUsize::new(0) }; MAX_HARTS];
/// An mtime for harts without their own (any served hart's: the ACLINT
/// specification keeps every MTIMER's time in step).
static ANY_MTIME: AtomicUsize = AtomicUsize::new(0);

/// Use these registers from now on. Harts with an id of [`MAX_HARTS`] or
/// more never run a vcore and are skipped. Returns the first hart whose
/// registers lie beyond this target's address width, if any (none of the
/// table is then used).
pub fn init(timers: &[HartTimer]) -> Result<(), u64> {
    let fits = |a: u64| usize::try_from(a).ok().filter(|&a| a != 0);
    let mut table = [(0usize, 0usize, 0usize); MAX_HARTS];
    for t in timers.iter().filter(|t| t.hart < MAX_HARTS as u64) {
        let (Some(msip), Some(cmp), Some(time)) = (fits(t.msip), fits(t.mtimecmp), fits(t.mtime)) else {
            return Err(t.hart);
        };
        table[t.hart as usize] = (msip, cmp, time);
    }
    for (i, &(msip, cmp, time)) in table.iter().enumerate() {
        MSIP[i].store(msip, Ordering::SeqCst);
        MTIMECMP[i].store(cmp, Ordering::SeqCst);
        MTIME[i].store(time, Ordering::SeqCst);
        if time != 0 {
            ANY_MTIME.store(time, Ordering::SeqCst);
        }
    }
    Ok(())
}

/// `hart`'s register in `table`, if a device serves it.
fn reg<T>(table: &[AtomicUsize; MAX_HARTS], hart: usize) -> Option<*mut T> {
    let addr = table.get(hart)?.load(Ordering::Relaxed);
    (addr != 0).then_some(addr as *mut T)
}

/// The machine's time, in timebase ticks, from the calling hart's device.
pub fn mtime() -> u64 {
    let Some(at) = reg::<u32>(&MTIME, cpu::hart_id()).or_else(|| {
        let any = ANY_MTIME.load(Ordering::Relaxed);
        (any != 0).then_some(any as *mut u32)
    }) else {
        return 0;
    };
    // SAFETY: `at` is an mtime register the device tree names, a 64-bit
    // counter. On rv32 it is read in halves, high twice, so a carry
    // between the reads is noticed.
    unsafe {
        if cfg!(target_arch = "riscv64") {
            at.cast::<u64>().read_volatile()
        } else {
            loop {
                let hi = at.add(1).read_volatile();
                let lo = at.read_volatile();
                if at.add(1).read_volatile() == hi {
                    return (u64::from(hi) << 32) | u64::from(lo);
                }
            }
        }
    }
}

/// Sets `hart`'s timer compare register: a machine timer interrupt is
/// pending while mtime >= `deadline`. Does nothing for a hart no device serves.
pub fn set_mtimecmp(hart: usize, deadline: u64) {
    let Some(at) = reg::<u32>(&MTIMECMP, hart) else { return };
    // SAFETY: hart's mtimecmp register in its CLINT/MTIMER. On rv32 the
    // high half is first set to all ones so no spurious interrupt fires
    // between the two writes.
    unsafe {
        if cfg!(target_arch = "riscv64") {
            at.cast::<u64>().write_volatile(deadline);
        } else {
            at.add(1).write_volatile(u32::MAX);
            at.write_volatile(deadline as u32);
            at.add(1).write_volatile((deadline >> 32) as u32);
        }
    }
}

/// Raises or clears `hart`'s machine software interrupt. Does nothing for
/// a hart no device serves.
pub fn set_msip(hart: usize, raised: bool) {
    let Some(at) = reg::<u32>(&MSIP, hart) else { return };
    // SAFETY: hart's msip word in its CLINT/MSWI; only bit 0 is defined.
    unsafe { at.write_volatile(raised as u32) };
}

/// Checks, on `hart` itself, that its timer compare register works: a
/// deadline in the future leaves the machine timer interrupt clear, one
/// in the past raises it, and "never" clears it again (where it is left).
/// The check looks at what the hart sees (`mip.MTIP`), not at what the
/// register reads back, because a device can fail either way: QEMU 10.0's
/// ACLINT MTIMER, for the harts of every socket but the first, reads the
/// register from the wrong slot, and on rv32 combines the 32-bit halves of
/// a write with that wrong slot, so such a hart would take an endless
/// timer interrupt or none.
pub fn timer_works(hart: usize) -> bool {
    let pending = || csr::mip::read() & csr::MTIP != 0;
    let now = mtime();
    set_mtimecmp(hart, now.saturating_add(1 << 28));
    let future_ok = !pending();
    set_mtimecmp(hart, now.saturating_sub(1));
    let past_ok = pending();
    set_mtimecmp(hart, u64::MAX);
    future_ok && past_ok && !pending()
}
