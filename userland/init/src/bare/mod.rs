//! The Linux executable: entry, syscalls and the boot sequence.

mod boot;
mod heap;
mod linux;
mod panic;
mod sys;
mod tty;

use core::fmt::Write;

use crate::autostart;
use crate::facts;
use crate::os::{Os, Out};
use crate::repl::{self, End};
use linux::Linux;
use tty::Tty;

/// What this build of init runs on, e.g. `riscv64gc` (set by build.rs).
const ARCH: &str = env!("INIT_ARCH");

/// Init proper, called from `_start`.
fn main() -> ! {
    heap::init();
    let pid1 = sys::getpid() == 1;
    let mounted = pid1.then(boot::mount_all);
    if pid1 {
        boot::console();
    }
    boot::signals();
    let mut os = Linux::new(pid1, Tty::raw(0));

    let mut out = Out(&mut os);
    match &mounted {
        Some(m) => m.report(&mut out),
        None => {
            writeln!(out, "init: not PID 1, so not mounting file systems").ok();
        }
    }
    let facts = facts::gather(out.0);
    let mut out = Out(&mut os);
    match sys::uname() {
        Ok(u) => facts::write_banner(
            &mut out,
            sys::Utsname::text(&u.release),
            sys::Utsname::text(&u.machine),
            ARCH,
            &facts,
        ),
        Err(_) => facts::write_banner(&mut out, "?", "?", ARCH, &facts),
    }
    .ok();

    autostart::run(&mut os);
    let end = repl::run(&mut os);
    let mut out = Out(&mut os);
    match end {
        End::Eof => writeln!(out, "\ninit: end of console input"),
        End::Error(e) => writeln!(out, "\ninit: cannot read the console: {e}"),
    }
    .ok();
    os.flush();
    if let Some(tty) = &os.tty {
        tty.restore();
    }
    if !pid1 {
        sys::exit_group(0);
    }
    // PID 1 must never exit: the kernel would panic.
    writeln!(Out(&mut os), "init: powering off").ok();
    os.flush();
    sys::sync();
    let e = sys::reboot(sys::LINUX_REBOOT_CMD_POWER_OFF);
    writeln!(Out(&mut os), "init: cannot power off: {e}; halting").ok();
    os.flush();
    sys::sleep_forever()
}
