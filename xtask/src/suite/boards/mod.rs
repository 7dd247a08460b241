//! Boards, and ways onto them, other than `-bios none -kernel` on QEMU's
//! `virt`: the `sifive_u` and `spike` boards, and on `virt` the hypervisor
//! as the firmware itself (an ELF or a raw binary), as a board's loader
//! would start it. Each board's cases are named `<arch>: <board>: ...`, so
//! `cargo xtask test --machine <board>` (or a filter) picks them out.

mod consoles;
mod firmware;
mod sifive_u;
mod spike;

use std::time::Duration;

use anyhow::{Result, anyhow, ensure};

use super::{Case, expect_all, fixture, testguest};
use crate::qemu::{Board, Machine};
use crate::target::Target;

/// Generous: 5 harts under TCG on a loaded 2-core machine.
const GUEST_TIMEOUT: Duration = Duration::from_secs(120);
const LINUX_BOOT_TIMEOUT: Duration = Duration::from_secs(300);
const POWEROFF_TIMEOUT: Duration = Duration::from_secs(60);

/// `board`'s cases on `t`; none if the board has no harts for `t`.
pub fn cases(t: Target, board: Board) -> Vec<Case> {
    if !board.supports(t) {
        return Vec::new();
    }
    match board {
        Board::Virt => firmware::cases(t).into_iter().chain(consoles::cases(t)).collect(),
        Board::SifiveU => sifive_u::cases(t),
        Board::Spike => spike::cases(t),
    }
}

/// The test guest's timer, IPI and HSM scenarios on the machine `board`
/// makes (with the test-guest hypervisor as its kernel), each ending with
/// exit 0; `check` judges each transcript.
fn scenarios(t: Target, board: impl Fn(Machine) -> Machine, check: impl Fn(&str) -> Result<()>) -> Result<()> {
    for (scenario, needle) in [
        ("timer", "PASS timer interrupt after the deadline"),
        ("ipi", "PASS IPI delivered and answered"),
        ("hsm", "PASS hart_stop returns it to stopped"),
    ] {
        let fx = fixture::get(t)?;
        let m = board(Machine::new(t, &fx.hypervisor));
        let out = testguest::run_machine_within(m, scenario, None, GUEST_TIMEOUT)?;
        expect_all(&out, &[needle])?;
        check(&out)?;
    }
    Ok(())
}

/// The boot capsule's Linux on the machine `board` makes: its prompt,
/// `info` counting `cpus` CPUs, and `poweroff` ending QEMU with status 0.
/// The transcript must contain `report`.
fn linux(t: Target, board: impl Fn(Machine) -> Machine, cpus: u32, report: &[&str]) -> Result<()> {
    let exe = super::boot_capsule::hypervisor_with_linux(t, false)?;
    let mut vm = board(Machine::new(t, &exe)).spawn()?;
    let answer = super::linux::prompt_and_info(&mut vm, LINUX_BOOT_TIMEOUT).and_then(|a| {
        vm.send("poweroff\r")?;
        Ok(a)
    });
    let run = vm.finish(POWEROFF_TIMEOUT);
    let out = run.output;
    let (seen, _) = answer.map_err(|e| anyhow!("{e:#}\n--- output ---\n{out}"))?;
    ensure!(seen.trim() == cpus.to_string(), "Linux sees {seen} CPUs, expected {cpus}\n{out}");
    expect_all(&out, report)?;
    ensure!(
        !run.timed_out && run.exit_code == Some(0),
        "`poweroff` did not end QEMU with status 0 (status {:?}, timed out: {})\n--- output ---\n{out}",
        run.exit_code,
        run.timed_out
    );
    expect_all(&out, &["[diosix] boot capsule shut down the system"])
}
