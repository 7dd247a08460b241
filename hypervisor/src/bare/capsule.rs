//! The boot capsule: its RAM, its harts, its kernel and device tree.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use capsule::{GuestHart, GuestTree, Layout, LayoutError, RamPool, isa, memory};
use devtree::Platform;
use memrange::{Range, Size};
use payload::Kernel;
use sbi::HartSet;

use super::console::println;
use super::layout::{self, MAX_HARTS};
use super::phys::{self, Phys};
use super::report::XLEN;
use super::{harts, machine, supervisor};

use super::settings::{BOOT_CAPSULE_ARGS as BOOTARGS, BOOT_CAPSULE_MIB as RAM_MIB, BOOT_CAPSULE_VCORES as VCORES};

/// A capsule: what the hypervisor enforces for it.
pub struct Capsule {
    pub name: &'static str,
    pub ram: Range,
    /// Its vcores' ids, `0..n`: the hart ids its device tree lists and its
    /// SBI calls name, whatever physical harts run them.
    pub harts: HartSet,
    /// The physical hart each vcore runs on (pinned, for now), by vcore id.
    hart_of: [usize; MAX_HARTS],
    /// The other way: the vcore each hart runs, `usize::MAX` for none
    /// (looked up on every SBI call, so a table, not a search).
    vcore_of: [usize; MAX_HARTS],
    pub entry: u64,
    pub tree: u64,
    /// The hart the first vcore starts on: the boot hart, unless it
    /// cannot run vcores.
    pub first_vcore: usize,
}

impl Capsule {
    /// The physical hart that runs vcore `vcore`.
    pub fn hart_of(&self, vcore: usize) -> Option<usize> {
        self.harts.contains(vcore).then(|| self.hart_of[vcore])
    }

    /// The vcore that physical hart `hart` runs, if any.
    pub fn vcore_of(&self, hart: usize) -> Option<usize> {
        self.vcore_of.get(hart).copied().filter(|&v| v != usize::MAX)
    }

    /// True if `addr..addr+len` lies inside the capsule's RAM.
    pub fn owns(&self, addr: u64, len: u64) -> bool {
        match Range::new(addr, len.max(1)) {
            Ok(r) => self.ram.contains_range(&r),
            Err(_) => false,
        }
    }
}

pub enum CapsuleError {
    Kernel(payload::Error),
    Layout(LayoutError),
    Tree,
    /// No hart that checked in can run a vcore.
    NoHart,
    /// An address of the capsule M-mode cannot reach (never, since its RAM
    /// is chosen below that; checked all the same).
    Unreachable(u64),
}

impl fmt::Display for CapsuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CapsuleError::Kernel(e) => write!(f, "the supervisor is unusable: {e}"),
            CapsuleError::Layout(e) => write!(f, "{e}"),
            CapsuleError::Tree => write!(f, "cannot write the capsule's device tree"),
            CapsuleError::NoHart => write!(f, "no hart can run a vcore"),
            CapsuleError::Unreachable(a) => write!(f, "the capsule's address {a:#x} lies beyond this hypervisor's reach"),
        }
    }
}

static BOOT: spin::Once<Capsule> = spin::Once::new();

/// The RAM no capsule has: what more capsules would be made from.
static POOL: spin::Once<spin::Mutex<RamPool>> = spin::Once::new();

/// Free RAM for more capsules: the bytes in all, and the largest block
/// aligned as a capsule's RAM must be.
pub fn free_ram() -> (u64, u64) {
    POOL.get().map_or((0, 0), |p| {
        let p = p.lock();
        (p.free_bytes(), p.largest(memory::alignment(XLEN)))
    })
}

/// The boot capsule's command line: the built-in one, plus whatever
/// follows ` -- ` on the hypervisor's own command line (so `cargo xtask
/// run --append "-- init=/bin/sh"` reaches the capsule's kernel).
pub fn bootargs(host: Option<&str>) -> String {
    let extra = host.and_then(|h| {
        let h = alloc::format!(" {h}");
        h.split_once(" -- ").map(|(_, rest)| String::from(rest.trim()))
    });
    match extra {
        Some(e) if !e.is_empty() => alloc::format!("{BOOTARGS} {e}"),
        _ => String::from(BOOTARGS),
    }
}

/// The boot capsule, once created.
pub fn boot() -> Option<&'static Capsule> {
    BOOT.get()
}

/// Creates the boot capsule: picks its RAM (avoiding the hypervisor and
/// the firmware's device tree at `host_tree`), loads the supervisor and
/// writes the capsule's device tree.
pub fn create_boot(p: &Platform, host_tree: Range, boot_hart: usize) -> Result<&'static Capsule, CapsuleError> {
    let kernel = Kernel::parse(supervisor::bytes(), XLEN).map_err(CapsuleError::Kernel)?;
    // Only harts that checked in (running, with a working timer) get
    // vcores; the first vcore goes to the boot hart if it is one of them,
    // else to the lowest that is.
    let mut ids: Vec<usize> = p
        .usable_harts()
        .map(|h| h.id as usize)
        .filter(|&id| id < MAX_HARTS && harts::is_online(id))
        .collect();
    let first = if ids.contains(&boot_hart) { boot_hart } else { *ids.iter().min().ok_or(CapsuleError::NoHart)? };
    ids.retain(|&id| id != first);
    ids.insert(0, first);
    if let Some(n) = core::num::NonZeroU64::new(VCORES) {
        if n.get() > ids.len() as u64 {
            // A vcore cannot share a hart yet (no scheduler): say so
            // rather than quietly giving fewer.
            let (have, s) = (ids.len(), if ids.len() == 1 { "" } else { "s" });
            println!(
                "[diosix] DIOSIX_BOOT_CAPSULE_VCORES asks for {n} vcores, but only {have} hart{s} can run them and a vcore cannot share a hart yet: the boot capsule gets {have}"
            );
        }
        ids.truncate(n.get() as usize);
    }
    ids.sort();
    let mut reserved = alloc::vec![layout::image(), host_tree];
    reserved.extend(p.reserved.iter().copied());
    // RAM M-mode cannot address (above 4 GiB on rv32) is never a capsule's.
    reserved.extend(phys::unreachable());
    let mut pool = RamPool::new(&p.ram, &reserved);
    let ram = pool
        .take_for_kernel(RAM_MIB << 20, memory::alignment(XLEN), kernel.lowest_paddr())
        .map_err(CapsuleError::Layout)?;
    POOL.call_once(|| spin::Mutex::new(pool));
    let plan = Layout::new(ram, &kernel).map_err(CapsuleError::Layout)?;

    // Sstc only if every hart the capsule runs on has it turned on.
    let offer = isa::Offer { sstc: ids.iter().all(|&id| machine::has_sstc(id)) };
    // Vcore v runs on ids[v]: the capsule's own hart ids are 0..n.
    let guest_harts = ids
        .iter()
        .filter_map(|&id| p.harts.iter().find(|h| h.id as usize == id))
        .enumerate()
        .map(|(vcore, h)| GuestHart {
            id: vcore as u32,
            isa: isa::for_capsule(&h.isa, offer).unwrap_or_else(|| String::from(if XLEN == payload::Xlen::Rv64 { "rv64imac" } else { "rv32imac" })),
            mmu: h.mmu.clone().unwrap_or_default(),
        })
        .collect();
    let tree = GuestTree {
        ram,
        harts: guest_harts,
        boot_hart: ids.iter().position(|&h| h == first).unwrap_or(0) as u32,
        timebase_hz: p.timebase_hz.unwrap_or(10_000_000) as u32,
        bootargs: bootargs(p.bootargs),
    };
    let blob = tree.to_blob().ok_or(CapsuleError::Tree)?;
    if blob.len() as u64 > memory::TREE_SPACE {
        return Err(CapsuleError::Tree);
    }

    for (seg, data) in kernel.segments() {
        let dst = plan.segment_address(&kernel, seg.paddr);
        let zero_len = usize::try_from(seg.mem_size - seg.file_size).ok();
        let (Some(at), Some(zeroes), Some(zero_len)) = (Phys::new(dst), Phys::new(dst + seg.file_size), zero_len) else {
            return Err(CapsuleError::Unreachable(dst));
        };
        // SAFETY: Layout::new checked that the kernel's whole span lies in
        // the capsule's RAM, which the pool keeps clear of the
        // hypervisor and the firmware's tree, and below what M-mode
        // reaches; nothing else uses it yet.
        unsafe {
            core::ptr::copy_nonoverlapping(data.as_ptr(), at.ptr::<u8>(), data.len());
            core::ptr::write_bytes(zeroes.ptr::<u8>(), 0, zero_len);
        }
    }
    let tree_at = Phys::new(plan.tree).ok_or(CapsuleError::Unreachable(plan.tree))?;
    // SAFETY: plan.tree .. + TREE_SPACE is the top of the capsule's RAM,
    // above the kernel (checked by Layout::new) and unused.
    unsafe {
        core::ptr::copy_nonoverlapping(blob.as_ptr(), tree_at.ptr::<u8>(), blob.len());
    }

    let mut hart_of = [0; MAX_HARTS];
    hart_of[..ids.len()].copy_from_slice(&ids);
    let mut vcore_of = [usize::MAX; MAX_HARTS];
    for (v, &h) in ids.iter().enumerate() {
        vcore_of[h] = v;
    }
    let vcores: Vec<usize> = (0..ids.len()).collect();
    let capsule = BOOT.call_once(|| Capsule {
        name: "boot capsule",
        ram,
        harts: HartSet::from_ids(&vcores),
        hart_of,
        vcore_of,
        entry: plan.entry,
        tree: plan.tree,
        first_vcore: first,
    });
    let list = |l: &[usize]| l.iter().map(|i| alloc::format!("{i}")).collect::<Vec<String>>().join(" ");
    println!(
        "boot capsule: ram {} ({}), vcores {} on harts {}, entry {:#x}, device tree at {:#x}, bootargs \"{}\"",
        ram,
        Size(ram.size()),
        list(&vcores),
        list(&ids),
        plan.entry,
        plan.tree,
        tree.bootargs
    );
    let (free, largest) = free_ram();
    println!("ram for more capsules: {} free, largest block {}", Size(free), Size(largest));
    Ok(capsule)
}
