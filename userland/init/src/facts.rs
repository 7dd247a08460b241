//! What the banner and `info` report, and how they print it.
//!
//! `cpus: N` and `memory: M MiB` are printed in exactly that form so that
//! tests can parse them from the console.

use core::fmt::{self, Write};

use crate::os::Os;
use crate::procfs::{self, CpuInfo, MemInfo};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    pub cpus: Option<u32>,
    pub mem_total_kib: Option<u64>,
    pub mem_free_kib: Option<u64>,
    pub uptime_s: Option<u64>,
    /// Load averages, fixed point with 16 fraction bits.
    pub loads: Option<[u64; 3]>,
    pub procs: Option<u16>,
}

/// Collects the facts from /proc, /sys and `sysinfo`, whichever answer.
pub fn gather(os: &mut dyn Os) -> Facts {
    let mut cpuinfo = CpuInfo::default();
    let _ = procfs::for_each_line(os, "/proc/cpuinfo", &mut |l| cpuinfo.line(l));
    let mut cpus = cpuinfo.cpus();
    if cpus.is_none() {
        let _ = procfs::for_each_line(os, "/sys/devices/system/cpu/online", &mut |l| {
            cpus = cpus.or(procfs::count_cpu_list(l));
        });
    }

    let mut mem = MemInfo::default();
    let _ = procfs::for_each_line(os, "/proc/meminfo", &mut |l| mem.line(l));

    let sys = os.sysinfo().ok();
    Facts {
        cpus,
        mem_total_kib: mem.total_kib.or(sys.map(|s| s.total_bytes / 1024)),
        mem_free_kib: mem.free_kib.or(sys.map(|s| s.free_bytes / 1024)),
        uptime_s: sys.map(|s| s.uptime_s),
        loads: sys.map(|s| s.loads),
        procs: sys.map(|s| s.procs),
    }
}

/// `cpus: N` (or `cpus: unknown`).
pub fn write_cpus(w: &mut dyn Write, f: &Facts) -> fmt::Result {
    match f.cpus {
        Some(n) => writeln!(w, "cpus: {n}"),
        None => writeln!(w, "cpus: unknown"),
    }
}

/// `memory: M MiB`, with M rounded down (or `memory: unknown`).
pub fn write_memory(w: &mut dyn Write, f: &Facts) -> fmt::Result {
    match f.mem_total_kib {
        Some(kib) => writeln!(w, "memory: {} MiB", kib / 1024),
        None => writeln!(w, "memory: unknown"),
    }
}

/// The output of `info`.
pub fn write_info(w: &mut dyn Write, f: &Facts) -> fmt::Result {
    write_cpus(w, f)?;
    write_memory(w, f)?;
    if let Some(kib) = f.mem_free_kib {
        writeln!(w, "free: {} MiB", kib / 1024)?;
    }
    if let Some(s) = f.uptime_s {
        write!(w, "uptime: ")?;
        write_duration(w, s)?;
        writeln!(w)?;
    }
    if let Some([a, b, c]) = f.loads {
        writeln!(w, "load: {} {} {}", Load(a), Load(b), Load(c))?;
    }
    if let Some(p) = f.procs {
        writeln!(w, "processes: {p}")?;
    }
    Ok(())
}

/// The banner printed once at boot.
pub fn write_banner(
    w: &mut dyn Write,
    release: &str,
    machine: &str,
    arch: &str,
    f: &Facts,
) -> fmt::Result {
    writeln!(w, "diosix boot capsule")?;
    writeln!(w, "kernel: Linux {release} {machine}")?;
    writeln!(w, "arch: {arch}")?;
    write_cpus(w, f)?;
    write_memory(w, f)?;
    writeln!(w, "type 'help' for commands")
}

/// `1d 02:03:04`, or `02:03:04` under a day.
fn write_duration(w: &mut dyn Write, secs: u64) -> fmt::Result {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        write!(w, "{d}d ")?;
    }
    write!(w, "{h:02}:{m:02}:{s:02}")
}

/// A load average from `sysinfo` (16 fraction bits), shown to 2 places.
struct Load(u64);

impl fmt::Display for Load {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hundredths = (self.0 * 100 + (1 << 15)) >> 16;
        write!(f, "{}.{:02}", hundredths / 100, hundredths % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::FakeOs;
    use crate::os::SysInfo;

    fn info(f: &Facts) -> String {
        let mut s = String::new();
        write_info(&mut s, f).unwrap();
        s
    }

    #[test]
    fn info_prints_the_parseable_lines_and_the_rest() {
        let f = Facts {
            cpus: Some(4),
            mem_total_kib: Some(2 * 1024 * 1024 + 1023),
            mem_free_kib: Some(1536 * 1024),
            uptime_s: Some(86400 + 3600 * 2 + 60 * 3 + 4),
            loads: Some([0, 65536 + 32768, 3 * 65536 + 655]),
            procs: Some(12),
        };
        assert_eq!(
            info(&f),
            "cpus: 4\nmemory: 2048 MiB\nfree: 1536 MiB\nuptime: 1d 02:03:04\n\
             load: 0.00 1.50 3.01\nprocesses: 12\n"
        );
    }

    #[test]
    fn info_without_facts_says_unknown() {
        assert_eq!(info(&Facts::default()), "cpus: unknown\nmemory: unknown\n");
        let f = Facts {
            uptime_s: Some(59),
            ..Facts::default()
        };
        assert!(info(&f).contains("uptime: 00:00:59\n"));
    }

    #[test]
    fn banner() {
        let f = Facts {
            cpus: Some(1),
            mem_total_kib: Some(1024 * 512),
            ..Facts::default()
        };
        let mut s = String::new();
        write_banner(&mut s, "6.12.57", "riscv64", "riscv64gc", &f).unwrap();
        assert_eq!(
            s,
            "diosix boot capsule\nkernel: Linux 6.12.57 riscv64\narch: riscv64gc\n\
             cpus: 1\nmemory: 512 MiB\ntype 'help' for commands\n"
        );
    }

    #[test]
    fn gather_prefers_proc_and_falls_back_to_sys_and_sysinfo() {
        let sys = SysInfo {
            uptime_s: 7,
            loads: [1, 2, 3],
            total_bytes: 64 << 20,
            free_bytes: 32 << 20,
            procs: 3,
        };
        let mut os = FakeOs::new();
        os.sysinfo = Some(sys);
        os.file(
            "/proc/cpuinfo",
            "processor\t: 0\nhart\t: 0\n\nprocessor\t: 1\nhart\t: 1\n",
        );
        os.file("/proc/meminfo", "MemTotal: 4096 kB\nMemFree: 1024 kB\n");
        let f = gather(&mut os);
        assert_eq!(f.cpus, Some(2));
        assert_eq!(f.mem_total_kib, Some(4096));
        assert_eq!(f.mem_free_kib, Some(1024));
        assert_eq!(f.uptime_s, Some(7));

        let mut os = FakeOs::new();
        os.sysinfo = Some(sys);
        os.file("/sys/devices/system/cpu/online", "0-2\n");
        let f = gather(&mut os);
        assert_eq!(f.cpus, Some(3));
        assert_eq!(f.mem_total_kib, Some(64 * 1024));
        assert_eq!(f.mem_free_kib, Some(32 * 1024));
        assert_eq!(os.open_fds(), 0, "every file opened was closed");
    }
}
