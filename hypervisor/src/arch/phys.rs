//! Physical addresses as M-mode reaches them.
//!
//! Addresses from the device tree, the kernel image and the capsules are
//! `u64`; M-mode runs with translation off, so it reaches an address only
//! if it fits in a `usize`. On rv32 that is the low 4 GiB: a 64-bit
//! address cast with `as` would silently lose its top half and steer an
//! M-mode access somewhere else (for example onto a device's MMIO). Every
//! conversion goes through [`Phys::new`], which refuses instead, and
//! capsule RAM is never placed where M-mode cannot reach it
//! ([`unreachable`]).

use memrange::Range;

/// A physical address M-mode can reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Phys(usize);

impl Phys {
    /// `addr`, if this target's M-mode can reach it.
    pub fn new(addr: u64) -> Option<Phys> {
        usize::try_from(addr).ok().map(Phys)
    }

    pub fn as_usize(self) -> usize {
        self.0
    }

    /// A raw pointer to the address; using it is the caller's unsafe act.
    pub fn ptr<T>(self) -> *mut T {
        self.0 as *mut T
    }
}

/// The physical addresses this target's M-mode cannot reach: everything
/// from 4 GiB up on rv32, nothing on rv64.
pub fn unreachable() -> Option<Range> {
    let first = (usize::MAX as u64).checked_add(1)?;
    Range::from_bounds(first, u64::MAX)
}
