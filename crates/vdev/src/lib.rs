//! The devices diosix emulates for capsules, as pure code.
//!
//! A capsule's load or store to one of its device windows traps to M-mode
//! (PMP denies the window); the hypervisor decodes the instruction and
//! calls the model here with the offset into the window, the access width
//! and, for a store, the value. The models know nothing of harts, traps
//! or the console: what they produce (bytes to print, an interrupt line)
//! the hypervisor collects after the access. So every rule in them is
//! tested on the host.
//!
//! [`map`] says where each capsule sees its devices, the same for every
//! capsule; [`uart`] is the 16550-compatible serial port a stock kernel
//! drives with its `8250`/`of_serial` driver; [`plic`] the interrupt
//! controller, one context per vcore; [`pvpanic`] the register a
//! kernel reports its panic through; [`virtio`] the virtio-mmio
//! transport, split virtqueues and the multiport console, which (unlike
//! the others) reads and writes the capsule's RAM, through a checked
//! [`virtio::GuestRam`].

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod map;
pub mod plic;
pub mod pvpanic;
pub mod uart;
pub mod virtio;

/// Why a device refused an access. The hypervisor passes the access
/// fault on to the capsule's kernel, as a bus error on real hardware.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessError {
    /// A width this register cannot be accessed with.
    Width,
    /// Not aligned to its width.
    Misaligned,
    /// No register at this offset.
    NoRegister,
}

/// A memory-mapped device model. `offset` is from the start of its
/// window; `width` is 1, 2, 4 or 8 bytes. A load returns the value
/// zero-extended; the caller sign-extends it if the instruction asks.
pub trait Device {
    fn read(&mut self, offset: u64, width: u8) -> Result<u64, AccessError>;
    fn write(&mut self, offset: u64, width: u8, value: u64) -> Result<(), AccessError>;
}
