//! The virtio-mmio transport, version 2 (virtio 1.x, section 4.2): the
//! register window Linux's `virtio_mmio` driver probes and drives.
//!
//! Registers are 32 bits wide and accessed only as aligned words; the
//! device's configuration space from 0x100 takes naturally aligned
//! accesses of 1, 2 or 4 bytes (Linux's `vm_get` uses readb/readw/readl).
//! Anything else, and any offset with no register, is refused. A load
//! from a write-only register reads 0 and a store to a read-only one is
//! ignored, as the driver never does either.
//!
//! Feature negotiation: the device offers VIRTIO_F_VERSION_1 and its own
//! bits; FEATURES_OK is refused (left clear in Status, which the driver
//! reads back) unless the driver accepted VERSION_1 and nothing that was
//! not offered. Once accepted, FEATURES_OK and DRIVER_OK stay set and
//! the driver's features are frozen until reset. Writing 0 to Status
//! resets the device: features, queues, interrupts and a broken state.
//!
//! Queues are set up while not ready (QueueNum, the three addresses),
//! then QueueReady 1 checks them ([`Queue::enable`]); a bad queue breaks
//! the device. Notifications are acted on at once, so by the time the
//! store returns the device has consumed what the driver offered; Linux
//! relies on that when it spins for a control message or console output
//! to come back (`__send_control_msg`, `__send_to_port` in
//! drivers/char/virtio_console.c). Nothing is processed before DRIVER_OK.
//!
//! InterruptStatus bit 0 says used buffers were added (unless the driver
//! asked for none), bit 1 a configuration change, which here only means
//! the device broke. InterruptACK clears the bits written; the line is
//! up while any bit is set.

use alloc::vec::Vec;

use super::queue::{Queue, Rings, MAX_SIZE};
use super::{Broken, Fault, GuestRam, F_VERSION_1, STATUS_DEVICE_NEEDS_RESET, STATUS_DRIVER_OK, STATUS_FEATURES_OK};
use crate::AccessError;

/// "virt" in memory order.
pub const MAGIC: u32 = 0x7472_6976;
pub const VERSION: u32 = 2;
/// "DIOS" in memory order, as QEMU's 0x554d4551 reads "QEMU". Linux only
/// prints it.
pub const VENDOR_ID: u32 = 0x534f_4944;
/// The window a virtio-mmio device is given (registers and config).
pub const WINDOW_SIZE: u64 = 0x200;

/// InterruptStatus bits.
pub const INT_USED_BUFFER: u32 = 1;
pub const INT_CONFIG_CHANGE: u32 = 2;

const MAGIC_VALUE: u64 = 0x000;
const VERSION_REG: u64 = 0x004;
const DEVICE_ID: u64 = 0x008;
const VENDOR_ID_REG: u64 = 0x00c;
const DEVICE_FEATURES: u64 = 0x010;
const DEVICE_FEATURES_SEL: u64 = 0x014;
const DRIVER_FEATURES: u64 = 0x020;
const DRIVER_FEATURES_SEL: u64 = 0x024;
const QUEUE_SEL: u64 = 0x030;
const QUEUE_NUM_MAX: u64 = 0x034;
const QUEUE_NUM: u64 = 0x038;
const QUEUE_READY: u64 = 0x044;
const QUEUE_NOTIFY: u64 = 0x050;
const INTERRUPT_STATUS: u64 = 0x060;
const INTERRUPT_ACK: u64 = 0x064;
const STATUS: u64 = 0x070;
const QUEUE_DESC_LOW: u64 = 0x080;
const QUEUE_DESC_HIGH: u64 = 0x084;
const QUEUE_DRIVER_LOW: u64 = 0x090;
const QUEUE_DRIVER_HIGH: u64 = 0x094;
const QUEUE_DEVICE_LOW: u64 = 0x0a0;
const QUEUE_DEVICE_HIGH: u64 = 0x0a4;
const SHM_SEL: u64 = 0x0ac;
const SHM_LEN_LOW: u64 = 0x0b0;
const SHM_BASE_HIGH: u64 = 0x0bc;
const CONFIG_GENERATION: u64 = 0x0fc;
pub const CONFIG: u64 = 0x100;

/// What a device behind the transport provides.
pub trait Backend {
    /// The virtio device ID (3 for a console).
    fn device_id(&self) -> u32;
    /// Device-specific feature bits offered (VERSION_1 is added).
    fn features(&self) -> u64;
    /// How many queues the device has.
    fn queue_count(&self) -> u16;
    /// Byte `index` of the configuration space; `None` past its end.
    fn config_byte(&self, index: u64) -> Option<u8>;
    /// A store to the configuration space (inside it).
    fn write_config(&mut self, _offset: u64, _width: u8, _value: u64) {}
    /// Back to the state before the driver found it.
    fn reset(&mut self);
    /// The driver set DRIVER_OK having accepted `features`.
    fn activate(&mut self, features: u64, rings: &mut Rings<'_>) -> Result<(), Broken>;
    /// The driver notified queue `q` (which exists).
    fn notify(&mut self, q: u16, rings: &mut Rings<'_>) -> Result<(), Broken>;
}

/// A virtio device's register window.
#[derive(Debug)]
pub struct Transport<D> {
    device: D,
    status: u32,
    device_features_sel: u32,
    driver_features_sel: u32,
    driver_features: u64,
    queue_sel: u32,
    queues: Vec<Queue>,
    interrupt_status: u32,
    broken: Option<Broken>,
}

impl<D: Backend> Transport<D> {
    pub fn new(device: D) -> Self {
        let queues = (0..device.queue_count()).map(|_| Queue::new()).collect();
        Transport {
            device,
            status: 0,
            device_features_sel: 0,
            driver_features_sel: 0,
            driver_features: 0,
            queue_sel: 0,
            queues,
            interrupt_status: 0,
            broken: None,
        }
    }

    pub fn device(&self) -> &D {
        &self.device
    }

    pub fn device_mut(&mut self) -> &mut D {
        &mut self.device
    }

    /// The interrupt line, for the hypervisor to drive a PLIC source.
    pub fn interrupt(&self) -> bool {
        self.interrupt_status != 0
    }

    /// Why the device stopped, until the driver resets it.
    pub fn broken(&self) -> Option<Broken> {
        self.broken
    }

    pub fn status(&self) -> u32 {
        self.status
    }

    /// The features both sides agreed on (0 before FEATURES_OK).
    pub fn features(&self) -> u64 {
        if self.status & STATUS_FEATURES_OK != 0 {
            self.driver_features
        } else {
            0
        }
    }

    fn offered(&self) -> u64 {
        self.device.features() | F_VERSION_1
    }

    /// A load of `width` bytes at `offset` in the window.
    pub fn read(&mut self, offset: u64, width: u8) -> Result<u64, AccessError> {
        if offset >= CONFIG {
            return self.read_config(offset - CONFIG, width);
        }
        check_register(offset, width)?;
        let v = match offset {
            MAGIC_VALUE => MAGIC,
            VERSION_REG => VERSION,
            DEVICE_ID => self.device.device_id(),
            VENDOR_ID_REG => VENDOR_ID,
            DEVICE_FEATURES => match self.device_features_sel {
                0 => self.offered() as u32,
                1 => (self.offered() >> 32) as u32,
                _ => 0,
            },
            QUEUE_NUM_MAX => self.selected().map_or(0, |_| u32::from(MAX_SIZE)),
            QUEUE_READY => self.selected().map_or(0, |q| u32::from(q.is_ready())),
            INTERRUPT_STATUS => self.interrupt_status,
            STATUS => self.status,
            // No shared memory regions: length and base all ones.
            SHM_LEN_LOW..=SHM_BASE_HIGH => u32::MAX,
            // The configuration never changes.
            CONFIG_GENERATION => 0,
            DEVICE_FEATURES_SEL | DRIVER_FEATURES | DRIVER_FEATURES_SEL | QUEUE_SEL | QUEUE_NUM | QUEUE_NOTIFY
            | INTERRUPT_ACK | QUEUE_DESC_LOW | QUEUE_DESC_HIGH | QUEUE_DRIVER_LOW | QUEUE_DRIVER_HIGH
            | QUEUE_DEVICE_LOW | QUEUE_DEVICE_HIGH | SHM_SEL => 0,
            _ => return Err(AccessError::NoRegister),
        };
        Ok(u64::from(v))
    }

    /// A store of `width` bytes at `offset` in the window; `mem` is the
    /// capsule's RAM, for the queues.
    pub fn write(&mut self, mem: &dyn GuestRam, offset: u64, width: u8, value: u64) -> Result<(), AccessError> {
        if offset >= CONFIG {
            check_config(offset - CONFIG, width, |i| self.device.config_byte(i).is_some())?;
            self.device.write_config(offset - CONFIG, width, value);
            return Ok(());
        }
        check_register(offset, width)?;
        let v = value as u32;
        match offset {
            DEVICE_FEATURES_SEL => self.device_features_sel = v,
            DRIVER_FEATURES if self.status & STATUS_FEATURES_OK == 0 => match self.driver_features_sel {
                0 => self.driver_features = (self.driver_features & !0xffff_ffff) | u64::from(v),
                1 => self.driver_features = (self.driver_features & 0xffff_ffff) | (u64::from(v) << 32),
                _ => {}
            },
            DRIVER_FEATURES_SEL => self.driver_features_sel = v,
            QUEUE_SEL => self.queue_sel = v,
            QUEUE_NUM => self.set_queue(|q| q.size = v),
            QUEUE_DESC_LOW => self.set_queue(|q| q.desc = low(q.desc, v)),
            QUEUE_DESC_HIGH => self.set_queue(|q| q.desc = high(q.desc, v)),
            QUEUE_DRIVER_LOW => self.set_queue(|q| q.avail = low(q.avail, v)),
            QUEUE_DRIVER_HIGH => self.set_queue(|q| q.avail = high(q.avail, v)),
            QUEUE_DEVICE_LOW => self.set_queue(|q| q.used = low(q.used, v)),
            QUEUE_DEVICE_HIGH => self.set_queue(|q| q.used = high(q.used, v)),
            QUEUE_READY => self.set_queue_ready(mem, v & 1 != 0),
            QUEUE_NOTIFY => self.notify(mem, v),
            INTERRUPT_ACK => self.interrupt_status &= !v,
            STATUS => self.set_status(mem, v),
            MAGIC_VALUE | VERSION_REG | DEVICE_ID | VENDOR_ID_REG | DEVICE_FEATURES | DRIVER_FEATURES
            | QUEUE_NUM_MAX | INTERRUPT_STATUS | SHM_SEL..=SHM_BASE_HIGH | CONFIG_GENERATION => {}
            _ => return Err(AccessError::NoRegister),
        }
        Ok(())
    }

    fn read_config(&self, offset: u64, width: u8) -> Result<u64, AccessError> {
        check_config(offset, width, |i| self.device.config_byte(i).is_some())?;
        let mut v = 0u64;
        for i in (0..u64::from(width)).rev() {
            v = (v << 8) | u64::from(self.device.config_byte(offset + i).unwrap_or(0));
        }
        Ok(v)
    }

    fn selected(&self) -> Option<&Queue> {
        self.queues.get(self.queue_sel as usize)
    }

    /// Changes the selected queue's setup, if it exists and is not ready.
    fn set_queue(&mut self, f: impl FnOnce(&mut Queue)) {
        if let Some(q) = self.queues.get_mut(self.queue_sel as usize)
            && !q.ready
        {
            f(q);
        }
    }

    fn set_queue_ready(&mut self, mem: &dyn GuestRam, ready: bool) {
        let sel = self.queue_sel;
        let Some(q) = self.queues.get_mut(sel as usize) else {
            return;
        };
        if !ready {
            q.ready = false;
        } else if !q.ready
            && self.broken.is_none()
            && let Err(fault) = q.enable(mem)
        {
            self.break_device(Broken { queue: sel, fault });
        }
    }

    fn notify(&mut self, mem: &dyn GuestRam, index: u32) {
        if self.broken.is_some() || self.status & STATUS_DRIVER_OK == 0 {
            return;
        }
        if index >= u32::from(self.device.queue_count()) {
            self.break_device(Broken { queue: index, fault: Fault::NoSuchQueue });
            return;
        }
        self.run(mem, |d, r| d.notify(index as u16, r));
    }

    fn set_status(&mut self, mem: &dyn GuestRam, v: u32) {
        if v == 0 {
            self.reset();
            return;
        }
        let sticky = self.status & (STATUS_FEATURES_OK | STATUS_DRIVER_OK | STATUS_DEVICE_NEEDS_RESET);
        let mut new = (v & 0xff & !STATUS_DEVICE_NEEDS_RESET) | sticky;
        if new & STATUS_FEATURES_OK != 0 && sticky & STATUS_FEATURES_OK == 0 {
            let f = self.driver_features;
            if f & F_VERSION_1 == 0 || f & !self.offered() != 0 {
                new &= !STATUS_FEATURES_OK;
            }
        }
        if new & STATUS_FEATURES_OK == 0 {
            new &= !STATUS_DRIVER_OK;
        }
        let activating = new & STATUS_DRIVER_OK != 0 && sticky & STATUS_DRIVER_OK == 0;
        self.status = new;
        if activating {
            let (features, count) = (self.driver_features, self.device.queue_count());
            self.run(mem, |d, r| {
                d.activate(features, r)?;
                // Anything offered before DRIVER_OK was not acted on.
                (0..count).try_for_each(|q| d.notify(q, r))
            });
        }
    }

    fn reset(&mut self) {
        self.status = 0;
        self.device_features_sel = 0;
        self.driver_features_sel = 0;
        self.driver_features = 0;
        self.queue_sel = 0;
        self.queues.iter_mut().for_each(|q| *q = Queue::new());
        self.interrupt_status = 0;
        self.broken = None;
        self.device.reset();
    }

    fn break_device(&mut self, why: Broken) {
        self.broken = Some(why);
        self.status |= STATUS_DEVICE_NEEDS_RESET;
        self.interrupt_status |= INT_CONFIG_CHANGE;
    }

    /// Runs device work on the queues if the driver has the device going
    /// (DRIVER_OK, not broken): raises the used-buffer interrupt if the
    /// work asked for one, and breaks the device if it failed. `None` if
    /// the work did not run or failed.
    pub(super) fn run<R>(
        &mut self,
        mem: &dyn GuestRam,
        work: impl FnOnce(&mut D, &mut Rings<'_>) -> Result<R, Broken>,
    ) -> Option<R> {
        if self.broken.is_some() || self.status & STATUS_DRIVER_OK == 0 {
            return None;
        }
        let mut rings = Rings::new(mem, &mut self.queues);
        let result = work(&mut self.device, &mut rings);
        if rings.interrupt() {
            self.interrupt_status |= INT_USED_BUFFER;
        }
        result.map_err(|why| self.break_device(why)).ok()
    }
}

fn low(addr: u64, v: u32) -> u64 {
    (addr & !0xffff_ffff) | u64::from(v)
}

fn high(addr: u64, v: u32) -> u64 {
    (addr & 0xffff_ffff) | (u64::from(v) << 32)
}

/// Registers: aligned 32-bit accesses only.
fn check_register(offset: u64, width: u8) -> Result<(), AccessError> {
    if width != 4 {
        return Err(AccessError::Width);
    }
    if !offset.is_multiple_of(4) {
        return Err(AccessError::Misaligned);
    }
    Ok(())
}

/// Configuration space: naturally aligned 1, 2 or 4 bytes, all inside.
fn check_config(offset: u64, width: u8, exists: impl Fn(u64) -> bool) -> Result<(), AccessError> {
    if !matches!(width, 1 | 2 | 4) {
        return Err(AccessError::Width);
    }
    if !offset.is_multiple_of(u64::from(width)) {
        return Err(AccessError::Misaligned);
    }
    match offset.checked_add(u64::from(width) - 1) {
        Some(last) if exists(offset) && exists(last) => Ok(()),
        _ => Err(AccessError::NoRegister),
    }
}
