//! The supervisor on its own: each built kernel boots on QEMU's stock
//! firmware (OpenSBI, no hypervisor involved) to our /init's prompt,
//! answers `info` truthfully, and powers off cleanly. This tells a fault in
//! the supervisor apart from a fault in diosix.

use std::time::Duration;

use anyhow::{Context, Result, ensure};

use super::{Case, case, poweroff};
use crate::qemu::{Firmware, Machine, Running};
use crate::supervisor;
use crate::target::Target;

/// Generous: rv32 and FPU-less Linux under TCG on a busy 2-core machine.
const BOOT_TIMEOUT: Duration = Duration::from_secs(180);
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);
pub const PROMPT: &str = "diosix> ";

pub fn cases(t: Target) -> Vec<Case> {
    vec![case(
        format!("{}: supervisor boots on OpenSBI to the prompt, `info` matches -smp 3 -m 384M, poweroff exits 0", t.arch()),
        move || direct_boot(t, 3, 384),
    )]
}

/// Waits for /init's banner and prompt, types `info`, and returns what
/// follows `cpus:` and `memory:` in its answer. The needles end without a
/// space: `expect` takes one that ends in a space for a prompt and returns
/// the line as far as it has come, which /init's separate writes can
/// leave empty.
pub fn prompt_and_info(vm: &mut Running, boot_timeout: Duration) -> Result<(String, String)> {
    vm.expect("diosix boot capsule", boot_timeout)?;
    vm.expect(PROMPT, boot_timeout)?;
    vm.send("info\r")?;
    let cpus = vm.expect("cpus:", REPLY_TIMEOUT)?;
    let memory = vm.expect("memory:", REPLY_TIMEOUT)?;
    vm.expect(PROMPT, REPLY_TIMEOUT)?;
    Ok((cpus, memory))
}

/// Parses `memory: N MiB` from `info`.
pub fn memory_mib(rest: &str) -> Result<u64> {
    rest.trim()
        .strip_suffix("MiB")
        .and_then(|n| n.trim().parse().ok())
        .with_context(|| format!("cannot read a size from `memory:{rest}`"))
}

fn direct_boot(t: Target, smp: u32, mib: u64) -> Result<()> {
    let built = supervisor::build(t)?;
    let mut m = Machine::new(t, &built.image);
    m.firmware = Firmware::OpenSbi;
    m.smp = smp;
    m.memory_mib = mib;
    m.append = Some("console=ttyS0".into());
    let mut vm = m.spawn()?;
    let (cpus, memory) = prompt_and_info(&mut vm, BOOT_TIMEOUT)?;
    let transcript = vm.transcript();
    ensure!(cpus.trim() == smp.to_string(), "info says cpus: {cpus}, QEMU has {smp}\n{transcript}");
    // Linux keeps some RAM for itself (OpenSBI's region, the kernel image,
    // reserved memory), so MemTotal is a little below what QEMU has.
    let seen = memory_mib(&memory)?;
    ensure!(
        seen <= mib && seen >= mib * 3 / 4,
        "info says memory: {seen} MiB, QEMU has {mib} MiB\n{transcript}"
    );
    poweroff(vm, REPLY_TIMEOUT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_line_parses() {
        assert_eq!(memory_mib(" 354 MiB").unwrap(), 354);
        assert!(memory_mib(" lots").is_err());
    }
}
