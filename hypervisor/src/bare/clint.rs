//! The core-local interruptor (SiFive CLINT layout, as on QEMU's virt
//! board): per-hart software interrupt bits, timer compare registers and
//! the shared `mtime` counter.

use core::sync::atomic::{AtomicUsize, Ordering};

use devtree::TimerIpi;

static MSIP: AtomicUsize = AtomicUsize::new(0);
static MTIMECMP: AtomicUsize = AtomicUsize::new(0);
static MTIME: AtomicUsize = AtomicUsize::new(0);

/// Use these registers from now on.
pub fn init(regs: TimerIpi) {
    MSIP.store(regs.msip as usize, Ordering::SeqCst);
    MTIMECMP.store(regs.mtimecmp as usize, Ordering::SeqCst);
    MTIME.store(regs.mtime as usize, Ordering::SeqCst);
}

fn reg<T>(base: &AtomicUsize, offset: usize) -> *mut T {
    (base.load(Ordering::Relaxed) + offset) as *mut T
}

/// The machine's time, in timebase ticks.
pub fn mtime() -> u64 {
    // SAFETY: MTIME is the counter the device tree names; it is 64-bit
    // counter there. On rv32 it is read in halves, high twice, so a carry
    // between the reads is noticed.
    unsafe {
        if cfg!(target_arch = "riscv64") {
            reg::<u64>(&MTIME, 0).read_volatile()
        } else {
            loop {
                let hi = reg::<u32>(&MTIME, 4).read_volatile();
                let lo = reg::<u32>(&MTIME, 0).read_volatile();
                if reg::<u32>(&MTIME, 4).read_volatile() == hi {
                    return (u64::from(hi) << 32) | u64::from(lo);
                }
            }
        }
    }
}

/// Sets `hart`'s timer compare register: a machine timer interrupt is
/// pending while mtime >= `deadline`.
pub fn set_mtimecmp(hart: usize, deadline: u64) {
    let at = 8 * hart;
    // SAFETY: hart's mtimecmp register in the CLINT. On rv32 the high half
    // is first set to all ones so no spurious interrupt fires between the
    // two writes.
    unsafe {
        if cfg!(target_arch = "riscv64") {
            reg::<u64>(&MTIMECMP, at).write_volatile(deadline);
        } else {
            reg::<u32>(&MTIMECMP, at + 4).write_volatile(u32::MAX);
            reg::<u32>(&MTIMECMP, at).write_volatile(deadline as u32);
            reg::<u32>(&MTIMECMP, at + 4).write_volatile((deadline >> 32) as u32);
        }
    }
}

/// Raises or clears `hart`'s machine software interrupt.
pub fn set_msip(hart: usize, raised: bool) {
    // SAFETY: hart's msip word in the CLINT; only bit 0 is defined.
    unsafe { reg::<u32>(&MSIP, 4 * hart).write_volatile(raised as u32) };
}
