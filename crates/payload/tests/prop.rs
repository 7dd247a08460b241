//! Property tests: `Kernel::parse` on random bytes, on mutated and
//! truncated real-looking ELFs and Images, never panics, and whatever it
//! accepts is consistent with the bytes it was given.

use payload::{Format, Kernel, MAX_LOAD_SPAN, MAX_SEGMENTS, Xlen};
use proptest::prelude::*;

/// A small but complete RISC-V executable: `segs` PT_LOAD segments of
/// (file size, memory size, executable), packed one after another and
/// loaded at paddr 0x8020_0000 upwards, linked at a high address like
/// vmlinux; the entry is in the first segment.
fn elf(wide: bool, segs: &[(u64, u64, bool)]) -> Vec<u8> {
    let (ehsize, phsize): (usize, usize) = if wide { (64, 56) } else { (52, 32) };
    let w = if wide { 8 } else { 4 };
    let table_end = ehsize + phsize * segs.len();
    let mut data_at = (table_end as u64).next_multiple_of(0x100);
    let file_len = data_at + segs.iter().map(|s| s.0.next_multiple_of(0x100)).sum::<u64>();
    let mut v = vec![0u8; file_len as usize];
    let put = |v: &mut Vec<u8>, at: usize, val: u64, n: usize| v[at..at + n].copy_from_slice(&val.to_le_bytes()[..n]);
    let high: u64 = if wide { 0xffff_ffff_8000_0000 } else { 0xc000_0000 };
    v[..4].copy_from_slice(b"\x7fELF");
    v[4] = if wide { 2 } else { 1 };
    v[5] = 1; // little-endian
    v[6] = 1;
    put(&mut v, 16, 2, 2); // ET_EXEC
    put(&mut v, 18, 243, 2); // EM_RISCV
    put(&mut v, 20, 1, 4);
    put(&mut v, 24, high + 0x10, w); // e_entry
    put(&mut v, 24 + w, ehsize as u64, w); // e_phoff
    let rest = 24 + 3 * w;
    put(&mut v, rest + 4, ehsize as u64, 2);
    put(&mut v, rest + 6, phsize as u64, 2);
    put(&mut v, rest + 8, segs.len() as u64, 2);
    let mut addr = 0;
    for (i, &(filesz, memsz, exec)) in segs.iter().enumerate() {
        let at = ehsize + i * phsize;
        let flags = if exec { 5 } else { 6 };
        let fields: [(u64, usize); 8] = if wide {
            [(1, 4), (flags, 4), (data_at, 8), (high + addr, 8), (0x8020_0000 + addr, 8), (filesz, 8), (memsz, 8), (0x1000, 8)]
        } else {
            [(1, 4), (data_at, 4), (high + addr, 4), (0x8020_0000 + addr, 4), (filesz, 4), (memsz, 4), (flags, 4), (0x1000, 4)]
        };
        let mut off = at;
        for (val, n) in fields {
            put(&mut v, off, val, n);
            off += n;
        }
        for b in &mut v[data_at as usize..(data_at + filesz) as usize] {
            *b = 0x13; // nop-ish filler
        }
        data_at += filesz.next_multiple_of(0x100);
        addr += memsz.next_multiple_of(0x1000);
    }
    v
}

/// A RISC-V `Image`: 64-byte header and `len` bytes in all.
fn image(len: usize, image_size: u64, flags: u64) -> Vec<u8> {
    let mut v = vec![0u8; len.max(64)];
    v[8..16].copy_from_slice(&0x20_0000u64.to_le_bytes());
    v[16..24].copy_from_slice(&image_size.to_le_bytes());
    v[24..32].copy_from_slice(&flags.to_le_bytes());
    v[0x30..0x38].copy_from_slice(b"RISCV\0\0\0");
    v[0x38..0x3c].copy_from_slice(b"RSC\x05");
    v.truncate(len);
    v
}

/// Parses `bytes` both ways; every accepted kernel must agree with them.
fn parse_and_check(bytes: &[u8]) {
    for xlen in [Xlen::Rv32, Xlen::Rv64] {
        if let Ok(k) = Kernel::parse(bytes, xlen) {
            consistent(&k, bytes, xlen);
        }
    }
}

fn consistent(k: &Kernel, bytes: &[u8], xlen: Xlen) {
    if k.format() == Format::Elf {
        assert_eq!(k.xlen(), xlen);
    }
    assert!(k.load_span() > 0 && k.load_span() <= MAX_LOAD_SPAN, "span {:#x}", k.load_span());
    assert!(k.entry_offset() < k.load_span(), "entry {:#x} outside span {:#x}", k.entry_offset(), k.load_span());
    assert!(k.segment_count() >= 1 && k.segment_count() <= MAX_SEGMENTS);
    // (Segments may share file bytes, so file_bytes may exceed the file.)
    assert!(k.file_bytes() <= k.mem_bytes());
    assert!(k.mem_bytes() <= k.load_span() || k.format() == Format::Image);
    let segs: Vec<_> = k.segments().collect();
    assert_eq!(segs.len(), k.segment_count());
    let mut file = 0u64;
    for (s, data) in &segs {
        assert_eq!(data.len() as u64, s.file_size);
        assert!(s.file_size <= s.mem_size, "{s:?}");
        // The data is the part of the file the header names.
        let start = s.offset as usize;
        assert_eq!(Some(*data), bytes.get(start..start + data.len()));
        // It lands inside the span.
        let at = s.paddr - k.lowest_paddr();
        assert!(at.checked_add(s.mem_size).is_some_and(|end| end <= k.load_span()), "{s:?} outside span");
        file += s.file_size;
    }
    assert_eq!(file, k.file_bytes());
}

#[test]
fn the_builders_make_kernels_that_parse() {
    for wide in [false, true] {
        let xlen = if wide { Xlen::Rv64 } else { Xlen::Rv32 };
        let bytes = elf(wide, &[(0x300, 0x1000, true), (0x80, 0x3000, false)]);
        let k = Kernel::parse(&bytes, xlen).expect("the built ELF parses");
        assert_eq!((k.segment_count(), k.entry_offset(), k.load_span()), (2, 0x10, 0x4000));
        consistent(&k, &bytes, xlen);
    }
    let img = image(0x1000, 0x4000, 0);
    let k = Kernel::parse(&img, Xlen::Rv64).expect("the built Image parses");
    assert_eq!((k.format(), k.load_span()), (Format::Image, 0x4000));
}

#[test]
fn every_truncation_of_an_elf_is_handled() {
    for wide in [false, true] {
        let xlen = if wide { Xlen::Rv64 } else { Xlen::Rv32 };
        let bytes = elf(wide, &[(0x200, 0x1000, true), (0x100, 0x2000, false), (0, 0x800, false)]);
        for len in 0..bytes.len() {
            let cut = &bytes[..len];
            // Cutting into the segments' data must be noticed.
            assert!(Kernel::parse(cut, xlen).is_err(), "a {len}-byte prefix of {} was accepted", bytes.len());
            parse_and_check(cut);
        }
    }
}

#[test]
fn every_truncation_of_an_image_is_handled() {
    let bytes = image(0x400, 0x10_0000, 0);
    for len in 0..bytes.len() {
        let cut = &bytes[..len];
        let r = Kernel::parse(cut, Xlen::Rv64);
        assert_eq!(r.is_ok(), len >= 64, "{len} bytes: {r:?}");
        parse_and_check(cut);
    }
}

/// A mutation of a file: (where, how).
#[derive(Clone, Debug)]
enum Mutation {
    /// XOR one byte.
    Flip(usize, u8),
    /// Write an interesting little-endian value of 1, 2, 4 or 8 bytes.
    Put(usize, u64, usize),
    /// Cut the file.
    Truncate(usize),
    /// Append junk.
    Extend(Vec<u8>),
}

fn interesting() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(1),
        Just(u64::MAX),
        Just(u32::MAX as u64),
        Just(i64::MAX as u64),
        Just(0x8000_0000),
        Just(MAX_LOAD_SPAN),
        Just(MAX_LOAD_SPAN + 1),
        Just(MAX_SEGMENTS as u64 + 1),
        Just(0xffff),
        any::<u64>(),
        0u64..0x4000,
    ]
}

fn mutation(len: usize) -> impl Strategy<Value = Mutation> {
    // The headers (first 0x180 bytes) are where the parser looks hardest.
    let header = 0..len.min(0x180);
    prop_oneof![
        3 => (header.clone(), 1u8..).prop_map(|(at, x)| Mutation::Flip(at, x)),
        1 => (0..len, 1u8..).prop_map(|(at, x)| Mutation::Flip(at, x)),
        4 => (header, interesting(), prop::sample::select(vec![1usize, 2, 4, 8]))
            .prop_map(|(at, v, n)| Mutation::Put(at, v, n)),
        1 => (0..len).prop_map(Mutation::Truncate),
        1 => prop::collection::vec(any::<u8>(), 1..64).prop_map(Mutation::Extend),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    match m {
        Mutation::Flip(at, x) => {
            if let Some(b) = bytes.get_mut(*at) {
                *b ^= x;
            }
        }
        Mutation::Put(at, v, n) => {
            let end = (at + n).min(bytes.len());
            if *at < end {
                let src = v.to_le_bytes();
                bytes[*at..end].copy_from_slice(&src[..end - at]);
            }
        }
        Mutation::Truncate(len) => bytes.truncate(*len),
        Mutation::Extend(junk) => bytes.extend_from_slice(junk),
    }
}

fn segments() -> impl Strategy<Value = Vec<(u64, u64, bool)>> {
    prop::collection::vec((0u64..0x400, 0u64..0x3000, any::<bool>()), 1..6).prop_map(|mut v| {
        for s in &mut v {
            s.1 = s.1.max(s.0).max(1);
        }
        v[0] = (v[0].0.max(0x20), v[0].1.max(0x20), true);
        v
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        parse_and_check(&bytes);
    }

    #[test]
    fn random_bytes_behind_a_magic_number_never_panic(
        wide in any::<bool>(),
        image_magic in any::<bool>(),
        mut bytes in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        if image_magic {
            bytes.resize(bytes.len().max(64), 0);
            bytes[0x38..0x3c].copy_from_slice(b"RSC\x05");
        } else {
            bytes.resize(bytes.len().max(24), 0);
            bytes[..4].copy_from_slice(b"\x7fELF");
            bytes[4] = if wide { 2 } else { 1 };
            bytes[5] = 1;
            bytes[18] = 243;
            bytes[19] = 0;
        }
        parse_and_check(&bytes);
    }

    #[test]
    fn mutated_elfs_never_panic_and_what_is_accepted_is_consistent(
        wide in any::<bool>(),
        segs in segments(),
        mutations in prop::collection::vec(mutation(0x1000), 1..8),
    ) {
        let mut bytes = elf(wide, &segs);
        let xlen = if wide { Xlen::Rv64 } else { Xlen::Rv32 };
        let k = Kernel::parse(&bytes, xlen).expect("the unmutated ELF parses");
        consistent(&k, &bytes, xlen);
        for m in &mutations {
            apply(&mut bytes, m);
        }
        parse_and_check(&bytes);
    }

    #[test]
    fn mutated_images_never_panic_and_what_is_accepted_is_consistent(
        len in 64usize..0x800,
        image_size in interesting(),
        flags in interesting(),
        mutations in prop::collection::vec(mutation(0x800), 0..4),
    ) {
        let mut bytes = image(len, image_size, flags);
        for m in &mutations {
            apply(&mut bytes, m);
        }
        parse_and_check(&bytes);
    }
}
