//! Reading the flattened device tree (FDT) that firmware or QEMU hands the
//! hypervisor, and turning it into a description of the platform.
//!
//! Why not the `fdt` crate: version 0.1.5 `expect()`s and `assert!`s its way
//! through malformed blobs (bad node tokens, missing strings, absent required
//! nodes), and a panic during boot is exactly what this layer must never do.
//! [`fdt::Fdt::parse`] checks the whole blob once, up front; every later
//! accessor is bounds-checked too, so corrupt input ends in an [`Error`].
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod console;
pub mod fdt;
pub mod platform;
pub mod power;

pub use fdt::{Error, Fdt, Node, Property};
pub use console::{Console, Uart, UartKind};
pub use platform::{Hart, HartTimer, Mmio, Platform, PlatformError, TimerIpi};
pub use power::{PowerOff, PowerOffKind};
