//! Sets of harts, and the `hart_mask`/`hart_mask_base` pair SBI calls use.

use sbi_spec::binary::SbiRet;

/// A set of hart ids below 64 (diosix runs at most 16 harts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HartSet(pub u64);

impl HartSet {
    pub fn from_ids(ids: &[usize]) -> HartSet {
        let mut s = HartSet(0);
        for &id in ids {
            s.insert(id);
        }
        s
    }

    pub fn insert(&mut self, id: usize) {
        if id < 64 {
            self.0 |= 1 << id;
        }
    }

    pub fn contains(&self, id: usize) -> bool {
        id < 64 && self.0 & (1 << id) != 0
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The ids in the set, lowest first (one step per member: this is on
    /// the path of every IPI and fence a capsule asks for).
    pub fn iter(&self) -> impl Iterator<Item = usize> {
        let mut bits = self.0;
        core::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let id = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            Some(id)
        })
    }

    pub fn len(&self) -> usize {
        self.0.count_ones() as usize
    }

    /// The harts `mask`/`base` name, which must all belong to `valid`.
    /// `base == usize::MAX` means every hart in `valid`.
    pub fn from_mask(mask: usize, base: usize, valid: HartSet) -> Result<HartSet, SbiRet> {
        if base == usize::MAX {
            return Ok(valid);
        }
        if mask == 0 {
            return Ok(HartSet(0));
        }
        // Every named id is base + a set bit of mask; the highest must
        // exist and be below 64 for the set to hold them all.
        let highest = (usize::BITS - 1 - mask.leading_zeros()) as usize;
        match base.checked_add(highest) {
            Some(top) if top < 64 => {}
            _ => return Err(SbiRet::invalid_param()),
        }
        let set = (mask as u64) << base;
        if set & !valid.0 != 0 {
            return Err(SbiRet::invalid_param());
        }
        Ok(HartSet(set))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_resolve_against_the_capsules_harts() {
        let valid = HartSet::from_ids(&[0, 1, 2, 3]);
        assert_eq!(HartSet::from_mask(0b101, 0, valid), Ok(HartSet::from_ids(&[0, 2])));
        assert_eq!(HartSet::from_mask(0b11, 2, valid), Ok(HartSet::from_ids(&[2, 3])));
        assert_eq!(HartSet::from_mask(0, usize::MAX, valid), Ok(valid));
        assert_eq!(HartSet::from_mask(0, 0, valid), Ok(HartSet(0)));
        assert_eq!(HartSet::from_mask(0b1, 4, valid), Err(SbiRet::invalid_param()));
        assert_eq!(HartSet::from_mask(1 << 63, usize::MAX - 1, valid), Err(SbiRet::invalid_param()));
        assert_eq!(valid.iter().collect::<Vec<_>>(), [0, 1, 2, 3]);
    }
}
