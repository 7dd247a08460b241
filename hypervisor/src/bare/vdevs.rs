//! Each capsule's emulated devices (`crates/vdev`), joined to the rest of
//! the hypervisor: the UART's output goes to the capsule's tagged console
//! and its input comes from what is typed while the capsule has the focus.
//!
//! The models are pure; this module only locks them, feeds them and
//! collects what they produce. `mmio.rs` finds which device an access is
//! for and calls [`Devices::access`].

use spin::Mutex;
use vdev::map::{DeviceKind, Window};
use vdev::uart::Uart16550;
use vdev::{AccessError, Device};

use super::capsule::Capsule;
use super::console;

/// One capsule's devices.
pub struct Devices {
    uart: Mutex<Uart16550>,
}

/// A load (`None`) or a store of the value.
pub type Store = Option<u64>;

impl Devices {
    pub fn new() -> Self {
        Devices { uart: Mutex::new(Uart16550::new()) }
    }

    /// Performs capsule `c`'s access of `width` bytes at `offset` in
    /// window `w`: a load's value, or 0 for a store.
    pub fn access(&self, c: &Capsule, w: Window, offset: u64, width: u8, store: Store) -> Result<u64, AccessError> {
        match w.kind {
            DeviceKind::Uart => self.uart(c, offset, width, store),
        }
    }

    fn uart(&self, c: &Capsule, offset: u64, width: u8, store: Store) -> Result<u64, AccessError> {
        let (result, output) = {
            let mut u = self.uart.lock();
            let result = match store {
                Some(value) => u.write(offset, width, value).map(|()| 0),
                None => {
                    // RBR, IIR and LSR are how a driver looks for input:
                    // bring in what was typed for this capsule first.
                    if matches!(offset, 0 | 2 | 5) {
                        top_up(c, &mut u);
                    }
                    u.read(offset, width)
                }
            };
            (result, u.take_output())
        };
        if !output.is_empty() {
            console::capsule_write(c, &output);
        }
        result
    }
}

/// Moves typed input for `c` into its UART's receive FIFO, as far as
/// there is room; the capsule counts as polling its console.
fn top_up(c: &Capsule, u: &mut Uart16550) {
    c.console_polled();
    let room = u.rx_room();
    if room == 0 {
        return;
    }
    let mut buf = [0u8; vdev::uart::RX_FIFO];
    let n = console::capsule_input(c, &mut buf[..room]);
    for &b in &buf[..n] {
        u.receive(b);
    }
}
