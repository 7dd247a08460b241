//! The pieces every message is made of, and the rules that keep reading
//! them safe on any input.
//!
//! Writing never fails part-way: a string or list too long for its count
//! is remembered and reported once, by [`Writer::finish`]. Reading takes
//! every count from the payload at its word only after checking it
//! against what remains, so a count that lies fails at once: a list's
//! items each take at least [`Wire::MIN_LEN`] bytes, and a list whose
//! count needs more than the rest of the payload is refused before any
//! room is reserved for it. Nothing is allocated beyond what the payload
//! holds, and nothing panics.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{DecodeError, EncodeError};

/// Something that can be a list item.
pub(crate) trait Wire: Sized {
    /// The fewest bytes one item takes (at least 1).
    const MIN_LEN: usize;
    fn put(&self, w: &mut Writer);
    fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError>;
}

/// Builds a payload.
pub(crate) struct Writer {
    buf: Vec<u8>,
    err: Option<EncodeError>,
}

impl Writer {
    pub(crate) fn new() -> Self {
        Writer {
            buf: Vec::new(),
            err: None,
        }
    }

    fn fail(&mut self, e: EncodeError) {
        self.err.get_or_insert(e);
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub(crate) fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn str(&mut self, s: &str) {
        match u16::try_from(s.len()) {
            Ok(n) => {
                self.u16(n);
                self.buf.extend_from_slice(s.as_bytes());
            }
            Err(_) => self.fail(EncodeError::StringTooLong { len: s.len() }),
        }
    }

    pub(crate) fn blob(&mut self, b: &[u8]) {
        match u32::try_from(b.len()) {
            Ok(n) => {
                self.u32(n);
                self.buf.extend_from_slice(b);
            }
            Err(_) => self.fail(EncodeError::PayloadTooLong { len: b.len() }),
        }
    }

    pub(crate) fn opt<T: ?Sized>(&mut self, v: Option<&T>, put: impl FnOnce(&mut Self, &T)) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                put(self, v);
            }
        }
    }

    pub(crate) fn list<T: Wire>(&mut self, items: &[T]) {
        match u16::try_from(items.len()) {
            Ok(n) => {
                self.u16(n);
                for item in items {
                    item.put(self);
                }
            }
            Err(_) => self.fail(EncodeError::ListTooLong { len: items.len() }),
        }
    }

    /// The payload, or the first thing that did not fit.
    pub(crate) fn finish(self) -> Result<Vec<u8>, EncodeError> {
        match self.err {
            Some(e) => Err(e),
            None => Ok(self.buf),
        }
    }
}

/// Reads a payload from the front.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(payload: &'a [u8]) -> Self {
        Reader { rest: payload }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.rest.len() {
            return Err(DecodeError::Truncated);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        self.take(N)?.try_into().map_err(|_| DecodeError::Truncated)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        self.array().map(u16::from_le_bytes)
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        self.array().map(u32::from_le_bytes)
    }

    pub(crate) fn u64(&mut self) -> Result<u64, DecodeError> {
        self.array().map(u64::from_le_bytes)
    }

    pub(crate) fn str(&mut self) -> Result<String, DecodeError> {
        let n = usize::from(self.u16()?);
        let bytes = self.take(n)?;
        core::str::from_utf8(bytes)
            .map(String::from)
            .map_err(|_| DecodeError::BadUtf8)
    }

    pub(crate) fn blob(&mut self) -> Result<Vec<u8>, DecodeError> {
        let n = usize::try_from(self.u32()?).map_err(|_| DecodeError::Truncated)?;
        Ok(self.take(n)?.to_vec())
    }

    pub(crate) fn opt<T>(
        &mut self,
        get: impl FnOnce(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Option<T>, DecodeError> {
        match self.u8()? {
            0 => Ok(None),
            1 => get(self).map(Some),
            value => Err(DecodeError::BadValue {
                what: "optional-value flag",
                value,
            }),
        }
    }

    pub(crate) fn list<T: Wire>(&mut self) -> Result<Vec<T>, DecodeError> {
        let n = usize::from(self.u16()?);
        if n.saturating_mul(T::MIN_LEN) > self.rest.len() {
            return Err(DecodeError::Truncated);
        }
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(T::get(self)?);
        }
        Ok(items)
    }

    /// Ends the reading: the payload must have been used up.
    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        match self.rest.len() {
            0 => Ok(()),
            extra => Err(DecodeError::Trailing { extra }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    impl Wire for u32 {
        const MIN_LEN: usize = 4;
        fn put(&self, w: &mut Writer) {
            w.u32(*self)
        }
        fn get(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            r.u32()
        }
    }

    #[test]
    fn primitives_are_little_endian_with_counted_strings() {
        let mut w = Writer::new();
        w.u16(0x0102);
        w.u32(0x0304_0506);
        w.str("hé");
        w.opt(None::<&u8>, |w, v| w.u8(*v));
        w.opt(Some(&7u8), |w, v| w.u8(*v));
        w.blob(&[9, 9]);
        let b = w.finish().unwrap();
        assert_eq!(
            b,
            [
                2, 1, 6, 5, 4, 3, 3, 0, b'h', 0xc3, 0xa9, 0, 1, 7, 2, 0, 0, 0, 9, 9
            ]
        );
        let mut r = Reader::new(&b);
        assert_eq!(r.u16(), Ok(0x0102));
        assert_eq!(r.u32(), Ok(0x0304_0506));
        assert_eq!(r.str().as_deref(), Ok("hé"));
        assert_eq!(r.opt(|r| r.u8()), Ok(None));
        assert_eq!(r.opt(|r| r.u8()), Ok(Some(7)));
        assert_eq!(r.blob(), Ok(vec![9, 9]));
        assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    fn lengths_past_the_end_are_truncation() {
        assert_eq!(
            Reader::new(&[5, 0, b'a']).str(),
            Err(DecodeError::Truncated)
        );
        assert_eq!(Reader::new(&[1, 0, 0]).blob(), Err(DecodeError::Truncated));
        assert_eq!(
            Reader::new(&[0xff, 0xff, 0xff, 0xff]).blob(),
            Err(DecodeError::Truncated)
        );
        assert_eq!(Reader::new(&[1, 2, 3]).u32(), Err(DecodeError::Truncated));
    }

    #[test]
    fn a_list_count_is_checked_before_anything_is_reserved() {
        // 65535 items of at least 4 bytes cannot fit in 10.
        let mut payload = vec![0xff, 0xff];
        payload.extend([0; 10]);
        let mut r = Reader::new(&payload);
        assert_eq!(r.list::<u32>(), Err(DecodeError::Truncated));
    }

    #[test]
    fn bad_utf8_flags_and_leftovers_are_refused() {
        assert_eq!(Reader::new(&[1, 0, 0xff]).str(), Err(DecodeError::BadUtf8));
        assert_eq!(
            Reader::new(&[2]).opt(|r| r.u8()),
            Err(DecodeError::BadValue {
                what: "optional-value flag",
                value: 2
            })
        );
        let mut r = Reader::new(&[1, 2]);
        r.u8().unwrap();
        assert_eq!(r.finish(), Err(DecodeError::Trailing { extra: 1 }));
    }

    #[test]
    fn what_does_not_fit_its_count_is_reported_once_written() {
        let long = "x".repeat(70_000);
        let mut w = Writer::new();
        w.str("fine");
        w.str(&long);
        assert_eq!(w.finish(), Err(EncodeError::StringTooLong { len: 70_000 }));
        let mut w = Writer::new();
        w.list(&vec![0u32; 70_000]);
        assert_eq!(w.finish(), Err(EncodeError::ListTooLong { len: 70_000 }));
    }

    proptest! {
        /// Reading anything as any sequence of fields never panics and
        /// never claims more than was there.
        #[test]
        fn reading_garbage_is_safe(bytes in proptest::collection::vec(any::<u8>(), 0..64), ops in proptest::collection::vec(0u8..7, 0..16)) {
            let mut r = Reader::new(&bytes);
            for op in ops {
                let _ = match op {
                    0 => r.u8().map(drop),
                    1 => r.u32().map(drop),
                    2 => r.u64().map(drop),
                    3 => r.str().map(drop),
                    4 => r.blob().map(drop),
                    5 => r.opt(|r| r.u16()).map(drop),
                    _ => r.list::<u32>().map(drop),
                };
            }
        }

        #[test]
        fn strings_and_lists_round_trip(s in "(?s).{0,40}", l in proptest::collection::vec(any::<u32>(), 0..40)) {
            let mut w = Writer::new();
            w.str(&s);
            w.list(&l);
            let b = w.finish().unwrap();
            let mut r = Reader::new(&b);
            prop_assert_eq!(r.str()?, s);
            prop_assert_eq!(r.list::<u32>()?, l);
            prop_assert_eq!(r.finish(), Ok(()));
        }
    }
}
