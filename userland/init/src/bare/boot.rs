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

/// Makes /dev/console our stdin, stdout and stderr, and our controlling
/// terminal (so a shell we run gets job control and Ctrl-C).
pub fn console() {
    if let Ok(fd) = sys::openat(c"/dev/console", sys::O_RDWR | sys::O_NOCTTY) {
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
