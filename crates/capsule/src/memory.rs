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

/// Picks a block of RAM for a capsule: from the largest free piece of
/// `ram` once `reserved` (hypervisor, firmware's device tree, other
/// capsules) is taken out, aligned for Linux, `want` bytes or what fits.
///
/// A kernel linked to run at a fixed physical address (`preferred`, its
/// lowest `p_paddr`) gets RAM starting there when that address is aligned
/// and free; Linux (`p_paddr` 0) can run anywhere and takes the default.
pub fn choose_ram(
    ram: &[Range],
    reserved: &[Range],
    want: u64,
    align: u64,
    preferred: u64,
) -> Result<Range, LayoutError> {
    crate::pool::RamPool::new(ram, reserved).take_for_kernel(want, align, preferred)
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

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn r(start: u64, size: u64) -> Range {
        Range::new(start, size).unwrap()
    }

    #[test]
    fn capsule_ram_avoids_the_hypervisor_and_the_tree() {
        let ram = [r(0x8000_0000, 512 * MIB)];
        let hv = r(0x8000_0000, 0xa4_0000); // 10.25 MiB image
        let fdt = r(0x9fe0_0000, 0x2000);
        let got = choose_ram(&ram, &[hv, fdt], 256 * MIB, 2 * MIB, 0).unwrap();
        assert_eq!(got, r(0x80c0_0000, 256 * MIB));
        assert!(!got.overlaps(&hv) && !got.overlaps(&fdt));
    }

    #[test]
    fn capsule_shrinks_to_what_is_free() {
        let ram = [r(0x8000_0000, 128 * MIB)];
        let hv = r(0x8000_0000, 8 * MIB);
        let fdt = r(0x87e0_0000, 0x2000);
        let got = choose_ram(&ram, &[hv, fdt], 256 * MIB, 4 * MIB, 0).unwrap();
        assert_eq!(got.start(), 0x8080_0000);
        assert_eq!(got.end(), 0x87c0_0000);
        assert_eq!(got.start() % (4 * MIB), 0);
    }

    #[test]
    fn a_fixed_address_kernel_gets_its_address_when_free() {
        let ram = [r(0x8000_0000, 512 * MIB)];
        let hv = r(0x8000_0000, 8 * MIB);
        let got = choose_ram(&ram, &[hv], 64 * MIB, 4 * MIB, 0x8400_0000).unwrap();
        assert_eq!(got, r(0x8400_0000, 64 * MIB));
        // Inside the hypervisor, or misaligned: the default choice instead.
        let got = choose_ram(&ram, &[hv], 64 * MIB, 4 * MIB, 0x8040_0000).unwrap();
        assert_eq!(got.start(), 0x8080_0000);
        let got = choose_ram(&ram, &[hv], 64 * MIB, 4 * MIB, 0x8420_0000).unwrap();
        assert_eq!(got.start(), 0x8080_0000);
    }

    #[test]
    fn too_little_ram_is_an_error() {
        let ram = [r(0x8000_0000, 24 * MIB)];
        let hv = r(0x8000_0000, 12 * MIB);
        assert_eq!(
            choose_ram(&ram, &[hv], 256 * MIB, 2 * MIB, 0),
            Err(LayoutError::NoRoom { largest: 12 * MIB })
        );
    }
}
