//! Where a capsule's RAM comes from, and where its kernel and device tree
//! go inside it.

use core::fmt;

use memrange::Range;
use payload::{Kernel, Xlen};

/// Linux wants its RAM (and its kernel) aligned to a huge page: 2 MiB on
/// rv64, 4 MiB on rv32.
pub fn alignment(xlen: Xlen) -> u64 {
    match xlen {
        Xlen::Rv64 => 2 << 20,
        Xlen::Rv32 => 4 << 20,
    }
}

/// The smallest capsule we make.
pub const MIN_RAM: u64 = 16 << 20;
/// Room kept for the device tree at the top of the capsule's RAM.
pub const TREE_SPACE: u64 = 64 << 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutError {
    /// No free, aligned block of at least [`MIN_RAM`] bytes.
    NoRoom { largest: u64 },
    /// The kernel and its device tree do not fit in the capsule's RAM.
    KernelTooBig { needs: u64, has: u64 },
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayoutError::NoRoom { largest } => write!(
                f,
                "no free RAM for a capsule: the largest aligned free block is {largest:#x} bytes, {MIN_RAM:#x} needed"
            ),
            LayoutError::KernelTooBig { needs, has } => write!(
                f,
                "the kernel needs {needs:#x} bytes of RAM with its device tree, the capsule has {has:#x}"
            ),
        }
    }
}

/// Where things go inside a capsule's RAM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub ram: Range,
    /// Where the kernel's lowest segment is copied.
    pub kernel: Range,
    /// Where execution starts.
    pub entry: u64,
    /// Where the device tree is written (8-byte aligned, at the top).
    pub tree: u64,
}

impl Layout {
    /// Puts the kernel at the base of `ram` and the device tree at its top.
    pub fn new(ram: Range, kernel: &Kernel) -> Result<Layout, LayoutError> {
        let needs = kernel.load_span() + TREE_SPACE;
        if needs > ram.size() {
            return Err(LayoutError::KernelTooBig { needs, has: ram.size() });
        }
        Ok(Layout {
            ram,
            kernel: Range::new(ram.start(), kernel.load_span()).expect("span is non-zero"),
            entry: ram.start() + kernel.entry_offset(),
            tree: ram.end() - TREE_SPACE,
        })
    }

    /// Where a segment with physical address `paddr` is copied.
    pub fn segment_address(&self, kernel: &Kernel, paddr: u64) -> u64 {
        self.ram.start() + (paddr - kernel.lowest_paddr())
    }
}
