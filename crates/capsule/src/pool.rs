//! The pool capsule RAM comes from: all of the machine's RAM less what the
//! firmware and the hypervisor keep, in free pieces. A capsule's RAM is
//! taken out of a piece and given back when the capsule ends, merging
//! with its neighbours, so the pool can always say how much is free and
//! how large the largest piece is (what "not enough RAM" must tell).

use alloc::vec::Vec;

use memrange::{Range, align_down};

use crate::memory::{LayoutError, MIN_RAM};

/// Free RAM: sorted, disjoint pieces, none touching the next (touching
/// pieces are merged).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RamPool {
    free: Vec<Range>,
}

/// Why a range cannot be given back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GiveBackError {
    /// Part of it is already free: given back twice, or never taken.
    AlreadyFree(Range),
}

impl RamPool {
    /// The pool of `ram` less every range of `reserved`.
    pub fn new(ram: &[Range], reserved: &[Range]) -> RamPool {
        let mut free: Vec<Range> = Vec::new();
        for r in ram {
            let mut pieces = alloc::vec![*r];
            for hole in reserved {
                pieces = pieces
                    .iter()
                    .flat_map(|p| {
                        let (lo, hi) = p.subtract(hole);
                        lo.into_iter().chain(hi)
                    })
                    .collect();
            }
            free.extend(pieces);
        }
        free.sort_by_key(Range::start);
        let mut pool = RamPool { free: Vec::new() };
        for p in free {
            // RAM ranges never overlap (the platform refuses such a tree);
            // if they did, the second would be dropped, never counted twice.
            let _ = pool.give_back(p);
        }
        pool
    }

    /// The free pieces, lowest first.
    pub fn pieces(&self) -> &[Range] {
        &self.free
    }

    /// Free bytes in all.
    pub fn free_bytes(&self) -> u64 {
        self.free.iter().fold(0u64, |sum, p| sum.saturating_add(p.size()))
    }

    /// The largest block aligned to `align` that one piece holds.
    pub fn largest(&self, align: u64) -> u64 {
        self.free.iter().filter_map(|p| p.align_inward(align)).map(|p| p.size()).max().unwrap_or(0)
    }

    /// RAM for a kernel (the boot capsule's rule): at `preferred` if that
    /// is aligned and free (a kernel linked to run there), else from the
    /// start of the largest aligned piece; `want` bytes, or the whole piece
    /// if it is smaller, but never less than [`MIN_RAM`].
    pub fn take_for_kernel(&mut self, want: u64, align: u64, preferred: u64) -> Result<Range, LayoutError> {
        let mut best: Option<Range> = None;
        for p in self.free.iter().filter_map(|p| p.align_inward(align)) {
            if preferred.is_multiple_of(align) && p.contains(preferred) && p.end() - preferred >= MIN_RAM {
                let size = align_down(want.min(p.end() - preferred), align).unwrap_or(0).max(MIN_RAM);
                let r = Range::new(preferred, size).expect("size is non-zero and inside the piece");
                self.remove(r);
                return Ok(r);
            }
            if best.is_none_or(|b| p.size() > b.size()) {
                best = Some(p);
            }
        }
        let largest = best.map_or(0, |b| b.size());
        let block = best.filter(|b| b.size() >= MIN_RAM).ok_or(LayoutError::NoRoom { largest })?;
        let size = align_down(want.min(block.size()), align).unwrap_or(0).max(MIN_RAM);
        let r = Range::new(block.start(), size).expect("size is non-zero and inside the block");
        self.remove(r);
        Ok(r)
    }

    /// Exactly `size` bytes (a multiple of `align`) aligned to `align`,
    /// from the smallest piece that holds them (so large pieces stay whole
    /// for large capsules). Nothing changes if none does.
    pub fn take(&mut self, size: u64, align: u64) -> Result<Range, LayoutError> {
        let fits = self
            .free
            .iter()
            .filter_map(|p| p.align_inward(align))
            .filter(|p| p.size() >= size && size > 0)
            .min_by_key(|p| p.size());
        let Some(piece) = fits else {
            return Err(LayoutError::NoRoom { largest: self.largest(align) });
        };
        let r = Range::new(piece.start(), size).expect("size is non-zero and inside the piece");
        self.remove(r);
        Ok(r)
    }

    /// Exactly `size` bytes at `start` (a capsule whose kernel is linked
    /// to run there), if `start` is a multiple of `align` and the whole
    /// range is free; else, as [`RamPool::take`], from the smallest piece
    /// that holds them. Nothing changes if neither works.
    pub fn take_preferring(&mut self, start: u64, size: u64, align: u64) -> Result<Range, LayoutError> {
        if start.is_multiple_of(align)
            && size.is_multiple_of(align)
            && let Ok(r) = Range::new(start, size)
            && self.free.iter().any(|p| p.contains_range(&r))
        {
            self.remove(r);
            return Ok(r);
        }
        self.take(size, align)
    }

    /// Returns `r` to the pool, merging it with the pieces it touches.
    /// Refused, changing nothing, if any of it is free already.
    pub fn give_back(&mut self, r: Range) -> Result<(), GiveBackError> {
        if let Some(p) = self.free.iter().find(|p| p.overlaps(&r)) {
            return Err(GiveBackError::AlreadyFree(*p));
        }
        self.insert(r);
        Ok(())
    }

    /// Adds `r`, which overlaps no free piece, merging touching pieces.
    fn insert(&mut self, r: Range) {
        let at = self.free.partition_point(|p| p.start() < r.start());
        self.free.insert(at, r);
        // Merge with the next piece, then with the previous one.
        if at + 1 < self.free.len() && self.free[at].end() == self.free[at + 1].start() {
            let next = self.free.remove(at + 1);
            self.free[at] = Range::from_bounds(self.free[at].start(), next.end()).expect("pieces are in order");
        }
        if at > 0 && self.free[at - 1].end() == self.free[at].start() {
            let this = self.free.remove(at);
            self.free[at - 1] = Range::from_bounds(self.free[at - 1].start(), this.end()).expect("pieces are in order");
        }
    }

    /// Takes `r`, which lies inside one free piece, out of the pool.
    fn remove(&mut self, r: Range) {
        let Some(i) = self.free.iter().position(|p| p.contains_range(&r)) else {
            debug_assert!(false, "{r:?} is not inside a free piece");
            return;
        };
        let (lo, hi) = self.free[i].subtract(&r);
        self.free.remove(i);
        for (k, part) in lo.into_iter().chain(hi).enumerate() {
            self.free.insert(i + k, part);
        }
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
    fn reserved_ranges_are_never_free() {
        let pool = RamPool::new(&[r(0x8000_0000, 512 * MIB)], &[r(0x8000_0000, 11 * MIB), r(0x9000_0000, MIB)]);
        assert_eq!(pool.pieces(), [r(0x80b0_0000, 245 * MIB), r(0x9010_0000, 255 * MIB)]);
        assert_eq!(pool.free_bytes(), 500 * MIB);
        assert_eq!(pool.largest(2 * MIB), 254 * MIB);
    }

    #[test]
    fn take_and_give_back_restores_the_pool() {
        let mut pool = RamPool::new(&[r(0x8000_0000, 512 * MIB)], &[r(0x8000_0000, 12 * MIB)]);
        let before = pool.clone();
        let a = pool.take(64 * MIB, 2 * MIB).unwrap();
        let b = pool.take(32 * MIB, 2 * MIB).unwrap();
        assert!(!a.overlaps(&b));
        assert_eq!(pool.free_bytes(), before.free_bytes() - 96 * MIB);
        assert_eq!(pool.give_back(a), Ok(()));
        assert_eq!(pool.give_back(a), Err(GiveBackError::AlreadyFree(a)), "given back twice");
        assert_eq!(pool.give_back(b), Ok(()));
        assert_eq!(pool, before, "pieces merge again");
    }

    #[test]
    fn a_capsule_that_does_not_fit_changes_nothing_and_says_what_is_free() {
        let mut pool = RamPool::new(&[r(0x8000_0000, 128 * MIB), r(0x1_0000_0000, 64 * MIB)], &[]);
        let before = pool.clone();
        assert_eq!(pool.take(256 * MIB, 2 * MIB), Err(LayoutError::NoRoom { largest: 128 * MIB }));
        assert_eq!(pool.take(0, 2 * MIB), Err(LayoutError::NoRoom { largest: 128 * MIB }));
        assert_eq!(pool, before);
        // The smallest piece that fits is used.
        assert_eq!(pool.take(32 * MIB, 2 * MIB).unwrap().start(), 0x1_0000_0000);
    }

    #[test]
    fn the_kernel_rule_prefers_a_fixed_address_then_the_largest_piece() {
        let mut pool = RamPool::new(&[r(0x8000_0000, 512 * MIB)], &[r(0x8000_0000, 12 * MIB)]);
        let boot = pool.take_for_kernel(256 * MIB, 2 * MIB, 0).unwrap();
        assert_eq!(boot, r(0x80c0_0000, 256 * MIB));
        let fixed = pool.take_for_kernel(16 * MIB, 2 * MIB, 0x9400_0000).unwrap();
        assert_eq!(fixed, r(0x9400_0000, 16 * MIB));
        assert!(pool.pieces().iter().all(|p| !p.overlaps(&boot) && !p.overlaps(&fixed)));
    }

    /// The boot capsule's rule on a fresh pool.
    fn kernel_ram(ram: &[Range], reserved: &[Range], want: u64, align: u64, preferred: u64) -> Result<Range, LayoutError> {
        RamPool::new(ram, reserved).take_for_kernel(want, align, preferred)
    }

    #[test]
    fn capsule_ram_avoids_the_hypervisor_and_the_tree() {
        let ram = [r(0x8000_0000, 512 * MIB)];
        let hv = r(0x8000_0000, 0xa4_0000); // 10.25 MiB image
        let fdt = r(0x9fe0_0000, 0x2000);
        let got = kernel_ram(&ram, &[hv, fdt], 256 * MIB, 2 * MIB, 0).unwrap();
        assert_eq!(got, r(0x80c0_0000, 256 * MIB));
        assert!(!got.overlaps(&hv) && !got.overlaps(&fdt));
    }

    #[test]
    fn capsule_shrinks_to_what_is_free() {
        let ram = [r(0x8000_0000, 128 * MIB)];
        let hv = r(0x8000_0000, 8 * MIB);
        let fdt = r(0x87e0_0000, 0x2000);
        let got = kernel_ram(&ram, &[hv, fdt], 256 * MIB, 4 * MIB, 0).unwrap();
        assert_eq!(got.start(), 0x8080_0000);
        assert_eq!(got.end(), 0x87c0_0000);
        assert_eq!(got.start() % (4 * MIB), 0);
    }

    #[test]
    fn a_fixed_address_kernel_gets_its_address_when_free() {
        let ram = [r(0x8000_0000, 512 * MIB)];
        let hv = r(0x8000_0000, 8 * MIB);
        let got = kernel_ram(&ram, &[hv], 64 * MIB, 4 * MIB, 0x8400_0000).unwrap();
        assert_eq!(got, r(0x8400_0000, 64 * MIB));
        // Inside the hypervisor, or misaligned: the default choice instead.
        let got = kernel_ram(&ram, &[hv], 64 * MIB, 4 * MIB, 0x8040_0000).unwrap();
        assert_eq!(got.start(), 0x8080_0000);
        let got = kernel_ram(&ram, &[hv], 64 * MIB, 4 * MIB, 0x8420_0000).unwrap();
        assert_eq!(got.start(), 0x8080_0000);
    }

    #[test]
    fn too_little_ram_is_an_error() {
        let ram = [r(0x8000_0000, 24 * MIB)];
        let hv = r(0x8000_0000, 12 * MIB);
        assert_eq!(
            kernel_ram(&ram, &[hv], 256 * MIB, 2 * MIB, 0),
            Err(LayoutError::NoRoom { largest: 12 * MIB })
        );
    }
}
