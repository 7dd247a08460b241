use core::fmt;

use elf::ElfBytes;
use elf::abi::{EM_RISCV, ET_DYN, ET_EXEC, PF_X, PT_LOAD};
use elf::endian::AnyEndian;
use elf::file::Class;
use memrange::Range;

use crate::Error;

/// Most PT_LOAD segments a kernel may have (vmlinux has a handful).
pub const MAX_SEGMENTS: usize = 64;
/// Most memory a kernel image may span once loaded: 1 GiB.
pub const MAX_LOAD_SPAN: u64 = 1 << 30;

/// The register width a kernel is built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Xlen {
    Rv32,
    Rv64,
}

impl fmt::Display for Xlen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Xlen::Rv32 => "32-bit (ELF32)",
            Xlen::Rv64 => "64-bit (ELF64)",
        })
    }
}

/// One PT_LOAD segment, as the file describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub offset: u64,
    pub file_size: u64,
    pub mem_size: u64,
    pub paddr: u64,
    pub vaddr: u64,
    pub executable: bool,
}

impl Segment {
    fn from_header(ph: &elf::segment::ProgramHeader) -> Segment {
        Segment {
            offset: ph.p_offset,
            file_size: ph.p_filesz,
            mem_size: ph.p_memsz,
            paddr: ph.p_paddr,
            vaddr: ph.p_vaddr,
            executable: ph.p_flags & PF_X != 0,
        }
    }
}

/// How the kernel file is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// An ELF executable (Linux's `vmlinux`).
    Elf,
    /// A raw RISC-V `Image` with its 64-byte header.
    Image,
}

/// A kernel that passed every check.
#[derive(Clone, Copy, Debug)]
pub struct Kernel<'a> {
    bytes: &'a [u8],
    format: Format,
    xlen: Xlen,
    entry: u64,
    entry_offset: u64,
    lowest_paddr: u64,
    span: u64,
    segment_count: usize,
    file_bytes: u64,
    mem_bytes: u64,
}

impl<'a> Kernel<'a> {
    /// Checks `bytes` as a RISC-V kernel of width `xlen`.
    ///
    /// Where the kernel goes is decided by its physical addresses: segment
    /// `p_paddr - lowest p_paddr` is its offset from the capsule's load base.
    /// The entry point is a virtual address (Linux's `vmlinux` links at a
    /// high virtual address but physical address 0), so it is translated
    /// through the segment that holds it.
    pub fn parse(bytes: &'a [u8], xlen: Xlen) -> Result<Kernel<'a>, Error> {
        if bytes.is_empty() {
            return Err(Error::Empty);
        }
        if !bytes.starts_with(b"\x7fELF") && crate::image::is_image(bytes) {
            return Self::parse_image(bytes, xlen);
        }
        if !bytes.starts_with(b"\x7fELF") {
            let mut first_bytes = [0u8; 4];
            for (d, s) in first_bytes.iter_mut().zip(bytes) {
                *d = *s;
            }
            return Err(Error::NotElf { first_bytes, len: bytes.len() });
        }
        let file = ElfBytes::<AnyEndian>::minimal_parse(bytes)
            .map_err(|_| Error::Malformed("the ELF header cannot be read"))?;
        let hdr = &file.ehdr;
        if hdr.e_machine != EM_RISCV {
            return Err(Error::WrongMachine(hdr.e_machine));
        }
        let found = match hdr.class {
            Class::ELF32 => Xlen::Rv32,
            Class::ELF64 => Xlen::Rv64,
        };
        if found != xlen {
            return Err(Error::WrongClass { found, expected: xlen });
        }
        if hdr.endianness != AnyEndian::Little {
            return Err(Error::BigEndian);
        }
        if hdr.e_type != ET_EXEC && hdr.e_type != ET_DYN {
            return Err(Error::NotExecutable(hdr.e_type));
        }

        let mut segs = [None::<(Segment, Range)>; MAX_SEGMENTS];
        let mut count = 0usize;
        let table = file
            .segments()
            .ok_or(Error::NoLoadSegments)?;
        for ph in table.iter().filter(|ph| ph.p_type == PT_LOAD) {
            let i = count;
            if i == MAX_SEGMENTS {
                let total = table.iter().filter(|p| p.p_type == PT_LOAD).count();
                return Err(Error::TooManySegments(total));
            }
            let seg = Segment::from_header(&ph);
            let range = check_segment(i, &seg, bytes.len() as u64)?;
            for (j, other) in segs[..i].iter().flatten().enumerate() {
                if other.1.overlaps(&range) {
                    return Err(Error::SegmentsOverlap(j, i));
                }
            }
            segs[i] = Some((seg, range));
            count += 1;
        }
        if count == 0 {
            return Err(Error::NoLoadSegments);
        }
        let loaded = || segs[..count].iter().flatten();
        let lowest = loaded().map(|(_, r)| r.start()).min().unwrap_or(0);
        let highest = loaded().map(|(_, r)| r.end()).max().unwrap_or(0);
        let span = highest - lowest;
        if span > MAX_LOAD_SPAN {
            return Err(Error::TooLarge(span));
        }
        let entry = hdr.e_entry;
        let entry_paddr = loaded()
            .filter(|(s, _)| s.executable)
            .find_map(|(s, _)| {
                let off = entry.checked_sub(s.vaddr)?;
                (off < s.mem_size).then(|| s.paddr + off)
            })
            .ok_or(Error::EntryOutsideImage(entry))?;
        Ok(Kernel {
            bytes,
            format: Format::Elf,
            xlen,
            entry,
            entry_offset: entry_paddr - lowest,
            lowest_paddr: lowest,
            span,
            segment_count: count,
            file_bytes: loaded().map(|(s, _)| s.file_size).sum(),
            mem_bytes: loaded().map(|(s, _)| s.mem_size).sum(),
        })
    }

    /// A raw Image: one segment, the whole file, run from its first byte.
    /// Its width cannot be checked; it is taken to be `xlen`.
    fn parse_image(bytes: &'a [u8], xlen: Xlen) -> Result<Kernel<'a>, Error> {
        let h = crate::image::header(bytes)?;
        Ok(Kernel {
            bytes,
            format: Format::Image,
            xlen,
            entry: 0,
            entry_offset: 0,
            lowest_paddr: 0,
            span: h.mem_size,
            segment_count: 1,
            file_bytes: bytes.len() as u64,
            mem_bytes: h.mem_size,
        })
    }

    pub fn format(&self) -> Format {
        self.format
    }

    pub fn xlen(&self) -> Xlen {
        self.xlen
    }

    /// `e_entry` as the file gives it (usually a virtual address).
    pub fn entry(&self) -> u64 {
        self.entry
    }

    /// Where execution starts, as an offset from the load base.
    pub fn entry_offset(&self) -> u64 {
        self.entry_offset
    }

    /// The lowest physical address any segment asks for.
    pub fn lowest_paddr(&self) -> u64 {
        self.lowest_paddr
    }

    /// Bytes of memory from the lowest to the highest loaded byte.
    pub fn load_span(&self) -> u64 {
        self.span
    }

    pub fn segment_count(&self) -> usize {
        self.segment_count
    }

    /// Bytes copied from the file.
    pub fn file_bytes(&self) -> u64 {
        self.file_bytes
    }

    /// Bytes of memory the segments occupy (file bytes plus zeroed bss).
    pub fn mem_bytes(&self) -> u64 {
        self.mem_bytes
    }

    /// The PT_LOAD segments with their file contents, in file order.
    pub fn segments(&self) -> impl Iterator<Item = (Segment, &'a [u8])> + 'a {
        let bytes = self.bytes;
        let image = (self.format == Format::Image).then_some((
            Segment {
                offset: 0,
                file_size: bytes.len() as u64,
                mem_size: self.mem_bytes,
                paddr: 0,
                vaddr: 0,
                executable: true,
            },
            bytes,
        ));
        let file = match self.format {
            Format::Elf => ElfBytes::<AnyEndian>::minimal_parse(bytes).ok(),
            Format::Image => None,
        };
        image.into_iter().chain(self.elf_segments(file))
    }

    fn elf_segments(
        &self,
        file: Option<ElfBytes<'a, AnyEndian>>,
    ) -> impl Iterator<Item = (Segment, &'a [u8])> + 'a {
        let bytes = self.bytes;
        file.and_then(|f| f.segments())
            .into_iter()
            .flat_map(|t| t.into_iter())
            .filter(|ph| ph.p_type == PT_LOAD)
            .filter_map(move |ph| {
                let start = usize::try_from(ph.p_offset).ok()?;
                let len = usize::try_from(ph.p_filesz).ok()?;
                let data = bytes.get(start..start.checked_add(len)?)?;
                let seg = Segment::from_header(&ph);
                Some((seg, data))
            })
    }
}

fn check_segment(i: usize, s: &Segment, file_len: u64) -> Result<Range, Error> {
    if s.mem_size == 0 {
        return Err(Error::ZeroSizedSegment(i));
    }
    if s.file_size > s.mem_size {
        return Err(Error::FileLargerThanMemory(i));
    }
    let file_end = s.offset.checked_add(s.file_size);
    if file_end.is_none_or(|end| end > file_len) {
        return Err(Error::SegmentOutsideFile(i));
    }
    if s.mem_size > MAX_LOAD_SPAN {
        return Err(Error::TooLarge(s.mem_size));
    }
    if s.vaddr.checked_add(s.mem_size).is_none() {
        return Err(Error::SegmentAddressOverflow(i));
    }
    Range::new(s.paddr, s.mem_size).map_err(|_| Error::SegmentAddressOverflow(i))
}
