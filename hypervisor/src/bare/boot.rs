//! Bringing the system up: the boot hart reads the device tree, prints the
//! boot report and (until the boot capsule runs) powers off; the other
//! harts check in and wait.

use devtree::{Fdt, Platform};

use super::console::{self, println};
use super::{harts, heap, layout, power, report, supervisor};

/// Polls the boot hart makes while waiting for the others to check in.
const CHECK_IN_SPINS: usize = 50_000_000;

/// The boot hart's Rust entry, from `_start`.
pub extern "C" fn boot_main(hart: usize, dtb: usize) -> ! {
    harts::check_in(hart);
    heap::init();
    println!(
        "diosix {} ({}) starting on hart {hart} in M-mode",
        env!("CARGO_PKG_VERSION"),
        report::TARGET
    );
    let platform = match read_platform(dtb) {
        Ok(p) => p,
        Err(e) => {
            println!("[diosix] cannot read the device tree at {dtb:#x}: {e}");
            power::exit(2);
        }
    };
    if let Some(uart) = platform.uart {
        console::set_base(uart.base as usize);
    }
    power::init(platform.poweroff);
    selftest(&platform);

    let expected: alloc::vec::Vec<usize> = platform
        .usable_harts()
        .map(|h| h.id as usize)
        .filter(|&id| id < layout::MAX_HARTS)
        .collect();
    let all_in = harts::wait_for(expected.iter().copied(), CHECK_IN_SPINS);
    report::print(&platform, all_in);
    report::print_supervisor(supervisor::bytes());

    println!("[diosix] the boot capsule is not started yet: powering off");
    power::exit(0)
}

/// The other harts' Rust entry: check in, then wait for work.
pub extern "C" fn secondary_main(hart: usize, _dtb: usize) -> ! {
    harts::check_in(hart);
    super::cpu::park()
}

fn read_platform(dtb: usize) -> Result<Platform, devtree::PlatformError> {
    // SAFETY: firmware (or QEMU) passes the device tree's address in a1 and
    // leaves it in RAM that the hypervisor does not overwrite. The header is
    // read first, and only `totalsize` bytes (bounded by MAX_TOTAL_SIZE) are
    // then treated as the tree.
    let header = unsafe { core::slice::from_raw_parts(dtb as *const u8, 40) };
    let size = Fdt::total_size(header)?;
    let blob = unsafe { core::slice::from_raw_parts(dtb as *const u8, size) };
    let fdt = Fdt::parse(blob)?;
    Platform::from_fdt(&fdt)
}

/// Deliberate failures, asked for on the hypervisor's command line
/// (`/chosen/bootargs`, e.g. QEMU's `-append`), so that tests can prove the
/// failure paths report and exit rather than hang.
fn selftest(platform: &Platform) {
    if platform.has_bootarg("diosix.selftest=panic") {
        panic!("self-test: panic requested on the command line");
    }
    if platform.has_bootarg("diosix.selftest=trap") {
        println!("[diosix] self-test: executing an illegal instruction");
        // SAFETY: deliberately raises an illegal-instruction exception,
        // which the trap vector reports before powering off.
        unsafe { core::arch::asm!("unimp") };
    }
}
