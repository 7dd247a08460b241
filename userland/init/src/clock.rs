//! `clock`: can an ordinary program read the clocks, sleep and time itself
//! on every CPU?
//!
//! For each online CPU in turn, pinned to it: the `time` CSR read straight
//! from user space (what the vDSO's `clock_gettime` does), `CLOCK_MONOTONIC`,
//! a 20 ms sleep, both clocks again, and the `cycle` and `instret` CSRs.
//! Each CSR is read in a child process, so a CSR that user space may not
//! read (SIGILL, as when `scounteren` was left clear: issue 11) is reported
//! rather than killing init. Prints one line per CPU and then
//! `clock: all N cpus ok` or a line starting `clock: FAIL`; the tests read
//! these lines.

use core::fmt::{self, Write};

use crate::errno::Errno;
use crate::os::{Counter, CounterError, CpuSet, Exit, Os, Out};
use crate::procfs;

/// How long each CPU sleeps.
pub const SLEEP_MS: u64 = 20;
/// More than this for a 20 ms sleep is a broken clock, not a slow machine.
pub const MAX_MS: u64 = 2_000;
pub const ONLINE: &str = "/sys/devices/system/cpu/online";
/// The `time` CSR's frequency, from the device tree Linux booted with.
pub const TIMEBASE: &str = "/sys/firmware/devicetree/base/cpus/timebase-frequency";

const NS_PER_MS: u64 = 1_000_000;

/// What went wrong on one CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    Pin(Errno),
    WhichCpu(Errno),
    /// Pinned to the CPU, but running on this one.
    Elsewhere(u32),
    Counter(Counter, CounterError),
    Monotonic(Errno),
    Sleep(Errno),
    /// A clock went backwards (`None`) or advanced this many nanoseconds,
    /// too few or too many for the sleep.
    Advanced(&'static str, Option<u64>),
    InstretStuck,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match *self {
            Problem::Pin(e) => write!(f, "cannot pin to it: {e}"),
            Problem::WhichCpu(e) => write!(f, "cannot tell which cpu this is: {e}"),
            Problem::Elsewhere(other) => write!(f, "pinned to it, but running on cpu {other}"),
            Problem::Counter(c, CounterError::Died(Exit::Signal(s))) => write!(
                f,
                "reading the {} CSR from user space killed the program with signal {s}",
                c.name()
            ),
            Problem::Counter(c, CounterError::Died(Exit::Code(code))) => write!(
                f,
                "the program reading the {} CSR exited with status {code} and no value",
                c.name()
            ),
            Problem::Counter(c, CounterError::Os(e)) => {
                write!(f, "cannot run a program to read the {} CSR: {e}", c.name())
            }
            Problem::Monotonic(e) => write!(f, "clock_gettime(CLOCK_MONOTONIC) failed: {e}"),
            Problem::Sleep(e) => write!(f, "cannot sleep: {e}"),
            Problem::Advanced(clock, None) => {
                write!(f, "{clock} went backwards over a {SLEEP_MS} ms sleep")
            }
            Problem::Advanced(clock, Some(ns)) => write!(
                f,
                "{clock} advanced {} ms over a {SLEEP_MS} ms sleep (expected {SLEEP_MS} to {MAX_MS} ms)",
                Ms(ns)
            ),
            Problem::InstretStuck => write!(f, "the instret CSR did not advance"),
        }
    }
}

/// Nanoseconds as milliseconds, with one decimal under 10 ms.
struct Ms(u64);

impl fmt::Display for Ms {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let ms = self.0 / NS_PER_MS;
        if ms < 10 {
            write!(f, "{ms}.{}", self.0 % NS_PER_MS / (NS_PER_MS / 10))
        } else {
            write!(f, "{ms}")
        }
    }
}

/// What one CPU measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measured {
    pub monotonic_ns: u64,
    pub time_csr_ns: u64,
}

/// The `clock` command.
pub fn run(os: &mut dyn Os, _args: &[&str]) {
    let online = match online_cpus(os) {
        Ok(set) => set,
        Err(why) => {
            writeln!(Out(os), "clock: FAIL: cannot list the online cpus: {why}").ok();
            return;
        }
    };
    let hz = match timebase_hz(os) {
        Ok(hz) => hz,
        Err(why) => {
            writeln!(Out(os), "clock: FAIL: cannot read {TIMEBASE}: {why}").ok();
            return;
        }
    };
    let n = online.len();
    writeln!(Out(os), "clock: {n} cpus online, time csr at {hz} Hz").ok();
    os.flush();

    // Put init back where it was allowed to run, or else on every online
    // CPU: what it starts later inherits this.
    let saved = os.affinity().unwrap_or(online);
    let mut failed = 0;
    for cpu in online.iter() {
        let result = check_cpu(os, cpu, hz);
        let mut out = Out(os);
        match result {
            Ok(m) => writeln!(
                out,
                "clock: cpu {cpu}: time csr ok, monotonic ok, slept {SLEEP_MS} ms \
                 (measured {} ms, time csr {} ms), cycle and instret csrs ok",
                Ms(m.monotonic_ns),
                Ms(m.time_csr_ns)
            ),
            Err(problem) => {
                failed += 1;
                writeln!(out, "clock: cpu {cpu}: {problem}")
            }
        }
        .ok();
        os.flush();
    }
    let restored = os.set_affinity(&saved);

    let mut out = Out(os);
    if let Err(e) = restored {
        writeln!(out, "clock: FAIL: cannot restore init's cpu affinity: {e}").ok();
    } else if failed == 0 {
        writeln!(out, "clock: all {n} cpus ok").ok();
    } else {
        writeln!(out, "clock: FAIL: {failed} of {n} cpus failed").ok();
    }
}

/// The measurement on one CPU. The reads nest, time CSR outside monotonic
/// outside the sleep, so both clocks must show at least the sleep.
pub fn check_cpu(os: &mut dyn Os, cpu: u32, hz: u64) -> Result<Measured, Problem> {
    os.set_affinity(&CpuSet::one(cpu)).map_err(Problem::Pin)?;
    on_cpu(os, cpu)?;
    let counter = |os: &mut dyn Os, c| os.read_counter(c).map_err(|e| Problem::Counter(c, e));

    let t0 = counter(os, Counter::Time)?;
    let m0 = os.monotonic_ns().map_err(Problem::Monotonic)?;
    os.sleep_ns(SLEEP_MS * NS_PER_MS).map_err(Problem::Sleep)?;
    let m1 = os.monotonic_ns().map_err(Problem::Monotonic)?;
    let t1 = counter(os, Counter::Time)?;

    let time_csr_ns = t1.checked_sub(t0).map(|ticks| ticks_to_ns(ticks, hz));
    let time_csr_ns = plausible("the time CSR", time_csr_ns)?;
    let monotonic_ns = plausible("the monotonic clock", m1.checked_sub(m0))?;

    counter(os, Counter::Cycle)?;
    let i0 = counter(os, Counter::Instret)?;
    let i1 = counter(os, Counter::Instret)?;
    if i1 <= i0 {
        return Err(Problem::InstretStuck);
    }
    on_cpu(os, cpu)?;
    Ok(Measured {
        monotonic_ns,
        time_csr_ns,
    })
}

fn on_cpu(os: &mut dyn Os, cpu: u32) -> Result<(), Problem> {
    match os.current_cpu().map_err(Problem::WhichCpu)? {
        c if c == cpu => Ok(()),
        other => Err(Problem::Elsewhere(other)),
    }
}

/// At least the sleep, and less than [`MAX_MS`].
fn plausible(clock: &'static str, ns: Option<u64>) -> Result<u64, Problem> {
    match ns {
        Some(ns) if (SLEEP_MS * NS_PER_MS..MAX_MS * NS_PER_MS).contains(&ns) => Ok(ns),
        other => Err(Problem::Advanced(clock, other)),
    }
}

fn ticks_to_ns(ticks: u64, hz: u64) -> u64 {
    let ns = u128::from(ticks) * 1_000_000_000 / u128::from(hz.max(1));
    u64::try_from(ns).unwrap_or(u64::MAX)
}

/// The online CPUs, from /sys.
pub fn online_cpus(os: &mut dyn Os) -> Result<CpuSet, &'static str> {
    let mut set = None;
    procfs::for_each_line(os, ONLINE, &mut |l| set = set.or(procfs::parse_cpu_list(l)))
        .map_err(|e| e.message().unwrap_or("error"))?;
    set.filter(|s| !s.is_empty()).ok_or("not a cpu list")
}

/// The device tree's `timebase-frequency`: a big-endian u32 (or u64).
pub fn timebase_hz(os: &mut dyn Os) -> Result<u64, &'static str> {
    let fd = os
        .open(TIMEBASE, false)
        .map_err(|e| e.message().unwrap_or("error"))?;
    let mut buf = [0u8; 9];
    let mut len = 0;
    let result = loop {
        match os.read(fd, &mut buf[len..]) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                len += n;
                if len == buf.len() {
                    break Ok(());
                }
            }
            Err(e) => break Err(e.message().unwrap_or("error")),
        }
    };
    os.close(fd);
    result?;
    let hz = match len {
        4 => u64::from(u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]])),
        8 => u64::from_be_bytes([
            buf[0], buf[1], buf[2], buf[3], buf[4], buf[5], buf[6], buf[7],
        ]),
        _ => return Err("not a 4- or 8-byte number"),
    };
    if hz == 0 {
        return Err("zero");
    }
    Ok(hz)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::dispatch;
    use crate::errno::EINVAL;
    use crate::fake::FakeOs;

    /// A machine with CPUs 0-3 online and a 10 MHz timebase.
    fn machine(online: &str) -> FakeOs {
        let mut os = FakeOs::new();
        os.file(ONLINE, online);
        os.file_bytes(TIMEBASE, &10_000_000u32.to_be_bytes());
        os
    }

    fn clock(os: &mut FakeOs) -> String {
        os.take_output();
        dispatch(os, "clock");
        os.take_output()
    }

    #[test]
    fn every_online_cpu_is_pinned_measured_and_reported() {
        let mut os = machine("0-1,3\n");
        let out = clock(&mut os);
        assert_eq!(
            out,
            "clock: 3 cpus online, time csr at 10000000 Hz\n\
             clock: cpu 0: time csr ok, monotonic ok, slept 20 ms (measured 21 ms, time csr 21 ms), cycle and instret csrs ok\n\
             clock: cpu 1: time csr ok, monotonic ok, slept 20 ms (measured 21 ms, time csr 21 ms), cycle and instret csrs ok\n\
             clock: cpu 3: time csr ok, monotonic ok, slept 20 ms (measured 21 ms, time csr 21 ms), cycle and instret csrs ok\n\
             clock: all 3 cpus ok\n"
        );
        // Pinned to each in turn, then back to where init could run.
        let pins: Vec<Vec<u32>> = os.pinned.iter().map(|s| s.iter().collect()).collect();
        assert_eq!(pins, [vec![0], vec![1], vec![3], vec![0, 1, 2, 3]]);
        // Every counter is read on the CPU being checked.
        for cpu in [0, 1, 3] {
            for c in [Counter::Time, Counter::Cycle, Counter::Instret] {
                assert!(os.counter_reads.contains(&(cpu, c)), "{cpu} {c:?}");
            }
        }
        assert!(!os.counter_reads.iter().any(|(cpu, _)| *cpu == 2));
    }

    #[test]
    fn a_time_csr_that_kills_the_program_is_reported_per_cpu() {
        let mut os = machine("0-1");
        let sigill = CounterError::Died(Exit::Signal(4));
        os.counter_errors.push((1, Counter::Time, sigill));
        let out = clock(&mut os);
        assert!(out.contains("clock: cpu 0: time csr ok"), "{out}");
        assert!(
            out.contains(
                "clock: cpu 1: reading the time CSR from user space killed the program with signal 4\n"
            ),
            "{out}"
        );
        assert!(out.ends_with("clock: FAIL: 1 of 2 cpus failed\n"), "{out}");
        // Init still gets its CPUs back.
        assert_eq!(os.affinity, CpuSet([0b1111, 0, 0, 0]));
    }

    #[test]
    fn cycle_and_instret_are_checked_too() {
        let mut os = machine("0-2");
        os.counter_errors
            .push((0, Counter::Cycle, CounterError::Died(Exit::Signal(4))));
        os.counter_errors
            .push((1, Counter::Instret, CounterError::Os(Errno(11))));
        os.counter_errors
            .push((2, Counter::Time, CounterError::Died(Exit::Code(1))));
        let out = clock(&mut os);
        assert!(
            out.contains("clock: cpu 0: reading the cycle CSR from user space killed the program with signal 4\n"),
            "{out}"
        );
        assert!(
            out.contains("clock: cpu 1: cannot run a program to read the instret CSR: resource temporarily unavailable\n"),
            "{out}"
        );
        assert!(
            out.contains(
                "clock: cpu 2: the program reading the time CSR exited with status 1 and no value\n"
            ),
            "{out}"
        );
        assert!(out.ends_with("clock: FAIL: 3 of 3 cpus failed\n"), "{out}");

        let mut os = machine("0");
        os.instret_frozen = true;
        let out = clock(&mut os);
        assert!(
            out.contains("clock: cpu 0: the instret CSR did not advance\n"),
            "{out}"
        );
    }

    #[test]
    fn clocks_that_stop_or_race_fail() {
        let mut os = machine("0");
        os.time_frozen = true;
        let out = clock(&mut os);
        assert!(
            out.contains(
                "clock: cpu 0: the time CSR advanced 0.0 ms over a 20 ms sleep (expected 20 to 2000 ms)\n"
            ),
            "{out}"
        );
        assert!(out.ends_with("clock: FAIL: 1 of 1 cpus failed\n"), "{out}");

        let mut os = machine("0");
        os.oversleep_ns = 3_000_000_000;
        let out = clock(&mut os);
        assert!(
            out.contains("clock: cpu 0: the time CSR advanced 3020 ms"),
            "{out}"
        );

        // A timebase the device tree gets wrong shows as a time CSR that
        // disagrees with the sleep.
        let mut os = machine("0");
        os.time_hz = 1_000_000;
        os.file_bytes(TIMEBASE, &[0, 0, 0, 0, 0, 0x98, 0x96, 0x80]);
        os.files_first(TIMEBASE);
        let out = clock(&mut os);
        assert!(
            out.contains("clock: cpu 0: the time CSR advanced 2.1 ms"),
            "{out}"
        );
    }

    #[test]
    fn a_cpu_that_cannot_be_pinned_is_a_failure() {
        let mut os = machine("0-1");
        os.stray_cpu = Some(0);
        let out = clock(&mut os);
        assert!(out.contains("clock: cpu 0: time csr ok"), "{out}");
        assert!(
            out.contains("clock: cpu 1: pinned to it, but running on cpu 0\n"),
            "{out}"
        );

        let mut os = machine("0-1");
        os.affinity_error = Some(EINVAL);
        let out = clock(&mut os);
        assert!(
            out.contains("clock: cpu 0: cannot pin to it: invalid argument\n"),
            "{out}"
        );
        assert!(
            out.ends_with("clock: FAIL: cannot restore init's cpu affinity: invalid argument\n"),
            "{out}"
        );
    }

    #[test]
    fn missing_facts_fail_before_measuring() {
        let mut os = FakeOs::new();
        assert_eq!(
            clock(&mut os),
            "clock: FAIL: cannot list the online cpus: no such file or directory\n"
        );
        os.file(ONLINE, "garbage\n");
        assert_eq!(
            clock(&mut os),
            "clock: FAIL: cannot list the online cpus: not a cpu list\n"
        );

        let mut os = FakeOs::new();
        os.file(ONLINE, "0-3\n");
        assert_eq!(
            clock(&mut os),
            format!("clock: FAIL: cannot read {TIMEBASE}: no such file or directory\n")
        );
        let mut os = FakeOs::new();
        os.file(ONLINE, "0-3\n");
        os.file_bytes(TIMEBASE, &[1, 2, 3]);
        assert_eq!(
            clock(&mut os),
            format!("clock: FAIL: cannot read {TIMEBASE}: not a 4- or 8-byte number\n")
        );
        assert!(os.counter_reads.is_empty());
        assert_eq!(os.open_fds(), 0);
    }

    #[test]
    fn milliseconds_keep_a_decimal_when_small() {
        assert_eq!(Ms(21_400_000).to_string(), "21");
        assert_eq!(Ms(2_150_000).to_string(), "2.1");
        assert_eq!(Ms(0).to_string(), "0.0");
        assert_eq!(ticks_to_ns(u64::MAX, 1), u64::MAX);
        assert_eq!(ticks_to_ns(10_000_000, 10_000_000), 1_000_000_000);
    }
}
