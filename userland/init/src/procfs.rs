//! Reading and parsing /proc and /sys text files.

use crate::errno::Errno;
use crate::os::{CpuSet, Os};

/// Lines longer than this are cut; every parser here only needs a line's start.
const LINE_KEEP: usize = 128;

/// Splits a stream of chunks into lines, keeping the first [`LINE_KEEP`]
/// bytes of each.
pub struct Lines {
    line: [u8; LINE_KEEP],
    len: usize,
}

impl Lines {
    pub const fn new() -> Self {
        Self {
            line: [0; LINE_KEEP],
            len: 0,
        }
    }

    /// Feeds a chunk, calling `each` for every line it completes.
    pub fn feed(&mut self, chunk: &[u8], each: &mut dyn FnMut(&[u8])) {
        for &b in chunk {
            if b == b'\n' {
                each(&self.line[..self.len]);
                self.len = 0;
            } else if self.len < LINE_KEEP {
                self.line[self.len] = b;
                self.len += 1;
            }
        }
    }

    /// Ends the stream: a last line without a newline still counts.
    pub fn finish(&mut self, each: &mut dyn FnMut(&[u8])) {
        if self.len > 0 {
            each(&self.line[..self.len]);
            self.len = 0;
        }
    }
}

/// Calls `each` for every line of the file at `path`.
pub fn for_each_line(
    os: &mut dyn Os,
    path: &str,
    each: &mut dyn FnMut(&[u8]),
) -> Result<(), Errno> {
    let fd = os.open(path, false)?;
    let mut lines = Lines::new();
    let mut chunk = [0u8; 512];
    let result = loop {
        match os.read(fd, &mut chunk) {
            Ok(0) => break Ok(()),
            Ok(n) => lines.feed(&chunk[..n], each),
            Err(e) => break Err(e),
        }
    };
    os.close(fd);
    lines.finish(each);
    result
}

/// Counts CPUs in /proc/cpuinfo: `processor` lines, or on older RISC-V
/// kernels, which print none, `hart` lines.
#[derive(Default)]
pub struct CpuInfo {
    processors: u32,
    harts: u32,
}

impl CpuInfo {
    pub fn line(&mut self, line: &[u8]) {
        match key(line) {
            Some(b"processor") => self.processors += 1,
            Some(b"hart") => self.harts += 1,
            _ => {}
        }
    }

    pub fn cpus(&self) -> Option<u32> {
        match (self.processors, self.harts) {
            (0, 0) => None,
            (0, h) => Some(h),
            (p, _) => Some(p),
        }
    }
}

/// The fields of /proc/meminfo that `info` shows, in KiB.
#[derive(Default, Debug, PartialEq, Eq)]
pub struct MemInfo {
    pub total_kib: Option<u64>,
    pub free_kib: Option<u64>,
}

impl MemInfo {
    pub fn line(&mut self, line: &[u8]) {
        let Some(k) = key(line) else { return };
        let slot = match k {
            b"MemTotal" => &mut self.total_kib,
            b"MemFree" => &mut self.free_kib,
            _ => return,
        };
        // "MemTotal:        2030596 kB"
        let value = &line[k.len()..];
        let digits = value.iter().skip_while(|b| !b.is_ascii_digit());
        let mut n: u64 = 0;
        let mut any = false;
        for &b in digits.take_while(|b| b.is_ascii_digit()) {
            n = n.saturating_mul(10).saturating_add(u64::from(b - b'0'));
            any = true;
        }
        if any {
            *slot = Some(n);
        }
    }
}

/// The key of a `key : value` line, without trailing blanks.
fn key(line: &[u8]) -> Option<&[u8]> {
    let colon = line.iter().position(|&b| b == b':')?;
    let k = &line[..colon];
    let end = k.iter().rposition(|&b| b != b' ' && b != b'\t')? + 1;
    Some(&k[..end])
}

/// The ranges `lo..=hi` of a kernel CPU list such as `0-3,6,8-9` (the
/// format of /sys/devices/system/cpu/online); an item is `None` where the
/// list is malformed, and the list must not be empty.
fn cpu_ranges(text: &[u8]) -> Option<impl Iterator<Item = Option<(u32, u32)>> + '_> {
    let text = text.trim_ascii();
    if text.is_empty() {
        return None;
    }
    Some(text.split(|&b| b == b',').map(|part| {
        let (lo, hi) = match part.iter().position(|&b| b == b'-') {
            Some(dash) => (number(&part[..dash])?, number(&part[dash + 1..])?),
            None => {
                let n = number(part)?;
                (n, n)
            }
        };
        (lo <= hi).then_some((lo, hi))
    }))
}

/// Counts the CPUs in a kernel CPU list such as `0-3,6,8-9`.
pub fn count_cpu_list(text: &[u8]) -> Option<u32> {
    cpu_ranges(text)?.try_fold(0u32, |total, r| {
        let (lo, hi) = r?;
        total.checked_add(hi - lo + 1)
    })
}

/// The CPUs of a kernel CPU list such as `0-3,6`; `None` if it is empty,
/// malformed or names a CPU beyond [`CpuSet::MAX`].
pub fn parse_cpu_list(text: &[u8]) -> Option<CpuSet> {
    let mut set = CpuSet::default();
    for r in cpu_ranges(text)? {
        let (lo, hi) = r?;
        if hi >= CpuSet::MAX {
            return None;
        }
        for cpu in lo..=hi {
            set.insert(cpu);
        }
    }
    Some(set)
}

fn number(text: &[u8]) -> Option<u32> {
    let s = core::str::from_utf8(text.trim_ascii()).ok()?;
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RISCV_CPUINFO: &str = "\
processor\t: 0
hart\t\t: 1
isa\t\t: rv64imafdch_zicntr_zicsr_zifencei_zihpm
mmu\t\t: sv57
mvendorid\t: 0x0
marchid\t\t: 0x0
mimpid\t\t: 0x0
hart isa\t: rv64imafdch_zicntr_zicsr_zifencei_zihpm

processor\t: 1
hart\t\t: 0
isa\t\t: rv64imafdch_zicntr_zicsr_zifencei_zihpm
mmu\t\t: sv57
hart isa\t: rv64imafdch_zicntr_zicsr_zifencei_zihpm

";

    const OLD_RISCV_CPUINFO: &str = "\
hart\t: 0
isa\t: rv64imafdcsu
mmu\t: sv48

hart\t: 1
isa\t: rv64imafdcsu
mmu\t: sv48

hart\t: 2
isa\t: rv64imafdcsu
mmu\t: sv48
";

    const MEMINFO: &str = "\
MemTotal:         993432 kB
MemFree:          952120 kB
MemAvailable:     941452 kB
Buffers:               0 kB
SwapTotal:             0 kB
";

    fn parse<T: Default>(text: &str, chunk: usize, line: fn(&mut T, &[u8])) -> T {
        let mut out = T::default();
        let mut lines = Lines::new();
        for piece in text.as_bytes().chunks(chunk) {
            lines.feed(piece, &mut |l| line(&mut out, l));
        }
        lines.finish(&mut |l| line(&mut out, l));
        out
    }

    #[test]
    fn riscv_cpuinfo_counts_processors_not_hart_isa_lines() {
        for chunk in [1, 7, 4096] {
            let info = parse(RISCV_CPUINFO, chunk, CpuInfo::line);
            assert_eq!(info.cpus(), Some(2), "chunk {chunk}");
        }
    }

    #[test]
    fn old_riscv_cpuinfo_counts_harts() {
        assert_eq!(parse(OLD_RISCV_CPUINFO, 5, CpuInfo::line).cpus(), Some(3));
    }

    #[test]
    fn cpuinfo_without_cpus_is_unknown() {
        assert_eq!(parse("foo: bar\n", 3, CpuInfo::line).cpus(), None);
    }

    #[test]
    fn meminfo_gives_total_and_free() {
        let m = parse(MEMINFO, 3, MemInfo::line);
        assert_eq!(
            m,
            MemInfo {
                total_kib: Some(993432),
                free_kib: Some(952120)
            }
        );
        // A last line without a newline still counts.
        let m = parse("MemFree: 1 kB\nMemTotal: 2048 kB", 4, MemInfo::line);
        assert_eq!(
            m,
            MemInfo {
                total_kib: Some(2048),
                free_kib: Some(1)
            }
        );
    }

    #[test]
    fn meminfo_ignores_lookalikes_and_garbage() {
        let m = parse(
            "MemTotalX: 5 kB\nMemTotal: kB\nMemFree:\n",
            64,
            MemInfo::line,
        );
        assert_eq!(m, MemInfo::default());
    }

    #[test]
    fn overlong_lines_are_cut_but_still_counted() {
        let long = format!("processor : 0 {}\nprocessor : 1\n", "x".repeat(1000));
        assert_eq!(parse(&long, 100, CpuInfo::line).cpus(), Some(2));
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(count_cpu_list(b"0\n"), Some(1));
        assert_eq!(count_cpu_list(b"0-3\n"), Some(4));
        assert_eq!(count_cpu_list(b"0-3,6,8-9\n"), Some(7));
        assert_eq!(count_cpu_list(b""), None);
        assert_eq!(count_cpu_list(b"3-1"), None);
        assert_eq!(count_cpu_list(b"a-b"), None);
    }

    #[test]
    fn cpu_lists_as_sets() {
        let set = parse_cpu_list(b"0-2,5\n").unwrap();
        assert_eq!(set.iter().collect::<Vec<_>>(), [0, 1, 2, 5]);
        assert_eq!(set.len(), 4);
        assert_eq!(parse_cpu_list(b"255").map(|s| s.len()), Some(1));
        assert_eq!(parse_cpu_list(b"256"), None);
        assert_eq!(parse_cpu_list(b"3-1"), None);
        assert_eq!(parse_cpu_list(b" \n"), None);
        assert_eq!(parse_cpu_list(b"1,x"), None);
    }
}
