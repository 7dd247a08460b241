//! Bringing the system up: the boot hart reads the device tree, prints the
//! boot report, creates the boot capsule (and those the manifest starts)
//! and lets the other harts, which checked in and waited, run vcores. Its modules: the boot report and the harts'
//! check-in. What the build put into the executable is in `built`.

pub mod harts;
pub mod report;

use alloc::vec::Vec;

use devtree::{Console, Fdt, Platform};
use memrange::Range;

use crate::arch::phys::Phys;
use crate::arch::{cpu, heap, layout, machine};
use crate::built::{storage, supervisor};
use crate::isolation::pmp;
use crate::platform::{clint, power};
use crate::run::console::{self, println};
use crate::run::{capsule, sched, timer};

/// Why a hart whose timer compare register fails its check is left out.
const TIMER_BROKEN: &str = "its timer does not work (a deadline in the future or the past does not show in \
     mip.MTIP, as with QEMU's second-socket MTIMER and 32-bit accesses); it is left out and runs no vcore";

/// Checks this hart's timer; if it does not work, says so and takes the
/// hart out (no vcore runs on it). True if it was taken out.
fn timer_checked_out(hart: usize) -> bool {
    let broken = !clint::timer_works(hart);
    if broken {
        println!("[diosix] hart {hart}: {TIMER_BROKEN}");
        harts::check_out(hart);
    }
    broken
}

/// Polls the boot hart makes while waiting for the others to check in.
const CHECK_IN_SPINS: usize = 50_000_000;

/// The boot hart's Rust entry, from `_start`.
pub extern "C" fn boot_main(hart: usize, dtb: usize) -> ! {
    let state = machine::init_hart();
    harts::check_in(hart);
    heap::init();
    // The device tree first, then the console it names: the early guess
    // (QEMU virt's 16550) is a different device on other boards.
    let read = read_platform(dtb);
    let console = read.as_ref().ok().and_then(|(p, _)| p.console);
    let base = match console {
        Some(Console::Uart(u)) => Phys::new(u.mmio.base).map(Phys::as_usize),
        _ => None,
    };
    // The early guess is QEMU virt's UART: kept only there, or when the
    // tree cannot be read (then there is nothing better to say it on).
    let virt = read.as_ref().map_or(true, |(p, _)| p.model.is_some_and(|m| m.starts_with("riscv-virtio")));
    let chosen = console::init(console, base, virt);
    match (console, chosen) {
        (_, console::Chosen::Named) => {}
        (Some(Console::Uart(u)), _) => println!(
            "[diosix] the UART at {:#x} lies beyond this hypervisor's reach; using QEMU virt's",
            u.mmio.base
        ),
        _ if read.is_ok() => println!("[diosix] the device tree names no console diosix can drive; using QEMU virt's UART"),
        _ => {}
    }
    println!(
        "diosix {} ({}) starting on hart {hart} in M-mode",
        env!("CARGO_PKG_VERSION"),
        report::TARGET
    );
    if let Err(e) = state {
        println!("[diosix] hart {hart}: {e}");
        power::exit(2);
    }
    let (platform, tree) = match read {
        Ok(p) => p,
        Err(e) => {
            println!("[diosix] cannot read the device tree at {dtb:#x}: {e}");
            power::exit(2);
        }
    };
    power::init(platform.poweroff, platform.reboot);
    if platform.hart_timers.is_empty() {
        println!("[diosix] the device tree names no CLINT or ACLINT: capsules cannot have timers or IPIs");
        power::exit(2);
    }
    if let Err(h) = clint::init(&platform.hart_timers) {
        println!("[diosix] hart {h}'s CLINT/ACLINT registers lie beyond this {}-bit hypervisor's reach", usize::BITS);
        power::exit(2);
    }
    timer_checked_out(hart);
    harts::release(platform.usable_harts().map(|h| h.id as usize));
    selftest(&platform);

    let expected: alloc::vec::Vec<usize> = platform
        .usable_harts()
        .map(|h| h.id as usize)
        .filter(|&id| id < layout::MAX_HARTS)
        .collect();
    let all_in = harts::wait_for(expected.iter().copied(), CHECK_IN_SPINS);
    report::print(&platform, all_in);
    report::print_supervisor(supervisor::bytes());
    report::print_storage();

    if let Err(e) = pmp::check_locks() {
        println!("[diosix] cannot confine the boot capsule on hart {hart}: {e}");
        power::exit(2);
    }
    timer::init(platform.timebase_hz.unwrap_or(10_000_000));
    sched::init();
    let online: Vec<usize> = platform.usable_harts().map(|h| h.id as usize).filter(|&id| harts::is_online(id)).collect();
    if let Err(e) = capsule::create_boot(&platform, &online, tree) {
        println!("[diosix] cannot create the boot capsule: {e}");
        power::exit(2)
    }
    capsule::autostart(storage::IMAGES);
    if !harts::runs_vcores(hart) {
        // This hart cannot run vcores: the others run them.
        let first = platform.usable_harts().map(|h| h.id as usize).find(|&h| harts::is_online(h));
        println!("[diosix] hart {hart} cannot run vcores: the boot capsule starts on hart {}", first.unwrap_or(0));
        cpu::park()
    }
    sched::start(hart)
}

/// The other harts' Rust entry: check in, wait for the boot hart to set up
/// the platform, then wait for a vcore to run.
pub extern "C" fn secondary_main(hart: usize, _dtb: usize) -> ! {
    if let Err(e) = machine::init_hart() {
        // Not checked in: the boot hart reports it missing and no vcore
        // ever runs here.
        harts::wait_for_release();
        println!("[diosix] hart {hart}: {e}; it stays out of use");
        cpu::park();
    }
    harts::wait_for_release();
    if timer_checked_out(hart) {
        cpu::park();
    }
    if let Err(e) = pmp::check_locks() {
        // Not checked in: no vcore ever runs here.
        println!("[diosix] hart {hart}: {e}; it runs no vcore");
        cpu::park();
    }
    harts::check_in(hart);
    if !harts::runs_vcores(hart) {
        // A hart the device tree gives no S-mode or MMU (a monitor core).
        cpu::park();
    }
    sched::start(hart)
}

/// The platform, and where the firmware's device tree lies (to keep).
fn read_platform(dtb: usize) -> Result<(Platform, Range), devtree::PlatformError> {
    // SAFETY: firmware (or QEMU) passes the device tree's address in a1 and
    // leaves it in RAM that the hypervisor does not overwrite. The header is
    // read first, and only `totalsize` bytes (bounded by MAX_TOTAL_SIZE) are
    // then treated as the tree.
    let header = unsafe { core::slice::from_raw_parts(dtb as *const u8, 40) };
    let size = Fdt::total_size(header)?;
    let blob = unsafe { core::slice::from_raw_parts(dtb as *const u8, size) };
    let fdt = Fdt::parse(blob)?;
    let range = Range::new(dtb as u64, size as u64).map_err(|_| devtree::Error::Truncated)?;
    Ok((Platform::from_fdt(&fdt)?, range))
}

/// Deliberate failures, asked for on the hypervisor's command line
/// (`/chosen/bootargs`, e.g. QEMU's `-append`), so that tests can prove the
/// failure paths report and exit rather than hang.
fn selftest(platform: &Platform) {
    if platform.has_bootarg("diosix.selftest=panic") {
        panic!("self-test: panic requested on the command line");
    }
    if platform.has_bootarg("diosix.selftest=pmp-lock") {
        // What an earlier boot stage might leave: a locked PMP entry that
        // lets S/U-mode reach a device. The capsule must then not run.
        let base = platform.uart().and_then(|u| Phys::new(u.mmio.base)).map_or(console::EARLY_UART, Phys::as_usize);
        println!("[diosix] self-test: locking PMP entry 8 over {base:#x} as an earlier stage might");
        pmp::lock_entry_for_selftest(base);
    }
    if platform.has_bootarg("diosix.selftest=trap") {
        println!("[diosix] self-test: executing an illegal instruction");
        // SAFETY: deliberately raises an illegal-instruction exception,
        // which the trap vector reports before powering off.
        unsafe { core::arch::asm!("unimp") };
    }
}
