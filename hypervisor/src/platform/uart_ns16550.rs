//! A 16550-compatible UART: QEMU `virt`'s `ns16550a` (byte registers one
//! byte apart) or Synopsys DesignWare's 8250 (`snps,dw-apb-uart`, 32-bit
//! registers four bytes apart), as the device tree's `reg-shift` and
//! `reg-io-width` say. The firmware or QEMU has set its baud rate; the
//! hypervisor only moves bytes.

/// Transmit holding / receive buffer register.
const DATA: usize = 0;
/// Line status register.
const LSR: usize = 5;
const LSR_DATA_READY: u8 = 1 << 0;
const LSR_THR_EMPTY: u8 = 1 << 5;
/// Transmitter empty: the holding register and the shift register.
const LSR_TX_IDLE: u8 = 1 << 6;

/// Where a 16550's registers are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Regs {
    pub base: usize,
    /// Register `n` is at `base + (n << shift)`.
    pub shift: u8,
    /// 4: 32-bit accesses; otherwise byte accesses.
    pub width: u8,
}

impl Regs {
    fn read(&self, reg: usize) -> u8 {
        let addr = self.base + (reg << self.shift);
        // SAFETY: `base` is the UART the device tree names (or, before it
        // is read, QEMU virt's); only its data and line status registers
        // are touched, with volatile accesses of the width it asks for.
        unsafe {
            if self.width == 4 { (addr as *const u32).read_volatile() as u8 } else { (addr as *const u8).read_volatile() }
        }
    }

    fn write(&self, reg: usize, byte: u8) {
        let addr = self.base + (reg << self.shift);
        // SAFETY: as in `read`.
        unsafe {
            if self.width == 4 {
                (addr as *mut u32).write_volatile(u32::from(byte))
            } else {
                (addr as *mut u8).write_volatile(byte)
            }
        }
    }

    /// Sends `byte`, waiting at most `spins` polls for room; false if there was none.
    pub fn put(&self, byte: u8, spins: usize) -> bool {
        for _ in 0..spins {
            if self.read(LSR) & LSR_THR_EMPTY != 0 {
                self.write(DATA, byte);
                return true;
            }
            core::hint::spin_loop();
        }
        false
    }

    /// Waits, at most `spins` polls, until every byte has left the line.
    pub fn drain(&self, spins: usize) {
        for _ in 0..spins {
            if self.read(LSR) & LSR_TX_IDLE != 0 {
                return;
            }
            core::hint::spin_loop();
        }
    }

    /// A received byte, if one is waiting (reading it consumes it).
    pub fn get(&self) -> Option<u8> {
        (self.read(LSR) & LSR_DATA_READY != 0).then(|| self.read(DATA))
    }

    /// The line status register's address, for probing that the UART is there.
    pub fn status_address(&self) -> usize {
        self.base + (LSR << self.shift)
    }
}
