//! `bench`: fixed workloads, each timed with `CLOCK_MONOTONIC`, for
//! `cargo xtask bench` to run under diosix and under plain OpenSBI.
//!
//! Every workload prints one line, `bench <name> <seconds> s (<what>)`:
//! the wall time of its timed part, lower is better. A workload that
//! cannot run prints `bench <name> failed: <why>` instead. `bench` runs
//! them all, `bench <name>...` the ones named; both end with `bench done`.
//!
//! What each one exercises:
//! - `cpu`: a hash over a small buffer, no system call and no trap at all;
//! - `mem`: copies over buffers much larger than the caches (TLB refills,
//!   no traps once the pages are in);
//! - `syscall`: `getppid` in a loop: U-mode to S-mode and back, which
//!   stays inside the kernel (the hypervisor is not involved);
//! - `timer`: short sleeps: every one waits for a timer interrupt (SBI
//!   `set_timer` or the kernel's own `stimecmp` with Sstc);
//! - `ipi`: two processes on two CPUs passing a byte through pipes: each
//!   wake-up is an IPI (SBI `send_ipi`) to a CPU idling in `wfi`;
//! - `fence`: threads on the other CPUs (each reads a shared page, naps
//!   1 ms, again) while this one changes the page's protection: each
//!   `mprotect` makes Linux fence the TLBs of every CPU that ran the
//!   address space (SBI `remote_sfence_vma_asid`), waking idle ones;
//! - `ctl`: requests to the hypervisor over the control channel (list
//!   capsules), one session: each is a virtio notify, a reply through
//!   the port and an interrupt (diosix only; elsewhere it fails).

use core::fmt::{self, Write};

use crate::clock;
use crate::errno::Errno;
use crate::os::{CpuSet, Os, Out};

/// How big each workload is. [`SIZES`] is what the command uses; the tests
/// use small ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// `cpu`: bytes hashed per round, and rounds.
    pub cpu_bytes: usize,
    pub cpu_rounds: u32,
    /// `mem`: bytes in each of the two buffers, and copies (each way).
    pub mem_bytes: usize,
    pub mem_passes: u32,
    pub syscalls: u32,
    /// `timer`: sleeps, and how long each asks for.
    pub sleeps: u32,
    pub sleep_ns: u64,
    /// `ipi`: round trips (two wake-ups each).
    pub ipi_rounds: u32,
    /// `fence`: protection changes (two `mprotect`s each), and at most how
    /// many other CPUs run threads.
    pub fence_rounds: u32,
    pub fence_threads: u32,
    /// `ctl`: control requests.
    pub ctl_requests: u32,
}

/// Sized for a few seconds each under QEMU's TCG on a small host.
pub const SIZES: Sizes = Sizes {
    cpu_bytes: 64 << 10,
    cpu_rounds: 6_000,
    mem_bytes: 32 << 20,
    mem_passes: 2,
    syscalls: 500_000,
    sleeps: 500,
    sleep_ns: 100_000,
    ipi_rounds: 1_000,
    fence_rounds: 2_000,
    fence_threads: 3,
    ctl_requests: 300,
};

/// The workloads, in the order `bench` runs them.
pub const WORKLOADS: [&str; 7] = ["cpu", "mem", "syscall", "timer", "ipi", "fence", "ctl"];

const NS_PER_S: u64 = 1_000_000_000;

/// Why a workload did not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    Os(&'static str, Errno),
    /// Fewer CPUs than the workload needs.
    Cpus(u32),
    /// The computation came out differently from the last time.
    Wrong,
    /// No control channel, or it failed.
    Channel,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match *self {
            Failure::Os(what, e) => write!(f, "{what}: {e}"),
            Failure::Cpus(n) => write!(f, "needs {n} online cpus"),
            Failure::Wrong => write!(f, "the result differs from the first round's"),
            Failure::Channel => write!(f, "no working diosix control channel"),
        }
    }
}

/// A workload's timed part.
struct Timed {
    ns: u64,
    /// What was done, for the line's parenthesis.
    what: What,
}

#[derive(Clone, Copy)]
enum What {
    Cpu { kib: usize, rounds: u32, hash: u32 },
    Mem { mib: usize, passes: u32 },
    Syscalls(u32),
    Sleeps { n: u32, us: u64 },
    Ipi { rounds: u32, cpus: [u32; 2] },
    Fence { rounds: u32, threads: u32 },
    Requests(u32),
}

impl fmt::Display for What {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match *self {
            What::Cpu { kib, rounds, hash } => {
                write!(
                    f,
                    "{rounds} rounds of FNV-1a over {kib} KiB, hash {hash:08x}"
                )
            }
            What::Mem { mib, passes } => {
                write!(f, "{passes} copies each way between two {mib} MiB buffers")
            }
            What::Syscalls(n) => write!(f, "{n} getppid calls"),
            What::Sleeps { n, us } => write!(f, "{n} sleeps of {us} us"),
            What::Ipi {
                rounds,
                cpus: [a, b],
            } => write!(f, "{rounds} pipe round trips between cpu {a} and cpu {b}"),
            What::Fence { rounds, threads } => write!(
                f,
                "{rounds} mprotect pairs with {threads} threads on other cpus"
            ),
            What::Requests(n) => write!(f, "{n} control requests listing the capsules"),
        }
    }
}

/// Seconds with microseconds, from nanoseconds.
pub struct Secs(pub u64);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}.{:06}", self.0 / NS_PER_S, self.0 % NS_PER_S / 1000)
    }
}

/// The `bench` command.
pub fn run(os: &mut dyn Os, args: &[&str]) {
    run_sized(os, args, &SIZES);
}

pub fn run_sized(os: &mut dyn Os, args: &[&str], sizes: &Sizes) {
    if let Some(bad) = args.iter().find(|a| !WORKLOADS.contains(a)) {
        writeln!(
            Out(os),
            "bench: unknown workload {bad}; choose from: {}",
            Names
        )
        .ok();
        return;
    }
    let chosen: &[&str] = if args.is_empty() { &WORKLOADS } else { args };
    let online = clock::online_cpus(os).ok();
    let saved = os.affinity();
    // Where init may run and the kernel says is online: the first is where
    // the timed loops run, the others serve `ipi` and `fence`.
    let mut cpus = CpuSet::default();
    for c in saved.unwrap_or_default().iter() {
        if online.is_none_or(|o| o.contains(c)) {
            cpus.insert(c);
        }
    }
    for name in chosen {
        let result = match saved {
            Ok(_) => run_one(os, name, sizes, &cpus),
            Err(e) => Err(Failure::Os("sched_getaffinity", e)),
        };
        let mut out = Out(os);
        match result {
            Ok(t) => writeln!(out, "bench {name} {} s ({})", Secs(t.ns), t.what),
            Err(why) => writeln!(out, "bench {name} failed: {why}"),
        }
        .ok();
        os.flush();
    }
    if let Some(Err(e)) = saved.ok().or(online).map(|all| os.set_affinity(&all)) {
        writeln!(Out(os), "bench: cannot restore init's cpu affinity: {e}").ok();
    }
    writeln!(Out(os), "bench done").ok();
}

struct Names;

impl fmt::Display for Names {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        for (i, w) in WORKLOADS.iter().enumerate() {
            let sep = if i > 0 { ", " } else { "" };
            write!(f, "{sep}{w}")?;
        }
        Ok(())
    }
}

fn run_one(os: &mut dyn Os, name: &str, s: &Sizes, cpus: &CpuSet) -> Result<Timed, Failure> {
    let first = cpus.iter().next().ok_or(Failure::Cpus(1))?;
    os.set_affinity(&CpuSet::one(first))
        .map_err(|e| Failure::Os("sched_setaffinity", e))?;
    match name {
        "cpu" => cpu(os, s),
        "mem" => mem(os, s),
        "syscall" => timed(os, What::Syscalls(s.syscalls), |os| {
            for _ in 0..s.syscalls {
                os.getppid();
            }
            Ok(())
        }),
        "timer" => {
            let what = What::Sleeps {
                n: s.sleeps,
                us: s.sleep_ns / 1000,
            };
            timed(os, what, |os| {
                for _ in 0..s.sleeps {
                    os.sleep_ns(s.sleep_ns)
                        .map_err(|e| Failure::Os("clock_nanosleep", e))?;
                }
                Ok(())
            })
        }
        "ipi" => {
            let other = cpus.iter().nth(1).ok_or(Failure::Cpus(2))?;
            let ns = os
                .ping_pong([first, other], s.ipi_rounds)
                .map_err(|e| Failure::Os("ping-pong", e))?;
            Ok(Timed {
                ns,
                what: What::Ipi {
                    rounds: s.ipi_rounds,
                    cpus: [first, other],
                },
            })
        }
        "fence" => {
            let mut others = CpuSet::default();
            for c in cpus.iter().skip(1).take(s.fence_threads as usize) {
                others.insert(c);
            }
            if others.is_empty() {
                return Err(Failure::Cpus(2));
            }
            let ns = os
                .fence_storm(&others, s.fence_rounds)
                .map_err(|e| Failure::Os("threads and mprotect", e))?;
            Ok(Timed {
                ns,
                what: What::Fence {
                    rounds: s.fence_rounds,
                    threads: others.len(),
                },
            })
        }
        "ctl" => {
            let mut ch = crate::channel::Channel::open(os).map_err(|_| Failure::Channel)?;
            let result = timed(os, What::Requests(s.ctl_requests), |os| {
                for _ in 0..s.ctl_requests {
                    match ch.call(os, &ctl::Request::ListCapsules) {
                        Ok(ctl::Reply::Capsules(_)) => {}
                        _ => return Err(Failure::Channel),
                    }
                }
                Ok(())
            });
            ch.close(os);
            result
        }
        _ => unreachable!("checked against WORKLOADS"),
    }
}

/// Times `f` with the monotonic clock.
fn timed(
    os: &mut dyn Os,
    what: What,
    f: impl FnOnce(&mut dyn Os) -> Result<(), Failure>,
) -> Result<Timed, Failure> {
    let clock = |os: &mut dyn Os| {
        os.monotonic_ns()
            .map_err(|e| Failure::Os("clock_gettime", e))
    };
    let t0 = clock(os)?;
    f(os)?;
    let t1 = clock(os)?;
    Ok(Timed {
        ns: t1.saturating_sub(t0),
        what,
    })
}

/// 32-bit FNV-1a of `bytes`, continuing from `hash`: one xor and one
/// multiply per byte, each depending on the last, the same work on rv32
/// and rv64.
pub fn fnv1a(mut hash: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        hash = (hash ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    hash
}

pub const FNV_OFFSET: u32 = 0x811c_9dc5;

/// Fills `buf` with a fixed pattern (an xorshift sequence).
pub fn fill(buf: &mut [u8]) {
    let mut x: u32 = 0x2545_f491;
    for b in buf {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
}

fn cpu(os: &mut dyn Os, s: &Sizes) -> Result<Timed, Failure> {
    let buf = os.map(s.cpu_bytes).map_err(|e| Failure::Os("mmap", e))?;
    fill(buf);
    let first = fnv1a(FNV_OFFSET, buf);
    let mut last = first;
    let result = timed(
        os,
        What::Cpu {
            kib: s.cpu_bytes >> 10,
            rounds: s.cpu_rounds,
            hash: first,
        },
        |_| {
            for _ in 0..s.cpu_rounds {
                // black_box: each round must really be computed.
                last = fnv1a(FNV_OFFSET, core::hint::black_box(&*buf));
                if last != first {
                    return Err(Failure::Wrong);
                }
            }
            Ok(())
        },
    );
    os.unmap(buf);
    result
}

/// Copies `from` into `to` (the same length) `passes` times.
pub fn copy_passes(from: &[u8], to: &mut [u8], passes: u32) {
    for _ in 0..passes {
        to.copy_from_slice(core::hint::black_box(from));
        core::hint::black_box(&mut *to);
    }
}

fn mem(os: &mut dyn Os, s: &Sizes) -> Result<Timed, Failure> {
    let a = os.map(s.mem_bytes).map_err(|e| Failure::Os("mmap", e))?;
    let b = match os.map(s.mem_bytes) {
        Ok(b) => b,
        Err(e) => {
            os.unmap(a);
            return Err(Failure::Os("mmap", e));
        }
    };
    // Every page faulted in before the clock starts.
    fill(a);
    b.fill(1);
    let result = timed(
        os,
        What::Mem {
            mib: s.mem_bytes >> 20,
            passes: s.mem_passes,
        },
        |_| {
            for _ in 0..s.mem_passes {
                copy_passes(a, b, 1);
                copy_passes(b, a, 1);
            }
            Ok(())
        },
    );
    let same = a.first() == b.first() && a.last() == b.last();
    os.unmap(a);
    os.unmap(b);
    if !same {
        return Err(Failure::Wrong);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::dispatch;
    use crate::errno::{EAGAIN, ENOMEM};
    use crate::fake::FakeOs;

    const SMALL: Sizes = Sizes {
        cpu_bytes: 4096,
        cpu_rounds: 3,
        mem_bytes: 8192,
        mem_passes: 2,
        syscalls: 10,
        sleeps: 4,
        sleep_ns: 100_000,
        ipi_rounds: 7,
        fence_rounds: 9,
        fence_threads: 3,
        ctl_requests: 5,
    };

    fn machine(online: &str) -> FakeOs {
        let mut os = FakeOs::new();
        os.file(clock::ONLINE, online);
        os
    }

    fn bench(os: &mut FakeOs, args: &[&str]) -> String {
        os.take_output();
        run_sized(os, args, &SMALL);
        os.take_output()
    }

    /// Every line as (name, seconds, rest) if it is a result line.
    fn results(out: &str) -> Vec<(String, f64)> {
        out.lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                (w.next()? == "bench").then_some(())?;
                let name = w.next()?.to_string();
                let secs = w.next()?.parse().ok()?;
                (w.next()? == "s").then_some((name, secs))
            })
            .collect()
    }

    #[test]
    fn all_workloads_run_in_order_and_end_with_done() {
        let mut os = machine("0-3\n");
        os.control_port().answers.extend(
            (0..SMALL.ctl_requests).map(|_| crate::fake_port::Answer::Reply(ctl::Reply::Capsules(Vec::new()))),
        );
        let out = bench(&mut os, &[]);
        let names: Vec<String> = results(&out).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, WORKLOADS, "{out}");
        assert!(out.contains("(5 control requests listing the capsules)"), "{out}");
        let asked = os.hv().asked();
        assert_eq!(asked.len(), 5, "one Hello is not counted: {asked:?}");
        assert!(out.ends_with("bench done\n"), "{out}");
        assert_eq!(os.getppids, 10);
        assert_eq!(os.ping_pongs, [([0, 1], 7)]);
        assert_eq!(os.fence_storms, [(vec![1, 2, 3], 9)]);
        // Every mapping given back; init's affinity restored.
        assert_eq!(os.mapped, 0);
        assert_eq!(os.affinity, CpuSet([0b1111, 0, 0, 0]));
        assert!(
            out.contains("bench syscall 0.000001 s (10 getppid calls)\n"),
            "{out}"
        );
        assert!(out.contains("(4 sleeps of 100 us)"), "{out}");
        assert!(
            out.contains("(2 copies each way between two 0 MiB buffers)"),
            "{out}"
        );
        assert!(
            out.contains("(7 pipe round trips between cpu 0 and cpu 1)"),
            "{out}"
        );
        assert!(
            out.contains("(9 mprotect pairs with 3 threads on other cpus)"),
            "{out}"
        );
    }

    #[test]
    fn sleeps_are_timed_with_the_monotonic_clock() {
        let mut os = machine("0-3\n");
        os.oversleep_ns = 0;
        let out = bench(&mut os, &["timer"]);
        // 4 sleeps of 100 us, plus the fake clock's 1 us per reading.
        assert_eq!(results(&out), [("timer".to_string(), 0.000401)], "{out}");
        assert_eq!(out.lines().last(), Some("bench done"));
    }

    #[test]
    fn named_workloads_only_and_unknown_ones_refused() {
        let mut os = machine("0-3\n");
        let out = bench(&mut os, &["ipi", "cpu"]);
        let names: Vec<String> = results(&out).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["ipi", "cpu"]);
        let out = bench(&mut os, &["cpu", "disk"]);
        assert_eq!(
            out,
            "bench: unknown workload disk; choose from: cpu, mem, syscall, timer, ipi, fence, ctl\n"
        );
        let out = bench(&mut os, &["ctl"]);
        assert!(out.starts_with("bench ctl failed: no working diosix control channel\n"), "without a port: {out}");
    }

    #[test]
    fn one_cpu_is_not_enough_for_ipi_and_fence() {
        let mut os = machine("0\n");
        os.affinity = CpuSet::one(0);
        let out = bench(&mut os, &[]);
        assert!(
            out.contains("bench ipi failed: needs 2 online cpus\n"),
            "{out}"
        );
        assert!(
            out.contains("bench fence failed: needs 2 online cpus\n"),
            "{out}"
        );
        assert!(out.contains("bench cpu 0."), "{out}");
        assert!(out.ends_with("bench done\n"));
    }

    #[test]
    fn only_online_cpus_that_init_may_use_serve() {
        let mut os = machine("0-1,3\n");
        os.affinity = CpuSet([0b1110, 0, 0, 0]);
        bench(&mut os, &["ipi", "fence"]);
        assert_eq!(os.ping_pongs, [([1, 3], 7)]);
        assert_eq!(os.fence_storms, [(vec![3], 9)]);
        assert_eq!(os.affinity, CpuSet([0b1110, 0, 0, 0]));
    }

    #[test]
    fn failures_are_reported_per_workload() {
        let mut os = machine("0-3\n");
        os.map_error = Some(ENOMEM);
        os.bench_error = Some(EAGAIN);
        let out = bench(&mut os, &[]);
        assert!(
            out.contains("bench cpu failed: mmap: out of memory\n"),
            "{out}"
        );
        assert!(
            out.contains("bench mem failed: mmap: out of memory\n"),
            "{out}"
        );
        assert!(
            out.contains("bench ipi failed: ping-pong: resource temporarily unavailable\n"),
            "{out}"
        );
        assert!(
            out.contains(
                "bench fence failed: threads and mprotect: resource temporarily unavailable\n"
            ),
            "{out}"
        );
        assert_eq!(results(&out).len(), 2, "{out}");
        assert_eq!(os.mapped, 0);
    }

    #[test]
    fn the_command_is_in_the_table() {
        let mut os = machine("0-3\n");
        os.take_output();
        dispatch(&mut os, "bench syscall");
        let out = os.take_output();
        assert!(out.starts_with("bench syscall "), "{out}");
        assert!(out.ends_with("bench done\n"), "{out}");
    }

    #[test]
    fn the_kernels_compute_what_they_should() {
        // FNV-1a's published test vectors.
        assert_eq!(fnv1a(FNV_OFFSET, b""), 0x811c_9dc5);
        assert_eq!(fnv1a(FNV_OFFSET, b"a"), 0xe40c_292c);
        assert_eq!(fnv1a(FNV_OFFSET, b"foobar"), 0xbf9c_f968);
        let mut a = [0u8; 64];
        fill(&mut a);
        assert!(a.iter().any(|&b| b != a[0]));
        let mut b = [0u8; 64];
        copy_passes(&a, &mut b, 2);
        assert_eq!(a, b);
        assert_eq!(Secs(1_234_567_891).to_string(), "1.234567");
        assert_eq!(Secs(5_000).to_string(), "0.000005");
    }
}
