//! Physical memory ranges with checked arithmetic.
//!
//! Every constructor and operation that could overflow returns an error or
//! `None` instead of wrapping or panicking, because the numbers come from
//! device trees and ELF headers that may be hostile or corrupt.
#![cfg_attr(not(test), no_std)]

use core::fmt;

/// A half-open range of physical addresses, `start..end`, never empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Range {
    start: u64,
    end: u64,
}

/// Why a range could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeError {
    /// The size was zero.
    Empty,
    /// `base + size` does not fit in 64 bits.
    Overflow { base: u64, size: u64 },
}

impl fmt::Display for RangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RangeError::Empty => write!(f, "zero-sized range"),
            RangeError::Overflow { base, size } => {
                write!(f, "range {base:#x} + {size:#x} overflows the address space")
            }
        }
    }
}

impl Range {
    /// The range `base .. base + size`.
    pub fn new(base: u64, size: u64) -> Result<Range, RangeError> {
        if size == 0 {
            return Err(RangeError::Empty);
        }
        let end = base
            .checked_add(size)
            .ok_or(RangeError::Overflow { base, size })?;
        Ok(Range { start: base, end })
    }

    /// The range `start .. end`; `None` when `end <= start`.
    pub fn from_bounds(start: u64, end: u64) -> Option<Range> {
        (end > start).then_some(Range { start, end })
    }

    pub fn start(&self) -> u64 {
        self.start
    }

    /// One past the last address.
    pub fn end(&self) -> u64 {
        self.end
    }

    pub fn size(&self) -> u64 {
        self.end - self.start
    }

    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.start && addr < self.end
    }

    /// True when all of `other` lies inside `self`.
    pub fn contains_range(&self, other: &Range) -> bool {
        other.start >= self.start && other.end <= self.end
    }

    pub fn overlaps(&self, other: &Range) -> bool {
        self.start < other.end && other.start < self.end
    }

    pub fn intersection(&self, other: &Range) -> Option<Range> {
        Range::from_bounds(self.start.max(other.start), self.end.min(other.end))
    }

    /// What is left of `self` once `hole` is taken out: up to two pieces,
    /// the one below the hole and the one above it.
    pub fn subtract(&self, hole: &Range) -> (Option<Range>, Option<Range>) {
        if !self.overlaps(hole) {
            return (Some(*self), None);
        }
        (
            Range::from_bounds(self.start, hole.start),
            Range::from_bounds(hole.end, self.end),
        )
    }

    /// The largest sub-range whose start and end are multiples of `align`
    /// (a power of two), or `None` if nothing aligned fits.
    pub fn align_inward(&self, align: u64) -> Option<Range> {
        let start = align_up(self.start, align)?;
        let end = align_down(self.end, align)?;
        Range::from_bounds(start, end)
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}..{:#x}", self.start, self.end)
    }
}

/// Round `value` up to a multiple of `align`, which must be a power of two.
/// `None` if `align` is not a power of two or the result overflows.
pub fn align_up(value: u64, align: u64) -> Option<u64> {
    if !align.is_power_of_two() {
        return None;
    }
    value.checked_add(align - 1).map(|v| v & !(align - 1))
}

/// Round `value` down to a multiple of `align`, which must be a power of two.
pub fn align_down(value: u64, align: u64) -> Option<u64> {
    align.is_power_of_two().then(|| value & !(align - 1))
}

/// A byte count written for people: `384 MiB`, `1 GiB`, `4 KiB`, `12 bytes`,
/// choosing the largest unit that divides it exactly, or one decimal place.
pub struct Size(pub u64);

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
        let n = self.0;
        for (name, unit) in UNITS {
            if n >= unit {
                if n.is_multiple_of(unit) {
                    return write!(f, "{} {name}", n / unit);
                }
                let tenths = (n % unit) * 10 / unit;
                return write!(f, "{}.{} {name}", n / unit, tenths);
            }
        }
        write!(f, "{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_rejects_empty_and_overflow() {
        assert_eq!(Range::new(0x1000, 0), Err(RangeError::Empty));
        assert!(matches!(
            Range::new(u64::MAX - 1, 2),
            Err(RangeError::Overflow { .. })
        ));
        let r = Range::new(u64::MAX - 1, 1).unwrap();
        assert_eq!(r.end(), u64::MAX);
    }

    #[test]
    fn overlap_and_containment() {
        let a = Range::new(0x1000, 0x1000).unwrap();
        let b = Range::new(0x1800, 0x1000).unwrap();
        let c = Range::new(0x2000, 0x10).unwrap();
        assert!(a.overlaps(&b));
        assert!(!a.overlaps(&c), "touching ranges do not overlap");
        assert!(a.contains(0x1fff) && !a.contains(0x2000));
        assert!(b.contains_range(&c));
        assert_eq!(a.intersection(&b), Range::from_bounds(0x1800, 0x2000));
        assert_eq!(a.intersection(&c), None);
    }

    #[test]
    fn subtract_splits_around_hole() {
        let ram = Range::new(0x8000_0000, 0x1000_0000).unwrap();
        let image = Range::new(0x8000_0000, 0x20_0000).unwrap();
        assert_eq!(
            ram.subtract(&image),
            (None, Range::from_bounds(0x8020_0000, 0x9000_0000))
        );
        let middle = Range::new(0x8100_0000, 0x1000).unwrap();
        let (lo, hi) = ram.subtract(&middle);
        assert_eq!(lo, Range::from_bounds(0x8000_0000, 0x8100_0000));
        assert_eq!(hi, Range::from_bounds(0x8100_1000, 0x9000_0000));
        let outside = Range::new(0x1000, 0x1000).unwrap();
        assert_eq!(ram.subtract(&outside), (Some(ram), None));
        assert_eq!(ram.subtract(&ram), (None, None));
    }

    #[test]
    fn alignment() {
        assert_eq!(align_up(0x1001, 0x1000), Some(0x2000));
        assert_eq!(align_up(u64::MAX, 0x1000), None);
        assert_eq!(align_up(5, 3), None);
        assert_eq!(align_down(0x1fff, 0x1000), Some(0x1000));
        let r = Range::from_bounds(0x1001, 0x3fff).unwrap();
        assert_eq!(r.align_inward(0x1000), Range::from_bounds(0x2000, 0x3000));
        assert_eq!(r.align_inward(0x4000), None);
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(Size(384 << 20).to_string(), "384 MiB");
        assert_eq!(Size(1 << 30).to_string(), "1 GiB");
        assert_eq!(Size(1536 << 10).to_string(), "1.5 MiB");
        assert_eq!(Size(12).to_string(), "12 bytes");
    }
}
