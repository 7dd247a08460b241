//! A bounded queue of bytes: a capsule's recent output (the oldest bytes
//! give way) and its pending input (new bytes are refused when full).

use alloc::collections::VecDeque;

/// At most `N` bytes. Memory grows with use, up to `N`.
pub(crate) struct Ring<const N: usize> {
    bytes: VecDeque<u8>,
    /// Bytes have been pushed out at the front since creation.
    lost: bool,
}

impl<const N: usize> Ring<N> {
    pub(crate) const fn new() -> Self {
        Ring { bytes: VecDeque::new(), lost: false }
    }

    /// Appends `data`, dropping the oldest bytes to stay within `N`.
    pub(crate) fn push_overwrite(&mut self, data: &[u8]) {
        let cut = data.len().saturating_sub(N);
        let data = &data[cut..];
        let excess = (self.bytes.len() + data.len()).saturating_sub(N);
        self.bytes.drain(..excess);
        self.bytes.extend(data);
        self.lost |= cut > 0 || excess > 0;
    }

    /// Appends `byte` if there is room.
    pub(crate) fn push(&mut self, byte: u8) -> bool {
        if self.bytes.len() < N {
            self.bytes.push_back(byte);
            true
        } else {
            false
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Moves the oldest bytes into `buf`; how many.
    pub(crate) fn pop_into(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.bytes.len());
        for (slot, b) in buf.iter_mut().zip(self.bytes.drain(..n)) {
            *slot = b;
        }
        n
    }

    pub(crate) fn lost(&self) -> bool {
        self.lost
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &u8> {
        self.bytes.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn contents<const N: usize>(r: &Ring<N>) -> Vec<u8> {
        r.iter().copied().collect()
    }

    #[test]
    fn overwriting_keeps_the_newest() {
        let mut r = Ring::<4>::new();
        r.push_overwrite(b"abc");
        assert!(!r.lost());
        r.push_overwrite(b"de");
        assert_eq!(contents(&r), b"bcde");
        assert!(r.lost());
    }

    #[test]
    fn a_run_longer_than_the_ring_keeps_its_end() {
        let mut r = Ring::<4>::new();
        r.push_overwrite(b"abcdefg");
        assert_eq!(contents(&r), b"defg");
        assert!(r.lost());
        let mut r = Ring::<4>::new();
        r.push_overwrite(b"abcd");
        assert!(!r.lost());
    }

    #[test]
    fn push_refuses_when_full() {
        let mut r = Ring::<2>::new();
        assert!(r.push(1));
        assert!(r.push(2));
        assert!(!r.push(3));
        let mut buf = [0; 1];
        assert_eq!(r.pop_into(&mut buf), 1);
        assert_eq!(buf, [1]);
        assert!(r.push(4));
        let mut buf = [0; 8];
        assert_eq!(r.pop_into(&mut buf), 2);
        assert_eq!(&buf[..2], [2, 4]);
        assert_eq!(r.pop_into(&mut buf), 0);
        assert_eq!(r.pop_into(&mut []), 0);
    }
}
