//! Physical memory protection: the window of RAM a capsule may touch.
//!
//! Entry 0 is the window's lower bound (OFF), entry 1 allows read, write
//! and execute up to the upper bound (TOR). Every other entry is OFF, and
//! an S- or U-mode access that matches no entry fails, so everything
//! outside the window - hypervisor, other RAM, device MMIO - faults.
//! M-mode is not restricted (no entry is locked).

use core::arch::asm;

use memrange::Range;

const TOR: usize = 0x08;
const RWX: usize = 0x07;

/// Confines S and U mode on this hart to `window`.
pub fn confine_to(window: &Range) {
    let lo = (window.start() >> 2) as usize;
    let hi = (window.end() >> 2) as usize;
    let cfg = (TOR | RWX) << 8;
    // SAFETY: programs this hart's PMP for the capsule about to run here;
    // the hypervisor (M-mode) keeps full access. The fence drops any
    // translations cached under the previous setting.
    unsafe {
        asm!(
            "csrw pmpcfg0, zero",
            "csrw pmpaddr0, {lo}",
            "csrw pmpaddr1, {hi}",
            "csrw pmpcfg0, {cfg}",
            "sfence.vma",
            lo = in(reg) lo,
            hi = in(reg) hi,
            cfg = in(reg) cfg,
        );
    }
}
