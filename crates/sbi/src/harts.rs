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

    pub fn iter(&self) -> impl Iterator<Item = usize> {
        let bits = self.0;
        (0..64).filter(move |i| bits & (1 << i) != 0)
    }

    /// The harts `mask`/`base` name, which must all belong to `valid`.
    /// `base == usize::MAX` means every hart in `valid`.
    pub fn from_mask(mask: usize, base: usize, valid: HartSet) -> Result<HartSet, SbiRet> {
        if base == usize::MAX {
            return Ok(valid);
        }
        let mut set = HartSet(0);
        for bit in 0..usize::BITS as usize {
            if mask & (1 << bit) == 0 {
                continue;
            }
            let id = base.checked_add(bit).ok_or(SbiRet::invalid_param())?;
            if !valid.contains(id) {
                return Err(SbiRet::invalid_param());
            }
            set.insert(id);
        }
        Ok(set)
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
