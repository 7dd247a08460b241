//! A hypervisor panic: say where and why, then power off with status 1.

use core::panic::PanicInfo;

use crate::run::console::force_println;
use crate::{arch::cpu, platform::power};

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    let hart = cpu::hart_id();
    match info.location() {
        Some(loc) => force_println!(
            "[diosix] hart {hart} panicked at {}:{}:{}: {}",
            loc.file(),
            loc.line(),
            loc.column(),
            info.message()
        ),
        None => force_println!("[diosix] hart {hart} panicked: {}", info.message()),
    }
    power::exit(1)
}
