//! SBI calls, as a capsule's kernel makes them.

use core::arch::asm;

/// An SBI call: (error, value).
pub fn call(eid: usize, fid: usize, a0: usize, a1: usize, a2: usize) -> (isize, usize) {
    let (error, value);
    // SAFETY: ecall traps to the SBI implementation, which returns here
    // with a0/a1 set and every other register preserved.
    unsafe {
        asm!("ecall", inlateout("a0") a0 => error, inlateout("a1") a1 => value,
             in("a2") a2, in("a6") fid, in("a7") eid);
    }
    (error, value)
}

const DBCN: usize = 0x4442_434E;
const SRST: usize = 0x5352_5354;

/// The SBI debug console.
pub struct Console;

impl core::fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                call(DBCN, 2, b'\r' as usize, 0, 0);
            }
            call(DBCN, 2, b as usize, 0, 0);
        }
        Ok(())
    }
}

pub fn shutdown() -> ! {
    call(SRST, 0, 0, 0, 0);
    loop {}
}

pub fn shutdown_failure() -> ! {
    call(SRST, 0, 0, 1, 0);
    loop {}
}
