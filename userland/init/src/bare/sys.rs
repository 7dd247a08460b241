//! Raw Linux system calls on RISC-V, and the process entry point.
//!
//! This is the only module with `unsafe` code or assembly. Calls use the
//! Linux RISC-V convention: number in `a7`, arguments in `a0`..`a5`, result
//! (or `-errno`) in `a0`; `ecall` preserves every other register. Numbers
//! are from the kernel's scripts/syscall.tbl and are the same on rv32 and
//! rv64 for every call used here except those that take a time: rv32 lacks
//! the time32 calls (`clock_gettime`, `clock_nanosleep`, `ppoll`, `wait4`),
//! so it uses their `_time64` forms, whose `struct __kernel_timespec` has
//! the same layout as rv64's `struct timespec`; children are waited for
//! with `waitid` on both. A file's size comes from `statx`, which has
//! the same number and layout on both (rv32 has no `fstat`).
//!
//! It also reads the user-level counter CSRs (`time`, `cycle`, `instret`),
//! which trap with SIGILL unless the levels below allow it.

use core::arch::{asm, global_asm};
use core::ffi::{CStr, c_char};
use core::ptr;

use crate::errno::{EINVAL, Errno};

mod nr {
    pub const DUP3: usize = 24;
    pub const IOCTL: usize = 29;
    pub const MKDIRAT: usize = 34;
    pub const MOUNT: usize = 40;
    pub const FACCESSAT: usize = 48;
    pub const OPENAT: usize = 56;
    pub const CLOSE: usize = 57;
    pub const GETDENTS64: usize = 61;
    pub const READ: usize = 63;
    pub const WRITE: usize = 64;
    pub const SYNC: usize = 81;
    pub const EXIT_GROUP: usize = 94;
    pub const WAITID: usize = 95;
    pub const RT_SIGSUSPEND: usize = 133;
    pub const RT_SIGACTION: usize = 134;
    pub const REBOOT: usize = 142;
    pub const GETPGID: usize = 155;
    pub const SETSID: usize = 157;
    pub const UNAME: usize = 160;
    pub const GETPID: usize = 172;
    pub const SYSINFO: usize = 179;
    pub const CLONE: usize = 220;
    pub const EXECVE: usize = 221;
    pub const PIPE2: usize = 59;
    pub const STATX: usize = 291;
    pub const SCHED_SETAFFINITY: usize = 122;
    pub const SCHED_GETAFFINITY: usize = 123;
    pub const GETCPU: usize = 168;
    pub const EXIT: usize = 93;
    pub const GETPPID: usize = 173;
    pub const MUNMAP: usize = 215;
    /// `mmap` on rv64, `mmap2` (offset in pages) on rv32: the same for an
    /// offset of 0.
    pub const MMAP: usize = 222;
    pub const MPROTECT: usize = 226;
    #[cfg(target_pointer_width = "64")]
    pub const CLOCK_GETTIME: usize = 113;
    #[cfg(target_pointer_width = "64")]
    pub const CLOCK_NANOSLEEP: usize = 115;
    /// `clock_gettime64`.
    #[cfg(target_pointer_width = "32")]
    pub const CLOCK_GETTIME: usize = 403;
    /// `clock_nanosleep_time64`.
    #[cfg(target_pointer_width = "32")]
    pub const CLOCK_NANOSLEEP: usize = 407;
    #[cfg(target_pointer_width = "64")]
    pub const PPOLL: usize = 73;
    /// `ppoll_time64`.
    #[cfg(target_pointer_width = "32")]
    pub const PPOLL: usize = 414;
}

global_asm!(
    r#"
    .section .text._start, "ax"
    .globl _start
    .type _start, @function
_start:
    mv      a0, sp
    andi    sp, sp, -16
    li      ra, 0
    li      s0, 0
    call    {start}
1:  j       1b
    "#,
    start = sym start,
);

/// Called by `_start` with Linux's initial stack pointer (argc, argv, envp,
/// auxv live there; init needs none of them) on a 16-byte aligned stack.
extern "C" fn start(_initial_sp: usize) -> ! {
    super::main()
}

/// Makes a system call.
///
/// # Safety
/// Every pointer among the arguments must be valid for what the kernel does
/// with it in call `n`, for the whole call.
#[inline(always)]
unsafe fn syscall(n: usize, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: `ecall` traps into Linux, which preserves all registers but
    // a0; the caller vouches for the arguments. No stack is used.
    unsafe {
        asm!(
            "ecall",
            inlateout("a0") a[0] => ret,
            in("a1") a[1], in("a2") a[2], in("a3") a[3], in("a4") a[4], in("a5") a[5],
            in("a7") n,
            options(nostack),
        );
    }
    ret
}

/// A call whose arguments hold no pointers, or only pointers the kernel
/// ignores (such as null).
fn call(n: usize, a: [usize; 6]) -> Result<usize, Errno> {
    // SAFETY: no argument is a pointer the kernel dereferences.
    check(unsafe { syscall(n, a) })
}

fn check(ret: isize) -> Result<usize, Errno> {
    if (-4095..0).contains(&ret) {
        Err(Errno(-ret as i32))
    } else {
        Ok(ret as usize)
    }
}

fn p<T>(r: &T) -> usize {
    ptr::from_ref(r) as usize
}

pub const AT_FDCWD: i32 = -100;
pub const O_RDONLY: u32 = 0;
pub const O_RDWR: u32 = 2;
pub const O_NOCTTY: u32 = 0o400;
pub const O_NONBLOCK: u32 = 0o4000;
pub const O_DIRECTORY: u32 = 0o200000;
pub const O_CLOEXEC: u32 = 0o2000000;
pub const X_OK: u32 = 1;

pub fn read(fd: i32, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most buf.len() bytes into buf.
    check(unsafe {
        syscall(
            nr::READ,
            [fd as usize, buf.as_mut_ptr() as usize, buf.len(), 0, 0, 0],
        )
    })
}

pub fn write(fd: i32, buf: &[u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel reads at most buf.len() bytes from buf.
    check(unsafe {
        syscall(
            nr::WRITE,
            [fd as usize, buf.as_ptr() as usize, buf.len(), 0, 0, 0],
        )
    })
}

pub fn openat(path: &CStr, flags: u32) -> Result<i32, Errno> {
    // SAFETY: path is NUL-terminated and outlives the call.
    let fd = check(unsafe {
        syscall(
            nr::OPENAT,
            [
                AT_FDCWD as usize,
                path.as_ptr() as usize,
                flags as usize,
                0,
                0,
                0,
            ],
        )
    })?;
    Ok(fd as i32)
}

pub fn close(fd: i32) {
    let _ = call(nr::CLOSE, [fd as usize, 0, 0, 0, 0, 0]);
}

pub fn dup3(old: i32, new: i32) -> Result<(), Errno> {
    call(nr::DUP3, [old as usize, new as usize, 0, 0, 0, 0]).map(drop)
}

/// `struct statx` from <linux/stat.h>, up to `stx_size`: 256 bytes, the
/// same on rv32 and rv64.
#[repr(C)]
struct Statx {
    mask: u32,
    blksize: u32,
    attributes: u64,
    nlink: u32,
    uid: u32,
    gid: u32,
    mode: u16,
    _spare: u16,
    ino: u64,
    size: u64,
    _rest: [u64; 26],
}

const AT_EMPTY_PATH: usize = 0x1000;
const STATX_TYPE: u32 = 0x1;
const STATX_SIZE: u32 = 0x200;
const S_IFMT: u16 = 0o170000;
const S_IFREG: u16 = 0o100000;

/// The size of the file open as `fd`, or `None` if it is not a regular
/// file (`statx(fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE)`).
pub fn file_size(fd: i32) -> Result<Option<u64>, Errno> {
    const WANT: u32 = STATX_TYPE | STATX_SIZE;
    // SAFETY: all zeroes is a valid Statx (integers only).
    let mut stx: Statx = unsafe { core::mem::zeroed() };
    let path = c"";
    // SAFETY: `path` is a NUL-terminated string and `stx` one whole
    // struct statx, the only memory the kernel touches.
    check(unsafe {
        syscall(
            nr::STATX,
            [
                fd as usize,
                path.as_ptr() as usize,
                AT_EMPTY_PATH,
                WANT as usize,
                ptr::from_mut(&mut stx) as usize,
                0,
            ],
        )
    })?;
    // `mask` says which fields the filesystem filled.
    let regular = stx.mask & WANT == WANT && stx.mode & S_IFMT == S_IFREG;
    Ok(regular.then_some(stx.size))
}

const _: () = assert!(size_of::<Statx>() == 256);

pub fn getdents64(fd: i32, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most buf.len() bytes of records into buf.
    check(unsafe {
        syscall(
            nr::GETDENTS64,
            [fd as usize, buf.as_mut_ptr() as usize, buf.len(), 0, 0, 0],
        )
    })
}

pub fn mkdirat(path: &CStr, mode: u32) -> Result<(), Errno> {
    // SAFETY: path is NUL-terminated and outlives the call.
    check(unsafe {
        syscall(
            nr::MKDIRAT,
            [
                AT_FDCWD as usize,
                path.as_ptr() as usize,
                mode as usize,
                0,
                0,
                0,
            ],
        )
    })
    .map(drop)
}

pub fn mount(source: &CStr, target: &CStr, fstype: &CStr, flags: usize) -> Result<(), Errno> {
    let a = [
        source.as_ptr() as usize,
        target.as_ptr() as usize,
        fstype.as_ptr() as usize,
        flags,
        0,
        0,
    ];
    // SAFETY: the three strings are NUL-terminated and outlive the call;
    // data is null, which every file system used here accepts.
    check(unsafe { syscall(nr::MOUNT, a) }).map(drop)
}

pub fn faccessat(path: &CStr, mode: u32) -> Result<(), Errno> {
    // SAFETY: path is NUL-terminated and outlives the call.
    check(unsafe {
        syscall(
            nr::FACCESSAT,
            [
                AT_FDCWD as usize,
                path.as_ptr() as usize,
                mode as usize,
                0,
                0,
                0,
            ],
        )
    })
    .map(drop)
}

pub fn sync() {
    let _ = call(nr::SYNC, [0; 6]);
}

pub fn getpid() -> i32 {
    call(nr::GETPID, [0; 6]).map_or(0, |p| p as i32)
}

pub fn getpgid() -> Result<i32, Errno> {
    call(nr::GETPGID, [0; 6]).map(|p| p as i32)
}

pub fn setsid() -> Result<(), Errno> {
    call(nr::SETSID, [0; 6]).map(drop)
}

pub fn exit_group(code: i32) -> ! {
    loop {
        let _ = call(nr::EXIT_GROUP, [code as usize, 0, 0, 0, 0, 0]);
    }
}

pub const LINUX_REBOOT_CMD_POWER_OFF: u32 = 0x4321_fedc;
pub const LINUX_REBOOT_CMD_RESTART: u32 = 0x0123_4567;

/// Asks the kernel to power off or restart; returns only on failure.
pub fn reboot(cmd: u32) -> Errno {
    const MAGIC1: usize = 0xfee1_dead;
    const MAGIC2: usize = 0x2812_1969;
    match call(nr::REBOOT, [MAGIC1, MAGIC2, cmd as usize, 0, 0, 0]) {
        Err(e) => e,
        Ok(_) => EINVAL,
    }
}

/// Waits for signals forever: what PID 1 does when it can neither power off
/// nor exit. Init's default-action signals are never delivered, so this
/// sleeps rather than spins.
pub fn sleep_forever() -> ! {
    let none: u64 = 0;
    loop {
        // SAFETY: the mask is a valid 8-byte sigset_t for the whole call.
        let _ = unsafe { syscall(nr::RT_SIGSUSPEND, [p(&none), 8, 0, 0, 0, 0]) };
    }
}

/// `struct sysinfo` from <linux/sysinfo.h>, with native `long`s.
#[repr(C)]
#[derive(Default)]
pub struct Sysinfo {
    pub uptime: isize,
    pub loads: [usize; 3],
    pub totalram: usize,
    pub freeram: usize,
    pub sharedram: usize,
    pub bufferram: usize,
    pub totalswap: usize,
    pub freeswap: usize,
    pub procs: u16,
    pub pad: u16,
    pub totalhigh: usize,
    pub freehigh: usize,
    pub mem_unit: u32,
    pub _f: [u8; 20 - 2 * size_of::<usize>() - 4],
}

pub fn sysinfo() -> Result<Sysinfo, Errno> {
    let mut info = Sysinfo::default();
    // SAFETY: the kernel fills exactly one struct sysinfo, which `info` is.
    check(unsafe {
        syscall(
            nr::SYSINFO,
            [ptr::from_mut(&mut info) as usize, 0, 0, 0, 0, 0],
        )
    })?;
    Ok(info)
}

/// `struct new_utsname`.
#[repr(C)]
pub struct Utsname {
    pub sysname: [u8; 65],
    pub nodename: [u8; 65],
    pub release: [u8; 65],
    pub version: [u8; 65],
    pub machine: [u8; 65],
    pub domainname: [u8; 65],
}

impl Utsname {
    /// A field as text, up to its NUL.
    pub fn text(field: &[u8; 65]) -> &str {
        CStr::from_bytes_until_nul(field)
            .ok()
            .and_then(|c| c.to_str().ok())
            .unwrap_or("?")
    }
}

pub fn uname() -> Result<Utsname, Errno> {
    let mut u = Utsname {
        sysname: [0; 65],
        nodename: [0; 65],
        release: [0; 65],
        version: [0; 65],
        machine: [0; 65],
        domainname: [0; 65],
    };
    // SAFETY: the kernel fills exactly one struct new_utsname, which `u` is.
    check(unsafe { syscall(nr::UNAME, [ptr::from_mut(&mut u) as usize, 0, 0, 0, 0, 0]) })?;
    Ok(u)
}

/// `struct termios` from asm-generic/termbits.h (what TCGETS uses).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Termios {
    pub iflag: u32,
    pub oflag: u32,
    pub cflag: u32,
    pub lflag: u32,
    pub line: u8,
    pub cc: [u8; 19],
}

const TCGETS: usize = 0x5401;
const TCSETS: usize = 0x5402;
const TIOCSCTTY: usize = 0x540e;
const TIOCSPGRP: usize = 0x5410;

pub fn tcgets(fd: i32) -> Result<Termios, Errno> {
    let mut t = Termios::default();
    // SAFETY: TCGETS writes one struct termios, which `t` is.
    check(unsafe {
        syscall(
            nr::IOCTL,
            [fd as usize, TCGETS, ptr::from_mut(&mut t) as usize, 0, 0, 0],
        )
    })?;
    Ok(t)
}

pub fn tcsets(fd: i32, t: &Termios) -> Result<(), Errno> {
    // SAFETY: TCSETS reads one struct termios, which `t` is.
    check(unsafe { syscall(nr::IOCTL, [fd as usize, TCSETS, p(t), 0, 0, 0]) }).map(drop)
}

/// Makes the terminal on `fd` our controlling terminal.
pub fn set_controlling_tty(fd: i32) -> Result<(), Errno> {
    call(nr::IOCTL, [fd as usize, TIOCSCTTY, 0, 0, 0, 0]).map(drop)
}

/// Makes `pgrp` the terminal's foreground process group.
pub fn set_foreground(fd: i32, pgrp: i32) -> Result<(), Errno> {
    // SAFETY: TIOCSPGRP reads one pid_t, which `pgrp` is.
    check(unsafe { syscall(nr::IOCTL, [fd as usize, TIOCSPGRP, p(&pgrp), 0, 0, 0]) }).map(drop)
}

pub const SIGTTOU: usize = 22;

/// The kernel's `struct sigaction` on RISC-V (no `sa_restorer`).
#[repr(C)]
struct KSigaction {
    handler: usize,
    flags: usize,
    mask: u64,
}

/// Sets a signal to be ignored or to its default action.
pub fn set_signal_ignored(sig: usize, ignored: bool) -> Result<(), Errno> {
    let act = KSigaction {
        handler: usize::from(ignored),
        flags: 0,
        mask: 0,
    };
    // SAFETY: `act` is a valid struct sigaction for the whole call; the old
    // action pointer is null; the sigset size is the kernel's (8 bytes).
    check(unsafe { syscall(nr::RT_SIGACTION, [sig, p(&act), 0, 8, 0, 0]) }).map(drop)
}

/// `fork()`, as `clone(SIGCHLD)`: `Ok(0)` in the child, the child's pid in
/// the parent.
pub fn fork() -> Result<i32, Errno> {
    const SIGCHLD: usize = 17;
    call(nr::CLONE, [SIGCHLD, 0, 0, 0, 0, 0]).map(|p| p as i32)
}

/// Replaces this program; returns only on failure.
pub fn execve(path: &CStr, argv: &[&CStr], envp: &[&CStr]) -> Errno {
    let mut args: [*const c_char; 9] = [ptr::null(); 9];
    let mut env: [*const c_char; 9] = [ptr::null(); 9];
    if argv.len() >= args.len() || envp.len() >= env.len() {
        return Errno(7); // E2BIG
    }
    for (slot, s) in args.iter_mut().zip(argv) {
        *slot = s.as_ptr();
    }
    for (slot, s) in env.iter_mut().zip(envp) {
        *slot = s.as_ptr();
    }
    // SAFETY: path and every string are NUL-terminated and live for the
    // call; both pointer arrays end with a null pointer.
    let ret = unsafe {
        syscall(
            nr::EXECVE,
            [
                path.as_ptr() as usize,
                args.as_ptr() as usize,
                env.as_ptr() as usize,
                0,
                0,
                0,
            ],
        )
    };
    check(ret).err().unwrap_or(EINVAL)
}

pub const P_ALL: usize = 0;
pub const P_PID: usize = 1;
pub const WNOHANG: usize = 1;
pub const WEXITED: usize = 4;
pub const CLD_EXITED: i32 = 1;

/// What `waitid` says about a child.
pub struct Child {
    /// `CLD_EXITED`, `CLD_KILLED` or `CLD_DUMPED`.
    pub code: i32,
    /// The exit status or the signal number.
    pub status: i32,
}

/// `waitid(idtype, id, WEXITED | options)`. `Ok(None)` with `WNOHANG` when
/// no child has exited yet.
pub fn waitid(idtype: usize, id: i32, options: usize) -> Result<Option<Child>, Errno> {
    // siginfo_t is 128 bytes: si_signo, si_errno, si_code, then (aligned to
    // a long) si_pid, si_uid, si_status.
    let mut info = [0i32; 32];
    let base = if size_of::<usize>() == 8 { 4 } else { 3 };
    let a = [
        idtype,
        id as usize,
        ptr::from_mut(&mut info) as usize,
        WEXITED | options,
        0,
        0,
    ];
    // SAFETY: the kernel writes one siginfo_t (128 bytes) into `info`; the
    // rusage pointer is null.
    check(unsafe { syscall(nr::WAITID, a) })?;
    Ok((info[base] != 0).then(|| Child {
        code: info[2],
        status: info[base + 2],
    }))
}

/// `pipe2(O_CLOEXEC)`: the read end and the write end.
pub fn pipe() -> Result<[i32; 2], Errno> {
    let mut fds = [0i32; 2];
    // SAFETY: the kernel writes two ints into `fds`.
    check(unsafe {
        syscall(
            nr::PIPE2,
            [
                ptr::from_mut(&mut fds) as usize,
                O_CLOEXEC as usize,
                0,
                0,
                0,
                0,
            ],
        )
    })?;
    Ok(fds)
}

/// A CPU mask as the affinity calls take it: 256 bits, which on both rv32
/// (`unsigned long` of 32 bits) and rv64 is the kernel's layout, as RISC-V
/// is little-endian.
pub type CpuMask = [u64; 4];

/// `sched_getaffinity(0, ...)`: this thread's allowed CPUs.
pub fn sched_getaffinity() -> Result<CpuMask, Errno> {
    let mut mask: CpuMask = [0; 4];
    // SAFETY: the kernel writes at most size_of::<CpuMask>() bytes into mask.
    check(unsafe {
        syscall(
            nr::SCHED_GETAFFINITY,
            [
                0,
                size_of::<CpuMask>(),
                ptr::from_mut(&mut mask) as usize,
                0,
                0,
                0,
            ],
        )
    })?;
    Ok(mask)
}

/// `sched_setaffinity(0, ...)`: restricts this thread to `mask`.
pub fn sched_setaffinity(mask: &CpuMask) -> Result<(), Errno> {
    // SAFETY: the kernel reads size_of::<CpuMask>() bytes from mask.
    check(unsafe {
        syscall(
            nr::SCHED_SETAFFINITY,
            [0, size_of::<CpuMask>(), p(mask), 0, 0, 0],
        )
    })
    .map(drop)
}

/// `getcpu`: the CPU this thread runs on.
pub fn getcpu() -> Result<u32, Errno> {
    let mut cpu: u32 = 0;
    // SAFETY: the kernel writes one unsigned int into `cpu`; the node and
    // cache pointers are null, which it accepts.
    check(unsafe {
        syscall(
            nr::GETCPU,
            [ptr::from_mut(&mut cpu) as usize, 0, 0, 0, 0, 0],
        )
    })?;
    Ok(cpu)
}

pub const CLOCK_MONOTONIC: usize = 1;

/// `struct __kernel_timespec` (rv32's time64 calls; rv64's `timespec`).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

/// `clock_gettime` (`clock_gettime64` on rv32).
pub fn clock_gettime(clock: usize) -> Result<Timespec, Errno> {
    let mut ts = Timespec::default();
    // SAFETY: the kernel writes one struct __kernel_timespec into `ts`.
    check(unsafe {
        syscall(
            nr::CLOCK_GETTIME,
            [clock, ptr::from_mut(&mut ts) as usize, 0, 0, 0, 0],
        )
    })?;
    Ok(ts)
}

/// A relative `clock_nanosleep` (`clock_nanosleep_time64` on rv32);
/// `Err(EINTR)` leaves what was left in `remaining`.
pub fn clock_nanosleep(
    clock: usize,
    request: &Timespec,
    remaining: &mut Timespec,
) -> Result<(), Errno> {
    // SAFETY: the kernel reads one struct __kernel_timespec from `request`
    // and may write one into `remaining`; both live for the call.
    check(unsafe {
        syscall(
            nr::CLOCK_NANOSLEEP,
            [
                clock,
                0,
                p(request),
                ptr::from_mut(remaining) as usize,
                0,
                0,
            ],
        )
    })
    .map(drop)
}

/// Reads a user-level counter CSR (`rdtime`, `rdcycle`, `rdinstret`): on
/// rv32 its high half, low half and high half again until the two high
/// halves agree.
macro_rules! read_counter {
    ($name:literal) => {{
        #[cfg(target_pointer_width = "64")]
        {
            let value: u64;
            // SAFETY: reading a counter CSR touches no memory or other
            // register; if U-mode may not read it, the CPU raises an
            // illegal-instruction trap and Linux kills the process with
            // SIGILL, which is why only a throwaway child calls this.
            unsafe {
                asm!(concat!("csrr {0}, ", $name), out(reg) value, options(nomem, nostack));
            }
            value
        }
        #[cfg(target_pointer_width = "32")]
        loop {
            let (hi, lo, hi2): (u32, u32, u32);
            // SAFETY: as for rv64 above: no memory is touched, and a trap
            // ends this (child) process with SIGILL.
            unsafe {
                asm!(
                    concat!("csrr {0}, ", $name, "h"),
                    concat!("csrr {1}, ", $name),
                    concat!("csrr {2}, ", $name, "h"),
                    out(reg) hi, out(reg) lo, out(reg) hi2,
                    options(nomem, nostack),
                );
            }
            if hi == hi2 {
                break (u64::from(hi) << 32) | u64::from(lo);
            }
        }
    }};
}

/// The `time` CSR (`rdtime`). Raises SIGILL where U-mode may not read it.
pub fn rdtime() -> u64 {
    read_counter!("time")
}

/// The `cycle` CSR (`rdcycle`). Raises SIGILL where U-mode may not read it.
pub fn rdcycle() -> u64 {
    read_counter!("cycle")
}

/// The `instret` CSR (`rdinstret`). Raises SIGILL where U-mode may not
/// read it.
pub fn rdinstret() -> u64 {
    read_counter!("instret")
}

pub fn getppid() -> i32 {
    call(nr::GETPPID, [0; 6]).map_or(0, |p| p as i32)
}

pub const PROT_READ: usize = 1;
pub const PROT_WRITE: usize = 2;
const MAP_PRIVATE: usize = 0x02;
const MAP_ANONYMOUS: usize = 0x20;

/// `len` bytes of private anonymous memory, readable and writable, zeroed.
pub fn mmap_anon(len: usize) -> Result<&'static mut [u8], Errno> {
    let a = [
        0,
        len,
        PROT_READ | PROT_WRITE,
        MAP_PRIVATE | MAP_ANONYMOUS,
        usize::MAX,
        0,
    ];
    let addr = call(nr::MMAP, a)?;
    // SAFETY: the kernel just mapped `len` zeroed, writable bytes at `addr`
    // that nothing else refers to; they stay mapped until `munmap`, which
    // takes this (unique) reference back.
    Ok(unsafe { core::slice::from_raw_parts_mut(addr as *mut u8, len) })
}

/// Unmaps memory from [`mmap_anon`]; taking the reference ends its use.
pub fn munmap(mem: &'static mut [u8]) {
    let _ = call(
        nr::MUNMAP,
        [mem.as_mut_ptr() as usize, mem.len(), 0, 0, 0, 0],
    );
}

/// Changes the protection of whole pages at `addr` (page aligned).
pub fn mprotect(addr: usize, len: usize, prot: usize) -> Result<(), Errno> {
    call(nr::MPROTECT, [addr, len, prot, 0, 0, 0]).map(drop)
}

/// Ends this thread only (`exit`, not `exit_group`).
pub fn exit_thread() -> ! {
    loop {
        let _ = call(nr::EXIT, [0; 6]);
    }
}

/// A thread: shares memory, files and signal handlers, and its kernel clears
/// `*tid` (CLONE_CHILD_CLEARTID) once it has exited and left its stack.
const THREAD_FLAGS: usize = 0x100 // CLONE_VM
    | 0x200 // CLONE_FS
    | 0x400 // CLONE_FILES
    | 0x800 // CLONE_SIGHAND
    | 0x10000 // CLONE_THREAD
    | 0x40000 // CLONE_SYSVSEM
    | 0x200000; // CLONE_CHILD_CLEARTID

/// Starts a thread running `entry(arg)` on the stack ending at `stack_top`
/// (16-byte aligned); returns its thread id. RISC-V Linux's `clone` takes
/// flags, stack, parent tid, tls, child tid (CONFIG_CLONE_BACKWARDS).
///
/// # Safety
/// The stack must be writable memory that nothing else uses until `*tid`
/// reads 0, `tid` must stay valid until then, and `entry` must only use
/// what is safe to share between threads, ending with [`exit_thread`].
pub unsafe fn spawn_thread(
    stack_top: usize,
    tid: *mut i32,
    entry: extern "C" fn(usize) -> !,
    arg: usize,
) -> Result<i32, Errno> {
    let ret: isize;
    // SAFETY: the parent comes back from the `ecall` with a0 = the new
    // thread's id (or -errno) and every other register as it was. The new
    // thread comes back with a0 = 0 on its own stack and its copies of t0
    // and t1, and calls `entry`, which never returns, so the code after the
    // asm runs only in the parent.
    unsafe {
        asm!(
            "ecall",
            "bnez a0, 1f",
            "mv a0, t1",
            "jalr t0",
            "1:",
            inlateout("a0") THREAD_FLAGS => ret,
            in("a1") stack_top,
            in("a2") 0,
            in("a3") 0,
            in("a4") tid,
            in("a7") nr::CLONE,
            in("t0") entry as usize,
            in("t1") arg,
            options(nostack),
        );
    }
    check(ret).map(|t| t as i32)
}

/// `sched_setaffinity` of this thread to the one CPU `cpu`.
pub fn pin(cpu: u32) -> Result<(), Errno> {
    let mut mask: CpuMask = [0; 4];
    if cpu >= 256 {
        return Err(EINVAL);
    }
    mask[(cpu / 64) as usize] = 1 << (cpu % 64);
    sched_setaffinity(&mask)
}

pub const POLLIN: i16 = 0x1;
pub const POLLOUT: i16 = 0x4;
pub const POLLERR: i16 = 0x8;
pub const POLLHUP: i16 = 0x10;
pub const POLLNVAL: i16 = 0x20;

/// `struct pollfd`.
#[repr(C)]
struct PollFd {
    fd: i32,
    events: i16,
    revents: i16,
}

/// `ppoll` (`ppoll_time64` on rv32) of one descriptor for `events`, for at
/// most `timeout`, with the signal mask left alone: the events that
/// happened (`POLLERR`, `POLLHUP` and `POLLNVAL` whether asked for or
/// not), or 0 when the time ran out.
pub fn ppoll(fd: i32, events: i16, timeout: Timespec) -> Result<i16, Errno> {
    let mut pfd = PollFd {
        fd,
        events,
        revents: 0,
    };
    // The kernel writes back the time left.
    let mut timeout = timeout;
    // SAFETY: the kernel reads and updates one struct pollfd, which `pfd`
    // is, and one struct __kernel_timespec, which `timeout` is; both live
    // for the call. The signal mask pointer is null, so its size (that of
    // the kernel's sigset_t) is not used.
    check(unsafe {
        syscall(
            nr::PPOLL,
            [
                ptr::from_mut(&mut pfd) as usize,
                1,
                ptr::from_mut(&mut timeout) as usize,
                0,
                8,
                0,
            ],
        )
    })?;
    Ok(pfd.revents)
}
