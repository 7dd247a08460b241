//! [`Os`] on Linux, through [`sys`].

use core::ffi::CStr;
use core::sync::atomic::{AtomicI32, AtomicU32, Ordering};

use super::sys;
use super::tty::Tty;
use crate::errno::{EINTR, ENAMETOOLONG, EPERM, ETIMEDOUT, Errno};
use crate::os::{Counter, CounterError, CpuSet, Exit, Fd, Os, Power, Ready, SysInfo};

const STDIN: i32 = 0;
const STDOUT: i32 = 1;
const STDERR: i32 = 2;

/// The environment of programs we run.
const ENV: [&CStr; 3] = [
    c"HOME=/",
    c"PATH=/sbin:/bin:/usr/sbin:/usr/bin",
    c"TERM=vt100",
];

pub struct Linux {
    pub pid1: bool,
    pub tty: Option<Tty>,
    out: [u8; 512],
    out_len: usize,
}

impl Linux {
    pub fn new(pid1: bool, tty: Option<Tty>) -> Self {
        Self {
            pid1,
            tty,
            out: [0; 512],
            out_len: 0,
        }
    }
}

/// Copies `s` into `buf` with a NUL, as a C string.
fn c_str<'a>(buf: &'a mut [u8], s: &str) -> Result<&'a CStr, Errno> {
    let bytes = s.as_bytes();
    if bytes.len() >= buf.len() {
        return Err(ENAMETOOLONG);
    }
    buf[..bytes.len()].copy_from_slice(bytes);
    buf[bytes.len()] = 0;
    CStr::from_bytes_with_nul(&buf[..=bytes.len()]).map_err(|_| crate::errno::EINVAL)
}

/// Writes all of `bytes` to `fd`, giving up on errors other than EINTR.
pub fn write_all(fd: i32, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        match sys::write(fd, bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(EINTR) => {}
            Err(_) => return,
        }
    }
}

impl Os for Linux {
    fn write(&mut self, bytes: &[u8]) {
        if self.out_len + bytes.len() > self.out.len() {
            self.flush();
        }
        if bytes.len() > self.out.len() {
            write_all(STDOUT, bytes);
        } else {
            self.out[self.out_len..self.out_len + bytes.len()].copy_from_slice(bytes);
            self.out_len += bytes.len();
        }
    }

    fn flush(&mut self) {
        write_all(STDOUT, &self.out[..self.out_len]);
        self.out_len = 0;
    }

    fn read_input(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        self.flush();
        sys::read(STDIN, buf)
    }

    fn echo(&self) -> bool {
        self.tty.is_some()
    }

    fn open(&mut self, path: &str, dir: bool) -> Result<Fd, Errno> {
        let mut buf = [0u8; 256];
        let path = c_str(&mut buf, path)?;
        let flags = sys::O_RDONLY | sys::O_CLOEXEC | if dir { sys::O_DIRECTORY } else { 0 };
        sys::openat(path, flags)
    }

    fn read(&mut self, fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
        loop {
            match sys::read(fd, buf) {
                Err(EINTR) => continue,
                other => return other,
            }
        }
    }

    fn file_size(&mut self, fd: Fd) -> Result<Option<u64>, Errno> {
        sys::file_size(fd)
    }

    fn getdents(&mut self, fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
        sys::getdents64(fd, buf)
    }

    fn close(&mut self, fd: Fd) {
        sys::close(fd);
    }

    fn open_device(&mut self, path: &str) -> Result<Fd, Errno> {
        let mut buf = [0u8; 256];
        let path = c_str(&mut buf, path)?;
        sys::openat(
            path,
            sys::O_RDWR | sys::O_NONBLOCK | sys::O_NOCTTY | sys::O_CLOEXEC,
        )
    }

    fn write_fd(&mut self, fd: Fd, bytes: &[u8]) -> Result<usize, Errno> {
        sys::write(fd, bytes)
    }

    fn wait(&mut self, fd: Fd, write: bool, timeout_ns: u64) -> Result<Ready, Errno> {
        // What is on the console so far shows while we wait.
        self.flush();
        let timeout = sys::Timespec {
            sec: (timeout_ns / 1_000_000_000) as i64,
            nsec: (timeout_ns % 1_000_000_000) as i64,
        };
        let events = if write { sys::POLLOUT } else { sys::POLLIN };
        let got = sys::ppoll(fd, events, timeout)?;
        Ok(Ready {
            read: got & sys::POLLIN != 0,
            write: got & sys::POLLOUT != 0,
            hangup: got & (sys::POLLHUP | sys::POLLERR | sys::POLLNVAL) != 0,
        })
    }

    fn sysinfo(&mut self) -> Result<SysInfo, Errno> {
        let s = sys::sysinfo()?;
        let unit = u64::from(s.mem_unit.max(1));
        Ok(SysInfo {
            uptime_s: s.uptime.max(0) as u64,
            loads: s.loads.map(|l| l as u64),
            total_bytes: s.totalram as u64 * unit,
            free_bytes: s.freeram as u64 * unit,
            procs: s.procs,
        })
    }

    fn executable(&mut self, path: &str) -> bool {
        let mut buf = [0u8; 256];
        c_str(&mut buf, path).is_ok_and(|p| sys::faccessat(p, sys::X_OK).is_ok())
    }

    fn run(&mut self, path: &str, argv: &[&str]) -> Result<Exit, Errno> {
        // Every C string the child needs, made before forking.
        let mut path_buf = [0u8; 256];
        let path = c_str(&mut path_buf, path)?;
        let mut arg_bufs = [[0u8; 64]; 4];
        let mut args: [&CStr; 4] = [c""; 4];
        if argv.len() > args.len() {
            return Err(Errno(7)); // E2BIG
        }
        for ((slot, buf), arg) in args.iter_mut().zip(arg_bufs.iter_mut()).zip(argv) {
            *slot = c_str(buf, arg)?;
        }
        let args = &args[..argv.len()];

        self.flush();
        if let Some(tty) = &self.tty {
            tty.restore();
        }
        let result = match sys::fork() {
            Ok(0) => {
                let _ = sys::set_signal_ignored(sys::SIGTTOU, false);
                let e = sys::execve(path, args, &ENV);
                write_all(STDERR, b"init: execve failed: ");
                write_all(STDERR, e.message().unwrap_or("error").as_bytes());
                write_all(STDERR, b"\n");
                sys::exit_group(127)
            }
            Ok(pid) => wait_for(pid),
            Err(e) => Err(e),
        };
        // The shell may have left its own process group in the foreground.
        if let Ok(pgrp) = sys::getpgid() {
            let _ = sys::set_foreground(STDIN, pgrp);
        }
        if let Some(tty) = &self.tty {
            tty.enter_raw();
        }
        result
    }

    fn end_init(&mut self) -> Errno {
        self.flush();
        if !self.pid1 {
            write_all(
                STDOUT,
                b"init: not PID 1, so ending would not crash a kernel\n",
            );
            return EPERM;
        }
        sys::exit_group(1)
    }

    fn power(&mut self, how: Power) -> Errno {
        self.flush();
        if !self.pid1 {
            // A test run, perhaps as root on a real machine: never ask that
            // kernel to power off or restart.
            write_all(
                STDOUT,
                b"init: not PID 1, so not asking the kernel to do that\n",
            );
            return EPERM;
        }
        sys::sync();
        sys::reboot(match how {
            Power::Off => sys::LINUX_REBOOT_CMD_POWER_OFF,
            Power::Restart => sys::LINUX_REBOOT_CMD_RESTART,
        })
    }

    fn reap(&mut self) {
        while let Ok(Some(_)) = sys::waitid(sys::P_ALL, 0, sys::WNOHANG) {}
    }

    fn affinity(&mut self) -> Result<CpuSet, Errno> {
        sys::sched_getaffinity().map(CpuSet)
    }

    fn set_affinity(&mut self, cpus: &CpuSet) -> Result<(), Errno> {
        sys::sched_setaffinity(&cpus.0)
    }

    fn current_cpu(&mut self) -> Result<u32, Errno> {
        sys::getcpu()
    }

    fn monotonic_ns(&mut self) -> Result<u64, Errno> {
        let ts = sys::clock_gettime(sys::CLOCK_MONOTONIC)?;
        Ok((ts.sec.max(0) as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(ts.nsec.max(0) as u64))
    }

    fn sleep_ns(&mut self, ns: u64) -> Result<(), Errno> {
        let mut request = sys::Timespec {
            sec: (ns / 1_000_000_000) as i64,
            nsec: (ns % 1_000_000_000) as i64,
        };
        loop {
            let mut remaining = sys::Timespec::default();
            match sys::clock_nanosleep(sys::CLOCK_MONOTONIC, &request, &mut remaining) {
                Err(EINTR) => request = remaining,
                other => return other,
            }
        }
    }

    fn getppid(&mut self) -> i32 {
        sys::getppid()
    }

    fn map(&mut self, len: usize) -> Result<&'static mut [u8], Errno> {
        sys::mmap_anon(len)
    }

    fn unmap(&mut self, mem: &'static mut [u8]) {
        sys::munmap(mem);
    }

    fn ping_pong(&mut self, cpus: [u32; 2], rounds: u32) -> Result<u64, Errno> {
        // There: parent to child; back: child to parent.
        let [there_rx, there_tx] = sys::pipe()?;
        let [back_rx, back_tx] = match sys::pipe() {
            Ok(p) => p,
            Err(e) => {
                sys::close(there_rx);
                sys::close(there_tx);
                return Err(e);
            }
        };
        self.flush();
        let pid = match sys::fork() {
            Ok(0) => {
                // The child: pinned to the other CPU, it answers every byte
                // (the first one too, which is not timed).
                sys::close(there_tx);
                sys::close(back_rx);
                let ok = sys::pin(cpus[1]).is_ok()
                    && (0..=rounds).all(|_| {
                        read_byte(there_rx)
                            .and_then(|()| write_byte(back_tx))
                            .is_ok()
                    });
                sys::exit_group(if ok { 0 } else { 1 })
            }
            Ok(pid) => pid,
            Err(e) => {
                for fd in [there_rx, there_tx, back_rx, back_tx] {
                    sys::close(fd);
                }
                return Err(e);
            }
        };
        // Without the child's ends here, a child that died shows as the end
        // of the pipe instead of a read that never returns.
        sys::close(there_rx);
        sys::close(back_tx);
        let exchange = || write_byte(there_tx).and_then(|()| read_byte(back_rx));
        let result = exchange().and_then(|()| {
            let t0 = self.monotonic_ns()?;
            for _ in 0..rounds {
                exchange()?;
            }
            Ok(self.monotonic_ns()?.saturating_sub(t0))
        });
        sys::close(there_tx);
        sys::close(back_rx);
        match (wait_for(pid), result) {
            (_, Err(e)) => Err(e),
            (Ok(Exit::Code(0)), ok) => ok,
            (Ok(_), _) => Err(EPIPE),
            (Err(e), _) => Err(e),
        }
    }

    fn fence_storm(&mut self, others: &CpuSet, rounds: u32) -> Result<u64, Errno> {
        let n = (others.len() as usize).min(FENCE_MAX_THREADS);
        let page = sys::mmap_anon(PAGE)?;
        let shared_mem = match sys::mmap_anon(PAGE) {
            Ok(m) => m,
            Err(e) => {
                sys::munmap(page);
                return Err(e);
            }
        };
        let stacks = match sys::mmap_anon(n * FENCE_STACK) {
            Ok(m) => m,
            Err(e) => {
                sys::munmap(page);
                sys::munmap(shared_mem);
                return Err(e);
            }
        };
        page[0] = 1;
        let shared_ptr = shared_mem.as_mut_ptr().cast::<FenceShared>();
        // SAFETY: the page is zeroed, page aligned and larger than
        // FenceShared, whose fields are all valid as zeroes; it is written
        // once here, before any thread exists.
        unsafe {
            (*shared_ptr).page = page.as_mut_ptr() as usize;
            for (slot, cpu) in (*shared_ptr).cpus.iter_mut().zip(others.iter()) {
                *slot = cpu;
            }
        }
        // SAFETY: as above; from here on it is only read or used atomically.
        let shared = unsafe { &*shared_ptr };
        let result = self.fence_threads(shared, stacks, n, rounds);
        if result != Err(ETIMEDOUT) {
            sys::munmap(stacks);
            sys::munmap(shared_mem);
            sys::munmap(page);
        }
        // Else a thread may still run on its stack: leave the memory mapped.
        result
    }

    fn read_counter(&mut self, counter: Counter) -> Result<u64, CounterError> {
        let [rx, tx] = sys::pipe().map_err(CounterError::Os)?;
        self.flush();
        let pid = match sys::fork() {
            Ok(0) => {
                // The child: read, hand the value over, end.
                let value = match counter {
                    Counter::Time => sys::rdtime(),
                    Counter::Cycle => sys::rdcycle(),
                    Counter::Instret => sys::rdinstret(),
                };
                let ok = sys::write(tx, &value.to_le_bytes()) == Ok(8);
                sys::exit_group(if ok { 0 } else { 1 })
            }
            Ok(pid) => pid,
            Err(e) => {
                sys::close(rx);
                sys::close(tx);
                return Err(CounterError::Os(e));
            }
        };
        // Without our write end, a child that died leaves the pipe empty
        // and at its end rather than blocking the read below.
        sys::close(tx);
        let exit = wait_for(pid);
        let mut bytes = [0u8; 8];
        let mut got = 0;
        while got < bytes.len() {
            match sys::read(rx, &mut bytes[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(EINTR) => {}
                Err(_) => break,
            }
        }
        sys::close(rx);
        match exit {
            Ok(Exit::Code(0)) if got == bytes.len() => Ok(u64::from_le_bytes(bytes)),
            Ok(Exit::Code(0)) => Err(CounterError::Died(Exit::Code(0))),
            Ok(how) => Err(CounterError::Died(how)),
            Err(e) => Err(CounterError::Os(e)),
        }
    }
}

/// What a pipe read at its end or a dead partner gives `bench ipi`.
const EPIPE: Errno = Errno(32);

/// Reads one byte from `fd`.
fn read_byte(fd: i32) -> Result<(), Errno> {
    let mut b = [0u8; 1];
    loop {
        match sys::read(fd, &mut b) {
            Ok(1) => return Ok(()),
            Ok(_) => return Err(EPIPE),
            Err(EINTR) => {}
            Err(e) => return Err(e),
        }
    }
}

fn write_byte(fd: i32) -> Result<(), Errno> {
    loop {
        match sys::write(fd, b"x") {
            Ok(1) => return Ok(()),
            Ok(_) => return Err(EPIPE),
            Err(EINTR) => {}
            Err(e) => return Err(e),
        }
    }
}

/// `bench fence`: what the main thread and the others share, at the start
/// of a page of its own. Each thread's argument is this page's address
/// plus the thread's index.
#[repr(C)]
struct FenceShared {
    stop: AtomicU32,
    ready: AtomicU32,
    /// The page whose protection changes.
    page: usize,
    /// Each thread's id until it has exited (CLONE_CHILD_CLEARTID).
    tids: [AtomicI32; FENCE_MAX_THREADS],
    cpus: [u32; FENCE_MAX_THREADS],
}

const PAGE: usize = 4096;
const FENCE_MAX_THREADS: usize = 16;
const FENCE_STACK: usize = 64 << 10;
/// How long threads get to start or to end.
const FENCE_WAIT_NS: u64 = 30_000_000_000;

extern "C" fn fence_thread(arg: usize) -> ! {
    // SAFETY: `arg` is the shared page's address plus an index (see
    // FenceShared); the page outlives every thread (fence_storm unmaps it
    // only after each thread's tid was cleared, or never).
    let shared = unsafe { &*((arg & !(PAGE - 1)) as *const FenceShared) };
    let i = arg & (PAGE - 1);
    let _ = sys::pin(shared.cpus[i]);
    shared.ready.fetch_add(1, Ordering::SeqCst);
    let page = shared.page as *const u32;
    // Read the page, sleep a little, again: the CPU runs this address space
    // (so Linux counts it among those to fence) but idles in between, as
    // on a real machine, instead of four busy harts sharing a host's cores.
    let nap = sys::Timespec {
        sec: 0,
        nsec: 1_000_000,
    };
    while shared.stop.load(Ordering::Relaxed) == 0 {
        // SAFETY: the page stays mapped and readable while stop is 0.
        unsafe { core::ptr::read_volatile(page) };
        let _ = sys::clock_nanosleep(sys::CLOCK_MONOTONIC, &nap, &mut sys::Timespec::default());
    }
    sys::exit_thread()
}

impl Linux {
    /// Waits until `done()` holds, for at most [`FENCE_WAIT_NS`].
    fn wait_until(&mut self, done: impl Fn() -> bool) -> Result<(), Errno> {
        let start = self.monotonic_ns()?;
        while !done() {
            if self.monotonic_ns()?.saturating_sub(start) > FENCE_WAIT_NS {
                return Err(ETIMEDOUT);
            }
            let _ = self.sleep_ns(1_000_000);
        }
        Ok(())
    }

    /// The threads, the timed loop, and the end of the threads.
    fn fence_threads(
        &mut self,
        shared: &FenceShared,
        stacks: &mut [u8],
        n: usize,
        rounds: u32,
    ) -> Result<u64, Errno> {
        let base = ptr_addr(shared);
        let mut started = 0;
        let mut result = Ok(0);
        for i in 0..n {
            shared.tids[i].store(1, Ordering::SeqCst);
            let top = stacks.as_mut_ptr() as usize + (i + 1) * FENCE_STACK;
            // SAFETY: each thread has its own FENCE_STACK bytes of `stacks`
            // and its own tid word, both kept until its tid reads 0;
            // fence_thread only touches the shared page and then exits.
            match unsafe { sys::spawn_thread(top, shared.tids[i].as_ptr(), fence_thread, base + i) }
            {
                Ok(_) => started += 1,
                Err(e) => {
                    shared.tids[i].store(0, Ordering::SeqCst);
                    result = Err(e);
                    break;
                }
            }
        }
        if result.is_ok() {
            result = self
                .wait_until(|| shared.ready.load(Ordering::SeqCst) as usize == started)
                .and_then(|()| {
                    let t0 = self.monotonic_ns()?;
                    for r in 0..rounds {
                        sys::mprotect(shared.page, PAGE, sys::PROT_READ)?;
                        sys::mprotect(shared.page, PAGE, sys::PROT_READ | sys::PROT_WRITE)?;
                        // SAFETY: the page is mapped and writable again.
                        unsafe { core::ptr::write_volatile(shared.page as *mut u32, r) };
                    }
                    Ok(self.monotonic_ns()?.saturating_sub(t0))
                });
        }
        shared.stop.store(1, Ordering::SeqCst);
        self.wait_until(|| {
            shared.tids[..n]
                .iter()
                .all(|t| t.load(Ordering::SeqCst) == 0)
        })?;
        result
    }
}

fn ptr_addr<T>(r: &T) -> usize {
    core::ptr::from_ref(r) as usize
}

fn wait_for(pid: i32) -> Result<Exit, Errno> {
    loop {
        match sys::waitid(sys::P_PID, pid, 0) {
            Ok(Some(child)) if child.code == sys::CLD_EXITED => {
                return Ok(Exit::Code(child.status));
            }
            Ok(Some(child)) => return Ok(Exit::Signal(child.status)),
            Ok(None) | Err(EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
}
