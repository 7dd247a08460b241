mod entry;
mod sbi;

use core::fmt::Write;

/// Rust entry, on the boot hart, after relocation.
#[unsafe(no_mangle)]
extern "C" fn guest_main(hart: usize, dtb: usize) -> ! {
    let mut out = sbi::Console;
    let _ = writeln!(out, "testguest: hello from hart {hart}, device tree at {dtb:#x}");
    sbi::shutdown()
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let _ = writeln!(sbi::Console, "testguest: panic: {}", info.message());
    sbi::shutdown_failure()
}
