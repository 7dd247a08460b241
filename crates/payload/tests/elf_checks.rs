//! Kernel validation against hand-built ELF files, good and bad.

use payload::{Error, Kernel, Xlen};
use proptest::prelude::*;

#[derive(Clone, Copy)]
struct Seg {
    offset: u64,
    filesz: u64,
    memsz: u64,
    paddr: u64,
    vaddr: u64,
    exec: bool,
}

fn seg(offset: u64, filesz: u64, memsz: u64, paddr: u64, vaddr: u64, exec: bool) -> Seg {
    Seg { offset, filesz, memsz, paddr, vaddr, exec }
}

struct Elf {
    wide: bool,
    machine: u16,
    etype: u16,
    big_endian: bool,
    entry: u64,
    segs: Vec<Seg>,
    len: usize,
}

impl Elf {
    /// A plausible vmlinux-like kernel: linked high, loaded at paddr 0.
    fn linux(wide: bool) -> Elf {
        let high = if wide { 0xffff_ffff_8000_0000 } else { 0xc000_0000 };
        Elf {
            wide,
            machine: 243,
            etype: 2,
            big_endian: false,
            entry: high,
            segs: vec![
                seg(0x1000, 0x2000, 0x2000, 0, high, true),
                seg(0x3000, 0x1000, 0x5000, 0x2000, high + 0x2000, false),
            ],
            len: 0x4000,
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut v = vec![0u8; self.len];
        let (ehsize, phsize) = if self.wide { (64, 56) } else { (52, 32) };
        let put = |v: &mut Vec<u8>, at: usize, val: u64, n: usize| {
            let b = if self.big_endian { val.to_be_bytes() } else { val.to_le_bytes() };
            if self.big_endian {
                v[at..at + n].copy_from_slice(&b[8 - n..]);
            } else {
                v[at..at + n].copy_from_slice(&b[..n]);
            }
        };
        v[..4].copy_from_slice(b"\x7fELF");
        v[4] = if self.wide { 2 } else { 1 };
        v[5] = if self.big_endian { 2 } else { 1 };
        v[6] = 1;
        put(&mut v, 16, self.etype.into(), 2);
        put(&mut v, 18, self.machine.into(), 2);
        put(&mut v, 20, 1, 4);
        let w = if self.wide { 8 } else { 4 };
        put(&mut v, 24, self.entry, w);
        put(&mut v, 24 + w, ehsize as u64, w); // e_phoff: right after the header
        let rest = 24 + 3 * w; // e_flags, e_ehsize, e_phentsize, e_phnum, ...
        put(&mut v, rest + 4, ehsize as u64, 2);
        put(&mut v, rest + 6, phsize as u64, 2);
        put(&mut v, rest + 8, self.segs.len() as u64, 2);
        for (i, s) in self.segs.iter().enumerate() {
            let at = ehsize + i * phsize;
            let flags = if s.exec { 5 } else { 6 };
            put(&mut v, at, 1, 4); // PT_LOAD
            if self.wide {
                put(&mut v, at + 4, flags, 4);
                put(&mut v, at + 8, s.offset, 8);
                put(&mut v, at + 16, s.vaddr, 8);
                put(&mut v, at + 24, s.paddr, 8);
                put(&mut v, at + 32, s.filesz, 8);
                put(&mut v, at + 40, s.memsz, 8);
                put(&mut v, at + 48, 0x1000, 8);
            } else {
                put(&mut v, at + 4, s.offset, 4);
                put(&mut v, at + 8, s.vaddr, 4);
                put(&mut v, at + 12, s.paddr, 4);
                put(&mut v, at + 16, s.filesz, 4);
                put(&mut v, at + 20, s.memsz, 4);
                put(&mut v, at + 24, flags, 4);
                put(&mut v, at + 28, 0x1000, 4);
            }
        }
        v
    }

    fn check(&self, xlen: Xlen) -> Result<(u64, u64, u64), Error> {
        let bytes = self.bytes();
        Kernel::parse(&bytes, xlen).map(|k| (k.entry_offset(), k.load_span(), k.mem_bytes()))
    }
}

#[test]
fn linux_like_kernels_are_accepted() {
    assert_eq!(Elf::linux(true).check(Xlen::Rv64), Ok((0, 0x7000, 0x7000)));
    assert_eq!(Elf::linux(false).check(Xlen::Rv32), Ok((0, 0x7000, 0x7000)));
}

#[test]
fn entry_is_translated_through_its_segment() {
    let mut e = Elf::linux(true);
    e.segs[0].paddr = 0x8020_0000;
    e.segs[1].paddr = 0x8020_2000;
    e.entry += 0x40;
    let bytes = e.bytes();
    let k = Kernel::parse(&bytes, Xlen::Rv64).unwrap();
    assert_eq!(k.entry_offset(), 0x40);
    assert_eq!(k.lowest_paddr(), 0x8020_0000);
    assert_eq!(k.segment_count(), 2);
    assert_eq!(k.file_bytes(), 0x3000);
    let segs: Vec<_> = k.segments().collect();
    assert_eq!(segs.len(), 2);
    assert_eq!(segs[1].1.len(), 0x1000);
}

#[test]
fn wrong_class_is_refused_both_ways() {
    assert_eq!(
        Elf::linux(true).check(Xlen::Rv32),
        Err(Error::WrongClass { found: Xlen::Rv64, expected: Xlen::Rv32 })
    );
    assert_eq!(
        Elf::linux(false).check(Xlen::Rv64),
        Err(Error::WrongClass { found: Xlen::Rv32, expected: Xlen::Rv64 })
    );
}

#[test]
fn foreign_machines_are_refused() {
    let mut e = Elf::linux(true);
    e.machine = 62;
    let err = e.check(Xlen::Rv64).unwrap_err();
    assert_eq!(err, Error::WrongMachine(62));
    assert!(err.to_string().contains("x86-64"));
}

#[test]
fn non_elf_and_empty_input_are_refused() {
    assert_eq!(Kernel::parse(b"", Xlen::Rv64).err(), Some(Error::Empty));
    let err = Kernel::parse(b"#!/bin/sh\necho hi\n", Xlen::Rv64).unwrap_err();
    assert!(matches!(err, Error::NotElf { len: 18, .. }));
    assert!(err.to_string().contains("not an ELF"));
    assert!(matches!(Kernel::parse(b"\x7fELF\x02", Xlen::Rv64), Err(Error::Malformed(_))));
}

#[test]
fn object_files_and_big_endian_are_refused() {
    let mut e = Elf::linux(true);
    e.etype = 1;
    assert_eq!(e.check(Xlen::Rv64), Err(Error::NotExecutable(1)));
    let mut e = Elf::linux(true);
    e.big_endian = true;
    assert_eq!(e.check(Xlen::Rv64), Err(Error::BigEndian));
}

#[test]
fn segment_errors() {
    let mut e = Elf::linux(true);
    e.segs[1].memsz = 0;
    e.segs[1].filesz = 0;
    assert_eq!(e.check(Xlen::Rv64), Err(Error::ZeroSizedSegment(1)));

    let mut e = Elf::linux(true);
    e.segs[1].filesz = 0x6000;
    assert_eq!(e.check(Xlen::Rv64), Err(Error::FileLargerThanMemory(1)));

    let mut e = Elf::linux(true);
    e.len = 0x3800; // cut the file inside segment 1
    assert_eq!(e.check(Xlen::Rv64), Err(Error::SegmentOutsideFile(1)));

    let mut e = Elf::linux(true);
    e.segs[1].offset = u64::MAX - 0x10;
    assert_eq!(e.check(Xlen::Rv64), Err(Error::SegmentOutsideFile(1)));

    let mut e = Elf::linux(true);
    e.segs[1].paddr = 0x1000; // inside segment 0's 0..0x2000
    assert_eq!(e.check(Xlen::Rv64), Err(Error::SegmentsOverlap(0, 1)));

    let mut e = Elf::linux(true);
    e.segs[1].paddr = u64::MAX - 0x100;
    assert_eq!(e.check(Xlen::Rv64), Err(Error::SegmentAddressOverflow(1)));

    let mut e = Elf::linux(true);
    e.segs.clear();
    assert_eq!(e.check(Xlen::Rv64), Err(Error::NoLoadSegments));

    let mut e = Elf::linux(true);
    e.segs = (0..65).map(|i| seg(0x1000, 0x10, 0x10, i * 0x100, i * 0x100, true)).collect();
    e.entry = 0;
    assert_eq!(e.check(Xlen::Rv64), Err(Error::TooManySegments(65)));
}

#[test]
fn absurd_sizes_are_refused() {
    let mut e = Elf::linux(true);
    e.segs[1].memsz = 1 << 40;
    assert_eq!(e.check(Xlen::Rv64), Err(Error::TooLarge(1 << 40)));

    // Two small segments 4 GiB apart span too much memory.
    let mut e = Elf::linux(true);
    e.segs[1].paddr = 1 << 32;
    assert_eq!(e.check(Xlen::Rv64), Err(Error::TooLarge((1 << 32) + 0x5000)));
}

#[test]
fn entry_must_be_in_executable_code() {
    let mut e = Elf::linux(true);
    e.entry = 0x1234;
    assert_eq!(e.check(Xlen::Rv64), Err(Error::EntryOutsideImage(0x1234)));
    let mut e = Elf::linux(true);
    e.entry = e.segs[1].vaddr; // data, not code
    assert!(matches!(e.check(Xlen::Rv64), Err(Error::EntryOutsideImage(_))));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Any damage to a valid kernel gives a verdict, never a panic.
    #[test]
    fn corruption_never_panics(
        wide in any::<bool>(),
        flips in prop::collection::vec((0usize..200, any::<u8>()), 1..10),
        cut in 0usize..0x4000,
    ) {
        let mut v = Elf::linux(wide).bytes();
        for (at, b) in flips {
            v[at] = b;
        }
        v.truncate(cut.max(1));
        let xlen = if wide { Xlen::Rv64 } else { Xlen::Rv32 };
        if let Ok(k) = Kernel::parse(&v, xlen) {
            prop_assert!(k.load_span() <= payload::MAX_LOAD_SPAN);
            prop_assert!(k.entry_offset() < k.load_span());
            for (s, data) in k.segments() {
                prop_assert_eq!(data.len() as u64, s.file_size);
            }
        }
    }
}
