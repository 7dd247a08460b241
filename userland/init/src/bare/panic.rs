//! A panic in init: report it, then power off if we are PID 1 (PID 1 must
//! never exit), or exit otherwise.

use core::fmt::{self, Write};
use core::panic::PanicInfo;

use super::sys;

struct Stderr;

impl Write for Stderr {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let _ = sys::write(2, s.as_bytes());
        Ok(())
    }
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    let _ = writeln!(Stderr, "\ninit: panic: {info}");
    if sys::getpid() == 1 {
        sys::sync();
        let _ = sys::reboot(sys::LINUX_REBOOT_CMD_POWER_OFF);
        sys::sleep_forever()
    }
    sys::exit_group(101)
}
