//! A device tree that names no console the hypervisor can drive: QEMU
//! virt's own tree, with its UART's `compatible` changed, handed back with
//! `-dtb`. On virt the hypervisor says so on QEMU's UART and goes on; on a
//! board it does not know (the tree's model changed too) it runs silent,
//! and the test guest's exit status shows that it ran.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, ensure};

use super::super::{Case, case, expect_all, fixture};
use crate::paths;
use crate::qemu::{Captured, Machine};
use crate::target::Target;

pub fn cases(t: Target) -> Vec<Case> {
    vec![case(
        format!(
            "{}: virt: a tree naming no console diosix can drive: the hypervisor says so on virt's UART and boots; on an unknown board it boots silent",
            t.arch()
        ),
        move || no_known_console(t),
    )]
}

fn machine(t: Target, kernel: &Path) -> Machine {
    let mut m = Machine::new(t, kernel);
    m.smp = 2;
    m.memory_mib = 256;
    m
}

/// QEMU's tree for `m`, with the test guest's `scenario` in its bootargs.
fn dump_tree(m: &Machine, scenario: &str, to: &Path) -> Result<Vec<u8>> {
    let cmd = m.command();
    let args: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
    let mut dump = Command::new(cmd.get_program());
    for a in &args {
        // The board's options, plus dumpdtb; the kernel is not started.
        if a.starts_with("virt") {
            dump.arg(format!("{a},dumpdtb={}", to.display()));
        } else {
            dump.arg(a);
        }
    }
    dump.args(["-append", &format!("-- diosix.test={scenario}")]);
    let status = dump.output().context("cannot run QEMU to dump its device tree")?.status;
    ensure!(status.success(), "QEMU could not dump its device tree ({status})");
    Ok(std::fs::read(to)?)
}

/// `blob` with every `from` replaced by `to` (same length, so the tree's
/// offsets stay valid); fails if `from` is not there.
fn patched(mut blob: Vec<u8>, from: &[u8], to: &[u8]) -> Result<Vec<u8>> {
    assert_eq!(from.len(), to.len());
    let mut found = false;
    let mut at = 0;
    while let Some(i) = blob[at..].windows(from.len()).position(|w| w == from) {
        blob[at + i..at + i + from.len()].copy_from_slice(to);
        at += i + from.len();
        found = true;
    }
    ensure!(found, "{:?} is not in QEMU's tree", String::from_utf8_lossy(from));
    Ok(blob)
}

/// Boots `hypervisor` on virt with `tree` (written to `path`) as its device tree.
fn boot_with(t: Target, hypervisor: &Path, path: &Path, tree: &[u8]) -> Result<Captured> {
    std::fs::write(path, tree)?;
    let mut m = machine(t, hypervisor);
    m.dtb = Some(path.to_path_buf());
    m.run_captured(super::GUEST_TIMEOUT)
}

fn no_known_console(t: Target) -> Result<()> {
    let fx = fixture::get(t)?;
    let dir: PathBuf = paths::test_target_dir().join("trees");
    std::fs::create_dir_all(&dir)?;
    let m = machine(t, &fx.hypervisor);
    let own = dump_tree(&m, "timer", &dir.join(format!("virt-{}.dtb", t.arch())))?;
    // "ns16550a" becomes a UART nobody has a driver for.
    let unknown_uart = patched(own, b"ns16550a\0", b"acme,u9a\0")?;
    let run = boot_with(t, &fx.hypervisor, &dir.join(format!("virt-no-uart-{}.dtb", t.arch())), &unknown_uart)?;
    expect_all(&run.output, &[
        "[diosix] the device tree names no console diosix can drive; using QEMU virt's UART",
        "uart: none diosix can drive",
        "PASS timer interrupt after the deadline",
        "testguest: all passed",
    ])?;
    ensure!(run.exit_code == Some(0), "QEMU exited with {:?}\n{}", run.exit_code, run.output);

    // And a model that is not virt's: nothing may be written to a guessed
    // address, so nothing is printed; the guest still passes (status 0).
    let unknown_board = patched(unknown_uart, b"riscv-virtio,qemu\0", b"acme-board,qemu00\0")?;
    let run = boot_with(t, &fx.hypervisor, &dir.join(format!("acme-{}.dtb", t.arch())), &unknown_board)?;
    ensure!(
        !run.timed_out && run.exit_code == Some(0),
        "the silent hypervisor did not run the test guest to success (status {:?}, timed out {})\n{}",
        run.exit_code,
        run.timed_out,
        run.output
    );
    ensure!(run.output.trim().is_empty(), "a hypervisor with no known console printed:\n{}", run.output);
    Ok(())
}
