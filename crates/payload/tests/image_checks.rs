//! Raw RISC-V Linux `Image` kernels: the header is read and checked.

use payload::{Error, Format, Kernel, Xlen};

fn image(text_offset: u64, image_size: u64, flags: u64, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    v[0..4].copy_from_slice(&0x0000_a221u32.to_le_bytes()); // c.li s4,-13 as Linux's code0 is
    v[8..16].copy_from_slice(&text_offset.to_le_bytes());
    v[16..24].copy_from_slice(&image_size.to_le_bytes());
    v[24..32].copy_from_slice(&flags.to_le_bytes());
    v[32..36].copy_from_slice(&2u32.to_le_bytes());
    v[0x30..0x38].copy_from_slice(b"RISCV\0\0\0");
    v[0x38..0x3c].copy_from_slice(b"RSC\x05");
    v
}

#[test]
fn an_image_is_one_segment_run_from_its_start() {
    let bytes = image(0x20_0000, 0x8000, 0, 0x3000);
    let k = Kernel::parse(&bytes, Xlen::Rv64).unwrap();
    assert_eq!(k.format(), Format::Image);
    assert_eq!((k.entry_offset(), k.load_span(), k.mem_bytes(), k.file_bytes()), (0, 0x8000, 0x8000, 0x3000));
    let segs: Vec<_> = k.segments().collect();
    assert_eq!(segs.len(), 1);
    assert_eq!((segs[0].0.file_size, segs[0].0.mem_size, segs[0].1.len()), (0x3000, 0x8000, 0x3000));
    // The header does not say the width: both are accepted.
    assert!(Kernel::parse(&bytes, Xlen::Rv32).is_ok());
}

#[test]
fn an_old_image_without_a_size_is_its_file() {
    let bytes = image(0x40_0000, 0, 0, 0x2000);
    assert_eq!(Kernel::parse(&bytes, Xlen::Rv32).unwrap().load_span(), 0x2000);
}

#[test]
fn bad_headers_are_refused() {
    let small = image(0x20_0000, 0x1000, 0, 0x3000);
    assert!(matches!(Kernel::parse(&small, Xlen::Rv64), Err(Error::Malformed(m)) if m.contains("image_size")));
    let big_endian = image(0x20_0000, 0x8000, 1, 0x3000);
    assert_eq!(Kernel::parse(&big_endian, Xlen::Rv64).err(), Some(Error::BigEndian));
    let absurd = image(0x20_0000, 1 << 40, 0, 0x3000);
    assert_eq!(Kernel::parse(&absurd, Xlen::Rv64).err(), Some(Error::TooLarge(1 << 40)));
    // Without the magic it is neither an ELF nor an Image.
    let mut plain = image(0x20_0000, 0x8000, 0, 0x3000);
    plain[0x38] = b'X';
    let err = Kernel::parse(&plain, Xlen::Rv64).unwrap_err();
    assert!(matches!(err, Error::NotElf { .. }));
    assert!(err.to_string().contains("not an ELF file or a RISC-V Linux Image"), "{err}");
}
