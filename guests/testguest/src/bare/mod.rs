//! The test guest's runtime: entry, SBI calls, traps, and the scenarios.

/// Writes one line to the SBI console.
macro_rules! say {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let _ = writeln!($crate::bare::Console, $($arg)*);
    }};
}
#[allow(unused_imports)] // used by the scenarios module
pub(crate) use say;


mod alloc;
mod cost;
mod devices;
mod entry;
mod fuzz;
mod hext;
mod hostile;
mod keep;
mod multi;
mod sbi;
mod scenarios;
mod sstc;
mod trap;
mod virtio;
mod vregs;

use core::fmt::Write;

pub use sbi::Console;


/// Rust entry on the boot hart, after relocation.
#[unsafe(no_mangle)]
extern "C" fn guest_main(hart: usize, dtb: usize) -> ! {
    trap::install();
    let (scenario, ram) = scenarios::read_tree(dtb);
    say!("testguest: hart {hart}, scenario {scenario}");
    let ok = scenarios::run(scenario, hart, ram);
    say!("testguest: {}", if ok { "all passed" } else { "FAILED" });
    if ok { sbi::shutdown() } else { sbi::shutdown_failure() }
}

/// Rust entry on a hart started through HSM.
#[unsafe(no_mangle)]
extern "C" fn secondary_main(hart: usize, opaque: usize) -> ! {
    trap::install();
    scenarios::secondary(hart, opaque)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let _ = writeln!(sbi::Console, "testguest: FAIL panic: {}", info.message());
    sbi::shutdown_failure()
}
