//! Each capsule's emulated devices (`crates/vdev`), joined to the rest of
//! the hypervisor: the UART's output goes to the capsule's tagged console
//! and its input comes from what is typed while the capsule has the
//! focus; the virtio console's port 0 goes to the console too (and, once
//! the kernel writes its console there, typed input comes in on it), and
//! the boot capsule's port 1 (`diosix.ctl`) to the control channel
//! (`control.rs`); the PLIC's per-context outputs become the vcores'
//! external interrupt (`Vcore::seip`); a panic reported to the pvpanic
//! register ends the capsule (`capsule::kernel_panicked`).
//!
//! Typed input waits in the console's queue for the capsule until its
//! kernel takes it: an SBI console read, a UART driver reading its
//! registers, or the hypervisor's input poll, which moves it into the
//! UART of a driver that waits for a receive interrupt, or else into
//! virtio console port 0 if that is where the kernel's console writes.
//!
//! The models are pure; this module only locks them, feeds them and
//! collects what they produce. `mmio.rs` finds which device an access is
//! for and calls [`Devices::access`]. One lock is held inside another only
//! as the boot capsule's control channel, then its virtio console; every
//! device's lock is dropped before the PLIC's is taken.

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use spin::Mutex;
use vdev::map::{DeviceKind, UART_IRQ, VIRTIO_CONSOLE_IRQ, Window};
use vdev::plic::Plic;
use vdev::pvpanic::PvPanic;
use vdev::uart::Uart16550;
use vdev::virtio::console::{Console, PortSpec, VirtioConsole};
use vdev::{AccessError, Device};

use crate::run::capsule::{self, Capsule};
use crate::run::console::println;
use crate::manage::control::Channel;
use crate::arch::guest::CapsuleRam;
use crate::built::settings::OFFER_PVPANIC;
use crate::run::{console, sched, timer};

/// The virtio console's port for the capsule's console, and the boot
/// capsule's control port.
const CONSOLE_PORT: usize = 0;
const CONTROL_PORT: usize = 1;

/// One capsule's devices.
pub struct Devices {
    uart: Mutex<Uart16550>,
    plic: Mutex<Plic>,
    virtio: Mutex<VirtioConsole>,
    pvpanic: Mutex<PvPanic>,
    /// The boot capsule's control channel, and replies not yet taken by
    /// its port; `None` for every other capsule.
    control: Option<Mutex<(Channel, VecDeque<u8>)>>,
    /// Its UART's receive interrupt is enabled (counted in
    /// [`WAITING_FOR_INPUT`]).
    rx_irq: AtomicBool,
    /// Its kernel has written to virtio console port 0 (its console is
    /// hvc over virtio): typed input goes there (counted in
    /// [`WAITING_FOR_INPUT`]).
    virtio_console: AtomicBool,
}

/// Devices, over all capsules, that wait for typed input to be brought to
/// them: UARTs whose driver waits for a receive interrupt instead of
/// polling, and virtio consoles. While there are any, the hypervisor
/// polls the console for them (`timer::input_polling`).
static WAITING_FOR_INPUT: AtomicUsize = AtomicUsize::new(0);

/// A load (`None`) or a store of the value.
pub type Store = Option<u64>;

impl Devices {
    /// Devices for a capsule of `vcores` vcores (one PLIC context each);
    /// the boot capsule's virtio console also has the control port.
    pub fn new(vcores: usize, boot: bool) -> Self {
        let ports: &[PortSpec] = if boot {
            &[PortSpec { name: None }, PortSpec { name: Some(ctl::PORT) }]
        } else {
            &[PortSpec { name: None }]
        };
        let console = Console::new(ports).expect("one or two ports are within the model's limits");
        Devices {
            uart: Mutex::new(Uart16550::new()),
            plic: Mutex::new(Plic::new(vcores)),
            virtio: Mutex::new(VirtioConsole::new(console)),
            pvpanic: Mutex::new(PvPanic::new()),
            control: boot.then(|| Mutex::new((Channel::new(), VecDeque::new()))),
            rx_irq: AtomicBool::new(false),
            virtio_console: AtomicBool::new(false),
        }
    }

    /// Performs capsule `c`'s access of `width` bytes at `offset` in
    /// window `w`: a load's value, or 0 for a store.
    pub fn access(&self, c: &Arc<Capsule>, w: Window, offset: u64, width: u8, store: Store) -> Result<u64, AccessError> {
        match w.kind {
            DeviceKind::Uart => self.uart(c, offset, width, store),
            DeviceKind::Plic => {
                let result = perform(&mut *self.plic.lock(), offset, width, store);
                sync_lines(c);
                result
            }
            DeviceKind::VirtioConsole => self.virtio(c, offset, width, store),
            // Not in its device tree: as if nothing were there.
            DeviceKind::PvPanic if !OFFER_PVPANIC => Err(AccessError::NoRegister),
            DeviceKind::PvPanic => {
                let (result, events) = {
                    let mut p = self.pvpanic.lock();
                    (perform(&mut *p, offset, width, store), p.take())
                };
                if events != 0 {
                    capsule::kernel_panicked(c, events);
                }
                result
            }
        }
    }

    fn virtio(&self, c: &Arc<Capsule>, offset: u64, width: u8, store: Store) -> Result<u64, AccessError> {
        let mem = CapsuleRam(c.ram);
        let (result, output, requests, broken, closed) = {
            let mut v = self.virtio.lock();
            let was_broken = v.broken().is_some();
            let was_open = v.guest_open(CONTROL_PORT);
            let result = match store {
                Some(value) => v.write(&mem, offset, width, value).map(|()| 0),
                None => v.read(offset, width),
            };
            let requests = if self.control.is_some() { v.take_output(CONTROL_PORT) } else { alloc::vec::Vec::new() };
            let closed = was_open && !v.guest_open(CONTROL_PORT);
            (result, v.take_output(CONSOLE_PORT), requests, v.broken().filter(|_| !was_broken), closed)
        };
        if let Some(b) = broken {
            println!("[diosix] {}: its virtio console stopped: {b}; it works again after the driver resets it", c.title());
        }
        if !output.is_empty() {
            console::capsule_write(c, &output);
            waits_for_input(&self.virtio_console, true);
        }
        if let Some(control) = &self.control {
            let mut control = control.lock();
            let (channel, outbox) = &mut *control;
            if !requests.is_empty() {
                let replies = channel.received(c, &requests);
                outbox.extend(replies);
            }
            if closed {
                // The session ended: what it did not read is not for the
                // next one.
                channel.closed();
                outbox.clear();
            }
            if !outbox.is_empty() {
                let (a, b) = outbox.as_slices();
                let mut v = self.virtio.lock();
                let mut taken = v.push_input(&mem, CONTROL_PORT, a);
                if taken == a.len() {
                    taken += v.push_input(&mem, CONTROL_PORT, b);
                }
                drop(v);
                outbox.drain(..taken);
            }
        }
        let line = self.virtio.lock().interrupt();
        set_line(c, VIRTIO_CONSOLE_IRQ, line);
        result
    }

    fn uart(&self, c: &Arc<Capsule>, offset: u64, width: u8, store: Store) -> Result<u64, AccessError> {
        let (result, output, line, rx_irq) = {
            let mut u = self.uart.lock();
            // RBR, IIR and LSR are how a driver looks for input: bring in
            // what was typed for this capsule first.
            if store.is_none() && matches!(offset, 0 | 2 | 5) {
                top_up(c, &mut u);
            }
            let result = perform(&mut *u, offset, width, store);
            (result, u.take_output(), u.interrupt(), u.rx_interrupt_enabled())
        };
        if !output.is_empty() {
            console::capsule_write(c, &output);
        }
        waits_for_input(&self.rx_irq, rx_irq);
        set_line(c, UART_IRQ, line);
        result
    }
}

impl Drop for Devices {
    fn drop(&mut self) {
        waits_for_input(&self.rx_irq, false);
        waits_for_input(&self.virtio_console, false);
    }
}

/// Records whether a device waits for typed input to be brought to it
/// (`flag`), and turns the hypervisor's input polling on or off with the
/// count.
fn waits_for_input(flag: &AtomicBool, on: bool) {
    if flag.swap(on, Ordering::SeqCst) == on {
        return;
    }
    let before = if on {
        WAITING_FOR_INPUT.fetch_add(1, Ordering::SeqCst)
    } else {
        WAITING_FOR_INPUT.fetch_sub(1, Ordering::SeqCst)
    };
    match (on, before) {
        (true, 0) => timer::input_polling(true),
        (false, 1) => timer::input_polling(false),
        _ => {}
    }
}

/// Typed input for the capsule with the focus goes to it now (the
/// hypervisor's input poll calls this): into its UART, raising the
/// receive interrupt, if its driver waits for one; else into its virtio
/// console port 0 if its kernel's console is there. Otherwise it waits
/// for the kernel to read it (SBI console, UART registers).
pub fn deliver_input() {
    let Some(id) = console::focus() else { return };
    let Some(c) = capsule::all().into_iter().find(|c| c.id == id) else { return };
    if !console::has_input(id) {
        return;
    }
    if c.devices.rx_irq.load(Ordering::SeqCst) {
        let line = {
            let mut u = c.devices.uart.lock();
            top_up(&c, &mut u);
            u.interrupt()
        };
        set_line(&c, UART_IRQ, line);
    } else if c.devices.virtio_console.load(Ordering::SeqCst) {
        let line = {
            let mut v = c.devices.virtio.lock();
            let room = v.input_room(CONSOLE_PORT);
            typed(&c, room, |bytes| {
                v.push_input(&CapsuleRam(c.ram), CONSOLE_PORT, bytes);
            });
            v.interrupt()
        };
        set_line(&c, VIRTIO_CONSOLE_IRQ, line);
    }
}

/// A load from or a store to a device model (not the virtio console,
/// whose stores need the capsule's RAM).
fn perform(d: &mut impl Device, offset: u64, width: u8, store: Store) -> Result<u64, AccessError> {
    match store {
        Some(value) => d.write(offset, width, value).map(|()| 0),
        None => d.read(offset, width),
    }
}

/// Device interrupt `irq` of capsule `c` is at `level` now.
fn set_line(c: &Arc<Capsule>, irq: usize, level: bool) {
    c.devices.plic.lock().set_level(irq, level);
    sync_lines(c);
}

/// Copies each PLIC context's output to its vcore's external interrupt
/// line, telling the scheduler of each that changed.
fn sync_lines(c: &Arc<Capsule>) {
    let mut changed: u32 = 0;
    {
        let p = c.devices.plic.lock();
        for (i, v) in c.vcores.iter().enumerate().take(32) {
            let want = p.eip(i);
            if v.seip.swap(want, Ordering::SeqCst) != want {
                changed |= 1 << i;
            }
        }
    }
    while changed != 0 {
        let i = changed.trailing_zeros() as usize;
        changed &= changed - 1;
        if let Some(v) = c.vcore(i) {
            sched::external_changed(&v);
        }
    }
}

/// Moves typed input for `c` into its UART's receive FIFO, as far as
/// there is room. This is not a console poll for the watchdog: a driver
/// that takes interrupts stops reading the UART when it goes idle, which
/// the watchdog would take for a dead kernel; the watchdog judges only
/// kernels that poll the SBI console.
fn top_up(c: &Capsule, u: &mut Uart16550) {
    let room = u.rx_room();
    typed(c, room, |bytes| {
        for &b in bytes {
            u.receive(b);
        }
    });
}

/// Passes up to `room` bytes typed for `c` (at most 256 at a time) to
/// `take`, which must take them all; nothing is read if there is no room.
fn typed(c: &Capsule, room: usize, take: impl FnOnce(&[u8])) {
    if room == 0 {
        return;
    }
    let mut buf = [0u8; 256];
    let n = console::capsule_input(c, &mut buf[..room.min(256)]);
    take(&buf[..n]);
}
