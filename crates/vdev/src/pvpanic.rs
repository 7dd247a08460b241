//! The pvpanic device (`qemu,pvpanic-mmio`), through which a kernel says
//! that it panicked. Linux's `PVPANIC_MMIO` driver reads the register
//! once to learn which events the device takes, and from then on writes
//! the event from its panic notifier, which runs early in `panic()`,
//! before the kernel's last loop (where it spins with interrupts on and
//! schedules nothing, which the hypervisor could not tell from work).
//!
//! One byte-wide register at offset 0. Reading it gives [`CAPABILITY`];
//! writing it reports the events whose bits are set (other bits are
//! ignored, as QEMU's device does). The hypervisor takes what was
//! reported after each access ([`PvPanic::take`]). `SHUTDOWN` is not
//! offered: a capsule powers off through SBI system reset.

use crate::{AccessError, Device};

/// The kernel panicked.
pub const PANICKED: u8 = 1 << 0;
/// The kernel panicked with a crash kernel loaded (kdump), which runs
/// next.
pub const CRASH_LOADED: u8 = 1 << 1;
/// The events this model takes.
pub const CAPABILITY: u8 = PANICKED | CRASH_LOADED;

/// The register window's size (as QEMU's pvpanic-mmio).
pub const WINDOW_SIZE: u64 = 2;

/// One capsule's pvpanic device.
#[derive(Debug, Default)]
pub struct PvPanic {
    reported: u8,
}

impl PvPanic {
    pub fn new() -> Self {
        PvPanic::default()
    }

    /// The events written since the last call.
    pub fn take(&mut self) -> u8 {
        core::mem::take(&mut self.reported)
    }
}

impl Device for PvPanic {
    fn read(&mut self, offset: u64, width: u8) -> Result<u64, AccessError> {
        check(offset, width)?;
        Ok(u64::from(CAPABILITY))
    }

    fn write(&mut self, offset: u64, width: u8, value: u64) -> Result<(), AccessError> {
        check(offset, width)?;
        self.reported |= value as u8 & CAPABILITY;
        Ok(())
    }
}

/// The one register, one byte wide.
fn check(offset: u64, width: u8) -> Result<(), AccessError> {
    match (offset, width) {
        (0, 1) => Ok(()),
        (0, _) => Err(AccessError::Width),
        _ => Err(AccessError::NoRegister),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_gives_the_events_it_takes() {
        let mut p = PvPanic::new();
        assert_eq!(p.read(0, 1), Ok(3));
        assert_eq!(p.take(), 0, "a read reports nothing");
    }

    #[test]
    fn a_write_reports_its_events_once() {
        let mut p = PvPanic::new();
        p.write(0, 1, u64::from(PANICKED)).unwrap();
        assert_eq!(p.take(), PANICKED);
        assert_eq!(p.take(), 0);
        p.write(0, 1, u64::from(CRASH_LOADED)).unwrap();
        p.write(0, 1, u64::from(PANICKED)).unwrap();
        assert_eq!(p.take(), CAPABILITY, "events add up until taken");
    }

    #[test]
    fn bits_it_does_not_offer_are_ignored() {
        let mut p = PvPanic::new();
        p.write(0, 1, 0xfc).unwrap();
        assert_eq!(p.take(), 0, "SHUTDOWN and unknown bits are not events here");
        p.write(0, 1, 0x1_0000_0101).unwrap();
        assert_eq!(p.take(), PANICKED, "only the byte counts");
    }

    #[test]
    fn other_widths_and_offsets_are_refused() {
        let mut p = PvPanic::new();
        for width in [2, 4, 8] {
            assert_eq!(p.read(0, width), Err(AccessError::Width));
            assert_eq!(p.write(0, width, 1), Err(AccessError::Width));
        }
        for offset in [1, 2, 8, u64::MAX] {
            assert_eq!(p.read(offset, 1), Err(AccessError::NoRegister));
            assert_eq!(p.write(offset, 1, 1), Err(AccessError::NoRegister));
        }
        assert_eq!(p.take(), 0, "a refused write reports nothing");
    }
}
