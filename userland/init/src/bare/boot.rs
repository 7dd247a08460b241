//! What PID 1 sets up before the prompt: file systems, console, signals.

use core::ffi::CStr;
use core::fmt::Write;

use super::sys;
use crate::errno::{EBUSY, EEXIST, Errno};
use crate::os::Out;

const MS_NOSUID: usize = 2;
const MS_NODEV: usize = 4;
const MS_NOEXEC: usize = 8;

struct Mount {
    fstype: &'static CStr,
    target: &'static CStr,
    flags: usize,
}

const MOUNTS: [Mount; 3] = [
    Mount {
        fstype: c"devtmpfs",
        target: c"/dev",
        flags: MS_NOSUID,
    },
    Mount {
        fstype: c"proc",
        target: c"/proc",
        flags: MS_NOSUID | MS_NODEV | MS_NOEXEC,
    },
    Mount {
        fstype: c"sysfs",
        target: c"/sys",
        flags: MS_NOSUID | MS_NODEV | MS_NOEXEC,
    },
];

/// Results of mounting, kept until the console is ready to show them.
pub struct Mounted([Result<(), Errno>; MOUNTS.len()]);

/// Mounts /dev, /proc and /sys, making the directories if needed. A file
/// system that is already mounted there counts as success.
pub fn mount_all() -> Mounted {
    Mounted(MOUNTS.map(|m| {
        match sys::mkdirat(m.target, 0o755) {
            Ok(()) | Err(EEXIST) => {}
            Err(e) => return Err(e),
        }
        match sys::mount(m.fstype, m.target, m.fstype, m.flags) {
            Err(EBUSY) => Ok(()),
            other => other,
        }
    }))
}

impl Mounted {
    /// Prints a warning for each mount that failed.
    pub fn report(&self, out: &mut Out) {
        for (m, result) in MOUNTS.iter().zip(&self.0) {
            if let Err(e) = result {
                let target = m.target.to_str().unwrap_or("?");
                writeln!(out, "init: warning: cannot mount {target}: {e}").ok();
            }
        }
    }
}

/// How long PID 1 waits for a console, and how often it looks. A console
/// on a virtio port (`console=hvc0` over virtio) is registered by a work
/// item the driver schedules when the device announces the port, which
/// may run after the kernel has started init ("unable to open an initial
/// console"): without waiting, init would run with nothing to talk to.
const CONSOLE_WAIT_MS: i64 = 10_000;
const CONSOLE_RETRY_MS: i64 = 50;

/// Makes /dev/console our stdin, stdout and stderr, and our controlling
/// terminal (so a shell we run gets job control and Ctrl-C), waiting up
/// to [`CONSOLE_WAIT_MS`] for one to appear.
pub fn console() {
    let nap = sys::Timespec { sec: 0, nsec: CONSOLE_RETRY_MS * 1_000_000 };
    let mut waited = 0;
    let opened = loop {
        match sys::openat(c"/dev/console", sys::O_RDWR | sys::O_NOCTTY) {
            Ok(fd) => break Some(fd),
            Err(_) if waited < CONSOLE_WAIT_MS => {
                let _ = sys::clock_nanosleep(sys::CLOCK_MONOTONIC, &nap, &mut sys::Timespec::default());
                waited += CONSOLE_RETRY_MS;
            }
            Err(_) => break None,
        }
    };
    if let Some(fd) = opened {
        for target in 0..3 {
            if target != fd {
                let _ = sys::dup3(fd, target);
            }
        }
        if fd > 2 {
            sys::close(fd);
        }
    }
    let _ = sys::setsid();
    let _ = sys::set_controlling_tty(0);
}

/// Lets init take the terminal's foreground back after a shell, without
/// being stopped (or, as PID 1, refused) for doing so from the background.
pub fn signals() {
    let _ = sys::set_signal_ignored(sys::SIGTTOU, true);
}
