//! Ordinary programs in the boot capsule read the clocks, sleep and time
//! themselves on every CPU (issue 11: the vDSO's `clock_gettime` reads the
//! `time` CSR from U-mode, which raised SIGILL, so busybox `time` and `dd`
//! died, until the hypervisor set `scounteren`).
//!
//! Linux boots in the boot capsule under diosix with 4 vcores; /init's
//! `clock` pins itself to each CPU, reads the `time`, `cycle` and `instret`
//! CSRs from user space and `CLOCK_MONOTONIC` around a 20 ms sleep. On
//! riscv64gc, which has busybox, `time true` and `dd` also run through the
//! shell, pinned to each CPU with `taskset`.

use std::time::Duration;

use anyhow::{Result, bail, ensure};

use super::boot_capsule::hypervisor_with_linux;
use super::linux::{PROMPT, prompt_and_info};
use super::{Case, case};
use crate::qemu::{Machine, Running};
use crate::target::Target;

const SMP: u32 = 4;
const BOOT_TIMEOUT: Duration = Duration::from_secs(240);
/// `clock` forks 4 readers and sleeps 20 ms per CPU; slow under TCG on a
/// loaded machine, but not this slow.
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

pub fn cases(t: Target) -> Vec<Case> {
    let busybox = if t == Target::Riscv64gc { "; busybox time and dd run on each CPU" } else { "" };
    vec![case(
        format!(
            "{}: clocks: programs in the boot capsule read the time/cycle/instret CSRs and the monotonic clock and sleep on each of {SMP} CPUs{busybox}",
            t.arch()
        ),
        move || clocks(t),
    )]
}

fn clocks(t: Target) -> Result<()> {
    let exe = hypervisor_with_linux(t, false)?;
    let mut m = Machine::new(t, &exe);
    m.smp = SMP;
    m.memory_mib = 512;
    let mut vm = m.spawn()?;
    let (cpus, _) = prompt_and_info(&mut vm, BOOT_TIMEOUT)?;
    ensure!(cpus.trim() == SMP.to_string(), "Linux sees {cpus} CPUs, expected {SMP}\n{}", vm.transcript());

    vm.send("clock\r")?;
    vm.expect("clock: ", REPLY_TIMEOUT)?;
    vm.expect(PROMPT, REPLY_TIMEOUT)?;
    let transcript = vm.transcript();
    let lines: Vec<&str> = transcript.lines().filter(|l| l.starts_with("clock: ")).collect();
    check_clock_lines(&lines, SMP).map_err(|e| e.context(transcript.clone()))?;

    if t == Target::Riscv64gc {
        busybox_clocks(&mut vm, SMP)?;
    }

    vm.send("poweroff\r")?;
    let run = vm.finish(REPLY_TIMEOUT);
    ensure!(
        !run.timed_out && run.exit_code == Some(0),
        "poweroff did not end QEMU with 0 (status {:?})\n--- output ---\n{}",
        run.exit_code,
        run.output
    );
    ensure!(!run.output.contains("Illegal instruction"), "a program died of SIGILL\n{}", run.output);
    Ok(())
}

/// `clock`'s report: a good line for each CPU and the summary, no failure.
fn check_clock_lines(lines: &[&str], cpus: u32) -> Result<()> {
    let report = lines.join("\n");
    if let Some(bad) = lines.iter().find(|l| l.contains("FAIL") || l.contains("signal")) {
        bail!("`clock` failed: {bad}\n--- its report ---\n{report}");
    }
    for cpu in 0..cpus {
        let good = format!("clock: cpu {cpu}: time csr ok, monotonic ok, slept 20 ms (measured ");
        ensure!(
            lines.iter().any(|l| l.starts_with(&good) && l.ends_with("cycle and instret csrs ok")),
            "`clock` has no good line for cpu {cpu}\n--- its report ---\n{report}"
        );
    }
    let all = format!("clock: all {cpus} cpus ok");
    ensure!(lines.contains(&all.as_str()), "`clock` did not end with `{all}`\n--- its report ---\n{report}");
    Ok(())
}

/// Busybox's `time` and `dd` (both time themselves through the vDSO) run
/// from the shell on each CPU, and the shell is left again.
fn busybox_clocks(vm: &mut Running, cpus: u32) -> Result<()> {
    vm.send("sh\r")?;
    vm.expect("# ", REPLY_TIMEOUT)?;
    let start = vm.transcript().len();
    // Each status line's typed form shows `$c` and `$?`, not the numbers,
    // so only the output matches what the test waits for.
    let list: Vec<String> = (0..cpus).map(|c| c.to_string()).collect();
    vm.send(&format!(
        "for c in {}; do taskset -c $c time true; echo \"time on cpu $c: status $?\"; \
         taskset -c $c dd if=/dev/zero of=/dev/null bs=1k count=100; echo \"dd on cpu $c: status $?\"; \
         done; echo busybox-done-$((6*7))\r",
        list.join(" ")
    ))?;
    vm.expect("busybox-done-42", REPLY_TIMEOUT)?;
    vm.send("exit\r")?;
    vm.expect(PROMPT, REPLY_TIMEOUT)?;
    let transcript = vm.transcript();
    let out = transcript.get(start..).unwrap_or(&transcript);
    check_busybox_output(out, cpus).map_err(|e| e.context(transcript.clone()))
}

fn check_busybox_output(out: &str, cpus: u32) -> Result<()> {
    ensure!(!out.contains("Illegal instruction"), "a busybox program died of SIGILL\n--- shell ---\n{out}");
    for cpu in 0..cpus {
        for what in ["time", "dd"] {
            let line = format!("{what} on cpu {cpu}: status 0");
            ensure!(out.contains(&line), "no `{line}`\n--- shell ---\n{out}");
        }
    }
    let count = |needle: &str| out.lines().filter(|l| l.starts_with(needle)).count() as u32;
    // `time`'s report: real, user and sys, each with minutes and seconds.
    for field in ["real\t", "user\t", "sys\t"] {
        ensure!(count(field) == cpus, "`time` printed {} `{}` lines for {cpus} runs\n--- shell ---\n{out}", count(field), field.trim());
    }
    // `dd`'s report: records in, records out, and bytes with a rate.
    ensure!(count("100+0 records in") == cpus, "`dd` did not report its records in\n--- shell ---\n{out}");
    ensure!(count("100+0 records out") == cpus, "`dd` did not report its records out\n--- shell ---\n{out}");
    let rates = out
        .lines()
        .filter(|l| l.starts_with("102400 bytes (") && l.contains(" seconds, ") && l.trim_end().ends_with("B/s"))
        .count() as u32;
    ensure!(rates == cpus, "`dd` printed {rates} byte counts with a rate for {cpus} runs\n--- shell ---\n{out}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_reports_are_judged() {
        let ok = [
            "clock: 2 cpus online, time csr at 10000000 Hz",
            "clock: cpu 0: time csr ok, monotonic ok, slept 20 ms (measured 21 ms, time csr 21 ms), cycle and instret csrs ok",
            "clock: cpu 1: time csr ok, monotonic ok, slept 20 ms (measured 25 ms, time csr 26 ms), cycle and instret csrs ok",
            "clock: all 2 cpus ok",
        ];
        check_clock_lines(&ok, 2).unwrap();
        assert!(check_clock_lines(&ok, 3).is_err());
        let sigill = [
            ok[0],
            ok[1],
            "clock: cpu 1: reading the time CSR from user space killed the program with signal 4",
            "clock: FAIL: 1 of 2 cpus failed",
        ];
        let e = check_clock_lines(&sigill, 2).unwrap_err().to_string();
        assert!(e.contains("signal 4"), "{e}");
        assert!(check_clock_lines(&ok[..3], 2).is_err());
    }

    #[test]
    fn busybox_output_is_judged() {
        let run = "real\t0m 0.01s\nuser\t0m 0.00s\nsys\t0m 0.00s\ntime on cpu 0: status 0\n\
                   100+0 records in\n100+0 records out\n102400 bytes (100.0KB) copied, 0.004131 seconds, 24.2MB/s\n\
                   dd on cpu 0: status 0\nbusybox-done-42\n";
        check_busybox_output(run, 1).unwrap();
        assert!(check_busybox_output(run, 2).is_err());
        let died = "Illegal instruction\ntime on cpu 0: status 132\n";
        let e = check_busybox_output(died, 1).unwrap_err().to_string();
        assert!(e.contains("SIGILL"), "{e}");
        let no_rate = run.replace(", 24.2MB/s", "");
        assert!(check_busybox_output(&no_rate, 1).is_err());
    }
}
