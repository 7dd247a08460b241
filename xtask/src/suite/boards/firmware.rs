//! The hypervisor as a board's first stage would start it, on `virt`: its
//! ELF as QEMU's firmware (`-bios <elf>`), and a raw binary of it (what
//! `objcopy -O binary` makes) loaded at the base of RAM, both as the
//! firmware and by QEMU's loader (`-bios none -kernel <bin>`). QEMU takes
//! no `-append` with `-bios` alone, so the test guest's scenario is built
//! into the boot capsule's command line.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, ensure};

use super::super::{Case, case, expect_all, fixture, testguest};
use crate::cargo::Build;
use crate::paths;
use crate::qemu::{Firmware, Machine};
use crate::target::Target;

pub fn cases(t: Target) -> Vec<Case> {
    vec![case(
        format!(
            "{}: virt: the hypervisor boots as the firmware (-bios <elf>, -bios <raw binary>) and as a raw binary at 0x80000000 (-kernel); the test guest's timer works",
            t.arch()
        ),
        move || firmware(t),
    )]
}

fn firmware(t: Target) -> Result<()> {
    let guest = fixture::guest(t)?;
    let dir = paths::test_target_dir();
    let elf = Build { package: "hypervisor", target: t, release: false, target_dir: Some(&dir), supervisor: Some(&guest), keep: Some("firmware") }
        .run_with_env(&[("DIOSIX_BOOT_CAPSULE_ARGS", "console=hvc0 earlycon=sbi diosix.test=timer")])?;
    let bin = raw_binary(&elf)?;
    let guest_len = std::fs::metadata(&guest)?.len();
    let width = if t.is_64bit() { "64-bit" } else { "32-bit" };
    for (file, firmware) in [(&elf, Firmware::Kernel), (&bin, Firmware::Kernel), (&bin, Firmware::None)] {
        let mut m = Machine::new(t, file);
        m.firmware = firmware;
        m.smp = 2;
        m.memory_mib = 256;
        let out = testguest::run_as_built(m, "timer", None, super::GUEST_TIMEOUT)?;
        expect_all(&out, &[
            "ram: 0x80000000..0x90000000 (256 MiB)",
            "harts: 2 usable of 2: 0 1\n",
            "uart: ns16550a at 0x10000000",
            &format!("supervisor: {width} RISC-V ELF for {}, {guest_len} bytes", t.arch()),
            "PASS timer interrupt after the deadline",
        ])?;
    }
    Ok(())
}

/// `riscv64-linux-gnu-objcopy -O binary`: the loadable bytes from the
/// entry at 0x80000000 on, `.bss` and beyond left for the hypervisor to
/// clear.
fn raw_binary(elf: &Path) -> Result<PathBuf> {
    let bin = elf.with_extension("bin");
    let status = Command::new("riscv64-linux-gnu-objcopy")
        .args(["-O", "binary"])
        .arg(elf)
        .arg(&bin)
        .status()
        .context("cannot run riscv64-linux-gnu-objcopy (cargo xtask deps installs it)")?;
    ensure!(status.success(), "objcopy -O binary {} failed", elf.display());
    Ok(bin)
}
