//! Linux in the boot capsule under diosix: the hypervisor with the real
//! supervisor embedded boots to the boot capsule's prompt, every vcore
//! runs, commands answer, and `poweroff` (SBI SRST) ends QEMU with 0.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail, ensure};

use super::linux::{PROMPT, memory_mib, prompt_and_info};
use super::{Case, case};
use crate::cargo::Build;
use crate::paths;
use crate::qemu::{Machine, Running};
use crate::supervisor;
use crate::target::Target;

const BOOT_TIMEOUT: Duration = Duration::from_secs(240);
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);
/// The boot capsule's RAM (hypervisor/src/run/capsule.rs's default).
const CAPSULE_MIB: u64 = 256;

pub fn cases(t: Target) -> Vec<Case> {
    let mut cases = vec![
        case(
            format!("{}: Linux boots in the boot capsule under diosix with 4 vcores, answers, powers off with 0", t.arch()),
            move || linux_in_capsule(t),
        ),
        case(
            format!("{}: an idle boot capsule stays up; a Linux panic in it is reported through pvpanic and powers off with 4", t.arch()),
            move || linux_panics(t),
        ),
        case(
            format!("{}: a raw Linux Image as the supervisor boots in the boot capsule", t.arch()),
            move || image_in_capsule(t),
        ),
    ];
    if t == Target::Riscv64gc {
        cases.push(case(
            format!("{}: built with DIOSIX_PVPANIC=0, a Linux panic in the boot capsule is caught by the watchdog, exit 4", t.arch()),
            move || linux_panics_unsaid(t),
        ));
    }
    cases
}

/// The kernel's `Image` form (what distributions ship) embedded instead of
/// its `vmlinux`.
fn image_in_capsule(t: Target) -> Result<()> {
    let built = supervisor::build(t)?;
    let dir = paths::test_target_dir();
    let exe = Build { package: "hypervisor", target: t, release: false, target_dir: Some(&dir), supervisor: Some(&built.image), keep: Some("image") }
        .run()?;
    let mut m = Machine::new(t, &exe);
    m.smp = 2;
    m.memory_mib = 512;
    let mut vm = m.spawn()?;
    vm.expect("supervisor: RISC-V Linux Image", BOOT_TIMEOUT)?;
    let (cpus, _) = prompt_and_info(&mut vm, BOOT_TIMEOUT)?;
    ensure!(cpus.trim() == "2", "Linux sees {cpus} CPUs, expected 2\n{}", vm.transcript());
    vm.send("poweroff\r")?;
    let run = vm.finish(REPLY_TIMEOUT);
    ensure!(run.exit_code == Some(0), "QEMU exited with {:?}\n{}", run.exit_code, run.output);
    Ok(())
}

/// The hypervisor's watchdog (hypervisor/src/run/timer.rs) waits this long.
const WATCHDOG: Duration = Duration::from_secs(10);

fn linux_panics(t: Target) -> Result<()> {
    let mut vm = booted(t, &hypervisor_with_linux(t, false)?)?;
    // Idle for longer than the watchdog: a live capsule must not be judged dead.
    std::thread::sleep(WATCHDOG + Duration::from_secs(3));
    vm.send("echo still here\r")?;
    vm.expect("still here", REPLY_TIMEOUT)?;
    vm.expect(PROMPT, REPLY_TIMEOUT)?;
    crash(vm, "[diosix] boot capsule died: its kernel panicked (it said so through pvpanic)")
}

/// Built with `DIOSIX_PVPANIC=0`, a panic is still caught: the kernel
/// stops polling its SBI console, and the watchdog ends it.
fn linux_panics_unsaid(t: Target) -> Result<()> {
    let built = supervisor::build(t)?;
    let dir = paths::test_target_dir();
    let exe = Build { package: "hypervisor", target: t, release: false, target_dir: Some(&dir), supervisor: Some(&built.vmlinux), keep: Some("linux-no-pvpanic") }
        .run_with_env(&[("DIOSIX_PVPANIC", "0")])?;
    crash(booted(t, &exe)?, "[diosix] boot capsule died: it stopped responding")
}

/// `exe` on 2 harts and 512 MiB, at the boot capsule's prompt.
fn booted(t: Target, exe: &std::path::Path) -> Result<Running> {
    let mut m = Machine::new(t, exe);
    m.smp = 2;
    m.memory_mib = 512;
    let mut vm = m.spawn()?;
    vm.expect(PROMPT, BOOT_TIMEOUT)?;
    Ok(vm)
}

/// Makes the boot capsule's kernel panic (`/init`'s `crash`); the machine
/// must power off with 4, saying `why`.
fn crash(mut vm: Running, why: &str) -> Result<()> {
    vm.send("crash\r")?;
    vm.expect("Kernel panic - not syncing", REPLY_TIMEOUT)?;
    let run = vm.finish(WATCHDOG * 3);
    ensure!(!run.timed_out, "the machine hung after the capsule's kernel panicked\n{}", run.output);
    ensure!(run.exit_code == Some(4), "QEMU exited with {:?}, expected 4\n{}", run.exit_code, run.output);
    ensure!(run.output.contains(why), "the hypervisor did not say {why:?}\n{}", run.output);
    Ok(())
}

/// The hypervisor with this target's (cached) supervisor embedded.
pub fn hypervisor_with_linux(t: Target, release: bool) -> Result<PathBuf> {
    let built = supervisor::build(t)?;
    let dir = paths::test_target_dir();
    Build { package: "hypervisor", target: t, release, target_dir: Some(&dir), supervisor: Some(&built.vmlinux), keep: Some("linux") }
        .run()
}

/// Busy time of each `cpuN` line of /proc/stat: user + nice + system + idle.
fn cpu_times(stat: &str) -> Vec<(String, u64)> {
    stat.lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let name = f.next()?.to_string();
            let total = f.take(4).filter_map(|n| n.parse::<u64>().ok()).sum();
            Some((name, total))
        })
        .collect()
}

fn linux_in_capsule(t: Target) -> Result<()> {
    let exe = hypervisor_with_linux(t, false)?;
    let mut m = Machine::new(t, &exe);
    m.smp = 4;
    m.memory_mib = 512;
    let mut vm = m.spawn()?;
    vm.expect("boot capsule: ram", BOOT_TIMEOUT)?;
    let (cpus, memory) = prompt_and_info(&mut vm, BOOT_TIMEOUT)?;
    // Give every CPU time to tick, then read each one's time.
    std::thread::sleep(Duration::from_secs(1));
    vm.send("cat /proc/stat\r")?;
    vm.expect("intr ", REPLY_TIMEOUT)?;
    vm.expect(PROMPT, REPLY_TIMEOUT)?;
    let transcript = vm.transcript();
    ensure!(cpus.trim() == "4", "Linux in the boot capsule sees {cpus} CPUs, expected 4\n{transcript}");
    let mib = memory_mib(&memory)?;
    ensure!(
        (CAPSULE_MIB * 3 / 4..=CAPSULE_MIB).contains(&mib),
        "Linux sees {mib} MiB, the capsule has {CAPSULE_MIB} MiB\n{transcript}"
    );
    let stat = transcript.rsplit("cat /proc/stat").next().unwrap_or("");
    let times = cpu_times(stat);
    ensure!(times.len() == 4, "/proc/stat lists {} CPUs\n{transcript}", times.len());
    for (cpu, total) in &times {
        ensure!(*total > 0, "{cpu} has spent no time at all\n{transcript}");
    }
    vm.send("poweroff\r")?;
    let run = vm.finish(REPLY_TIMEOUT);
    if run.timed_out || run.exit_code != Some(0) {
        bail!("poweroff did not end QEMU with 0 (status {:?})\n--- output ---\n{}", run.exit_code, run.output);
    }
    ensure!(run.output.contains("[diosix] boot capsule shut down the system"), "no shutdown report\n{}", run.output);
    // QEMU's virt harts have Sstc: the capsule's kernel programs its own timer.
    ensure!(
        run.output.contains("sstc: on harts 0 1 2 3")
            && run.output.contains("Timer interrupt in S-mode is available via sstc extension"),
        "Linux in the capsule does not use Sstc\n{}",
        run.output
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::cpu_times;

    #[test]
    fn reads_per_cpu_times() {
        let stat = "cpu  10 0 5 100 0 0 0\ncpu0 5 0 2 50 0\ncpu1 0 0 0 0 0\nintr 0\n";
        assert_eq!(cpu_times(stat), [("cpu0".to_string(), 57), ("cpu1".to_string(), 0)]);
    }
}
