//! What sharing harts between capsules costs: the M-mode cost of a switch
//! between vcores of different capsules, and a CPU-bound job in the boot
//! capsule with seven idle Linux capsules beside it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use wait_timeout::ChildExt;

use crate::cargo::Build;
use crate::paths;
use crate::qemu::{Machine, describe};
use crate::suite::fixture;
use crate::target::Target;

const SWITCH_TIMEOUT: Duration = Duration::from_secs(600);

/// The release hypervisor with Linux as the boot capsule and seven more
/// Linux capsules (64 MiB, one vcore each) started beside it, idle at
/// their prompts.
pub fn with_seven_idle(t: Target, vmlinux: &Path) -> Result<PathBuf> {
    let dir = paths::target_dir().join("bench").join("capsules").join(t.arch());
    std::fs::create_dir_all(&dir)?;
    let manifest = dir.join("seven-idle.toml");
    let text: String = (1..=7)
        .map(|i| format!("[[capsule]]\nname = \"idle{i}\"\nimage = \"{}\"\nram_mib = 64\nautostart = true\n\n", vmlinux.display()))
        .collect();
    std::fs::write(&manifest, text)?;
    let build = paths::test_target_dir();
    Build { package: "hypervisor", target: t, release: true, target_dir: Some(&build), supervisor: Some(vmlinux), keep: Some("seven-idle") }
        .run_with_env(&[("DIOSIX_CAPSULES", manifest.to_str().context("manifest path")?)])
}

/// RAM for the machine with seven idle capsules: theirs, the boot
/// capsule's and room for the hypervisor.
pub fn seven_idle_memory_mib(capsule_mib: u64, memory_mib: u64) -> u64 {
    memory_mib.max(capsule_mib + 7 * 64 + 128)
}

/// The average switch between two CPU-bound test-guest capsules on one
/// hart (1 ms slices), from the hypervisor's own count: (instructions
/// under `-icount shift=0`, nanoseconds without it).
pub fn switch_cost(t: Target) -> Result<(u64, u64)> {
    let guest = fixture::guest(t)?;
    // The second capsule's copy of the test guest: on rv32 it cannot
    // move, so it is linked where its RAM will be.
    let other = if t.is_64bit() {
        guest.clone()
    } else {
        let dir = paths::test_target_dir();
        Build { package: "testguest", target: t, release: false, target_dir: Some(&dir), supervisor: None, keep: Some("testguest-at-0x94000000") }
            .run_with_env(&[("DIOSIX_TESTGUEST_BASE", "0x94000000")])?
    };
    let dir = paths::target_dir().join("bench").join("switch").join(t.arch());
    std::fs::create_dir_all(&dir)?;
    let manifest = dir.join("spin.toml");
    std::fs::write(
        &manifest,
        format!("[[capsule]]\nname = \"spin\"\nimage = \"{}\"\nram_mib = 16\nautostart = true\nbootargs = \"diosix.test=spin:1000\"\n", other.display()),
    )?;
    let build = paths::test_target_dir();
    let exe = Build { package: "hypervisor", target: t, release: true, target_dir: Some(&build), supervisor: Some(&guest), keep: Some("switch") }
        .run_with_env(&[
            ("DIOSIX_CAPSULES", manifest.to_str().context("manifest path")?),
            ("DIOSIX_SCHED_STATS", "1"),
            ("DIOSIX_SLICE_MS", "1"),
        ])?;
    let mut m = Machine::new(t, &exe);
    m.smp = 1;
    m.memory_mib = 512;
    m.append = Some("-- diosix.test=spin:500".into());
    let insns = stats(&m, true)?.0;
    let ns = stats(&m, false)?.1;
    Ok((insns, ns))
}

/// Runs `m` to its end and reads the scheduler's report.
fn stats(m: &Machine, icount: bool) -> Result<(u64, u64)> {
    let mut cmd = m.command();
    if icount {
        cmd.args(["-icount", "shift=0"]);
    }
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().with_context(|| format!("cannot run {}", describe(&cmd)))?;
    if child.wait_timeout(SWITCH_TIMEOUT)?.is_none() {
        let _ = child.kill();
    }
    let out = child.wait_with_output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse_stats(&text).with_context(|| format!("no scheduler report\n{}", text.lines().rev().take(10).collect::<Vec<_>>().join("\n")))
}

/// "[diosix] scheduler: N switches between capsules, I instructions and
/// T ns each on average" -> (I, T), if N > 0.
fn parse_stats(text: &str) -> Result<(u64, u64)> {
    let line = text.lines().find_map(|l| l.split_once("[diosix] scheduler: ").map(|(_, r)| r)).context("no line")?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let num = |i: usize| words.get(i).and_then(|w| w.parse::<u64>().ok());
    match (num(0), num(4), num(7)) {
        (Some(n), Some(i), Some(t)) if n > 0 => Ok((i, t)),
        (Some(0), ..) => bail!("no switch was counted"),
        _ => bail!("cannot read `{line}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_stats;

    #[test]
    fn reads_the_scheduler_report() {
        let line = "x\r\n[diosix] scheduler: 312 switches between capsules, 1450 instructions and 2300 ns each on average\r\n";
        assert_eq!(parse_stats(line).unwrap(), (1450, 2300));
        assert!(parse_stats("[diosix] scheduler: 0 switches between capsules, 0 instructions and 0 ns each on average").is_err());
        assert!(parse_stats("nothing").is_err());
    }
}
