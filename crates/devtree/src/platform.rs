//! What the hypervisor needs to know about the machine, read from its tree:
//! RAM, harts, the console UART, the timer, the interrupt controller and the
//! power-off device.

use alloc::vec::Vec;
use core::fmt;
use memrange::Range;

use crate::console::{Console, Uart, read_console};
use crate::fdt::{Error, Fdt, Node};
use crate::power::{PowerOff, read_poweroff, read_reset};

/// A memory-mapped device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mmio {
    pub base: u64,
    pub size: u64,
    /// The first `compatible` string, for the boot report.
    pub compatible: &'static str,
}

/// One hart (hardware thread) of the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hart {
    pub id: u64,
    /// The ISA as one string, e.g. `rv64imafdch_zicsr_...`: built from
    /// `riscv,isa-base` + `riscv,isa-extensions` when the node has them
    /// (as kernels prefer), else the `riscv,isa` string as written.
    pub isa: alloc::string::String,
    /// The `mmu-type`, if any; a hart without one cannot host a Linux kernel.
    pub mmu: Option<alloc::string::String>,
    /// False for harts the tree marks disabled, that lack S-mode with an
    /// MMU, or that no CLINT/ACLINT serves when the tree has any (see
    /// [`Platform::timer_of`]).
    pub usable: bool,
}

/// One CLINT (or an ACLINT MSWI and MTIMER serving the same harts): where
/// its arrays of msip words and mtimecmp registers start, its 64-bit mtime,
/// and the harts it serves, by id. A board has one per NUMA node/socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimerIpi {
    pub msip: u64,
    pub mtimecmp: u64,
    pub mtime: u64,
    pub harts: Vec<u64>,
}

/// One hart's own registers: its msip word, its mtimecmp and the mtime of
/// the device that serves it. The hart's index within its device (its
/// place in the device's `interrupts-extended`) is already applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HartTimer {
    pub hart: u64,
    pub msip: u64,
    pub mtimecmp: u64,
    pub mtime: u64,
}

/// Everything the hypervisor reads from the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    pub model: Option<&'static str>,
    pub ram: Vec<Range>,
    /// RAM firmware keeps for itself: the memory reservation block and
    /// the children of `/reserved-memory`. Capsules never get it.
    pub reserved: Vec<Range>,
    pub harts: Vec<Hart>,
    /// `timebase-frequency` from `/cpus`, in Hz.
    pub timebase_hz: Option<u64>,
    /// Where the hypervisor's console goes, if it has a driver for it.
    pub console: Option<Console>,
    /// A CLINT, or an ACLINT MTIMER.
    pub timer: Option<Mmio>,
    /// Every CLINT (or ACLINT MSWI + MTIMER pair) that serves a hart, in tree order.
    pub timer_ipi: Vec<TimerIpi>,
    /// Each served hart's own registers, by hart id.
    pub hart_timers: Vec<HartTimer>,
    pub plic: Option<Mmio>,
    pub poweroff: Option<PowerOff>,
    /// The reset device (`syscon-reboot`, the SiFive test device,
    /// `gpio-restart`), same shape as the power-off one.
    pub reboot: Option<PowerOff>,
    pub bootargs: Option<&'static str>,
}

/// Why the tree cannot describe a platform we can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlatformError {
    Tree(Error),
    /// No memory node with a usable `reg`.
    NoRam,
    /// A memory range overflows the address space.
    BadRam { base: u64, size: u64 },
    /// No cpu node under `/cpus`.
    NoHarts,
    /// Two memory ranges overlap (their sizes would count some RAM twice).
    RamOverlap { first: u64, second: u64 },
    /// A CLINT/ACLINT register array starting at `base` runs past the top
    /// of the address space for the harts it serves.
    BadTimer { base: u64 },
    /// A power-off (`what` = "power-off") or reset device's register lies
    /// beyond the address space.
    BadSyscon { what: &'static str, base: u64, offset: u64 },
    /// A reservation (memory reservation block or `/reserved-memory`)
    /// that wraps the address space.
    BadReservation { base: u64, size: u64 },
    /// A `/reserved-memory` child whose `reg` cannot be read whole.
    UnreadableReservation,
    /// More `/reserved-memory` regions than [`MAX_RESERVED`].
    TooManyReservations,
}

/// Most reservations (block and `/reserved-memory` together) accepted;
/// more is refused, never cut short.
pub const MAX_RESERVED: usize = 1024;

impl From<Error> for PlatformError {
    fn from(e: Error) -> Self {
        PlatformError::Tree(e)
    }
}

impl fmt::Display for PlatformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlatformError::Tree(e) => write!(f, "{e}"),
            PlatformError::NoRam => write!(f, "device tree describes no RAM"),
            PlatformError::BadRam { base, size } => {
                write!(f, "device tree RAM range {base:#x} + {size:#x} is invalid")
            }
            PlatformError::NoHarts => write!(f, "device tree describes no harts under /cpus"),
            PlatformError::RamOverlap { first, second } => {
                write!(f, "device tree RAM ranges at {first:#x} and {second:#x} overlap")
            }
            PlatformError::BadTimer { base } => write!(
                f,
                "device tree CLINT/ACLINT registers at {base:#x} run past the end of the address space"
            ),
            PlatformError::BadSyscon { what, base, offset } => write!(
                f,
                "device tree {what} register {base:#x} + offset {offset:#x} lies beyond the address space"
            ),
            PlatformError::BadReservation { base, size } => {
                write!(f, "device tree reserved memory {base:#x} + {size:#x} wraps the address space")
            }
            PlatformError::UnreadableReservation => write!(
                f,
                "device tree /reserved-memory has a region whose reg cannot be read (more than 64-bit cells, or a partial entry)"
            ),
            PlatformError::TooManyReservations => {
                write!(f, "device tree reserves memory in more than {MAX_RESERVED} places")
            }
        }
    }
}

const CLINT_COMPATIBLE: &[&str] = &["riscv,clint0", "sifive,clint0"];
const TIMER_COMPATIBLE: &[&str] = &["riscv,clint0", "sifive,clint0", "riscv,aclint-mtimer"];
const PLIC_COMPATIBLE: &[&str] = &["riscv,plic0", "sifive,plic-1.0.0"];

impl Platform {
    /// Reads a platform from a validated tree. The tree must live for the
    /// rest of the program (it does: firmware leaves it in RAM we never reuse
    /// before this is dropped; host tests leak their blobs).
    pub fn from_fdt(fdt: &Fdt<'static>) -> Result<Platform, PlatformError> {
        let ram = read_ram(fdt)?;
        let mut harts = read_harts(fdt);
        if harts.is_empty() {
            return Err(PlatformError::NoHarts);
        }
        let (timer_ipi, hart_timers) = read_timers(fdt, &harts)?;
        // A capsule's own tree has no CLINT (its timer is SBI's); where a
        // tree has them, a hart none serves cannot host a vcore.
        if !hart_timers.is_empty() {
            for h in &mut harts {
                h.usable &= hart_timers.iter().any(|t| t.hart == h.id);
            }
        }
        let chosen = fdt.find_path("/chosen");
        Ok(Platform {
            model: fdt.find_path("/").and_then(|n| n.str_property("model")),
            ram,
            reserved: read_reserved(fdt)?,
            harts,
            timebase_hz: fdt
                .find_path("/cpus")
                .and_then(|n| n.u32_property("timebase-frequency"))
                .map(u64::from),
            console: read_console(fdt, chosen),
            timer: first_compatible(fdt, TIMER_COMPATIBLE),
            timer_ipi,
            hart_timers,
            plic: first_compatible(fdt, PLIC_COMPATIBLE),
            poweroff: read_poweroff(fdt)?,
            reboot: read_reset(fdt)?,
            bootargs: chosen.and_then(|c| c.str_property("bootargs")),
        })
    }

    /// The console, if it is a UART.
    pub fn uart(&self) -> Option<Uart> {
        match self.console {
            Some(Console::Uart(u)) => Some(u),
            _ => None,
        }
    }

    /// Total bytes of RAM. [`Platform::from_fdt`] refuses overlapping
    /// ranges, so this cannot overflow for a platform read from a tree.
    pub fn ram_bytes(&self) -> u64 {
        self.ram.iter().fold(0u64, |sum, r| sum.saturating_add(r.size()))
    }

    /// The timer and software-interrupt registers of hart `id`.
    pub fn timer_of(&self, id: u64) -> Option<&HartTimer> {
        self.hart_timers.iter().find(|t| t.hart == id)
    }

    /// The harts that can run a capsule.
    pub fn usable_harts(&self) -> impl Iterator<Item = &Hart> {
        self.harts.iter().filter(|h| h.usable)
    }

    /// True if the boot arguments hold `word` as a whole word.
    pub fn has_bootarg(&self, word: &str) -> bool {
        self.bootargs
            .is_some_and(|a| a.split_ascii_whitespace().any(|w| w == word))
    }
}

fn read_ram(fdt: &Fdt<'static>) -> Result<Vec<Range>, PlatformError> {
    let mut ram = Vec::new();
    for node in fdt.nodes() {
        let is_memory = node.str_property("device_type") == Some("memory");
        if !is_memory || !node.is_enabled() || node.depth() != 2 {
            continue;
        }
        for (base, size) in node.reg() {
            if size == 0 {
                continue;
            }
            let range = Range::new(base, size).map_err(|_| PlatformError::BadRam { base, size })?;
            ram.push(range);
        }
    }
    if ram.is_empty() {
        return Err(PlatformError::NoRam);
    }
    ram.sort();
    for pair in ram.windows(2) {
        if pair[0].overlaps(&pair[1]) {
            return Err(PlatformError::RamOverlap { first: pair[0].start(), second: pair[1].start() });
        }
    }
    // Disjoint ranges below 2^64 cannot sum past it; checked all the same.
    ram.iter()
        .try_fold(0u64, |sum, r| sum.checked_add(r.size()))
        .ok_or(PlatformError::BadRam { base: ram[0].start(), size: ram[0].size() })?;
    Ok(ram)
}

/// The machine software and timer interrupts (`mip.MSIP`, `mip.MTIP`) as
/// they appear in a CLINT's or ACLINT's `interrupts-extended`.
const IRQ_M_SOFT: u32 = 3;
const IRQ_M_TIMER: u32 = 7;

/// What one device contributes: where its msip words, or its mtimecmp
/// registers and mtime, start; which interrupt lists its harts.
#[derive(Clone, Copy)]
enum Role {
    Soft { msip: u64 },
    Timer { mtimecmp: u64, mtime: u64 },
}

/// Each hart's registers, from every CLINT (both roles), ACLINT MSWI
/// (software) and ACLINT MTIMER (timer) in the tree. A device lists the
/// harts it serves in `interrupts-extended` as (cpu-intc phandle, irq)
/// entries; a hart's place among the entries with the role's irq is its
/// index in the device: msip at `base + 4 * index`, mtimecmp at
/// `base + 8 * index`. A device without that list serves harts by id
/// (index = hart id), as single-CLINT boards were read before. The first
/// device to claim a hart for a role wins.
fn read_timers(fdt: &Fdt<'static>, harts: &[Hart]) -> Result<(Vec<TimerIpi>, Vec<HartTimer>), PlatformError> {
    let intc = cpu_intc_map(fdt);
    // Per hart (same order as `harts`): (msip, msip base) and (mtimecmp, mtimecmp base, mtime).
    let mut soft: Vec<Option<(u64, u64)>> = alloc::vec![None; harts.len()];
    let mut timer: Vec<Option<(u64, u64, u64)>> = alloc::vec![None; harts.len()];
    for node in fdt.nodes().filter(|n| n.is_enabled()) {
        let Some((base, _)) = node.reg().next() else { continue };
        let roles: Vec<Role> = if CLINT_COMPATIBLE.iter().any(|c| node.is_compatible(c)) {
            let bad = PlatformError::BadTimer { base };
            alloc::vec![
                Role::Soft { msip: base },
                Role::Timer {
                    mtimecmp: base.checked_add(0x4000).ok_or(bad)?,
                    mtime: base.checked_add(0xbff8).ok_or(bad)?,
                },
            ]
        } else if node.is_compatible("riscv,aclint-mswi") {
            alloc::vec![Role::Soft { msip: base }]
        } else if node.is_compatible("riscv,aclint-mtimer") {
            // QEMU's binding: mtime first, then the mtimecmp array.
            match node.reg().nth(1) {
                Some((mtimecmp, _)) => alloc::vec![Role::Timer { mtimecmp, mtime: base }],
                None => continue,
            }
        } else {
            continue;
        };
        let listed = listed_harts(fdt, &node, &intc);
        for role in roles {
            let (irq, stride, array) = match role {
                Role::Soft { msip } => (IRQ_M_SOFT, 4u64, msip),
                Role::Timer { mtimecmp, .. } => (IRQ_M_TIMER, 8u64, mtimecmp),
            };
            // (position in `harts`, index within the device)
            let served: Vec<(usize, u64)> = match &listed {
                Some(entries) => entries
                    .iter()
                    .filter(|(_, i)| *i == irq)
                    .enumerate()
                    .filter_map(|(index, (hart, _))| {
                        let at = harts.iter().position(|h| Some(h.id) == *hart)?;
                        Some((at, index as u64))
                    })
                    .collect(),
                None => harts.iter().enumerate().map(|(at, h)| (at, h.id)).collect(),
            };
            for (at, index) in served {
                let reg = index
                    .checked_mul(stride)
                    .and_then(|off| array.checked_add(off))
                    .and_then(|r| r.checked_add(stride - 1).map(|_| r))
                    .ok_or(PlatformError::BadTimer { base: array })?;
                match role {
                    Role::Soft { msip } => {
                        soft[at].get_or_insert((reg, msip));
                    }
                    Role::Timer { mtimecmp, mtime } => {
                        mtime.checked_add(7).ok_or(PlatformError::BadTimer { base: mtime })?;
                        timer[at].get_or_insert((reg, mtimecmp, mtime));
                    }
                }
            }
        }
    }
    let mut devices: Vec<TimerIpi> = Vec::new();
    let mut per_hart = Vec::new();
    for (at, hart) in harts.iter().enumerate() {
        let (Some((msip, msip_base)), Some((mtimecmp, cmp_base, mtime))) = (soft[at], timer[at]) else {
            continue;
        };
        per_hart.push(HartTimer { hart: hart.id, msip, mtimecmp, mtime });
        match devices
            .iter_mut()
            .find(|d| (d.msip, d.mtimecmp, d.mtime) == (msip_base, cmp_base, mtime))
        {
            Some(d) => d.harts.push(hart.id),
            None => devices.push(TimerIpi { msip: msip_base, mtimecmp: cmp_base, mtime, harts: alloc::vec![hart.id] }),
        }
    }
    Ok((devices, per_hart))
}

/// Hart ids by the phandle of their `riscv,cpu-intc` node (a child of the
/// hart's cpu node), with that node's `#interrupt-cells`.
fn cpu_intc_map(fdt: &Fdt<'static>) -> Vec<(u32, u64, u32)> {
    let mut map = Vec::new();
    let mut cpu: Option<u64> = None;
    for n in fdt.nodes() {
        if n.depth() == 3 && n.parent_name() == "cpus" {
            cpu = n.reg().next().map(|(id, _)| id).filter(|_| n.str_property("device_type") == Some("cpu"));
        } else if n.depth() == 4 && n.is_compatible("riscv,cpu-intc") {
            if let (Some(id), Some(ph)) = (cpu, phandle_of(&n)) {
                map.push((ph, id, n.u32_property("#interrupt-cells").unwrap_or(1)));
            }
        } else if n.depth() <= 3 {
            cpu = None;
        }
    }
    map
}

fn phandle_of(n: &Node<'static>) -> Option<u32> {
    n.u32_property("phandle").or_else(|| n.u32_property("linux,phandle"))
}

/// A device's `interrupts-extended` as (hart id if the phandle is a hart's
/// cpu-intc, first interrupt cell) entries, or `None` if it has none. An
/// entry whose controller cannot be found (so its length is unknown) ends
/// the list there: harts after it go unserved rather than misplaced.
fn listed_harts(fdt: &Fdt<'static>, node: &Node<'static>, intc: &[(u32, u64, u32)]) -> Option<Vec<(Option<u64>, u32)>> {
    let cells: Vec<u32> = node.property("interrupts-extended")?.cells().collect();
    let mut entries = Vec::new();
    let mut rest = cells.as_slice();
    while let Some((&ph, tail)) = rest.split_first() {
        let (hart, count) = match intc.iter().find(|(p, _, _)| *p == ph) {
            Some(&(_, id, count)) => (Some(id), count),
            None => match fdt.find_phandle(ph).and_then(|n| n.u32_property("#interrupt-cells")) {
                Some(count) => (None, count),
                None => break,
            },
        };
        let Some(args) = tail.get(..count as usize) else { break };
        entries.push((hart, args.first().copied().unwrap_or(u32::MAX)));
        rest = &tail[count as usize..];
    }
    Some(entries)
}

/// The memory reservation block and every `/reserved-memory` child, all
/// of them or an error: a shorter list would hand reserved RAM to a capsule.
fn read_reserved(fdt: &Fdt<'static>) -> Result<Vec<Range>, PlatformError> {
    let mut reserved = Vec::new();
    let mut add = |base: u64, size: u64| -> Result<(), PlatformError> {
        match Range::new(base, size) {
            Ok(r) if reserved.len() < MAX_RESERVED => reserved.push(r),
            Ok(_) => return Err(PlatformError::TooManyReservations),
            Err(memrange::RangeError::Empty) => {}
            Err(memrange::RangeError::Overflow { .. }) => return Err(PlatformError::BadReservation { base, size }),
        }
        Ok(())
    };
    for (base, size) in fdt.memory_reservations() {
        add(base, size)?;
    }
    for node in fdt.nodes().filter(|n| n.depth() == 3 && n.parent_name() == "reserved-memory") {
        for (base, size) in node.reg_exact().ok_or(PlatformError::UnreadableReservation)? {
            add(base, size)?;
        }
    }
    Ok(reserved)
}

fn read_harts(fdt: &Fdt<'static>) -> Vec<Hart> {
    let mut harts: Vec<Hart> = fdt
        .nodes()
        .filter(|n| n.depth() == 3 && n.parent_name() == "cpus")
        .filter(|n| n.str_property("device_type") == Some("cpu"))
        .filter_map(|n| {
            let (id, _) = n.reg().next()?;
            let isa_string = n.str_property("riscv,isa");
            let isa = isa_from_extensions(&n, isa_string)
                .or_else(|| isa_string.map(Into::into))
                .unwrap_or_else(|| "unknown".into());
            let mmu = n.str_property("mmu-type").filter(|m| *m != "riscv,none");
            Some(Hart {
                id,
                isa,
                mmu: mmu.map(Into::into),
                usable: n.is_enabled() && mmu.is_some(),
            })
        })
        .collect();
    harts.sort_by_key(|h| h.id);
    harts
}

/// The newer binding: `riscv,isa-base` (`rv64i`) and the string list
/// `riscv,isa-extensions`, which kernels prefer to `riscv,isa` when both
/// are present. As one string: the width, the single letters in the order
/// listed, then `_` and each multi-letter extension. The width comes from
/// the base, or else from `riscv,isa`.
fn isa_from_extensions(n: &Node<'static>, isa_string: Option<&str>) -> Option<alloc::string::String> {
    let list = n.property("riscv,isa-extensions")?;
    let width_of = |s: &str| -> Option<alloc::string::String> {
        let lower = s.trim().get(..4)?.to_ascii_lowercase();
        (lower == "rv32" || lower == "rv64").then_some(lower)
    };
    let mut out = n
        .str_property("riscv,isa-base")
        .and_then(width_of)
        .or_else(|| isa_string.and_then(width_of))?;
    let exts: Vec<alloc::string::String> = list
        .strings()
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty() && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .collect();
    for e in exts.iter().filter(|e| e.len() == 1) {
        out.push_str(e);
    }
    for e in exts.iter().filter(|e| e.len() > 1) {
        out.push('_');
        out.push_str(e);
    }
    Some(out)
}

pub(crate) fn mmio_of(node: &Node<'static>) -> Option<Mmio> {
    let (base, size) = node.reg().next()?;
    let compatible = node.property("compatible")?.strings().next()?;
    Some(Mmio { base, size, compatible })
}

pub(crate) fn first_compatible(fdt: &Fdt<'static>, list: &[&'static str]) -> Option<Mmio> {
    list.iter()
        .find_map(|c| fdt.compatible(c).next())
        .and_then(|n| mmio_of(&n))
}
