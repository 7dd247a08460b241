//! Planning a capsule: where its RAM goes, where its kernel and device
//! tree go inside that RAM, which ISA its harts advertise, and the device
//! tree itself. Plain data in, plain data out, so it is all host-tested.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod devicetree;
pub mod isa;
pub mod memory;
pub mod pool;

pub use devicetree::{GuestHart, GuestTree};
pub use memory::{Layout, LayoutError};
pub use pool::RamPool;
