//! SiFive's GPIO controller (`sifive,gpio0`, the FU540's), only as far as
//! driving one pin: the HiFive Unleashed's (and QEMU `sifive_u`'s) reset
//! is a GPIO line (`gpio-restart`).

const OUTPUT_EN: usize = 0x08;
const OUTPUT_VAL: usize = 0x0c;
/// Hardware I/O function enable: a pin given to a peripheral ignores `OUTPUT_VAL`.
const IOF_EN: usize = 0x38;
/// Inverts the output.
const OUT_XOR: usize = 0x40;

/// Drives pin `pin` (below 32) of the controller at `base` to `high` or low.
pub fn drive(base: usize, pin: u8, high: bool) {
    let bit = 1u32 << pin;
    let reg = |offset: usize| (base + offset) as *mut u32;
    // SAFETY: `base` is the GPIO controller the device tree names for the
    // machine's reset; only `pin`'s bits are changed, and the value is
    // set before the output is enabled, so the pin never shows the other level.
    unsafe {
        for r in [IOF_EN, OUT_XOR] {
            reg(r).write_volatile(reg(r).read_volatile() & !bit);
        }
        let val = reg(OUTPUT_VAL).read_volatile();
        reg(OUTPUT_VAL).write_volatile(if high { val | bit } else { val & !bit });
        reg(OUTPUT_EN).write_volatile(reg(OUTPUT_EN).read_volatile() | bit);
    }
}
