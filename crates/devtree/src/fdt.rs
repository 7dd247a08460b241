//! The flattened device tree format (Devicetree Specification v0.4, ch. 5):
//! a header, a memory reservation block, a structure block of tokens and a
//! strings block. This module validates and walks it without allocating.

use core::fmt;

const MAGIC: u32 = 0xd00d_feed;
const HEADER_LEN: usize = 40;
const TOKEN_BEGIN_NODE: u32 = 1;
const TOKEN_END_NODE: u32 = 2;
const TOKEN_PROP: u32 = 3;
const TOKEN_NOP: u32 = 4;
const TOKEN_END: u32 = 9;

/// Deepest node nesting we accept. Real trees are 4 or 5 levels deep.
pub const MAX_DEPTH: usize = 16;
/// Largest `#address-cells`/`#size-cells` accepted (PCI uses 3).
pub const MAX_CELLS: u32 = 4;
/// Most memory reservation entries accepted; a block with more (or a corrupt
/// one that never ends) is refused by [`Fdt::parse`], never read in part.
pub const MAX_RESERVATIONS: usize = 64;
/// Largest blob we accept: far above any real platform's tree.
pub const MAX_TOTAL_SIZE: usize = 2 << 20;

/// What is wrong with a device tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Fewer bytes than the header, or than the header's `totalsize`.
    Truncated,
    /// The first word is not 0xd00dfeed.
    BadMagic(u32),
    /// `totalsize` is larger than [`MAX_TOTAL_SIZE`].
    TooLarge(u32),
    /// Only versions compatible with 16 and 17 are read.
    UnsupportedVersion(u32),
    /// A block's offset and size fall outside the blob.
    BlockOutOfBounds(&'static str),
    /// The structure block has an unknown token at this offset.
    BadToken { offset: usize, token: u32 },
    /// A name or string is not NUL-terminated UTF-8.
    BadString { offset: usize },
    /// A property name offset points outside the strings block.
    BadNameOffset { offset: usize },
    /// Node begin and end tokens do not pair up.
    Unbalanced { offset: usize },
    /// The nesting is deeper than [`MAX_DEPTH`].
    TooDeep,
    /// The structure block does not finish with an END token.
    MissingEnd,
    /// `#address-cells` or `#size-cells` is above [`MAX_CELLS`].
    BadCells { offset: usize },
    /// The memory reservation block holds more than [`MAX_RESERVATIONS`]
    /// entries (or never ends): refused rather than read in part.
    TooManyReservations,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => write!(f, "device tree is truncated"),
            Error::BadMagic(m) => write!(f, "bad device tree magic {m:#010x}"),
            Error::TooLarge(s) => write!(f, "device tree claims an absurd size of {s} bytes"),
            Error::UnsupportedVersion(v) => write!(f, "unsupported device tree version {v}"),
            Error::BlockOutOfBounds(b) => write!(f, "device tree {b} block lies outside the blob"),
            Error::BadToken { offset, token } => {
                write!(f, "unknown device tree token {token:#x} at structure offset {offset:#x}")
            }
            Error::BadString { offset } => write!(f, "malformed string at offset {offset:#x}"),
            Error::BadNameOffset { offset } => {
                write!(f, "property name offset {offset:#x} outside the strings block")
            }
            Error::Unbalanced { offset } => {
                write!(f, "unbalanced node nesting at structure offset {offset:#x}")
            }
            Error::TooDeep => write!(f, "device tree nests deeper than {MAX_DEPTH} levels"),
            Error::MissingEnd => write!(f, "device tree structure block has no END token"),
            Error::BadCells { offset } => {
                write!(f, "#address-cells or #size-cells above {MAX_CELLS} at offset {offset:#x}")
            }
            Error::TooManyReservations => write!(
                f,
                "device tree memory reservation block has more than {MAX_RESERVATIONS} entries or no end"
            ),
        }
    }
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn align4(n: usize) -> Option<usize> {
    n.checked_add(3).map(|v| v & !3)
}

/// The NUL-terminated string starting at `at`, and the offset just past its NUL.
fn cstr(bytes: &[u8], at: usize) -> Option<(&str, usize)> {
    let rest = bytes.get(at..)?;
    let len = rest.iter().position(|&b| b == 0)?;
    let s = core::str::from_utf8(&rest[..len]).ok()?;
    Some((s, at + len + 1))
}

/// A validated device tree.
#[derive(Clone, Copy)]
pub struct Fdt<'a> {
    structs: &'a [u8],
    strings: &'a [u8],
    /// From the memory reservation block's offset to the end of the blob.
    reservations: &'a [u8],
    total_size: usize,
}

impl<'a> Fdt<'a> {
    /// Reads `totalsize` from a header in memory so a caller holding only a
    /// pointer knows how many bytes to hand to [`Fdt::parse`].
    pub fn total_size(header: &[u8]) -> Result<usize, Error> {
        let magic = be32(header, 0).ok_or(Error::Truncated)?;
        if magic != MAGIC {
            return Err(Error::BadMagic(magic));
        }
        let size = be32(header, 4).ok_or(Error::Truncated)?;
        if size as usize > MAX_TOTAL_SIZE {
            return Err(Error::TooLarge(size));
        }
        if (size as usize) < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(size as usize)
    }

    /// Checks the whole blob: header, block bounds, every token, every name
    /// and property-name offset, nesting and cell counts.
    pub fn parse(blob: &'a [u8]) -> Result<Fdt<'a>, Error> {
        let total = Self::total_size(blob)?;
        let blob = blob.get(..total).ok_or(Error::Truncated)?;
        let word = |i: usize| be32(blob, i * 4).ok_or(Error::Truncated);
        let (off_struct, off_strings) = (word(2)? as usize, word(3)? as usize);
        let off_rsvmap = word(4)? as usize;
        let (version, last_compat) = (word(5)?, word(6)?);
        let (size_strings, size_struct) = (word(8)? as usize, word(9)? as usize);
        if version < 16 || last_compat > 17 {
            return Err(Error::UnsupportedVersion(version));
        }
        let block = |off: usize, size: usize, name| {
            off.checked_add(size)
                .and_then(|end| blob.get(off..end))
                .ok_or(Error::BlockOutOfBounds(name))
        };
        let fdt = Fdt {
            structs: block(off_struct, size_struct, "structure")?,
            strings: block(off_strings, size_strings, "strings")?,
            reservations: blob.get(off_rsvmap..).ok_or(Error::BlockOutOfBounds("memory reservation"))?,
            total_size: total,
        };
        fdt.validate()?;
        fdt.validate_reservations()?;
        Ok(fdt)
    }

    /// The reservation block must end (an all-zero entry) inside the blob
    /// within [`MAX_RESERVATIONS`] entries.
    fn validate_reservations(&self) -> Result<(), Error> {
        for i in 0..=MAX_RESERVATIONS {
            let at = i * 16;
            let entry = self
                .reservations
                .get(at..at + 16)
                .ok_or(Error::BlockOutOfBounds("memory reservation"))?;
            if entry.iter().all(|&b| b == 0) {
                return Ok(());
            }
        }
        Err(Error::TooManyReservations)
    }

    /// The memory reservation block's (address, size) entries, up to the
    /// terminating all-zero entry ([`Fdt::parse`] checked there is one).
    pub fn memory_reservations(&self) -> impl Iterator<Item = (u64, u64)> + 'a {
        let block = self.reservations;
        let word = move |at: usize| -> Option<u64> {
            let b = block.get(at..at.checked_add(8)?)?;
            Some(u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
        };
        (0..)
            .map_while(move |i: usize| Some((word(i * 16)?, word(i * 16 + 8)?)))
            .take_while(|&(a, s)| a != 0 || s != 0)
            .take(MAX_RESERVATIONS)
    }

    /// Size of the blob in bytes, as its header says.
    pub fn size(&self) -> usize {
        self.total_size
    }

    fn validate(&self) -> Result<(), Error> {
        let mut depth = 0usize;
        let mut pos = 0usize;
        let mut seen_root = false;
        loop {
            let token = be32(self.structs, pos).ok_or(Error::MissingEnd)?;
            let here = pos;
            pos += 4;
            match token {
                TOKEN_BEGIN_NODE => {
                    if depth == 0 && seen_root {
                        return Err(Error::Unbalanced { offset: here });
                    }
                    seen_root = true;
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(Error::TooDeep);
                    }
                    let (_, next) =
                        cstr(self.structs, pos).ok_or(Error::BadString { offset: pos })?;
                    pos = align4(next).ok_or(Error::Truncated)?;
                }
                TOKEN_END_NODE => {
                    depth = depth.checked_sub(1).ok_or(Error::Unbalanced { offset: here })?;
                }
                TOKEN_PROP => {
                    if depth == 0 {
                        return Err(Error::Unbalanced { offset: here });
                    }
                    let prop = self.property_at(here).ok_or(Error::Truncated)?;
                    let name_off = be32(self.structs, pos + 4).ok_or(Error::Truncated)? as usize;
                    let name = prop.map_err(|_| Error::BadNameOffset { offset: name_off })?;
                    if (name.name == "#address-cells" || name.name == "#size-cells")
                        && name.as_u32().is_none_or(|c| c > MAX_CELLS)
                    {
                        return Err(Error::BadCells { offset: here });
                    }
                    pos = name.next;
                }
                TOKEN_NOP => {}
                TOKEN_END => {
                    return if depth == 0 && seen_root {
                        Ok(())
                    } else {
                        Err(Error::Unbalanced { offset: here })
                    };
                }
                other => return Err(Error::BadToken { offset: here, token: other }),
            }
        }
    }

    /// The property whose PROP token is at `at`: `None` if its value runs off
    /// the block, `Err` if its name cannot be read.
    fn property_at(&self, at: usize) -> Option<Result<Property<'a>, ()>> {
        let len = be32(self.structs, at + 4)? as usize;
        let name_off = be32(self.structs, at + 8)? as usize;
        let start = at + 12;
        let value = self.structs.get(start..start.checked_add(len)?)?;
        let next = align4(start + len)?;
        Some(match cstr(self.strings, name_off) {
            Some((name, _)) => Ok(Property { name, value, next }),
            None => Err(()),
        })
    }

    /// Every node, depth-first, in the order they appear.
    pub fn nodes(&self) -> Nodes<'a> {
        Nodes {
            fdt: *self,
            pos: 0,
            depth: 0,
            stack: [Frame::ROOT_PARENT; MAX_DEPTH + 1],
        }
    }

    /// The node at an absolute path such as `/soc/serial@10000000`. A path
    /// component without a unit address also matches a node that has one
    /// (`/memory` finds `/memory@80000000`), as the specification allows.
    pub fn find_path(&self, path: &str) -> Option<Node<'a>> {
        let path = path.trim_end_matches('/');
        self.nodes().find(|n| n.path_matches(path))
    }

    /// The node whose `phandle` property is `handle`.
    pub fn find_phandle(&self, handle: u32) -> Option<Node<'a>> {
        self.nodes().find(|n| {
            n.property("phandle").and_then(|p| p.as_u32()) == Some(handle)
                || n.property("linux,phandle").and_then(|p| p.as_u32()) == Some(handle)
        })
    }

    /// Nodes whose `compatible` list holds `compat`, in tree order, skipping
    /// nodes whose `status` says they are not available.
    pub fn compatible(&self, compat: &'a str) -> impl Iterator<Item = Node<'a>> + 'a {
        self.nodes().filter(move |n| n.is_compatible(compat) && n.is_enabled())
    }
}

#[derive(Clone, Copy)]
struct Frame<'a> {
    name: &'a str,
    address_cells: u32,
    size_cells: u32,
}

impl Frame<'_> {
    /// Defaults the specification gives a node whose parent says nothing.
    const ROOT_PARENT: Frame<'static> = Frame { name: "", address_cells: 2, size_cells: 1 };
}

/// Iterator over the nodes of a validated tree.
pub struct Nodes<'a> {
    fdt: Fdt<'a>,
    pos: usize,
    depth: usize,
    stack: [Frame<'a>; MAX_DEPTH + 1],
}

impl<'a> Iterator for Nodes<'a> {
    type Item = Node<'a>;

    fn next(&mut self) -> Option<Node<'a>> {
        let s = self.fdt.structs;
        loop {
            let token = be32(s, self.pos)?;
            match token {
                TOKEN_BEGIN_NODE => {
                    let (name, next) = cstr(s, self.pos + 4)?;
                    let props = align4(next)?;
                    self.depth += 1;
                    if self.depth > MAX_DEPTH {
                        return None;
                    }
                    let parent = self.stack[self.depth - 1];
                    let node = Node {
                        fdt: self.fdt,
                        name,
                        depth: self.depth,
                        props,
                        parent_address_cells: parent.address_cells,
                        parent_size_cells: parent.size_cells,
                        ancestors: self.stack,
                    };
                    // The cells this node sets apply to its children.
                    self.stack[self.depth] = Frame {
                        name,
                        address_cells: node.u32_property("#address-cells").unwrap_or(2),
                        size_cells: node.u32_property("#size-cells").unwrap_or(1),
                    };
                    self.pos = props;
                    return Some(node);
                }
                TOKEN_END_NODE => {
                    self.depth = self.depth.checked_sub(1)?;
                    self.pos += 4;
                }
                TOKEN_PROP => match self.fdt.property_at(self.pos)? {
                    Ok(p) => self.pos = p.next,
                    Err(()) => return None,
                },
                TOKEN_NOP => self.pos += 4,
                _ => return None,
            }
        }
    }
}

/// One node of the tree.
#[derive(Clone, Copy)]
pub struct Node<'a> {
    fdt: Fdt<'a>,
    name: &'a str,
    depth: usize,
    props: usize,
    parent_address_cells: u32,
    parent_size_cells: u32,
    ancestors: [Frame<'a>; MAX_DEPTH + 1],
}

/// One property of a node.
#[derive(Clone, Copy, Debug)]
pub struct Property<'a> {
    pub name: &'a str,
    pub value: &'a [u8],
    next: usize,
}

impl<'a> Property<'a> {
    /// The value as one big-endian 32-bit cell.
    pub fn as_u32(&self) -> Option<u32> {
        (self.value.len() == 4).then(|| be32(self.value, 0)).flatten()
    }

    /// The value as a single string, without its NUL.
    pub fn as_str(&self) -> Option<&'a str> {
        let bytes = self.value.strip_suffix(&[0])?;
        core::str::from_utf8(bytes).ok()
    }

    /// The value as a list of NUL-terminated strings (e.g. `compatible`).
    pub fn strings(&self) -> impl Iterator<Item = &'a str> + 'a {
        let value = self.value.strip_suffix(&[0]).unwrap_or(self.value);
        value
            .split(|&b| b == 0)
            .filter_map(|s| core::str::from_utf8(s).ok())
    }

    /// The value as big-endian 32-bit cells.
    pub fn cells(&self) -> impl Iterator<Item = u32> + 'a {
        let value = self.value;
        (0..value.len() / 4).filter_map(move |i| be32(value, i * 4))
    }
}

impl<'a> Node<'a> {
    /// The node's name with its unit address, e.g. `serial@10000000`; `` for the root.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// 1 for the root node.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The parent's name (`""` for the root and its children's parent).
    pub fn parent_name(&self) -> &'a str {
        self.ancestors[self.depth - 1].name
    }

    fn path_matches(&self, path: &str) -> bool {
        let mut parts = path.split('/').skip(1).filter(|p| !p.is_empty());
        // ancestors[1] is the root (depth 1, empty name); real components start at 2.
        for level in 2..=self.depth {
            let name = if level == self.depth { self.name } else { self.ancestors[level].name };
            match parts.next() {
                Some(want) if component_matches(name, want) => {}
                _ => return false,
            }
        }
        parts.next().is_none() && (self.depth > 1 || path.is_empty() || path == "/")
    }

    /// The node's properties, in order.
    pub fn properties(&self) -> impl Iterator<Item = Property<'a>> + 'a {
        let fdt = self.fdt;
        let mut pos = self.props;
        core::iter::from_fn(move || loop {
            match be32(fdt.structs, pos)? {
                TOKEN_NOP => pos += 4,
                TOKEN_PROP => {
                    let p = fdt.property_at(pos)?.ok()?;
                    pos = p.next;
                    return Some(p);
                }
                _ => return None,
            }
        })
    }

    pub fn property(&self, name: &str) -> Option<Property<'a>> {
        self.properties().find(|p| p.name == name)
    }

    pub fn u32_property(&self, name: &str) -> Option<u32> {
        self.property(name)?.as_u32()
    }

    pub fn str_property(&self, name: &str) -> Option<&'a str> {
        self.property(name)?.as_str()
    }

    pub fn is_compatible(&self, compat: &str) -> bool {
        self.property("compatible")
            .is_some_and(|p| p.strings().any(|s| s == compat))
    }

    /// False when `status` is present and is neither `okay` nor `ok`.
    pub fn is_enabled(&self) -> bool {
        self.str_property("status")
            .is_none_or(|s| s == "okay" || s == "ok")
    }

    /// The `reg` entries as (address, size) pairs, using the parent's cell
    /// counts. Entries that do not fit the property are dropped, and a bus
    /// whose addresses need more than 64 bits (PCI's 3 cells) yields none.
    pub fn reg(&self) -> impl Iterator<Item = (u64, u64)> + use<'a> {
        self.reg_entries().1
    }

    /// Like [`Node::reg`], but `None` when the property cannot be read
    /// whole: cells beyond 64 bits, or bytes left over after the last
    /// entry. For lists that must not come back silently shorter.
    pub fn reg_exact(&self) -> Option<impl Iterator<Item = (u64, u64)> + use<'a>> {
        let (whole, entries) = self.reg_entries();
        whole.then_some(entries)
    }

    fn reg_entries(&self) -> (bool, impl Iterator<Item = (u64, u64)> + use<'a>) {
        let ac = self.parent_address_cells as usize;
        let sc = self.parent_size_cells as usize;
        let value = self.property("reg").map(|p| p.value).unwrap_or(&[]);
        let entry = (ac + sc) * 4;
        let readable = entry != 0 && ac <= 2 && sc <= 2;
        let count = if readable { value.len() / entry } else { 0 };
        let whole = value.is_empty() || (readable && value.len().is_multiple_of(entry));
        let entries = (0..count).map(move |i| {
            let at = i * entry;
            (read_cells(value, at, ac), read_cells(value, at + ac * 4, sc))
        });
        (whole, entries)
    }
}

fn component_matches(name: &str, want: &str) -> bool {
    name == want || (!want.contains('@') && name.split('@').next() == Some(want))
}

/// `cells` (0, 1 or 2; `reg` checks) big-endian words at `at`.
fn read_cells(bytes: &[u8], at: usize, cells: usize) -> u64 {
    (0..cells).fold(0u64, |acc, i| {
        (acc << 32) | u64::from(be32(bytes, at + i * 4).unwrap_or(0))
    })
}
