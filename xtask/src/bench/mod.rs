//! `cargo xtask bench`: what a capsule pays for diosix, next to the same
//! kernel and userland directly on QEMU's stock OpenSBI.
//!
//! Per target, alternating the kinds each run:
//! - diosix (release build, the supervisor embedded) and OpenSBI
//!   (`-bios default`, the same kernel's `Image`, `mem=` the capsule's RAM,
//!   the same SBI console): boot to /init's prompt (timed from the host),
//!   then /init's `bench` command (cpu, mem, syscall, timer, ipi, fence;
//!   each timed inside the guest with `CLOCK_MONOTONIC`);
//! - diosix built with `DIOSIX_SSTC=0`: `bench timer` only, the timer
//!   before Sstc was offered;
//! - once each (deterministic): the test guest's `cost` scenario under
//!   `-icount shift=0`, the instructions each SBI call costs, under diosix
//!   and directly on OpenSBI.
//!
//! Prints a table and writes `target/bench/results.json`, `results.csv`
//! and `ratios.svg`. Numbers only; no timing is a pass/fail test. A run
//! that fails is reported and skipped; the command fails only if every run
//! of a kind failed for some target.

mod capsules;
mod parse;
mod report;
mod svg;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use wait_timeout::ChildExt;

use crate::cargo::Build;
use crate::paths;
use crate::qemu::{Firmware, Machine, describe};
use crate::suite::boot_capsule::hypervisor_with_linux;
use crate::suite::linux::{PROMPT, memory_mib};
use crate::supervisor;
use crate::target::Target;
use parse::BenchLine;
use report::{Meta, Row};

/// As generous as the integration tests: TCG on a busy machine is slow.
const BOOT_TIMEOUT: Duration = Duration::from_secs(240);
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);
/// All of `bench` (normally well under a minute).
const BENCH_TIMEOUT: Duration = Duration::from_secs(1200);
const POWEROFF_TIMEOUT: Duration = Duration::from_secs(30);
/// The test guest's `cost` scenario under `-icount`.
const COST_TIMEOUT: Duration = Duration::from_secs(300);

/// /init's workloads, in the order it runs them (userland/init/src/bench.rs).
const WORKLOADS: [&str; 7] = ["cpu", "mem", "syscall", "timer", "ipi", "fence", "ctl"];

/// The ways of booting the same kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Diosix,
    OpenSbi,
    /// diosix built with `DIOSIX_SSTC=0`: the timer through SBI only.
    NoSstc,
    /// diosix with seven idle Linux capsules beside the boot capsule.
    SevenIdle,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Diosix => "diosix",
            Kind::OpenSbi => "OpenSBI",
            Kind::NoSstc => "diosix, DIOSIX_SSTC=0",
            Kind::SevenIdle => "diosix, 7 idle capsules beside",
        }
    }

    /// What /init is asked to run.
    fn command(self) -> &'static str {
        match self {
            Kind::NoSstc => "bench timer\r",
            Kind::SevenIdle => "bench cpu\r",
            // There is no control channel to time on OpenSBI.
            Kind::OpenSbi => "bench cpu mem syscall timer ipi fence\r",
            Kind::Diosix => "bench\r",
        }
    }
}

/// What one boot measured.
#[derive(Debug, Default)]
struct Boot {
    boot_secs: f64,
    memory_mib: Option<u64>,
    lines: Vec<BenchLine>,
    sstc: Option<String>,
    /// Something odd that did not spoil the numbers (e.g. poweroff).
    note: Option<String>,
}

/// The samples of one kind on one target.
#[derive(Default)]
struct Samples {
    boot: Vec<f64>,
    /// Per workload of [`WORKLOADS`].
    workloads: [Vec<f64>; 7],
    failed: Vec<(String, String)>,
    /// Boots that reached the prompt.
    booted: u32,
    memory_mib: Option<u64>,
    sstc: Option<String>,
}

impl Samples {
    fn add(&mut self, run: u32, kind: Kind, boot: Boot) {
        self.booted += 1;
        self.boot.push(boot.boot_secs);
        self.memory_mib = self.memory_mib.or(boot.memory_mib);
        self.sstc = self.sstc.take().or(boot.sstc);
        for line in boot.lines {
            match line {
                BenchLine::Time { workload, secs, .. } => {
                    if let Some(i) = WORKLOADS.iter().position(|w| *w == workload) {
                        self.workloads[i].push(secs);
                    }
                }
                BenchLine::Failed { workload, why } => {
                    self.failed
                        .push((workload, format!("run {run} {}: {why}", kind.name())));
                }
            }
        }
    }

    fn failures(&self, workload: &str) -> Vec<String> {
        self.failed
            .iter()
            .filter(|(w, _)| w == workload)
            .map(|(_, why)| why.clone())
            .collect()
    }
}

/// The RAM the boot capsule gets (`DIOSIX_BOOT_CAPSULE_MIB` at build time,
/// hypervisor/src/built/settings.rs's default otherwise).
fn capsule_mib() -> u64 {
    std::env::var("DIOSIX_BOOT_CAPSULE_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

pub fn run(targets: &[Target], runs: u32, smp: u32, memory_mib: u64) -> Result<()> {
    let meta = Meta {
        date: date(),
        commit: commit(),
        qemu: qemu_binaries(targets)
            .into_iter()
            .map(|b| format!("{b}: {}", qemu_version(b)))
            .collect(),
        host_cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
        smp,
        memory_mib,
        capsule_mib: capsule_mib(),
        runs,
        notes: Vec::new(),
    };
    println!("bench: diosix next to QEMU's OpenSBI, {runs} run(s) of each kind, alternating");
    for q in &meta.qemu {
        println!("  {q}");
    }
    println!("  built from {} on {}", meta.commit, meta.date);
    println!(
        "  host CPUs: {}; QEMU virt -smp {smp} -m {memory_mib}M; the capsule and OpenSBI's Linux get {} MiB, both on the SBI console",
        meta.host_cpus, meta.capsule_mib
    );

    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut failed = Vec::new();
    for &t in targets {
        let (r, n, f) = bench_target(t, runs, smp, memory_mib, meta.capsule_mib)?;
        rows.extend(r);
        notes.extend(n);
        failed.extend(f);
    }
    let meta = Meta { notes, ..meta };

    println!(
        "\nEvery unit is lower-is-better; ratio = diosix median / OpenSBI median (above 1: diosix slower or costlier)."
    );
    println!(
        "Linux workloads: seconds of wall time inside the guest (CLOCK_MONOTONIC); boot: host seconds from starting QEMU to the prompt;"
    );
    println!("sbi rows: instructions per call under -icount shift=0 (exact, one run each).\n");
    print!("{}", report::table(&rows));
    for n in &meta.notes {
        println!("  {n}");
    }

    let dir = paths::target_dir().join("bench");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let title = format!(
        "diosix / OpenSBI on QEMU virt, -smp {smp}, {} ({runs} runs)",
        meta.date
    );
    for (name, text) in [
        ("results.json", report::json(&meta, &rows)),
        ("results.csv", report::csv(&rows)),
        ("ratios.svg", svg::chart(&title, &rows)),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    if !failed.is_empty() {
        bail!("every run failed for: {}", failed.join(", "));
    }
    Ok(())
}

/// What one target's bench gives: rows, notes, and the kinds that never booted.
type TargetResult = (Vec<Row>, Vec<String>, Vec<String>);

fn bench_target(
    t: Target,
    runs: u32,
    smp: u32,
    memory_mib: u64,
    capsule_mib: u64,
) -> Result<TargetResult> {
    let a = t.arch();
    eprintln!("\n{a}: building (not timed)");
    let built = supervisor::build(t)?;
    let mut kinds = vec![
        (Kind::Diosix, hypervisor_with_linux(t, true)?),
        (Kind::OpenSbi, built.image.clone()),
    ];
    let mut notes = Vec::new();
    match hypervisor_without_sstc(t, &built.vmlinux) {
        Ok(exe) => kinds.push((Kind::NoSstc, exe)),
        Err(e) => notes.push(format!("{a}: no DIOSIX_SSTC=0 build: {e:#}")),
    }
    match capsules::with_seven_idle(t, &built.vmlinux) {
        Ok(exe) => kinds.push((Kind::SevenIdle, exe)),
        Err(e) => notes.push(format!("{a}: no build with seven idle capsules: {e:#}")),
    }
    for (k, exe) in &kinds {
        eprintln!("{a}: {}: {}", k.name(), exe.display());
    }
    let machines: Vec<(Kind, Machine)> = kinds
        .iter()
        .map(|(k, exe)| {
            let mib = if *k == Kind::SevenIdle { capsules::seven_idle_memory_mib(capsule_mib, memory_mib) } else { memory_mib };
            (*k, linux_machine(t, *k, exe, smp, mib, capsule_mib))
        })
        .collect();

    let mut samples: Vec<Samples> = machines.iter().map(|_| Samples::default()).collect();
    let mut boot_failures: Vec<String> = Vec::new();
    for run in 1..=runs {
        for ((kind, m), s) in machines.iter().zip(&mut samples) {
            let started = Instant::now();
            match one_boot(m, *kind) {
                Ok(boot) => {
                    println!(
                        "{a} run {run}/{runs} {}: {} ({:.0} s)",
                        kind.name(),
                        summary_line(&boot),
                        started.elapsed().as_secs_f64()
                    );
                    if let Some(n) = &boot.note {
                        println!("    {n}");
                    }
                    s.add(run, *kind, boot);
                }
                Err(e) => {
                    println!(
                        "{a} run {run}/{runs} {}: failed: {}",
                        kind.name(),
                        first_line(&e)
                    );
                    boot_failures.push(format!("run {run} {}: {}", kind.name(), first_line(&e)));
                }
            }
        }
    }

    let cost = sbi_costs(t);
    let sample = |k: Kind| {
        machines
            .iter()
            .position(|(kind, _)| *kind == k)
            .map(|i| &samples[i])
    };
    let (d, o) = (
        sample(Kind::Diosix).expect("always built"),
        sample(Kind::OpenSbi).expect("always built"),
    );
    let row =
        |workload: &str, unit: &str, kind: Kind, dv: &[f64], ov: &[f64], failed: Vec<String>| Row {
            target: a.to_string(),
            workload: workload.to_string(),
            unit: unit.to_string(),
            diosix_kind: kind.name().to_string(),
            diosix: dv.to_vec(),
            opensbi: ov.to_vec(),
            failed,
        };
    let mut rows = vec![row(
        "boot",
        "s",
        Kind::Diosix,
        &d.boot,
        &o.boot,
        boot_failures.clone(),
    )];
    for (i, w) in WORKLOADS.iter().enumerate() {
        let failed = [d.failures(w), o.failures(w)].concat();
        rows.push(row(
            w,
            "s",
            Kind::Diosix,
            &d.workloads[i],
            &o.workloads[i],
            failed,
        ));
        if let (true, Some(n)) = (*w == "cpu", sample(Kind::SevenIdle)) {
            let failed = [n.failures(w), o.failures(w)].concat();
            rows.push(row("cpu (7 idle capsules beside)", "s", Kind::SevenIdle, &n.workloads[i], &o.workloads[i], failed));
        }
        if let (true, Some(n)) = (*w == "timer", sample(Kind::NoSstc)) {
            let failed = [n.failures(w), o.failures(w)].concat();
            rows.push(row(
                "timer (DIOSIX_SSTC=0)",
                "s",
                Kind::NoSstc,
                &n.workloads[i],
                &o.workloads[i],
                failed,
            ));
        }
    }
    match cost {
        Ok((dc, oc, nc)) => {
            let theirs = |call: &str| -> Vec<f64> {
                oc.iter().filter(|(c, _)| c == call).map(|(_, n)| *n as f64).collect()
            };
            for (call, n) in &dc {
                // The test guest's device accesses are not SBI calls:
                // emulated MMIO under diosix, QEMU's own UART on OpenSBI.
                let group = if call.starts_with("mmio_") { "device" } else { "sbi" };
                rows.push(row(&format!("{group} {call}"), "instructions", Kind::Diosix, &[*n as f64], &theirs(call), Vec::new()));
                // The timer's costs again without Sstc: before and after.
                if let Some((_, m)) = nc.iter().find(|(c, _)| c == call && c.contains("timer")) {
                    rows.push(row(
                        &format!("sbi {call} (DIOSIX_SSTC=0)"),
                        "instructions",
                        Kind::NoSstc,
                        &[*m as f64],
                        &theirs(call),
                        Vec::new(),
                    ));
                }
            }
        }
        Err(e) => notes.push(format!("{a}: no SBI costs: {}", first_line(&e))),
    }

    match capsules::switch_cost(t) {
        Ok((insns, ns)) => {
            rows.push(row("switch between capsules", "instructions", Kind::Diosix, &[insns as f64], &[], Vec::new()));
            rows.push(row("switch between capsules", "ns", Kind::Diosix, &[ns as f64], &[], Vec::new()));
        }
        Err(e) => notes.push(format!("{a}: no switch cost: {}", first_line(&e))),
    }

    let mem = |s: &Samples| s.memory_mib.map_or("?".into(), |m| m.to_string());
    notes.push(format!(
        "{a}: Linux's MemTotal: {} MiB under diosix, {} MiB on OpenSBI; diosix's boot report: sstc: {}",
        mem(d),
        mem(o),
        d.sstc.as_deref().unwrap_or("(no line)")
    ));
    let never: Vec<String> = machines
        .iter()
        .zip(&samples)
        .filter(|(_, s)| s.booted == 0)
        .map(|((k, _), _)| format!("{a} {}", k.name()))
        .collect();
    Ok((rows, notes, never))
}

/// The release hypervisor with Linux embedded, built with `DIOSIX_SSTC=0`.
fn hypervisor_without_sstc(t: Target, vmlinux: &Path) -> Result<PathBuf> {
    let dir = paths::test_target_dir();
    Build {
        package: "hypervisor",
        target: t,
        release: true,
        target_dir: Some(&dir),
        supervisor: Some(vmlinux),
        keep: Some("linux-nosstc"),
    }
    .run_with_env(&[("DIOSIX_SSTC", "0")])
}

fn linux_machine(
    t: Target,
    kind: Kind,
    kernel: &Path,
    smp: u32,
    memory_mib: u64,
    capsule_mib: u64,
) -> Machine {
    let mut m = Machine::new(t, kernel);
    m.smp = smp;
    m.memory_mib = memory_mib;
    if kind == Kind::OpenSbi {
        // Like for like: the capsule's RAM and its console (SBI's).
        m.firmware = Firmware::OpenSbi;
        m.append = Some(format!("console=hvc0 earlycon=sbi mem={capsule_mib}M"));
    }
    m
}

/// One boot: to the prompt (timed), `info`, the workloads, `poweroff`.
fn one_boot(m: &Machine, kind: Kind) -> Result<Boot> {
    let started = Instant::now();
    let mut vm = m.spawn()?;
    let result = (|| -> Result<Boot> {
        vm.expect(PROMPT, BOOT_TIMEOUT)?;
        let boot_secs = started.elapsed().as_secs_f64();
        vm.send("info\r")?;
        let memory_mib = memory_mib(&vm.expect("memory:", REPLY_TIMEOUT)?).ok();
        vm.expect(PROMPT, REPLY_TIMEOUT)?;
        vm.send(kind.command())?;
        vm.expect("bench done", BENCH_TIMEOUT)?;
        let transcript = vm.transcript();
        Ok(Boot {
            boot_secs,
            memory_mib,
            lines: parse::bench_lines(&transcript),
            sstc: parse::sstc_line(&transcript),
            note: None,
        })
    })();
    let mut boot = match result {
        Ok(b) => b,
        Err(e) => {
            vm.finish(Duration::ZERO); // kills QEMU
            return Err(e);
        }
    };
    let sent = vm.send("poweroff\r");
    let end = vm.finish(POWEROFF_TIMEOUT);
    boot.note = match (sent, end.exit_code) {
        (Ok(()), Some(0)) => None,
        (Err(e), _) => Some(format!("could not type poweroff: {e}")),
        (Ok(()), code) if end.timed_out => {
            Some(format!("poweroff timed out, QEMU killed ({code:?})"))
        }
        (Ok(()), code) => Some(format!("poweroff ended QEMU with {code:?}")),
    };
    Ok(boot)
}

fn summary_line(b: &Boot) -> String {
    let mut parts = vec![format!("boot {:.2} s", b.boot_secs)];
    for l in &b.lines {
        parts.push(match l {
            BenchLine::Time { workload, secs, .. } => format!("{workload} {secs:.3} s"),
            BenchLine::Failed { workload, why } => format!("{workload} failed ({why})"),
        });
    }
    parts.join(", ")
}

/// The test guest's `cost` lines under diosix and directly on OpenSBI.
type Costs = Vec<(String, u64)>;

fn sbi_costs(t: Target) -> Result<(Costs, Costs, Costs)> {
    eprintln!(
        "{}: building the test guest for SBI costs (release)",
        t.arch()
    );
    let dir = paths::test_target_dir();
    let guest = Build {
        package: "testguest",
        target: t,
        release: true,
        target_dir: Some(&dir),
        supervisor: None,
        keep: Some("bench-cost"),
    }
    .run()?;
    let hv = Build {
        package: "hypervisor",
        target: t,
        release: true,
        target_dir: Some(&dir),
        supervisor: Some(&guest),
        keep: Some("bench-cost"),
    }
    .run()?;
    // The timer without Sstc: the same guest under a DIOSIX_SSTC=0 build.
    let hv_no_sstc = Build {
        package: "hypervisor",
        target: t,
        release: true,
        target_dir: Some(&dir),
        supervisor: Some(&guest),
        keep: Some("bench-cost-nosstc"),
    }
    .run_with_env(&[("DIOSIX_SSTC", "0")])?;
    let mut under_diosix = Machine::new(t, &hv);
    under_diosix.append = Some("-- diosix.test=cost".into());
    let mut on_opensbi = Machine::new(t, &guest);
    on_opensbi.firmware = Firmware::OpenSbi;
    on_opensbi.append = Some("diosix.test=cost".into());
    let mut without_sstc = Machine::new(t, &hv_no_sstc);
    without_sstc.append = Some("-- diosix.test=cost".into());
    let mut out = Vec::new();
    for (name, mut m) in [("diosix", under_diosix), ("OpenSBI", on_opensbi), ("diosix DIOSIX_SSTC=0", without_sstc)] {
        m.smp = 2;
        m.memory_mib = 512;
        let costs = cost_run(&m).with_context(|| format!("the cost scenario under {name}"))?;
        println!(
            "{} SBI costs under {name}: {}",
            t.arch(),
            costs
                .iter()
                .map(|(c, n)| format!("{c} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        out.push(costs);
    }
    let nc = out.pop().expect("three runs");
    let oc = out.pop().expect("three runs");
    let dc = out.pop().expect("three runs");
    Ok((dc, oc, nc))
}

/// Runs `m` with `-icount shift=0` (one instruction per virtual ns, so
/// `instret` counts exactly) to its end; returns its cost lines.
fn cost_run(m: &Machine) -> Result<Costs> {
    let mut cmd = m.command();
    cmd.args(["-icount", "shift=0"]);
    let log_path = paths::target_dir().join("bench").join(format!(
        "cost-{}-{}.log",
        m.target.arch(),
        if m.firmware == Firmware::OpenSbi {
            "opensbi"
        } else {
            "diosix"
        }
    ));
    std::fs::create_dir_all(log_path.parent().expect("has a parent"))?;
    let log =
        File::create(&log_path).with_context(|| format!("cannot create {}", log_path.display()))?;
    cmd.stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot run {}", describe(&cmd)))?;
    let status = child.wait_timeout(COST_TIMEOUT)?;
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let output = std::fs::read_to_string(&log_path).unwrap_or_default();
    let costs = parse::cost_lines(&output);
    if costs.is_empty() {
        let tail: Vec<&str> = output.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "no cost lines ({}); see {}\n{}",
            if status.is_none() {
                format!("killed after {COST_TIMEOUT:?}")
            } else {
                format!("QEMU ended with {status:?}")
            },
            log_path.display(),
            tail.join("\n")
        );
    }
    Ok(costs)
}

/// The reason without the transcript that `expect` attaches.
fn first_line(e: &anyhow::Error) -> String {
    format!("{e:#}").lines().next().unwrap_or("").to_string()
}

fn date() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn commit() -> String {
    Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .current_dir(paths::root())
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn qemu_binaries(targets: &[Target]) -> Vec<&'static str> {
    let mut bins: Vec<&str> = targets.iter().map(|t| t.qemu_binary()).collect();
    bins.sort();
    bins.dedup();
    bins
}

fn qemu_version(bin: &str) -> String {
    match Command::new(bin).arg("--version").output() {
        Ok(out) => String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .to_string(),
        Err(e) => format!("cannot run it ({e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_sort_lines_into_workloads_and_failures() {
        let mut s = Samples::default();
        let lines = parse::bench_lines(
            "bench cpu 1.5 s (x)\nbench ipi failed: needs 2 online cpus\nbench timer 3 s\n",
        );
        s.add(
            2,
            Kind::OpenSbi,
            Boot {
                boot_secs: 1.25,
                memory_mib: Some(250),
                lines,
                ..Boot::default()
            },
        );
        assert_eq!(
            (s.booted, s.boot.as_slice(), s.memory_mib),
            (1, &[1.25][..], Some(250))
        );
        assert_eq!(s.workloads[0], [1.5]);
        assert_eq!(s.workloads[3], [3.0]);
        assert!(s.workloads[4].is_empty());
        assert_eq!(s.failures("ipi"), ["run 2 OpenSBI: needs 2 online cpus"]);
        assert!(s.failures("cpu").is_empty());
    }

    #[test]
    fn opensbi_gets_the_capsules_ram_and_console() {
        let m = linux_machine(
            Target::Riscv64gc,
            Kind::OpenSbi,
            Path::new("/Image"),
            4,
            512,
            256,
        );
        let line = describe(&m.command());
        assert!(
            line.contains("-smp 4 -m 512M -bios default -kernel /Image"),
            "{line}"
        );
        assert!(
            line.ends_with("-append console=hvc0 earlycon=sbi mem=256M"),
            "{line}"
        );
        let m = linux_machine(
            Target::Riscv64gc,
            Kind::NoSstc,
            Path::new("/hv"),
            4,
            512,
            256,
        );
        let line = describe(&m.command());
        assert!(line.ends_with("-bios none -kernel /hv"), "{line}");
        assert_eq!(Kind::NoSstc.command(), "bench timer\r");
    }

    #[test]
    fn workloads_match_init() {
        // The order and names /init prints (userland/init/src/bench.rs).
        let init = include_str!("../../../userland/init/src/bench.rs");
        assert!(init.contains(r#"pub const WORKLOADS: [&str; 7] = ["cpu", "mem", "syscall", "timer", "ipi", "fence", "ctl"];"#));
        assert_eq!(
            WORKLOADS,
            ["cpu", "mem", "syscall", "timer", "ipi", "fence", "ctl"]
        );
    }
}
