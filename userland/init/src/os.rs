//! What the prompt needs from the operating system, as a trait.
//!
//! On the target `bare::linux` implements it with raw syscalls; the unit
//! tests implement it with an in-memory fake. Everything above this trait
//! (commands, /proc parsing, formatting) is portable and tested on the host.

use core::fmt;

use crate::errno::Errno;

/// A file descriptor.
pub type Fd = i32;

/// What `sysinfo(2)` tells us, in plain units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SysInfo {
    pub uptime_s: u64,
    /// 1, 5 and 15 minute load averages, fixed point with 16 fraction bits.
    pub loads: [u64; 3],
    pub total_bytes: u64,
    pub free_bytes: u64,
    pub procs: u16,
}

/// How a child program ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

/// What `poweroff` and `reboot` ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Power {
    Off,
    Restart,
}

pub trait Os {
    /// Writes to the console (may buffer until `flush` or a newline).
    fn write(&mut self, bytes: &[u8]);
    fn flush(&mut self);
    /// Reads console input; `Ok(0)` is the end of input.
    fn read_input(&mut self, buf: &mut [u8]) -> Result<usize, Errno>;
    /// True when the console is a terminal we must echo input to.
    fn echo(&self) -> bool;

    /// Opens a file (or, with `dir`, a directory) for reading.
    fn open(&mut self, path: &str, dir: bool) -> Result<Fd, Errno>;
    fn read(&mut self, fd: Fd, buf: &mut [u8]) -> Result<usize, Errno>;
    /// Fills `buf` with `linux_dirent64` records; `Ok(0)` at the end.
    fn getdents(&mut self, fd: Fd, buf: &mut [u8]) -> Result<usize, Errno>;
    fn close(&mut self, fd: Fd);

    fn sysinfo(&mut self) -> Result<SysInfo, Errno>;
    /// True if `path` exists and may be executed.
    fn executable(&mut self, path: &str) -> bool;
    /// Runs a program on the console and waits for it.
    fn run(&mut self, path: &str, argv: &[&str]) -> Result<Exit, Errno>;
    /// Powers off or restarts; returns only if that failed.
    fn power(&mut self, how: Power) -> Errno;
    /// Collects any exited children (PID 1 inherits orphans).
    fn reap(&mut self);
    /// Ends /init (as PID 1, the kernel then panics); returns only if it
    /// refused to.
    fn end_init(&mut self) -> Errno;
}

/// Lets `write!` and `writeln!` print to an [`Os`].
pub struct Out<'a>(pub &'a mut dyn Os);

impl fmt::Write for Out<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.write(s.as_bytes());
        Ok(())
    }
}
