//! virtio devices on the virtio-mmio transport, the way a stock Linux
//! kernel with `CONFIG_VIRTIO_MMIO` finds them from its device tree.
//!
//! Unlike the UART, a virtio device reads and writes the capsule's RAM:
//! the driver hands it buffers through virtqueues, rings at
//! guest-physical addresses the driver chose. Every such access goes
//! through [`GuestRam`], which the hypervisor implements over the
//! capsule's RAM and which refuses any byte outside it. The rings are
//! hostile input: another hart of the same capsule may rewrite them
//! while the device reads them, so each field is read once, checked,
//! and used from the copy.
//!
//! A driver that breaks the rules does not crash or hang the model: the
//! device stops processing, sets `DEVICE_NEEDS_RESET` in its status,
//! raises a configuration-change interrupt, and keeps the reason
//! ([`Broken`]) for the hypervisor to print. Only a device reset (the
//! driver writing 0 to Status) makes it work again.
//!
//! [`queue`] is a split virtqueue, [`mmio`] the version 2 register
//! window around a device, [`console`] the multiport console.

pub mod console;
pub mod mmio;
pub mod queue;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod hostile;
#[cfg(test)]
mod tests;

use core::fmt;

/// The capsule's RAM, as a device sees it: guest-physical addresses.
/// Both calls do nothing and return false if any byte of the range lies
/// outside the capsule's RAM (or the range wraps past the top).
pub trait GuestRam {
    fn read(&self, addr: u64, buf: &mut [u8]) -> bool;
    fn write(&self, addr: u64, data: &[u8]) -> bool;
}

/// Device status bits (the Status register).
pub const STATUS_ACKNOWLEDGE: u32 = 1;
pub const STATUS_DRIVER: u32 = 2;
pub const STATUS_DRIVER_OK: u32 = 4;
pub const STATUS_FEATURES_OK: u32 = 8;
pub const STATUS_DEVICE_NEEDS_RESET: u32 = 0x40;
pub const STATUS_FAILED: u32 = 0x80;

/// The driver follows virtio 1.x (not the legacy interface). A version 2
/// virtio-mmio device must offer it and the driver must accept it.
pub const F_VERSION_1: u64 = 1 << 32;

/// What a driver did wrong, stopping the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// QueueReady with a queue size that is 0, above the maximum or not
    /// a power of two.
    QueueSize,
    /// QueueReady with a ring address not aligned as the spec requires
    /// (descriptors 16, available ring 2, used ring 4).
    RingMisaligned,
    /// A ring lies (partly) outside RAM, or could no longer be accessed.
    RingOutsideRam,
    /// The available index ran more than the queue size ahead of the
    /// entries the device had taken.
    AvailJump,
    /// A descriptor index (a chain's head or a `next`) not below the
    /// queue size.
    DescIndex,
    /// A chain with more descriptors than the queue has: it loops.
    ChainLoop,
    /// An indirect descriptor; VIRTIO_F_INDIRECT_DESC is not offered.
    Indirect,
    /// A buffer's address plus length overflows.
    LengthOverflow,
    /// A chain's buffers add up to more than [`queue::MAX_CHAIN_BYTES`].
    ChainTooBig,
    /// A buffer lies (partly) outside RAM.
    BufferOutsideRam,
    /// A device-readable buffer after a device-writable one.
    ReadableAfterWritable,
    /// A device-writable buffer on a queue the device only reads.
    UnexpectedWritable,
    /// A device-readable buffer on a queue the device only writes.
    UnexpectedReadable,
    /// QueueNotify named a queue the device does not have.
    NoSuchQueue,
}

impl Fault {
    /// For messages.
    pub fn describe(self) -> &'static str {
        match self {
            Fault::QueueSize => "queue size not a power of two up to the maximum",
            Fault::RingMisaligned => "ring address misaligned",
            Fault::RingOutsideRam => "ring outside RAM",
            Fault::AvailJump => "available index ran more than the queue size ahead",
            Fault::DescIndex => "descriptor index beyond the queue",
            Fault::ChainLoop => "descriptor chain longer than the queue (a loop)",
            Fault::Indirect => "indirect descriptor, not offered",
            Fault::LengthOverflow => "buffer address plus length overflows",
            Fault::ChainTooBig => "descriptor chain too big",
            Fault::BufferOutsideRam => "buffer outside RAM",
            Fault::ReadableAfterWritable => "readable buffer after a writable one",
            Fault::UnexpectedWritable => "device-writable buffer on a transmit queue",
            Fault::UnexpectedReadable => "device-readable buffer on a receive queue",
            Fault::NoSuchQueue => "notify of a queue the device does not have",
        }
    }
}

/// Why a device stopped: the fault and the queue it concerns (for
/// [`Fault::NoSuchQueue`], the index the driver wrote).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Broken {
    pub queue: u32,
    pub fault: Fault,
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "queue {}: {}", self.queue, self.fault.describe())
    }
}
