//! [`Os`] on Linux, through [`sys`].

use core::ffi::CStr;

use super::sys;
use super::tty::Tty;
use crate::errno::{EINTR, ENAMETOOLONG, EPERM, Errno};
use crate::os::{Counter, CounterError, CpuSet, Exit, Fd, Os, Power, SysInfo};

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

    fn getdents(&mut self, fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
        sys::getdents64(fd, buf)
    }

    fn close(&mut self, fd: Fd) {
        sys::close(fd);
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
            write_all(STDOUT, b"init: not PID 1, so ending would not crash a kernel\n");
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
