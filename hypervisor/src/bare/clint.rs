//! The core-local interruptors (SiFive CLINT layout, as on QEMU's virt
//! board, or ACLINT MSWI + MTIMER devices): per-hart software interrupt
//! bits, timer compare registers and `mtime` counters. A board may have
//! one per NUMA node or socket; each hart uses the registers of the
//! device that serves it, as `devtree` worked out from the tree.

use core::sync::atomic::{AtomicUsize, Ordering};

use devtree::HartTimer;

use super::{cpu, layout::MAX_HARTS};

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

/// `hart`'s timer compare register as it reads back; `None` if no device
/// serves the hart.
fn mtimecmp(hart: usize) -> Option<u64> {
    let at = reg::<u32>(&MTIMECMP, hart)?;
    // SAFETY: hart's mtimecmp register in its CLINT/MTIMER, read with
    // volatile accesses (two halves on rv32; the value is not changing).
    unsafe {
        Some(if cfg!(target_arch = "riscv64") {
            at.cast::<u64>().read_volatile()
        } else {
            (u64::from(at.add(1).read_volatile()) << 32) | u64::from(at.read_volatile())
        })
    }
}

/// Checks that `hart`'s timer compare register keeps what is written, with
/// two far-future values, and leaves it at "never". A device that does not
/// (QEMU 10.0's ACLINT MTIMER, for the harts of every socket but the
/// first, combines the halves of 32-bit accesses with another hart's
/// register) would give the hart an endless timer interrupt or none.
pub fn timer_keeps_values(hart: usize) -> bool {
    let keeps = [u64::MAX, 0xffff_fffe_1234_5678].into_iter().all(|v| {
        set_mtimecmp(hart, v);
        mtimecmp(hart) == Some(v)
    });
    set_mtimecmp(hart, u64::MAX);
    keeps
}
