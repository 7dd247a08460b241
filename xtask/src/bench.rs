//! `cargo xtask bench`: how long the same supervisor takes to reach the boot
//! capsule's prompt under diosix and directly on QEMU's stock OpenSBI.
//! Numbers only; no timing is a pass/fail test.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::qemu::{Firmware, Machine};
use crate::suite::boot_capsule::hypervisor_with_linux;
use crate::suite::linux::PROMPT;
use crate::supervisor;
use crate::target::Target;

/// As generous as the integration tests: TCG on a busy machine is slow.
const BOOT_TIMEOUT: Duration = Duration::from_secs(240);
const POWEROFF_TIMEOUT: Duration = Duration::from_secs(30);

/// The two ways of booting the supervisor.
#[derive(Clone, Copy)]
enum Kind {
    Diosix,
    OpenSbi,
}

const KINDS: [Kind; 2] = [Kind::Diosix, Kind::OpenSbi];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Diosix => "diosix",
            Kind::OpenSbi => "OpenSBI",
        }
    }
}

pub fn run(targets: &[Target], runs: u32, smp: u32, memory_mib: u64) -> Result<()> {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("bench: seconds from starting QEMU to the boot capsule's prompt {PROMPT:?}");
    for bin in qemu_binaries(targets) {
        println!("  {bin}: {}", qemu_version(bin));
    }
    println!("  host CPUs: {cpus}; QEMU: -smp {smp} -m {memory_mib}M; {runs} run(s) of each, alternating");
    let mut failed = Vec::new();
    for &t in targets {
        failed.extend(bench_target(t, runs, smp, memory_mib)?);
    }
    if !failed.is_empty() {
        bail!("every run failed for: {}", failed.join(", "));
    }
    Ok(())
}

/// Benchmarks one target; returns the kinds of which every run failed.
fn bench_target(t: Target, runs: u32, smp: u32, memory_mib: u64) -> Result<Vec<String>> {
    eprintln!("\n{}: building both kernels (not timed)", t.arch());
    // The release build: the hypervisor as it would be shipped.
    let kernels = [hypervisor_with_linux(t, true)?, supervisor::build(t)?.image];
    let machines: Vec<Machine> = KINDS
        .iter()
        .zip(&kernels)
        .map(|(&kind, kernel)| machine(t, kind, kernel, smp, memory_mib))
        .collect();

    println!("\n{:<12} {:>10} {:>10}", t.arch(), "diosix", "OpenSBI");
    let mut times: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for run in 1..=runs {
        let mut cells = Vec::new();
        let mut notes = Vec::new();
        for (i, m) in machines.iter().enumerate() {
            match time_to_prompt(m) {
                Ok((secs, note)) => {
                    times[i].push(secs);
                    cells.push(format!("{secs:.2}"));
                    notes.extend(note.map(|n| format!("{}: {n}", KINDS[i].name())));
                }
                Err(e) => {
                    cells.push("failed".into());
                    notes.push(format!("{} failed: {}", KINDS[i].name(), first_line(&e)));
                }
            }
        }
        println!("{:<12} {:>10} {:>10}", format!("run {run}"), cells[0], cells[1]);
        for n in notes {
            println!("    {n}");
        }
    }

    let stat = |f: fn(&[f64]) -> Option<f64>| times.each_ref().map(|ts| f(ts));
    let medians = stat(median);
    let min = stat(|ts| ts.iter().copied().reduce(f64::min));
    let max = stat(|ts| ts.iter().copied().reduce(f64::max));
    for (label, row) in [("median", medians), ("min", min), ("max", max)] {
        println!("{label:<12} {:>10} {:>10}", cell(row[0]), cell(row[1]));
    }
    match medians {
        [Some(d), Some(o)] => println!("ratio diosix/OpenSBI of the medians: {:.2}", d / o),
        _ => println!("ratio diosix/OpenSBI of the medians: n/a"),
    }
    Ok(KINDS
        .iter()
        .zip(&times)
        .filter(|(_, ts)| ts.is_empty())
        .map(|(k, _)| format!("{} {}", t.arch(), k.name()))
        .collect())
}

fn machine(t: Target, kind: Kind, kernel: &Path, smp: u32, memory_mib: u64) -> Machine {
    let mut m = Machine::new(t, kernel);
    m.smp = smp;
    m.memory_mib = memory_mib;
    if let Kind::OpenSbi = kind {
        m.firmware = Firmware::OpenSbi;
        m.append = Some("console=ttyS0".into());
    }
    m
}

/// Boots `m`, times it to the prompt, then powers it off. Returns the
/// seconds and, if poweroff did not end QEMU with 0, a note saying so.
fn time_to_prompt(m: &Machine) -> Result<(f64, Option<String>)> {
    let started = Instant::now();
    let mut vm = m.spawn()?;
    if let Err(e) = vm.expect(PROMPT, BOOT_TIMEOUT) {
        vm.finish(Duration::ZERO); // kills QEMU
        return Err(e);
    }
    let secs = started.elapsed().as_secs_f64();
    let sent = vm.send("poweroff\r");
    let end = vm.finish(POWEROFF_TIMEOUT);
    let note = match (sent, end.exit_code) {
        (Ok(()), Some(0)) => None,
        (Err(e), _) => Some(format!("could not type poweroff: {e}")),
        (Ok(()), code) if end.timed_out => Some(format!("poweroff timed out, QEMU killed ({code:?})")),
        (Ok(()), code) => Some(format!("poweroff ended QEMU with {code:?}")),
    };
    Ok((secs, note))
}

/// The median, or `None` for no values.
fn median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

fn cell(x: Option<f64>) -> String {
    x.map_or("-".into(), |x| format!("{x:.2}"))
}

/// The reason without the transcript that `expect` attaches.
fn first_line(e: &anyhow::Error) -> String {
    format!("{e:#}").lines().next().unwrap_or("").to_string()
}

fn qemu_binaries(targets: &[Target]) -> Vec<&'static str> {
    let mut bins: Vec<&str> = targets.iter().map(|t| t.qemu_binary()).collect();
    bins.sort();
    bins.dedup();
    bins
}

fn qemu_version(bin: &str) -> String {
    match Command::new(bin).arg("--version").output() {
        Ok(out) => String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or("").to_string(),
        Err(e) => format!("cannot run it ({e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }
}
