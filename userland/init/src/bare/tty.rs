//! Raw-ish console mode: we read byte by byte and do our own echo.

use super::sys::{self, Termios};

// asm-generic/termbits.h
const IGNCR: u32 = 0o200;
const INLCR: u32 = 0o100;
const ICRNL: u32 = 0o400;
const IXON: u32 = 0o2000;
const ISIG: u32 = 0o1;
const ICANON: u32 = 0o2;
const ECHO: u32 = 0o10;
const ECHONL: u32 = 0o100;
const IEXTEN: u32 = 0o100000;
const VTIME: usize = 5;
const VMIN: usize = 6;

/// A terminal whose original settings we keep, to hand it back to programs
/// we run and to restore on exit.
pub struct Tty {
    fd: i32,
    saved: Termios,
}

impl Tty {
    /// Puts `fd` into raw-ish mode, or returns `None` if it is not a
    /// terminal (a pipe in tests) or refuses.
    pub fn raw(fd: i32) -> Option<Tty> {
        let saved = sys::tcgets(fd).ok()?;
        let tty = Tty { fd, saved };
        tty.enter_raw().then_some(tty)
    }

    /// No line discipline editing, echo or signal keys: Ctrl-C and friends
    /// arrive as bytes. Output processing (LF to CRLF) stays on.
    pub fn enter_raw(&self) -> bool {
        let mut t = self.saved;
        t.lflag &= !(ICANON | ECHO | ECHONL | ISIG | IEXTEN);
        t.iflag &= !(ICRNL | INLCR | IGNCR | IXON);
        t.cc[VMIN] = 1;
        t.cc[VTIME] = 0;
        sys::tcsets(self.fd, &t).is_ok()
    }

    /// Back to the settings we found.
    pub fn restore(&self) {
        let _ = sys::tcsets(self.fd, &self.saved);
    }
}
