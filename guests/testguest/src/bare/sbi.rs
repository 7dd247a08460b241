//! SBI calls, as a capsule's kernel makes them.

use core::arch::asm;

pub const BASE: usize = 0x10;
pub const TIME: usize = 0x5449_4D45;
pub const IPI: usize = 0x0073_5049;
pub const RFNC: usize = 0x5246_4E43;
pub const HSM: usize = 0x0048_534D;
pub const SRST: usize = 0x5352_5354;
pub const DBCN: usize = 0x4442_434E;
pub const PMU: usize = 0x0050_4D55;
pub const SUSP: usize = 0x5355_5350;
pub const FWFT: usize = 0x4657_4654;

pub const ERR_NOT_SUPPORTED: isize = -2;
pub const ERR_INVALID_PARAM: isize = -3;
pub const ERR_INVALID_ADDRESS: isize = -5;
pub const ERR_DENIED: isize = -4;
pub const ERR_ALREADY_AVAILABLE: isize = -6;
pub const ERR_ALREADY_STARTED: isize = -7;
pub const ERR_ALREADY_STOPPED: isize = -8;
pub const ERR_NO_SHMEM: isize = -9;
pub const ERR_DENIED_LOCKED: isize = -14;

/// An SBI call: (error, value).
pub fn call(eid: usize, fid: usize, args: [usize; 3]) -> (isize, usize) {
    let (error, value);
    // SAFETY: ecall traps to the SBI implementation, which returns here
    // with a0/a1 set and every other register preserved.
    unsafe {
        asm!("ecall", inlateout("a0") args[0] => error, inlateout("a1") args[1] => value,
             in("a2") args[2], in("a6") fid, in("a7") eid);
    }
    (error, value)
}

/// An SBI call with all six argument registers.
pub fn call6(eid: usize, fid: usize, args: [usize; 6]) -> (isize, usize) {
    let (error, value);
    // SAFETY: as for `call`.
    unsafe {
        asm!("ecall", inlateout("a0") args[0] => error, inlateout("a1") args[1] => value,
             in("a2") args[2], in("a3") args[3], in("a4") args[4], in("a5") args[5],
             in("a6") fid, in("a7") eid);
    }
    (error, value)
}

/// Reads the cycle counter (the low half on rv32).
pub fn cycle() -> usize {
    let c: usize;
    // SAFETY: reads the cycle CSR, which the hypervisor lets S-mode read.
    unsafe { asm!("rdcycle {0}", out(reg) c) };
    c
}

/// A legacy (v0.1) call: result in a0 only.
pub fn legacy(eid: usize, a0: usize) -> usize {
    let ret;
    // SAFETY: as for `call`.
    unsafe { asm!("ecall", inlateout("a0") a0 => ret, in("a7") eid, lateout("a1") _) };
    ret
}

/// The SBI debug console.
pub struct Console;

impl core::fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                call(DBCN, 2, [b'\r' as usize, 0, 0]);
            }
            call(DBCN, 2, [b as usize, 0, 0]);
        }
        Ok(())
    }
}

/// Sets the timer (the value is split across a0/a1 on rv32).
pub fn set_timer(deadline: u64) -> isize {
    call(TIME, 0, [deadline as usize, (deadline >> 32) as usize * (usize::BITS == 32) as usize, 0]).0
}

pub fn time() -> u64 {
    #[cfg(target_arch = "riscv64")]
    {
        let t: u64;
        // SAFETY: reads the time CSR, which the hypervisor lets S-mode read.
        unsafe { asm!("rdtime {0}", out(reg) t) };
        t
    }
    #[cfg(target_arch = "riscv32")]
    loop {
        let (hi, lo, hi2): (u32, u32, u32);
        // SAFETY: as above, in halves.
        unsafe { asm!("rdtimeh {0}", "rdtime {1}", "rdtimeh {2}", out(reg) hi, out(reg) lo, out(reg) hi2) };
        if hi == hi2 {
            return (u64::from(hi) << 32) | u64::from(lo);
        }
    }
}

fn park() -> ! {
    loop {
        // SAFETY: waits for an interrupt; nothing else.
        unsafe { asm!("wfi") };
    }
}

pub fn shutdown() -> ! {
    call(SRST, 0, [0, 0, 0]);
    park()
}

pub fn shutdown_failure() -> ! {
    call(SRST, 0, [0, 1, 0]);
    park()
}

pub fn hart_stop() -> ! {
    call(HSM, 1, [0, 0, 0]);
    park()
}
