use core::fmt;

use crate::kernel::Xlen;

/// Why a kernel cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Empty input.
    Empty,
    /// Does not start with the ELF magic number.
    NotElf { first_bytes: [u8; 4], len: usize },
    /// Starts like an ELF but its headers are malformed or cut short.
    Malformed(&'static str),
    /// ELF32 where ELF64 is needed or the other way round.
    WrongClass { found: Xlen, expected: Xlen },
    /// Not built for RISC-V.
    WrongMachine(u16),
    /// Not big-endian-free: RISC-V kernels are little-endian.
    BigEndian,
    /// Not an executable (e.g. a relocatable object or a core file).
    NotExecutable(u16),
    /// No PT_LOAD segment.
    NoLoadSegments,
    /// More PT_LOAD segments than [`crate::MAX_SEGMENTS`].
    TooManySegments(usize),
    /// A PT_LOAD segment with no memory size.
    ZeroSizedSegment(usize),
    /// A segment claims more file bytes than memory bytes.
    FileLargerThanMemory(usize),
    /// A segment's bytes lie (partly) beyond the end of the file.
    SegmentOutsideFile(usize),
    /// A segment's address range wraps around the address space.
    SegmentAddressOverflow(usize),
    /// Two segments' physical ranges overlap.
    SegmentsOverlap(usize, usize),
    /// The image would need more memory than [`crate::MAX_LOAD_SPAN`].
    TooLarge(u64),
    /// The entry point is in no executable load segment.
    EntryOutsideImage(u64),
}

fn machine_name(m: u16) -> &'static str {
    match m {
        3 => "x86",
        8 => "MIPS",
        20 => "PowerPC",
        21 => "PowerPC64",
        40 => "ARM",
        62 => "x86-64",
        183 => "AArch64",
        243 => "RISC-V",
        258 => "LoongArch",
        _ => "an unknown machine",
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Empty => write!(f, "the file is empty"),
            Error::NotElf { first_bytes: b, len } => write!(
                f,
                "not an ELF file or a RISC-V Linux Image ({len} bytes starting {:02x} {:02x} {:02x} {:02x}; an ELF starts 7f 45 4c 46)",
                b[0], b[1], b[2], b[3]
            ),
            Error::Malformed(what) => write!(f, "malformed ELF: {what}"),
            Error::WrongClass { found, expected } => write!(
                f,
                "it is a {found} ELF, but this target needs a {expected} kernel"
            ),
            Error::WrongMachine(m) => write!(
                f,
                "it is built for {} (e_machine {m}), not RISC-V (243)",
                machine_name(*m)
            ),
            Error::BigEndian => write!(f, "it is a big-endian ELF; RISC-V kernels are little-endian"),
            Error::NotExecutable(t) => write!(
                f,
                "it is not an executable (ELF type {t}; expected 2, ET_EXEC, or 3, ET_DYN)"
            ),
            Error::NoLoadSegments => write!(f, "it has no loadable (PT_LOAD) segment"),
            Error::TooManySegments(n) => write!(
                f,
                "it has {n} loadable segments, more than the {} allowed",
                crate::MAX_SEGMENTS
            ),
            Error::ZeroSizedSegment(i) => write!(f, "loadable segment {i} has zero size"),
            Error::FileLargerThanMemory(i) => write!(
                f,
                "loadable segment {i} has more bytes in the file than in memory"
            ),
            Error::SegmentOutsideFile(i) => write!(
                f,
                "loadable segment {i} extends past the end of the file (truncated kernel?)"
            ),
            Error::SegmentAddressOverflow(i) => write!(
                f,
                "loadable segment {i} wraps around the end of the address space"
            ),
            Error::SegmentsOverlap(a, b) => write!(f, "loadable segments {a} and {b} overlap"),
            Error::TooLarge(n) => write!(
                f,
                "the image spans {n:#x} bytes of memory, more than the {:#x} allowed",
                crate::MAX_LOAD_SPAN
            ),
            Error::EntryOutsideImage(e) => write!(
                f,
                "the entry point {e:#x} is in no executable loadable segment"
            ),
        }
    }
}
