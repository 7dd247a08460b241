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

/// A set of CPU numbers, as `sched_setaffinity(2)` takes it (up to
/// [`CpuSet::MAX`] CPUs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuSet(pub [u64; 4]);

impl CpuSet {
    pub const MAX: u32 = 256;

    /// The set with just `cpu` (empty if `cpu` is too large).
    pub fn one(cpu: u32) -> Self {
        let mut s = Self::default();
        s.insert(cpu);
        s
    }

    /// Adds `cpu`; false if it is too large to hold.
    pub fn insert(&mut self, cpu: u32) -> bool {
        if cpu >= Self::MAX {
            return false;
        }
        self.0[(cpu / 64) as usize] |= 1 << (cpu % 64);
        true
    }

    pub fn contains(&self, cpu: u32) -> bool {
        cpu < Self::MAX && self.0[(cpu / 64) as usize] & (1 << (cpu % 64)) != 0
    }

    pub fn len(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The CPUs in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0..Self::MAX).filter(|&c| self.contains(c))
    }
}

/// What [`Os::wait`] found a device ready for; all false when the time ran
/// out first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ready {
    pub read: bool,
    pub write: bool,
    /// The other end is gone, or the device failed (`POLLHUP`, `POLLERR`,
    /// `POLLNVAL`): reading or writing will not wait any more.
    pub hangup: bool,
}

/// A counter CSR that user space reads directly (Zicntr), if the levels
/// below it allow (`scounteren`, `mcounteren`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    Time,
    Cycle,
    Instret,
}

impl Counter {
    pub fn name(self) -> &'static str {
        match self {
            Counter::Time => "time",
            Counter::Cycle => "cycle",
            Counter::Instret => "instret",
        }
    }
}

/// Why a counter could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CounterError {
    /// The process that read it ended without a value: killed by a signal
    /// (SIGILL, 4, if the counter is not readable from U-mode), or exited.
    Died(Exit),
    /// A system call around the read (pipe, fork, wait) failed.
    Os(Errno),
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
    /// The size of the file open as `fd`, or `None` if it is not a
    /// regular file (a directory, a device) (`statx`).
    fn file_size(&mut self, fd: Fd) -> Result<Option<u64>, Errno>;
    /// Fills `buf` with `linux_dirent64` records; `Ok(0)` at the end.
    fn getdents(&mut self, fd: Fd, buf: &mut [u8]) -> Result<usize, Errno>;
    fn close(&mut self, fd: Fd);

    /// Opens a character device for reading and writing, without blocking
    /// (`read` and `write_fd` fail with EAGAIN instead of waiting), and
    /// without making it our controlling terminal.
    fn open_device(&mut self, path: &str) -> Result<Fd, Errno>;
    /// Writes some of `bytes` to `fd`; how many were taken.
    fn write_fd(&mut self, fd: Fd, bytes: &[u8]) -> Result<usize, Errno>;
    /// Waits at most `timeout_ns` until `fd` can be read (or, with `write`,
    /// written) without waiting (`ppoll`).
    fn wait(&mut self, fd: Fd, write: bool, timeout_ns: u64) -> Result<Ready, Errno>;

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

    /// The CPUs this process may run on (`sched_getaffinity`).
    fn affinity(&mut self) -> Result<CpuSet, Errno>;
    /// Restricts this process to `cpus` (`sched_setaffinity`).
    fn set_affinity(&mut self, cpus: &CpuSet) -> Result<(), Errno>;
    /// The CPU this process is running on now (`getcpu`).
    fn current_cpu(&mut self) -> Result<u32, Errno>;
    /// `CLOCK_MONOTONIC`, in nanoseconds.
    fn monotonic_ns(&mut self) -> Result<u64, Errno>;
    /// Sleeps at least `ns` nanoseconds on `CLOCK_MONOTONIC`.
    fn sleep_ns(&mut self, ns: u64) -> Result<(), Errno>;
    /// Reads `counter` with its user-level instruction (`rdtime` and so on)
    /// in a child process, on the CPU this process is pinned to, so that a
    /// trap (SIGILL) ends only that child.
    fn read_counter(&mut self, counter: Counter) -> Result<u64, CounterError>;

    /// `getppid`: about the cheapest system call there is (`bench syscall`).
    fn getppid(&mut self) -> i32;
    /// `len` bytes of fresh, zeroed, private memory (`mmap`), until given
    /// back with [`Os::unmap`].
    fn map(&mut self, len: usize) -> Result<&'static mut [u8], Errno>;
    /// Gives back memory from [`Os::map`] (`munmap`).
    fn unmap(&mut self, mem: &'static mut [u8]);
    /// `bench ipi`: this process, pinned to `cpus[0]`, and a child pinned to
    /// `cpus[1]` pass a byte back and forth through two pipes `rounds`
    /// times; returns the nanoseconds that took (once both were running).
    fn ping_pong(&mut self, cpus: [u32; 2], rounds: u32) -> Result<u64, Errno>;
    /// `bench fence`: a thread pinned to each of `others` keeps reading a
    /// page while this thread takes write access to it away and gives it
    /// back (`mprotect`) `rounds` times; returns the nanoseconds that took.
    fn fence_storm(&mut self, others: &CpuSet, rounds: u32) -> Result<u64, Errno>;
}

/// Lets `write!` and `writeln!` print to an [`Os`].
pub struct Out<'a>(pub &'a mut dyn Os);

impl fmt::Write for Out<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.write(s.as_bytes());
        Ok(())
    }
}
