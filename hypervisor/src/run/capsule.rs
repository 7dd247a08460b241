//! Capsules: what the hypervisor enforces for each (its RAM, its vcores),
//! creating them from an image, and ending them.
//!
//! Every capsule lives in the registry until it ends. Ending one marks it
//! dying: its vcores stop wherever they are (a hart running one is kicked
//! and drops it; the run queue drops the queued ones), and when the last
//! reference goes its RAM is zeroed and returned to the pool, and it may
//! be started again from its image.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Deref;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use capsule::{GuestHart, GuestTree, Layout, LayoutError, RamPool, isa, memory};
use devtree::Platform;
use memrange::{Range, Size};
use payload::Kernel;
use sbi::HartSet;

use crate::arch::layout::{self, MAX_HARTS};
use crate::arch::phys::{self, Phys};
use crate::arch::{XLEN, machine};
use crate::built::settings::{
    BOOT_CAPSULE_ARGS as BOOTARGS, BOOT_CAPSULE_MIB as RAM_MIB, BOOT_CAPSULE_VCORES as VCORES, OFFER_PVPANIC,
    WATCHDOG_SECONDS,
};
use crate::built::storage::{Image, OnDeath};
use crate::built::supervisor;
use crate::devices::glue::Devices;
use crate::platform::{clint, power};
use crate::run::console::{self, force_println, println};
use crate::run::vcore::{self, Resume, Ticks, Vcore};
use crate::run::{mailbox, sched};

/// Most vcores a capsule may have (Linux's NR_CPUS in our kernels).
pub const MAX_VCORES: usize = 16;

/// A capsule: what the hypervisor enforces for it.
pub struct Capsule {
    /// Never given to another capsule while the hypervisor runs; a
    /// restarted capsule keeps its own.
    pub id: u32,
    pub name: String,
    pub ram: Range,
    /// Its vcores' ids, `0..n`: the hart ids its device tree lists and its
    /// SBI calls name, whatever physical harts run them.
    pub harts: HartSet,
    pub vcores: Vec<Vcore>,
    pub entry: u64,
    pub tree: u64,
    /// The boot capsule: its end is the machine's.
    pub boot: bool,
    dying: AtomicBool,
    /// Where it came from, to start it again (none for the boot capsule).
    origin: Option<Origin>,
    /// Times it was started again after dying.
    pub restarts: u32,
    /// Start it again once it is gone (set as it ends): NOT_AGAIN,
    /// AFTER_DEATH (counts toward its restart limit) or AFTER_REBOOT.
    again: AtomicU32,
    /// The watchdog: when it last polled its console, and whether it ever
    /// did (a capsule that never polls is never judged).
    last_poll: Ticks,
    polled: AtomicBool,
    /// When its kernel reported a panic through pvpanic
    /// ([`NOT_PANICKED`]: never); it ends a second later.
    panicked: Ticks,
    pub created_at: u64,
    /// Its emulated devices (`devices/glue.rs`).
    pub devices: Devices,
}

impl Capsule {
    /// True if `addr..addr+len` lies inside the capsule's RAM.
    pub fn owns(&self, addr: u64, len: u64) -> bool {
        match Range::new(addr, len.max(1)) {
            Ok(r) => self.ram.contains_range(&r),
            Err(_) => false,
        }
    }

    /// How messages name it: "boot capsule", or "capsule 3 (web)".
    pub fn title(&self) -> String {
        if self.boot { String::from("boot capsule") } else { alloc::format!("capsule {} ({})", self.id, self.name) }
    }

    pub fn is_dying(&self) -> bool {
        self.dying.load(Ordering::SeqCst)
    }

    /// None of its vcores runs or waits for a hart: it waits for an
    /// interrupt (or is off).
    pub fn is_idle(&self) -> bool {
        self.vcores.iter().all(|v| v.is(vcore::BLOCKED) || v.is(vcore::OFF))
    }

    /// The capsule polled its console: it is alive, and from now on watched.
    pub fn console_polled(&self) {
        self.last_poll.set(clint::mtime());
        self.polled.store(true, Ordering::Relaxed);
    }

    /// A reference to its vcore `id`.
    pub fn vcore(self: &Arc<Self>, id: usize) -> Option<VcoreRef> {
        (id < self.vcores.len()).then(|| VcoreRef { capsule: self.clone(), index: id })
    }
}

/// A vcore, with its capsule kept alive while anyone holds it.
#[derive(Clone)]
pub struct VcoreRef {
    pub capsule: Arc<Capsule>,
    index: usize,
}

impl Deref for VcoreRef {
    type Target = Vcore;
    fn deref(&self) -> &Vcore {
        &self.capsule.vcores[self.index]
    }
}

pub enum CapsuleError {
    Kernel(payload::Error),
    Layout(LayoutError),
    Tree,
    /// No hart that checked in can run a vcore.
    NoHart,
    /// Zero vcores, or more than a capsule may have.
    Vcores(usize),
    /// Not enough free RAM: what was asked for, and the largest block.
    NoRoom { asked: u64, largest: u64 },
    /// An address of the capsule M-mode cannot reach (never, since its RAM
    /// is chosen below that; checked all the same).
    Unreachable(u64),
}

impl fmt::Display for CapsuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CapsuleError::Kernel(e) => write!(f, "the image is unusable: {e}"),
            CapsuleError::Layout(e) => write!(f, "{e}"),
            CapsuleError::Tree => write!(f, "cannot write the capsule's device tree"),
            CapsuleError::NoHart => write!(f, "no hart can run a vcore"),
            CapsuleError::Vcores(n) => write!(f, "{n} vcores asked for; a capsule has 1 to {MAX_VCORES}"),
            CapsuleError::NoRoom { asked, largest } => {
                write!(f, "not enough free RAM: {} asked for, the largest free block is {}", Size(*asked), Size(*largest))
            }
            CapsuleError::Unreachable(a) => write!(f, "the capsule's address {a:#x} lies beyond this hypervisor's reach"),
        }
    }
}

/// What every capsule's device tree takes from the machine.
struct MachineInfo {
    hart: GuestHart,
    timebase_hz: u32,
}

static MACHINE: spin::Once<MachineInfo> = spin::Once::new();
static REGISTRY: spin::Mutex<Vec<Arc<Capsule>>> = spin::Mutex::new(Vec::new());
static NEXT_ID: AtomicU32 = AtomicU32::new(1);

const NOT_PANICKED: u64 = u64::MAX;

const NOT_AGAIN: u32 = 0;
const AFTER_DEATH: u32 = 1;
const AFTER_REBOOT: u32 = 2;
/// The RAM no capsule has: what capsules are made from.
static POOL: spin::Once<spin::Mutex<RamPool>> = spin::Once::new();

/// Free RAM for more capsules: the bytes in all, and the largest block
/// aligned as a capsule's RAM must be.
pub fn free_ram() -> (u64, u64) {
    POOL.get().map_or((0, 0), |p| {
        let p = p.lock();
        (p.free_bytes(), p.largest(memory::alignment(XLEN)))
    })
}

/// Every capsule now alive.
pub fn all() -> Vec<Arc<Capsule>> {
    REGISTRY.lock().clone()
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
        Some(e) if !e.is_empty() && !BOOTARGS.is_empty() => alloc::format!("{BOOTARGS} {e}"),
        Some(e) if !e.is_empty() => e,
        _ => String::from(BOOTARGS),
    }
}

/// The image a capsule was started from, kept to start it again.
#[derive(Clone)]
pub enum Origin {
    /// Bundled into the executable; its manifest entry says what a death
    /// does.
    Bundled(&'static Image),
    /// Sent by the boot capsule's manager: its RAM stays taken while a
    /// capsule started from it is left, even once it is no longer listed.
    Uploaded(Arc<dyn AsRef<[u8]> + Send + Sync>),
}

/// What a new capsule is to be.
pub struct Spec<'a> {
    /// `None` for a new capsule; a restarted one keeps its id.
    pub id: Option<u32>,
    pub name: &'a str,
    pub image: &'a [u8],
    pub ram_bytes: u64,
    pub vcores: usize,
    pub bootargs: String,
    pub boot: bool,
    pub origin: Option<Origin>,
    pub restarts: u32,
}

/// Sets up the RAM pool and the machine facts capsules are made from,
/// then creates the boot capsule, whose vcores run on the `online` harts
/// (those that checked in).
pub fn create_boot(p: &Platform, online: &[usize], host_tree: Range) -> Result<Arc<Capsule>, CapsuleError> {
    let online: Vec<usize> = online.iter().copied().filter(|&id| id < MAX_HARTS).collect();
    let first = online.iter().min().copied().ok_or(CapsuleError::NoHart)?;
    let h = p.harts.iter().find(|h| h.id as usize == first).ok_or(CapsuleError::NoHart)?;
    // Sstc only if every hart a vcore may run on has it turned on.
    let offer = isa::Offer { sstc: online.iter().all(|&id| machine::has_sstc(id)) };
    let fallback = if XLEN == payload::Xlen::Rv64 { "rv64imac" } else { "rv32imac" };
    MACHINE.call_once(|| MachineInfo {
        hart: GuestHart {
            id: 0,
            isa: isa::for_capsule(&h.isa, offer).unwrap_or_else(|| String::from(fallback)),
            mmu: h.mmu.clone().unwrap_or_default(),
        },
        timebase_hz: p.timebase_hz.unwrap_or(10_000_000) as u32,
    });
    let mut reserved = alloc::vec![layout::image(), host_tree];
    reserved.extend(p.reserved.iter().copied());
    // RAM M-mode cannot address (above 4 GiB on rv32) is never a capsule's.
    reserved.extend(phys::unreachable());
    POOL.call_once(|| spin::Mutex::new(RamPool::new(&p.ram, &reserved)));

    let vcores = if VCORES == 0 { online.len().min(MAX_VCORES) } else { VCORES as usize };
    let spec = Spec {
        id: None,
        name: "boot",
        image: supervisor::bytes(),
        ram_bytes: RAM_MIB << 20,
        vcores,
        bootargs: bootargs(p.bootargs),
        boot: true,
        origin: None,
        restarts: 0,
    };
    let c = create(&spec)?;
    let list = |l: &mut dyn Iterator<Item = usize>| l.map(|i| alloc::format!("{i}")).collect::<Vec<String>>().join(" ");
    // Its vcores run on any of the harts listed.
    println!(
        "boot capsule: ram {} ({}), vcores {} on harts {}, entry {:#x}, device tree at {:#x}, bootargs \"{}\"",
        c.ram,
        Size(c.ram.size()),
        list(&mut (0..c.vcores.len())),
        list(&mut online.iter().copied()),
        c.entry,
        c.tree,
        spec.bootargs
    );
    let (free, largest) = free_ram();
    println!("ram for more capsules: {} free, largest block {}", Size(free), Size(largest));
    Ok(c)
}

/// Creates the capsules the manifest marks to start at boot.
pub fn autostart(images: &'static [Image]) {
    for image in images.iter().filter(|i| i.autostart) {
        let spec = Spec {
            id: None,
            name: image.name,
            image: image.bytes,
            ram_bytes: u64::from(image.ram_mib) << 20,
            vcores: image.vcores as usize,
            bootargs: args_or_default(image.bootargs),
            boot: false,
            origin: Some(Origin::Bundled(image)),
            restarts: 0,
        };
        launch(&spec);
    }
}

/// A capsule's command line: its image's own (from the manifest), else
/// the boot capsule's setting.
pub fn args_or_default(args: &str) -> String {
    String::from(if args.is_empty() { BOOTARGS } else { args })
}

/// Says that capsule `c` started, where and how big.
pub fn report_started(c: &Capsule) {
    println!(
        "[diosix] capsule {} ({}) started: ram {} ({}), {} vcore{}",
        c.id,
        c.name,
        c.ram,
        Size(c.ram.size()),
        c.vcores.len(),
        if c.vcores.len() == 1 { "" } else { "s" }
    );
}

/// Starts capsule `like` again from `origin`, with its id, name, RAM and
/// vcores (it is gone: nothing else has that id).
fn start_again(like: &Capsule, origin: &Origin, restarts: u32) {
    let (image, args): (&[u8], &str) = match origin {
        Origin::Bundled(i) => (i.bytes, i.bootargs),
        Origin::Uploaded(held) => (held.as_ref().as_ref(), ""),
    };
    launch(&Spec {
        id: Some(like.id),
        name: &like.name,
        image,
        ram_bytes: like.ram.size(),
        vcores: like.vcores.len(),
        bootargs: args_or_default(args),
        boot: false,
        origin: Some(origin.clone()),
        restarts,
    });
}

/// Creates and starts a capsule the hypervisor itself decided on (at
/// boot, or again after it ended); says how it went.
fn launch(spec: &Spec) {
    match create(spec) {
        Ok(c) => report_started(&c),
        Err(e) => println!("[diosix] cannot start capsule {}: {e}", spec.name),
    }
}

/// Creates a capsule from `spec` and queues its first vcore. On failure
/// nothing has changed (RAM taken is given back).
pub fn create(spec: &Spec) -> Result<Arc<Capsule>, CapsuleError> {
    if spec.vcores == 0 || spec.vcores > MAX_VCORES {
        return Err(CapsuleError::Vcores(spec.vcores));
    }
    let kernel = Kernel::parse(spec.image, XLEN).map_err(CapsuleError::Kernel)?;
    let info = MACHINE.get().ok_or(CapsuleError::NoHart)?;
    let pool = POOL.get().ok_or(CapsuleError::NoHart)?;
    let align = memory::alignment(XLEN);
    let ram = {
        let mut pool = pool.lock();
        if spec.boot {
            pool.take_for_kernel(spec.ram_bytes, align, kernel.lowest_paddr()).map_err(CapsuleError::Layout)
        } else {
            // Where its kernel is linked to run if that RAM is free (a
            // kernel that cannot move, such as an rv32 test guest), else
            // the best fit.
            let size = spec.ram_bytes.div_ceil(align).saturating_mul(align);
            pool.take_preferring(kernel.lowest_paddr(), size, align).map_err(|e| match e {
                LayoutError::NoRoom { largest } => CapsuleError::NoRoom { asked: size, largest },
                e => CapsuleError::Layout(e),
            })
        }?
    };
    match load(spec, &kernel, ram, info) {
        Ok(c) => Ok(c),
        Err(e) => {
            // Whatever was written goes before the RAM is free again.
            zero(ram);
            let _ = pool.lock().give_back(ram);
            Err(e)
        }
    }
}

/// Loads the kernel and its device tree into `ram` and registers the
/// capsule, its first vcore queued.
fn load(spec: &Spec, kernel: &Kernel, ram: Range, info: &MachineInfo) -> Result<Arc<Capsule>, CapsuleError> {
    let plan = Layout::new(ram, kernel).map_err(CapsuleError::Layout)?;
    let (lo, hi) = vdev::map::SPAN;
    if ram.start() < hi && ram.end() > lo {
        // Its device windows would lie inside its RAM (no board diosix
        // runs on has RAM there).
        return Err(CapsuleError::Unreachable(lo));
    }
    let tree = GuestTree {
        ram,
        harts: (0..spec.vcores as u32).map(|id| GuestHart { id, ..info.hart.clone() }).collect(),
        boot_hart: 0,
        timebase_hz: info.timebase_hz,
        bootargs: spec.bootargs.clone(),
        pvpanic: OFFER_PVPANIC,
    };
    let blob = tree.to_blob().ok_or(CapsuleError::Tree)?;
    if blob.len() as u64 > memory::TREE_SPACE {
        return Err(CapsuleError::Tree);
    }
    for (seg, data) in kernel.segments() {
        let dst = plan.segment_address(kernel, seg.paddr);
        let zero_len = usize::try_from(seg.mem_size - seg.file_size).ok();
        let (Some(at), Some(zeroes), Some(zero_len)) = (Phys::new(dst), Phys::new(dst + seg.file_size), zero_len) else {
            return Err(CapsuleError::Unreachable(dst));
        };
        // SAFETY: Layout::new checked that the kernel's whole span lies in
        // the capsule's RAM, which the pool gave to this capsule alone,
        // clear of the hypervisor and the firmware's tree and below what
        // M-mode reaches; no vcore of it runs yet.
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
    let ids: Vec<usize> = (0..spec.vcores).collect();
    let c = Arc::new(Capsule {
        id: spec.id.unwrap_or_else(|| NEXT_ID.fetch_add(1, Ordering::SeqCst)),
        name: String::from(spec.name),
        ram,
        harts: HartSet::from_ids(&ids),
        vcores: ids.iter().map(|&id| Vcore::new(id)).collect(),
        entry: plan.entry,
        tree: plan.tree,
        boot: spec.boot,
        dying: AtomicBool::new(false),
        origin: spec.origin.clone(),
        restarts: spec.restarts,
        again: AtomicU32::new(NOT_AGAIN),
        last_poll: Ticks::new(0),
        polled: AtomicBool::new(false),
        panicked: Ticks::new(NOT_PANICKED),
        created_at: clint::mtime(),
        devices: Devices::new(spec.vcores, spec.boot),
    });
    REGISTRY.lock().push(c.clone());
    console::capsule_added(&c);
    let first = c.vcore(0).expect("a capsule has at least one vcore");
    start_vcore(&first, plan.entry as usize, plan.tree as usize);
    Ok(c)
}

/// Starts a stopped vcore at `addr` with a1 = `opaque` (HSM hart_start,
/// and a capsule's first vcore); false if it was not stopped.
pub fn start_vcore(v: &VcoreRef, addr: usize, opaque: usize) -> bool {
    if v.hsm.compare_exchange(vcore::STOPPED, vcore::START_PENDING, Ordering::SeqCst, Ordering::SeqCst).is_err() {
        return false;
    }
    *v.resume.lock() = Resume::At { addr, opaque };
    if v.shift(vcore::OFF, vcore::QUEUED) {
        sched::enqueue(v.clone());
    }
    true
}

/// How a capsule ends.
pub enum Ending<'a> {
    /// SBI system reset: shutdown.
    Shutdown { failure: bool },
    /// SBI system reset: a reboot.
    Reboot { failure: bool },
    /// It cannot go on: an unhandled trap, a watchdog verdict.
    Died(&'a str),
}

/// Ends capsule `c`. The boot capsule's end is the machine's: a shutdown
/// powers it off, a reboot resets it, a death powers off with status 4.
/// Any other capsule ends alone: its vcores stop, and once nothing uses
/// it its RAM is zeroed and freed; a death restarts it where its manifest
/// entry says so (up to its limit), and a reboot always does.
pub fn end(c: &Arc<Capsule>, how: Ending) {
    if c.boot {
        sched::report_stats();
        match how {
            Ending::Shutdown { failure } => {
                let why = if failure { " (system failure)" } else { "" };
                println!("\n[diosix] boot capsule shut down the system{why}");
                power::exit(if failure { 5 } else { 0 })
            }
            Ending::Reboot { failure } => {
                let why = if failure { " (system failure)" } else { "" };
                println!("\n[diosix] boot capsule asked for a reboot{why}: resetting the machine");
                power::reset()
            }
            Ending::Died(why) => {
                force_println!("\n[diosix] boot capsule died: {why}");
                power::exit(4)
            }
        }
    }
    if c.dying.swap(true, Ordering::SeqCst) {
        return; // already ending
    }
    let again = match &how {
        Ending::Shutdown { .. } => {
            println!("\n[diosix] capsule {} ({}) shut down", c.id, c.name);
            NOT_AGAIN
        }
        Ending::Reboot { .. } => {
            // Asked for by the capsule (SBI reset) or its manager (restart).
            println!("\n[diosix] capsule {} ({}) reboots: starting it again", c.id, c.name);
            AFTER_REBOOT
        }
        Ending::Died(why) => {
            let secs = clint::mtime().saturating_sub(c.created_at) / crate::run::timer::hz();
            println!("\n[diosix] capsule {} ({}) died after {secs} s: {why}", c.id, c.name);
            match c.origin {
                Some(Origin::Bundled(i)) if i.on_death == OnDeath::Restart && c.restarts < i.restart_limit => {
                    println!("[diosix] restarting {} (restart {} of {})", c.name, c.restarts + 1, i.restart_limit);
                    AFTER_DEATH
                }
                Some(Origin::Bundled(i)) if i.on_death == OnDeath::Restart => {
                    println!("[diosix] {} reached its restart limit ({}); it stays stopped", c.name, i.restart_limit);
                    NOT_AGAIN
                }
                _ => NOT_AGAIN,
            }
        }
    };
    c.again.store(again, Ordering::SeqCst);
    REGISTRY.lock().retain(|o| !Arc::ptr_eq(o, c));
    console::capsule_removed(c);
    // Harts running its vcores drop them at their next trap: make it now.
    let me = crate::arch::cpu::hart_id();
    for v in &c.vcores {
        let hart = v.on_hart.load(Ordering::SeqCst);
        if hart < MAX_HARTS && hart != me {
            mailbox::post(hart, mailbox::KICK);
        }
    }
}

impl Drop for Capsule {
    /// The last reference is gone: no hart runs or queues its vcores. Its
    /// RAM is zeroed and goes back to the pool; it starts again if it was
    /// to.
    fn drop(&mut self) {
        zero(self.ram);
        let back = POOL.get().map(|p| p.lock().give_back(self.ram));
        if let Some(Err(e)) = back {
            println!("[diosix] capsule {}'s RAM {} could not go back to the pool: {e:?}", self.id, self.ram);
        }
        let (free, _) = free_ram();
        let ms = crate::run::timer::ms;
        let ran: u64 = self.vcores.iter().map(|v| v.ran.get()).sum();
        let waited: u64 = self.vcores.iter().map(|v| v.steal.get()).sum();
        println!(
            "[diosix] capsule {} ({}) is gone after {} ms on harts ({} ms waiting for one); {} free for capsules",
            self.id,
            self.name,
            ms(ran),
            ms(waited),
            Size(free)
        );
        let again = self.again.load(Ordering::SeqCst);
        if let Some(origin) = self.origin.as_ref().filter(|_| again != NOT_AGAIN) {
            // A reboot it asked for is not a death: it does not count.
            start_again(self, origin, self.restarts + u32::from(again == AFTER_DEATH));
        }
    }
}

/// RAM from the capsules' pool for something that is not a capsule (an
/// uploaded image): `size` bytes, page-aligned; on failure what was
/// asked and the largest free block.
pub fn take_ram(size: u64) -> Result<Range, CapsuleError> {
    let pool = POOL.get().ok_or(CapsuleError::NoHart)?;
    let size = size.max(1).div_ceil(4096).saturating_mul(4096);
    pool.lock().take(size, 4096).map_err(|e| match e {
        LayoutError::NoRoom { largest } => CapsuleError::NoRoom { asked: size, largest },
        e => CapsuleError::Layout(e),
    })
}

/// Gives back RAM from [`take_ram`], zeroed first.
pub fn give_ram(ram: Range) {
    zero(ram);
    if let Some(Err(e)) = POOL.get().map(|p| p.lock().give_back(ram)) {
        println!("[diosix] RAM {ram} could not go back to the pool: {e:?}");
    }
}

/// Zeroes a capsule's RAM.
fn zero(ram: Range) {
    let (Some(at), Ok(len)) = (Phys::new(ram.start()), usize::try_from(ram.size())) else { return };
    // SAFETY: the range was the capsule's, which nothing else uses now (no
    // vcore of it runs, and the pool does not hand it out until it is
    // given back after this).
    unsafe { core::ptr::write_bytes(at.ptr::<u8>(), 0, len) };
}

/// Wakes blocked vcores whose deadline passed by `now`; returns the
/// earliest deadline still waited for. The capsules looked at are left
/// in `held`, for the caller to let go of once it holds no lock (the
/// last reference to one that ended zeroes its RAM as it goes).
pub fn wake_sleepers(now: u64, held: &mut Vec<Arc<Capsule>>) -> u64 {
    let mut earliest = u64::MAX;
    *held = all();
    for c in held.iter() {
        for i in 0..c.vcores.len() {
            let v = &c.vcores[i];
            if !v.is(vcore::BLOCKED) {
                continue;
            }
            if v.should_wake(now) {
                if let Some(r) = c.vcore(i) {
                    sched::wake(&r);
                }
            } else if v.wake_on.load(Ordering::SeqCst) & crate::arch::csr::STIP != 0 {
                earliest = earliest.min(v.deadline.get());
            }
        }
    }
    earliest
}

/// Capsule `c`'s kernel wrote `events` to its pvpanic register. A panic
/// ends it at the tick a second or more later (its kernel goes on
/// printing what it has to say meanwhile); a panic with a crash kernel
/// loaded leaves it to that kernel.
pub fn kernel_panicked(c: &Capsule, events: u8) {
    if events & vdev::pvpanic::CRASH_LOADED != 0 {
        println!("[diosix] {}: its kernel panicked; its crash kernel takes over", c.title());
    } else if events & vdev::pvpanic::PANICKED != 0 && c.panicked.get() == NOT_PANICKED {
        c.panicked.set(clint::mtime());
    }
}

/// The one-second tick: a capsule whose kernel reported a panic a second
/// ago or more ends as dead. So does a capsule that polled its console
/// once and has not for [`WATCHDOG_SECONDS`] (a Linux that panicked stops
/// polling, though its timer goes on): that catches a panic in a kernel
/// with no pvpanic driver. A capsule with a suspended vcore is asleep,
/// not dead, and gets the full time again.
pub fn watchdog(now: u64, hz: u64) {
    for c in all() {
        let panicked = c.panicked.get();
        if panicked != NOT_PANICKED && now.saturating_sub(panicked) >= hz && !c.is_dying() {
            end(&c, Ending::Died("its kernel panicked (it said so through pvpanic)"));
            continue;
        }
        if WATCHDOG_SECONDS == 0 || !c.polled.load(Ordering::Relaxed) || c.is_dying() {
            continue;
        }
        if c.vcores.iter().any(|v| v.hsm.load(Ordering::SeqCst) == vcore::SUSPENDED) {
            c.last_poll.set(now);
            continue;
        }
        let silent = now.saturating_sub(c.last_poll.get()) / hz.max(1);
        if silent >= WATCHDOG_SECONDS {
            let why = alloc::format!("it stopped responding (no console poll for {silent} s; a kernel panic?)");
            end(&c, Ending::Died(&why));
        }
    }
}
