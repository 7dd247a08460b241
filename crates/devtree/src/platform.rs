//! What the hypervisor needs to know about the machine, read from its tree:
//! RAM, harts, the console UART, the timer, the interrupt controller and the
//! power-off device.

use alloc::vec::Vec;
use core::fmt;
use memrange::Range;

use crate::fdt::{Error, Fdt, Node};

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
    /// The `riscv,isa` string, e.g. `rv64imafdch_zicsr_...`.
    pub isa: alloc::string::String,
    /// The `mmu-type`, if any; a hart without one cannot host a Linux kernel.
    pub mmu: Option<alloc::string::String>,
    /// False for harts the tree marks disabled or that lack S-mode with an MMU.
    pub usable: bool,
}

/// Where each hart's machine timer and software interrupt registers are:
/// hart `h`'s msip word at `msip + 4h`, its mtimecmp at `mtimecmp + 8h`,
/// and the shared 64-bit mtime at `mtime`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerIpi {
    pub msip: u64,
    pub mtimecmp: u64,
    pub mtime: u64,
}

/// How the machine is powered off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowerOffKind {
    /// SiFive's test finisher (QEMU `virt`): 0x5555 passes, `code << 16 | 0x3333` fails.
    SifiveTest,
    /// A generic syscon register: `value` is written, no exit code can be given.
    Syscon,
}

/// The power-off device: write `value` to `base + offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PowerOff {
    pub base: u64,
    pub offset: u64,
    pub value: u32,
    pub kind: PowerOffKind,
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
    pub uart: Option<Mmio>,
    /// A CLINT, or an ACLINT MTIMER.
    pub timer: Option<Mmio>,
    /// The registers behind `timer` (and, for an ACLINT, its MSWI device).
    pub timer_ipi: Option<TimerIpi>,
    pub plic: Option<Mmio>,
    pub poweroff: Option<PowerOff>,
    /// The reset device (`syscon-reboot`), same shape as the power-off one.
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
}

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
        }
    }
}

const UART_COMPATIBLE: &[&str] = &["ns16550a", "ns16550"];
const CLINT_COMPATIBLE: &[&str] = &["riscv,clint0", "sifive,clint0"];
const TIMER_COMPATIBLE: &[&str] = &["riscv,clint0", "sifive,clint0", "riscv,aclint-mtimer"];
const PLIC_COMPATIBLE: &[&str] = &["riscv,plic0", "sifive,plic-1.0.0"];
const TEST_COMPATIBLE: &[&str] = &["sifive,test1", "sifive,test0"];

impl Platform {
    /// Reads a platform from a validated tree. The tree must live for the
    /// rest of the program (it does: firmware leaves it in RAM we never reuse
    /// before this is dropped; host tests leak their blobs).
    pub fn from_fdt(fdt: &Fdt<'static>) -> Result<Platform, PlatformError> {
        let ram = read_ram(fdt)?;
        let harts = read_harts(fdt);
        if harts.is_empty() {
            return Err(PlatformError::NoHarts);
        }
        let chosen = fdt.find_path("/chosen");
        Ok(Platform {
            model: fdt.find_path("/").and_then(|n| n.str_property("model")),
            ram,
            reserved: read_reserved(fdt),
            harts,
            timebase_hz: fdt
                .find_path("/cpus")
                .and_then(|n| n.u32_property("timebase-frequency"))
                .map(u64::from),
            uart: read_uart(fdt, chosen),
            timer: first_compatible(fdt, TIMER_COMPATIBLE),
            timer_ipi: read_timer_ipi(fdt),
            plic: first_compatible(fdt, PLIC_COMPATIBLE),
            poweroff: read_syscon(fdt, "syscon-poweroff", 0x5555),
            reboot: read_syscon(fdt, "syscon-reboot", 0x7777),
            bootargs: chosen.and_then(|c| c.str_property("bootargs")),
        })
    }

    /// Total bytes of RAM.
    pub fn ram_bytes(&self) -> u64 {
        self.ram.iter().map(|r| r.size()).sum()
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
    Ok(ram)
}

/// A SiFive CLINT has everything at fixed offsets; an ACLINT splits it
/// into an MTIMER (`reg`: mtime, then the mtimecmp array) and an MSWI.
fn read_timer_ipi(fdt: &Fdt<'static>) -> Option<TimerIpi> {
    if let Some(clint) = first_compatible(fdt, CLINT_COMPATIBLE) {
        return Some(TimerIpi { msip: clint.base, mtimecmp: clint.base + 0x4000, mtime: clint.base + 0xbff8 });
    }
    let mtimer = fdt.compatible("riscv,aclint-mtimer").next()?;
    let mut regs = mtimer.reg();
    let (mtime, _) = regs.next()?;
    let (mtimecmp, _) = regs.next()?;
    let mswi = fdt.compatible("riscv,aclint-mswi").next()?;
    let (msip, _) = mswi.reg().next()?;
    Some(TimerIpi { msip, mtimecmp, mtime })
}

fn read_reserved(fdt: &Fdt<'static>) -> Vec<Range> {
    let from_nodes = fdt
        .nodes()
        .filter(|n| n.depth() == 3 && n.parent_name() == "reserved-memory")
        .flat_map(|n| n.reg());
    fdt.memory_reservations()
        .chain(from_nodes)
        .filter_map(|(base, size)| Range::new(base, size).ok())
        .take(2 * crate::fdt::MAX_RESERVATIONS)
        .collect()
}

fn read_harts(fdt: &Fdt<'static>) -> Vec<Hart> {
    let mut harts: Vec<Hart> = fdt
        .nodes()
        .filter(|n| n.depth() == 3 && n.parent_name() == "cpus")
        .filter(|n| n.str_property("device_type") == Some("cpu"))
        .filter_map(|n| {
            let (id, _) = n.reg().next()?;
            let isa = n.str_property("riscv,isa").unwrap_or("unknown");
            let mmu = n.str_property("mmu-type").filter(|m| *m != "riscv,none");
            Some(Hart {
                id,
                isa: isa.into(),
                mmu: mmu.map(Into::into),
                usable: n.is_enabled() && mmu.is_some(),
            })
        })
        .collect();
    harts.sort_by_key(|h| h.id);
    harts
}

fn mmio_of(node: &Node<'static>) -> Option<Mmio> {
    let (base, size) = node.reg().next()?;
    let compatible = node.property("compatible")?.strings().next()?;
    Some(Mmio { base, size, compatible })
}

fn first_compatible(fdt: &Fdt<'static>, list: &[&'static str]) -> Option<Mmio> {
    list.iter()
        .find_map(|c| fdt.compatible(c).next())
        .and_then(|n| mmio_of(&n))
}

/// The UART `/chosen/stdout-path` names (a path or an alias, with optional
/// `:options`), or else the first 16550 in the tree.
fn read_uart(fdt: &Fdt<'static>, chosen: Option<Node<'static>>) -> Option<Mmio> {
    let named = chosen
        .and_then(|c| c.str_property("stdout-path"))
        .map(|p| p.split(':').next().unwrap_or(p))
        .and_then(|p| {
            if p.starts_with('/') {
                fdt.find_path(p)
            } else {
                let target = fdt.find_path("/aliases")?.str_property(p)?;
                fdt.find_path(target)
            }
        })
        .filter(|n| UART_COMPATIBLE.iter().any(|c| n.is_compatible(c)));
    match named {
        Some(node) => mmio_of(&node),
        None => first_compatible(fdt, UART_COMPATIBLE),
    }
}

/// A `syscon-poweroff`/`syscon-reboot` node, or else the SiFive test device
/// with `test_value` (what QEMU's virt board uses for each).
fn read_syscon(fdt: &Fdt<'static>, compat: &'static str, test_value: u32) -> Option<PowerOff> {
    if let Some(node) = fdt.compatible(compat).next() {
        let syscon = node.u32_property("regmap").and_then(|h| fdt.find_phandle(h))?;
        let (base, _) = syscon.reg().next()?;
        let kind = if TEST_COMPATIBLE.iter().any(|c| syscon.is_compatible(c)) {
            PowerOffKind::SifiveTest
        } else {
            PowerOffKind::Syscon
        };
        return Some(PowerOff {
            base,
            offset: u64::from(node.u32_property("offset").unwrap_or(0)),
            value: node.u32_property("value")?,
            kind,
        });
    }
    let test = first_compatible(fdt, TEST_COMPATIBLE)?;
    Some(PowerOff { base: test.base, offset: 0, value: test_value, kind: PowerOffKind::SifiveTest })
}
