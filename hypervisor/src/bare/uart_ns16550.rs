//! A 16550-compatible UART with byte-wide registers one byte apart, as on
//! QEMU's `virt` board (`ns16550a`). The firmware or QEMU has set its
//! baud rate; the hypervisor only moves bytes.

/// Transmit holding / receive buffer register.
const DATA: usize = 0;
/// Line status register.
const LSR: usize = 5;
const LSR_DATA_READY: u8 = 1 << 0;
const LSR_THR_EMPTY: u8 = 1 << 5;

/// Sends `byte`, waiting at most `spins` polls for room; false if there was none.
pub fn put(base: usize, byte: u8, spins: usize) -> bool {
    // SAFETY: `base` is the UART the device tree names (or, before it is
    // read, QEMU virt's); only its data and line status byte registers
    // are touched, with volatile accesses.
    unsafe {
        let lsr = (base + LSR) as *const u8;
        for _ in 0..spins {
            if lsr.read_volatile() & LSR_THR_EMPTY != 0 {
                ((base + DATA) as *mut u8).write_volatile(byte);
                return true;
            }
            core::hint::spin_loop();
        }
    }
    false
}

/// A received byte, if one is waiting.
pub fn get(base: usize) -> Option<u8> {
    // SAFETY: as in `put`; reading the data register consumes the byte.
    unsafe {
        let ready = ((base + LSR) as *const u8).read_volatile() & LSR_DATA_READY != 0;
        ready.then(|| ((base + DATA) as *const u8).read_volatile())
    }
}
