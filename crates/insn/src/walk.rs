//! A software walk of a capsule's own page tables: from a virtual address
//! the capsule's kernel used to the physical address it reached.
//!
//! When a capsule's load or store traps to M-mode as an access fault, the
//! faulting pc (`mepc`) is a virtual address in the kernel's address space.
//! To read the instruction there the hypervisor translates it through the
//! tables `satp` names, reading them from the capsule's RAM through
//! [`GuestMemory`], which the hypervisor implements with bounds checks so a
//! table pointer outside the capsule's RAM is an error, not a read of
//! someone else's memory.
//!
//! The walk follows the privileged spec's translation algorithm for Bare,
//! Sv32 (rv32), Sv39, Sv48 and Sv57 (rv64): a PTE must be valid; W without
//! R is reserved; bits reserved for future standard use must be clear
//! (including D, A and U in a non-leaf PTE, reserved since the 1.12
//! privileged spec, which makes the walk raise a page fault on them); a
//! leaf may sit at any level but a superpage's PPN must be aligned to its
//! size; a virtual address must be canonical (its bits above the
//! translated ones all equal to the top translated bit). A walk visits at
//! most one PTE per level, so it always ends.
//!
//! It deliberately does not check U, SUM, MXR, A or D, and only checks
//! the leaf's R, W or X for the kind of access asked for: the hart has
//! already fetched and executed the instruction through these same tables
//! (that is how it came to fault on the device access), so its privilege
//! and A/D state were fine; the hypervisor only needs the physical address.
//! What it does check is what could make the result meaningless: a PTE
//! that is not valid, reserved, misaligned, or outside the capsule's RAM.
//! MXR is not honoured either: a [`AccessType::Load`] from an execute-only
//! leaf is [`WalkError::Denied`]; the hypervisor fetching an instruction
//! asks for [`AccessType::Fetch`].
//!
//! A translation covers one page: a 32-bit instruction at a page's last
//! two bytes straddles two pages, so its caller translates `pc` and
//! `pc + 2` separately.
//!
//! Extensions the hart may implement are accepted where they only change
//! attributes, not the address: Svpbmt's PBMT field in a leaf (values 0 to
//! 2; 3 is reserved), Svnapot's 64 KiB pages (N set in a level-0 leaf whose
//! PPN ends in `1000`), and Svrsw60t59b's bits 60 and 59, left to software.
//! Levels are numbered as the spec does: the root is `LEVELS - 1`, the
//! 4 KiB level is 0.

/// The capsule's RAM, as the walker reads it. Each read returns `None` if
/// any byte of it lies outside the capsule's RAM. Addresses are physical.
pub trait GuestMemory {
    fn read_u64(&self, addr: u64) -> Option<u64>;
    fn read_u32(&self, addr: u64) -> Option<u32>;
}

/// What the translated address will be used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessType {
    /// Reading an instruction: the leaf must be executable.
    Fetch,
    /// A data read: the leaf must be readable.
    Load,
    /// A data write: the leaf must be writable.
    Store,
}

/// Why a walk did not produce a physical address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkError {
    /// `satp`'s MODE is not one this XLEN has (rv32: Bare or Sv32; rv64:
    /// Bare, Sv39, Sv48 or Sv57); the MODE value.
    BadMode(u64),
    /// The virtual address's bits above the translated ones are not all
    /// copies of the top translated bit (Sv39/48/57).
    NotCanonical,
    /// The PTE at this level has V clear.
    NotValid { level: usize },
    /// The PTE at this level sets something reserved: W without R, a
    /// reserved bit, D/A/U or PBMT or N in a non-leaf PTE, PBMT 3, or an N
    /// that is not a 64 KiB Svnapot leaf.
    Reserved { level: usize },
    /// A superpage leaf at this level whose PPN is not aligned to its size.
    Misaligned { level: usize },
    /// The level-0 PTE points to a further table: there is no level below.
    NoLeaf,
    /// The leaf at this level does not allow this kind of access (X for a
    /// fetch, R for a load, W for a store).
    Denied { level: usize },
    /// A page-table entry at this physical address is outside the
    /// capsule's RAM.
    OutOfRam { addr: u64 },
}

const PAGE_SHIFT: u32 = 12;

const V: u64 = 1 << 0;
const R: u64 = 1 << 1;
const W: u64 = 1 << 2;
const X: u64 = 1 << 3;
const U: u64 = 1 << 4;
const A: u64 = 1 << 6;
const D: u64 = 1 << 7;

/// rv64 PTEs: PPN in bits 53:10, reserved 58:54, software 60:59 (with
/// Svrsw60t59b), PBMT 62:61, N 63.
const PPN64_MASK: u64 = (1 << 44) - 1;
const RESERVED64: u64 = 0x1f << 54;
const PBMT_SHIFT: u32 = 61;
const N: u64 = 1 << 63;

/// One paging scheme's shape.
struct Scheme {
    levels: usize,
    /// Bits of VPN per level.
    vpn_bits: u32,
    /// PTE size in bytes: 4 (Sv32) or 8.
    pte_size: u64,
}

const SV32: Scheme = Scheme { levels: 2, vpn_bits: 10, pte_size: 4 };
const SV39: Scheme = Scheme { levels: 3, vpn_bits: 9, pte_size: 8 };
const SV48: Scheme = Scheme { levels: 4, vpn_bits: 9, pte_size: 8 };
const SV57: Scheme = Scheme { levels: 5, vpn_bits: 9, pte_size: 8 };

/// The physical address `va` reaches through the tables `satp` names, for
/// an access of this type. On rv32 (`xlen32`) only the low 32 bits of
/// `satp` and `va` mean anything, as those registers are 32 bits wide
/// there; the rest are ignored.
pub fn translate(
    mem: &impl GuestMemory,
    satp: u64,
    va: u64,
    xlen32: bool,
    access: AccessType,
) -> Result<u64, WalkError> {
    let (scheme, root_ppn, va) = if xlen32 {
        let satp = satp & 0xffff_ffff;
        let va = va & 0xffff_ffff;
        // satp (rv32): MODE bit 31, ASID 30:22, PPN 21:0.
        match satp >> 31 {
            0 => return Ok(va),
            _ => (&SV32, satp & ((1 << 22) - 1), va),
        }
    } else {
        // satp (rv64): MODE 63:60, ASID 59:44, PPN 43:0.
        let scheme = match satp >> 60 {
            0 => return Ok(va),
            8 => &SV39,
            9 => &SV48,
            10 => &SV57,
            mode => return Err(WalkError::BadMode(mode)),
        };
        (scheme, satp & PPN64_MASK, va)
    };
    let va_bits = PAGE_SHIFT + scheme.vpn_bits * scheme.levels as u32;
    if !xlen32 {
        // Bits 63:va_bits-1 must all be equal.
        let top = (va as i64) >> (va_bits - 1);
        if top != 0 && top != -1 {
            return Err(WalkError::NotCanonical);
        }
    }

    let vpn = |level: usize| (va >> (PAGE_SHIFT + scheme.vpn_bits * level as u32)) & ((1 << scheme.vpn_bits) - 1);
    let mut table = root_ppn << PAGE_SHIFT;
    for level in (0..scheme.levels).rev() {
        let addr = table + vpn(level) * scheme.pte_size;
        let pte = if scheme.pte_size == 4 {
            mem.read_u32(addr).map(u64::from)
        } else {
            mem.read_u64(addr)
        }
        .ok_or(WalkError::OutOfRam { addr })?;

        if pte & V == 0 {
            return Err(WalkError::NotValid { level });
        }
        if pte & (R | W) == W {
            return Err(WalkError::Reserved { level });
        }
        let (ppn, high) = if scheme.pte_size == 4 {
            // Sv32: PPN in bits 31:10, nothing above.
            (pte >> 10, 0)
        } else {
            ((pte >> 10) & PPN64_MASK, pte)
        };
        if high & RESERVED64 != 0 {
            return Err(WalkError::Reserved { level });
        }
        let pbmt = (high >> PBMT_SHIFT) & 0b11;
        let napot = high & N != 0;

        if pte & (R | W | X) == 0 {
            // A pointer to the next level.
            if pte & (D | A | U) != 0 || pbmt != 0 || napot {
                return Err(WalkError::Reserved { level });
            }
            table = ppn << PAGE_SHIFT;
            continue;
        }

        // A leaf.
        if pbmt == 0b11 {
            return Err(WalkError::Reserved { level });
        }
        let allowed = match access {
            AccessType::Fetch => pte & X != 0,
            AccessType::Load => pte & R != 0,
            AccessType::Store => pte & W != 0,
        };
        if !allowed {
            return Err(WalkError::Denied { level });
        }
        // The page's size in bits of offset: 12 for 4 KiB, more for a
        // superpage, 16 for a 64 KiB Svnapot page.
        let offset_bits = if napot {
            if level != 0 || ppn & 0xf != 0b1000 {
                return Err(WalkError::Reserved { level });
            }
            16
        } else {
            let offset_bits = PAGE_SHIFT + scheme.vpn_bits * level as u32;
            // A superpage's PPN below its size must be zero.
            if ppn & ((1 << (offset_bits - PAGE_SHIFT)) - 1) != 0 {
                return Err(WalkError::Misaligned { level });
            }
            offset_bits
        };
        let offset_mask = (1u64 << offset_bits) - 1;
        return Ok(((ppn << PAGE_SHIFT) & !offset_mask) | (va & offset_mask));
    }
    // The level-0 PTE pointed to a further table.
    Err(WalkError::NoLeaf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A capsule's RAM: `bytes.len()` bytes from `base`.
    struct Ram {
        base: u64,
        bytes: Vec<u8>,
    }

    impl Ram {
        fn range(&self, addr: u64, n: usize) -> Option<core::ops::Range<usize>> {
            let start = usize::try_from(addr.checked_sub(self.base)?).ok()?;
            let end = start.checked_add(n)?;
            (end <= self.bytes.len()).then_some(start..end)
        }
        fn write(&mut self, addr: u64, value: u64, n: usize) {
            let r = self.range(addr, n).expect("test wrote outside its RAM");
            self.bytes[r].copy_from_slice(&value.to_le_bytes()[..n]);
        }
    }

    impl GuestMemory for Ram {
        fn read_u64(&self, addr: u64) -> Option<u64> {
            let r = self.range(addr, 8)?;
            Some(u64::from_le_bytes(self.bytes[r].try_into().unwrap()))
        }
        fn read_u32(&self, addr: u64) -> Option<u32> {
            let r = self.range(addr, 4)?;
            Some(u32::from_le_bytes(self.bytes[r].try_into().unwrap()))
        }
    }

    const RAM_BASE: u64 = 0x8000_0000;
    const RAM_SIZE: usize = 1 << 20;

    #[derive(Clone, Copy, Debug)]
    enum Mode {
        Sv32,
        Sv39,
        Sv48,
        Sv57,
    }
    use Mode::*;

    impl Mode {
        fn levels(self) -> usize {
            match self {
                Sv32 => 2,
                Sv39 => 3,
                Sv48 => 4,
                Sv57 => 5,
            }
        }
        fn vpn_bits(self) -> u32 {
            if let Sv32 = self { 10 } else { 9 }
        }
        fn pte_size(self) -> usize {
            if let Sv32 = self { 4 } else { 8 }
        }
        fn xlen32(self) -> bool {
            matches!(self, Sv32)
        }
        /// Bytes a leaf at `level` maps.
        fn page_size(self, level: usize) -> u64 {
            1 << (12 + self.vpn_bits() * level as u32)
        }
    }

    /// Page tables built in a fake RAM, one 4 KiB table at a time from
    /// the start of RAM.
    struct Tables {
        mode: Mode,
        ram: Ram,
        root: u64,
        next: u64,
    }

    impl Tables {
        fn new(mode: Mode) -> Self {
            let ram = Ram { base: RAM_BASE, bytes: vec![0; RAM_SIZE] };
            Tables { mode, ram, root: RAM_BASE, next: RAM_BASE + 4096 }
        }
        fn satp(&self) -> u64 {
            let ppn = self.root >> 12;
            match self.mode {
                Sv32 => (1 << 31) | ppn,
                Sv39 => (8 << 60) | ppn,
                Sv48 => (9 << 60) | ppn,
                Sv57 => (10 << 60) | ppn,
            }
        }
        fn pte_addr(&self, table: u64, va: u64, level: usize) -> u64 {
            let m = self.mode;
            let vpn = (va >> (12 + m.vpn_bits() * level as u32)) & ((1 << m.vpn_bits()) - 1);
            table + vpn * m.pte_size() as u64
        }
        fn read_pte(&self, addr: u64) -> u64 {
            match self.mode {
                Sv32 => self.ram.read_u32(addr).unwrap() as u64,
                _ => self.ram.read_u64(addr).unwrap(),
            }
        }
        /// The address of the PTE for `va` at `level`, making pointer PTEs
        /// (flags V only) above it as needed.
        fn slot(&mut self, va: u64, level: usize) -> u64 {
            let mut table = self.root;
            for l in (level + 1..self.mode.levels()).rev() {
                let at = self.pte_addr(table, va, l);
                let pte = self.read_pte(at);
                table = if pte & V != 0 {
                    (pte >> 10 & PPN64_MASK) << 12
                } else {
                    let new = self.next;
                    self.next += 4096;
                    self.ram.write(at, (new >> 12) << 10 | V, self.mode.pte_size());
                    new
                };
            }
            self.pte_addr(table, va, level)
        }
        /// Writes a raw PTE for `va` at `level`.
        fn set(&mut self, va: u64, level: usize, pte: u64) -> u64 {
            let at = self.slot(va, level);
            self.ram.write(at, pte, self.mode.pte_size());
            at
        }
        /// Maps `va` to `pa` with a leaf at `level`.
        fn map(&mut self, va: u64, pa: u64, level: usize, flags: u64) {
            self.set(va, level, (pa >> 12) << 10 | flags | V);
        }
        fn translate(&self, va: u64, access: AccessType) -> Result<u64, WalkError> {
            translate(&self.ram, self.satp(), va, self.mode.xlen32(), access)
        }
    }

    const ALL: [Mode; 4] = [Sv32, Sv39, Sv48, Sv57];
    const RWX: u64 = R | W | X;
    use AccessType::*;

    /// A virtual address for a test in `mode`: low, or (rv64) in the
    /// negative half, where kernels live.
    fn test_va(mode: Mode, high: bool) -> u64 {
        match (mode, high) {
            (Sv32, false) => 0x1234_5000,
            (Sv32, true) => 0xc123_4000,
            (_, false) => 0x0000_0012_3456_7000 & ((1 << (12 + 9 * mode.levels() as u32 - 1)) - 1),
            (_, true) => !((1u64 << (12 + 9 * mode.levels() as u32 - 1)) - 1) | 0x0000_0012_3456_7000,
        }
    }

    #[test]
    fn bare_is_the_identity() {
        let ram = Ram { base: 0, bytes: vec![] };
        assert_eq!(translate(&ram, 0, 0xffff_ffc0_1234_5678, false, Fetch), Ok(0xffff_ffc0_1234_5678));
        // rv32: only satp's MODE bit 31 counts, and va is 32 bits wide.
        assert_eq!(translate(&ram, 0x7fff_ffff, 0x1_8000_1234, true, Load), Ok(0x8000_1234));
        // The ASID and PPN fields do not matter to Bare.
        assert_eq!(translate(&ram, 0x0fff_ffff_ffff_ffff, 0x8000_0000, false, Store), Ok(0x8000_0000));
    }

    #[test]
    fn pages_and_superpages_at_every_level_of_every_mode() {
        for mode in ALL {
            for level in 0..mode.levels() {
                for high in [false, true] {
                    let mut t = Tables::new(mode);
                    let size = mode.page_size(level);
                    let va = test_va(mode, high) & !(size - 1);
                    // A physical address aligned to the page size; Sv32's
                    // physical addresses reach 34 bits.
                    let pa = match mode {
                        Sv32 => 0x2_0000_0000 + 3 * size,
                        _ => 0x0040_0000_0000_0000 + 5 * size,
                    };
                    t.map(va, pa, level, RWX);
                    for off in [0, 8, 0xffc, size / 2, size - 4] {
                        for access in [Fetch, Load, Store] {
                            assert_eq!(t.translate(va + off, access), Ok(pa + off), "{mode:?} level {level} {off:#x}");
                        }
                    }
                    // The next page along is not mapped.
                    let next = va.wrapping_add(size);
                    if mode.xlen32() || (next as i64 >> (12 + 9 * mode.levels() as u32 - 1)) == (va as i64 >> (12 + 9 * mode.levels() as u32 - 1)) {
                        assert!(matches!(t.translate(next, Load), Err(WalkError::NotValid { .. })), "{mode:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn leaf_permissions_are_checked_for_the_access_type_only() {
        for mode in ALL {
            let va = test_va(mode, true);
            for (flags, ok) in [
                (X, [true, false, false]),
                (R, [false, true, false]),
                (R | W, [false, true, true]),
                (R | X, [true, true, false]),
                (RWX, [true, true, true]),
            ] {
                let mut t = Tables::new(mode);
                // U, G, A and D are all ignored, set or not.
                for extra in [0, U | A | D | (1 << 5), U] {
                    t.map(va, 0x8010_0000, 0, flags | extra);
                    for (access, ok) in [Fetch, Load, Store].into_iter().zip(ok) {
                        let want = if ok { Ok(0x8010_0000) } else { Err(WalkError::Denied { level: 0 }) };
                        assert_eq!(t.translate(va, access), want, "{mode:?} {flags:#x} {access:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn invalid_entries_name_their_level() {
        for mode in ALL {
            let va = test_va(mode, false);
            let top = mode.levels() - 1;
            let t = Tables::new(mode);
            assert_eq!(t.translate(va, Fetch), Err(WalkError::NotValid { level: top }));
            for level in 0..top {
                // A path down to `level`, whose entry is left invalid; the
                // other bits of an invalid PTE do not matter.
                let mut t = Tables::new(mode);
                t.set(va, level, RWX | (0x1234 << 10));
                assert_eq!(t.translate(va, Fetch), Err(WalkError::NotValid { level }), "{mode:?}");
            }
        }
    }

    #[test]
    fn reserved_encodings_are_refused() {
        for mode in ALL {
            let va = test_va(mode, true);
            let top = mode.levels() - 1;
            let reserved = |pte: u64, level: usize| {
                let mut t = Tables::new(mode);
                t.set(va, level, pte);
                t.translate(va, Load)
            };
            // W without R, leaf or not, at every level.
            for level in 0..mode.levels() {
                assert_eq!(reserved(V | W, level), Err(WalkError::Reserved { level }));
                assert_eq!(reserved(V | W | X, level), Err(WalkError::Reserved { level }));
            }
            // D, A or U in a non-leaf PTE (priv spec 1.12 and later).
            for bit in [D, A, U] {
                let pointer = ((RAM_BASE + 0x8000) >> 12) << 10 | V | bit;
                assert_eq!(reserved(pointer, top), Err(WalkError::Reserved { level: top }), "{mode:?} {bit:#x}");
            }
            if mode.xlen32() {
                continue;
            }
            let leaf = (0x8010_0000 >> 12) << 10 | V | R;
            let pointer = ((RAM_BASE + 0x8000) >> 12) << 10 | V;
            // Bits 58:54, in leaf and non-leaf PTEs.
            for bit in 54..59 {
                assert_eq!(reserved(leaf | 1 << bit, 0), Err(WalkError::Reserved { level: 0 }), "{mode:?} {bit}");
                assert_eq!(reserved(pointer | 1 << bit, top), Err(WalkError::Reserved { level: top }), "{mode:?} {bit}");
            }
            // PBMT in a non-leaf PTE, and PBMT 3 anywhere.
            for pbmt in 1..4u64 {
                assert_eq!(reserved(pointer | pbmt << 61, top), Err(WalkError::Reserved { level: top }));
            }
            assert_eq!(reserved(leaf | 3 << 61, 0), Err(WalkError::Reserved { level: 0 }));
            // N in a non-leaf PTE, in a superpage, or with a PPN not ending
            // in 1000 (the only NAPOT size defined, 64 KiB).
            assert_eq!(reserved(pointer | N, top), Err(WalkError::Reserved { level: top }));
            assert_eq!(reserved(((0x4000_0000 >> 12) << 10) | V | R | N, 1), Err(WalkError::Reserved { level: 1 }));
            for low in [0b0000, 0b0100, 0b1100, 0b1001] {
                let pte = ((0x8010_0000 >> 12) | low) << 10 | V | R | N;
                assert_eq!(reserved(pte, 0), Err(WalkError::Reserved { level: 0 }), "{low:#b}");
            }
        }
    }

    #[test]
    fn attribute_extensions_do_not_change_the_address() {
        for mode in [Sv39, Sv48, Sv57] {
            let va = test_va(mode, true) | 0x9abc;
            // Svpbmt NC and IO, and Svrsw60t59b's software bits 60 and 59.
            for extra in [1 << 61, 2 << 61, 1 << 60, 1 << 59] {
                let mut t = Tables::new(mode);
                t.set(va, 0, (0x8010_0000 >> 12) << 10 | V | R | extra);
                assert_eq!(t.translate(va, Load), Ok(0x8010_0abc), "{extra:#x}");
            }
            // A 64 KiB Svnapot page at 0x8012_0000: PPN 0x80128 (ending in
            // 1000), so the address takes bits 15:0 from va.
            let mut t = Tables::new(mode);
            t.set(va, 0, (0x8012_8000u64 >> 12) << 10 | V | R | X | N);
            assert_eq!(t.translate(va, Fetch), Ok(0x8012_0000 | (va & 0xffff)));
        }
    }

    #[test]
    fn misaligned_superpages_are_refused() {
        for mode in ALL {
            let va = test_va(mode, false);
            for level in 1..mode.levels() {
                let mut t = Tables::new(mode);
                // A PPN one 4 KiB page past the superpage's alignment.
                t.map(va, 0x8000_0000 + 0x1000, level, RWX);
                assert_eq!(t.translate(va, Load), Err(WalkError::Misaligned { level }), "{mode:?}");
                // One superpage-sized step off the next larger alignment is
                // fine: only the PPN bits below this level must be zero.
                let mut t = Tables::new(mode);
                t.map(va, mode.page_size(level) * 3, level, RWX);
                assert!(t.translate(va, Load).is_ok());
            }
        }
    }

    #[test]
    fn a_pointer_at_level_zero_has_no_leaf() {
        for mode in ALL {
            let mut t = Tables::new(mode);
            let va = test_va(mode, true);
            t.set(va, 0, (RAM_BASE >> 12) << 10 | V);
            assert_eq!(t.translate(va, Fetch), Err(WalkError::NoLeaf), "{mode:?}");
        }
    }

    #[test]
    fn tables_outside_ram_are_errors_not_panics() {
        for mode in ALL {
            let va = test_va(mode, true);
            let m = mode.vpn_bits();
            let top = mode.levels() - 1;
            let top_index = (va >> (12 + m * top as u32)) & ((1 << m) - 1);
            // The root itself outside RAM.
            let mut t = Tables::new(mode);
            t.root = 0x1000;
            assert_eq!(t.translate(va, Fetch), Err(WalkError::OutOfRam { addr: 0x1000 + top_index * mode.pte_size() as u64 }));
            // A pointer PTE to a table beyond the end of RAM, and to the
            // highest address its PPN can name.
            for table in [RAM_BASE + RAM_SIZE as u64, if mode.xlen32() { 0x3_ffff_f000 } else { 0x00ff_ffff_ffff_f000 }] {
                let mut t = Tables::new(mode);
                t.set(va, top, (table >> 12) << 10 | V);
                let index = (va >> (12 + m * (top - 1) as u32)) & ((1 << m) - 1);
                assert_eq!(t.translate(va, Fetch), Err(WalkError::OutOfRam { addr: table + index * mode.pte_size() as u64 }));
            }
        }
        // A root table whose last entries straddle the end of RAM.
        let ram = Ram { base: RAM_BASE, bytes: vec![0; 4096 + 4] };
        let satp = (8 << 60) | ((RAM_BASE + 0x1000) >> 12);
        assert_eq!(translate(&ram, satp, 0, false, Load), Err(WalkError::OutOfRam { addr: RAM_BASE + 0x1000 }));
        let satp32 = (1 << 31) | ((RAM_BASE + 0x1000) >> 12);
        assert_eq!(translate(&ram, satp32, 0, true, Load), Err(WalkError::NotValid { level: 1 }));
        assert_eq!(translate(&ram, satp32, 0x0040_0000, true, Load), Err(WalkError::OutOfRam { addr: RAM_BASE + 0x1004 }));
    }

    #[test]
    fn non_canonical_addresses_and_unknown_modes() {
        for mode in [Sv39, Sv48, Sv57] {
            let t = Tables::new(mode);
            let top = 12 + 9 * mode.levels() as u32 - 1;
            for va in [1u64 << top, 1 << 63, (1 << 63) | ((1 << top) - 1), (1 << top) | (1 << (top + 1)), !0 ^ (1 << (top + 1))] {
                assert_eq!(t.translate(va, Fetch), Err(WalkError::NotCanonical), "{mode:?} {va:#x}");
            }
        }
        let ram = Ram { base: 0, bytes: vec![] };
        for mode in (1..8).chain(11..16) {
            assert_eq!(translate(&ram, mode << 60, 0, false, Fetch), Err(WalkError::BadMode(mode)));
        }
    }

    /// The use this is for: the instruction at a faulting pc, found
    /// through the kernel's tables and decoded. A 32-bit `sw` straddling
    /// two pages mapped to frames far apart is read one half from each.
    #[test]
    fn fetching_and_decoding_the_faulting_instruction() {
        use crate::access::{Access, AccessKind, decode_access};
        for mode in ALL {
            let mut t = Tables::new(mode);
            let va = test_va(mode, true);
            // Frames in the fake RAM, the second before the first.
            let (first, second) = (RAM_BASE + 0x8_0000, RAM_BASE + 0x4_0000);
            t.map(va, first, 0, R | X);
            t.map(va + 0x1000, second, 0, R | X);
            // c.sw x15,64(x10) (0xc13c) at va + 0x10; sw x1,-1(x2)
            // (0xfe112fa3) at va + 0xffe, its upper half in the next page.
            t.ram.write(first + 0x10, 0xc13c, 2);
            t.ram.write(first + 0xffe, 0x2fa3, 2);
            t.ram.write(second, 0xfe11, 2);
            let fetch = |pc: u64| -> u32 {
                let lo = t.translate(pc, Fetch).unwrap();
                let lo = t.ram.read_u32(lo & !3).unwrap() >> ((lo & 2) * 8) & 0xffff;
                if lo & 3 != 3 {
                    return lo;
                }
                let hi = t.translate(pc + 2, Fetch).unwrap();
                lo | (t.ram.read_u32(hi & !3).unwrap() >> ((hi & 2) * 8) & 0xffff) << 16
            };
            let xlen32 = mode.xlen32();
            let store = AccessKind::Store;
            assert_eq!(
                decode_access(fetch(va + 0x10), xlen32),
                Some(Access { kind: store, width: 4, reg: 15, base: 10, offset: 64, len: 2 })
            );
            assert_eq!(
                decode_access(fetch(va + 0xffe), xlen32),
                Some(Access { kind: store, width: 4, reg: 1, base: 2, offset: -1, len: 4 })
            );
        }
    }

    /// Memory whose every word is random, but the same each time it is
    /// read, with holes: a walk through it goes anywhere.
    struct Noise(u64);

    impl Noise {
        fn word(&self, addr: u64) -> Option<u64> {
            let mut x = addr ^ self.0;
            x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            x ^= x >> 31;
            // One read in eight is outside RAM; every PTE is valid, most
            // have no reserved high bits, and a quarter are clean pointers,
            // so walks go deep.
            if x & 7 == 0 {
                return None;
            }
            if (x >> 8) & 3 != 0 {
                x &= (1 << 54) - 1;
            }
            if x & 0x30 == 0 {
                x &= !(R | W | X | D | A | U);
            }
            Some(x | V)
        }
    }

    impl GuestMemory for Noise {
        fn read_u64(&self, addr: u64) -> Option<u64> {
            self.word(addr)
        }
        fn read_u32(&self, addr: u64) -> Option<u32> {
            self.word(addr).map(|x| x as u32)
        }
    }

    /// The noise does take walks everywhere: to a leaf at every level, and
    /// to every kind of error, in every mode.
    #[test]
    fn noise_reaches_every_outcome() {
        for (mode, xlen32) in [(8u64, false), (9, false), (10, false), (0, true)] {
            let mut seen = std::collections::HashSet::new();
            for i in 0..20_000u64 {
                let noise = Noise(i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
                let satp = (mode << 60) | (1 << 31) | (i & 0xfff_ffff);
                let va = i.wrapping_mul(0x2545_f491_4f6c_dd1d) & ((1 << 38) - 1);
                let kind = match translate(&noise, satp, va, xlen32, AccessType::Load) {
                    Ok(_) => "ok",
                    Err(WalkError::NotValid { .. }) => "invalid",
                    Err(WalkError::Reserved { .. }) => "reserved",
                    Err(WalkError::Misaligned { .. }) => "misaligned",
                    Err(WalkError::NoLeaf) => "noleaf",
                    Err(WalkError::Denied { .. }) => "denied",
                    Err(WalkError::OutOfRam { .. }) => "outofram",
                    Err(e) => panic!("{e:?}"),
                };
                seen.insert(kind);
            }
            // Noise never clears V, so NotValid cannot happen.
            for kind in ["ok", "reserved", "misaligned", "noleaf", "denied", "outofram"] {
                assert!(seen.contains(kind), "mode {mode}: no {kind} in {seen:?}");
            }
        }
    }

    proptest! {
        #[test]
        fn random_memory_satp_and_va_never_panic(
            seed in any::<u64>(),
            satp in any::<u64>(),
            mode in 0u64..16,
            va in any::<u64>(),
            xlen32 in any::<bool>(),
            access in prop_oneof![Just(Fetch), Just(Load), Just(Store)],
        ) {
            let noise = Noise(seed);
            // Half the time a mode that walks, so walks happen often.
            let satp = if seed & 1 == 0 { (satp & !(0xf << 60)) | (mode << 60) } else { satp };
            let _ = translate(&noise, satp, va, xlen32, access);
            let _ = translate(&noise, satp | (1 << 31), va, true, access);
            if let Ok(pa) = translate(&noise, satp, va, false, access) {
                // rv64 physical addresses are 56 bits.
                prop_assert!(satp >> 60 == 0 || pa >> 56 == 0);
            }
            if let Ok(pa) = translate(&noise, satp | (1 << 31), va, true, access) {
                prop_assert!(pa >> 34 == 0);
            }
        }
    }
}
