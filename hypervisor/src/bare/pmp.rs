//! Physical memory protection: the window of RAM a capsule may touch.
//!
//! Entry 0 is the window's lower bound (OFF), entry 1 allows read, write
//! and execute up to the upper bound (TOR). Every other entry is OFF, and
//! an S- or U-mode access that matches no entry fails, so everything
//! outside the window - hypervisor, other RAM, device MMIO - faults.
//! M-mode is not restricted (no entry is locked).

use core::arch::asm;
use core::fmt;

use memrange::Range;

const TOR: usize = 0x08;
const RWX: usize = 0x07;

/// Why the window could not be set.
pub enum PmpError {
    /// The hart kept other values: no PMP, too few entries, or locked ones.
    NotApplied { cfg: usize, addr: usize },
}

impl fmt::Display for PmpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let PmpError::NotApplied { cfg, addr } = self;
        write!(
            f,
            "the hart's PMP did not take the capsule's window (pmpcfg0 {cfg:#x}, pmpaddr1 {addr:#x}): \
             no PMP, or entries locked by earlier firmware"
        )
    }
}

/// Confines S and U mode on this hart to `window`, and checks that the
/// hardware took it.
pub fn confine_to(window: &Range) -> Result<(), PmpError> {
    let lo = (window.start() >> 2) as usize;
    let hi = (window.end() >> 2) as usize;
    let want = (TOR | RWX) << 8;
    // SAFETY: programs this hart's PMP for the capsule about to run here;
    // the hypervisor (M-mode) keeps full access. Every configuration
    // register of QEMU virt's 16 entries is cleared first, so no entry an
    // earlier stage left can widen the window. The fence drops any
    // translations cached under the previous setting.
    let (cfg, addr): (usize, usize);
    unsafe {
        asm!("csrw pmpcfg0, zero", "csrw pmpcfg2, zero");
        #[cfg(target_arch = "riscv32")]
        asm!("csrw pmpcfg1, zero", "csrw pmpcfg3, zero");
        asm!(
            "csrw pmpaddr0, {lo}",
            "csrw pmpaddr1, {hi}",
            "csrw pmpcfg0, {cfg}",
            "sfence.vma",
            "csrr {cfg_out}, pmpcfg0",
            "csrr {addr_out}, pmpaddr1",
            lo = in(reg) lo,
            hi = in(reg) hi,
            cfg = in(reg) want,
            cfg_out = lateout(reg) cfg,
            addr_out = lateout(reg) addr,
        );
    }
    if cfg & 0xffff != want || addr != hi {
        return Err(PmpError::NotApplied { cfg, addr });
    }
    Ok(())
}
