//! SiFive's UART (`sifive,uart0`: the FU540 of the HiFive Unleashed, and
//! QEMU's `sifive_u`). 32-bit registers: `txdata` (bit 31 set while the
//! transmit FIFO is full), `rxdata` (bit 31 set while the receive FIFO is
//! empty, else the byte in bits 0-7, consumed by the read), and the
//! transmit and receive enables.

const TXDATA: usize = 0x00;
const RXDATA: usize = 0x04;
const TXCTRL: usize = 0x08;
const RXCTRL: usize = 0x0c;
/// Interrupt pending: bit 0 (`txwm`) is set while the transmit FIFO holds
/// fewer bytes than `txctrl`'s watermark (`txcnt`, bits 16-18).
const IP: usize = 0x14;
const TXCNT_SHIFT: u32 = 16;
const TXCNT_MASK: u32 = 7 << TXCNT_SHIFT;
const FIFO_FULL_OR_EMPTY: u32 = 1 << 31;
const ENABLE: u32 = 1 << 0;

/// Turns the transmitter and receiver on (firmware usually has).
pub fn init(base: usize) {
    // SAFETY: `base` is the SiFive UART the device tree names; setting the
    // enable bits of its control registers only starts it moving bytes.
    unsafe {
        for reg in [TXCTRL, RXCTRL] {
            let r = (base + reg) as *mut u32;
            r.write_volatile(r.read_volatile() | ENABLE);
        }
    }
}

/// Sends `byte`, waiting at most `spins` polls for room; false if there was none.
pub fn put(base: usize, byte: u8, spins: usize) -> bool {
    // SAFETY: as in `init`; `txdata` is read to see the FIFO's state and
    // written with one byte.
    unsafe {
        let tx = (base + TXDATA) as *mut u32;
        for _ in 0..spins {
            if tx.read_volatile() & FIFO_FULL_OR_EMPTY == 0 {
                tx.write_volatile(u32::from(byte));
                return true;
            }
            core::hint::spin_loop();
        }
    }
    false
}

/// A received byte, if one is waiting.
pub fn get(base: usize) -> Option<u8> {
    // SAFETY: as in `init`; reading `rxdata` consumes the byte it holds.
    let v = unsafe { ((base + RXDATA) as *const u32).read_volatile() };
    (v & FIFO_FULL_OR_EMPTY == 0).then_some(v as u8)
}

/// Waits, at most `spins` polls, until the transmit FIFO is empty (before
/// the machine is reset, so the last line is not cut short).
pub fn drain(base: usize, spins: usize) {
    // SAFETY: as in `init`; the watermark only changes when `txwm` is
    // pending, and nothing enables its interrupt.
    unsafe {
        let ctrl = (base + TXCTRL) as *mut u32;
        ctrl.write_volatile((ctrl.read_volatile() & !TXCNT_MASK) | (1 << TXCNT_SHIFT));
        let ip = (base + IP) as *const u32;
        for _ in 0..spins {
            if ip.read_volatile() & 1 != 0 {
                return;
            }
            core::hint::spin_loop();
        }
    }
}
