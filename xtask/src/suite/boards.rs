//! Boards other than QEMU's `virt`. On `sifive_u` (QEMU's HiFive
//! Unleashed) the console is a SiFive UART, hart 0 is the E51 monitor core
//! (no MMU: never a vcore, whichever hart wins the boot lottery), and the
//! U54s have no `time` CSR, so the hypervisor emulates `rdtime` from the
//! CLINT as firmware does. Powering off is not done yet on this board
//! (its tree names only a GPIO restart): the test stops QEMU itself.

use std::time::Duration;

use anyhow::{Result, ensure};

use super::{Case, case, expect_all, fixture};
use crate::qemu::Machine;
use crate::target::Target;

const TIMEOUT: Duration = Duration::from_secs(60);

pub fn cases(t: Target) -> Vec<Case> {
    if !t.is_64bit() {
        return Vec::new();
    }
    vec![
        case(
            format!(
                "{}: sifive_u: the boot report on its SiFive UART, the E51 left out, timers (rdtime emulated), IPIs and HSM on the U54s",
                t.arch()
            ),
            move || sifive_u(t),
        ),
        case(
            format!("{}: sifive_u: Linux in the boot capsule reaches its prompt on the four U54s and answers `info`", t.arch()),
            move || sifive_u_linux(t),
        ),
    ]
}

/// The boot capsule's Linux on the board: its console in and out through
/// SBI and the SiFive UART, its clock through the emulated `rdtime`.
fn sifive_u_linux(t: Target) -> Result<()> {
    let exe = super::boot_capsule::hypervisor_with_linux(t, false)?;
    let mut m = Machine::new(t, &exe);
    m.sifive_u = true;
    m.smp = 5;
    m.memory_mib = 1024;
    let mut vm = m.spawn()?;
    let answer = super::linux::prompt_and_info(&mut vm, Duration::from_secs(180));
    let out = vm.finish(Duration::ZERO).output;
    let (cpus, _) = answer.map_err(|e| anyhow::anyhow!("{e:#}\n{out}"))?;
    ensure!(cpus.trim() == "4", "Linux sees {cpus} CPUs, expected the four U54s\n{out}");
    expect_all(&out, &["uart: sifive,uart0 at 0x10010000", ", vcores 1 2 3 4, "])
}

fn sifive_u(t: Target) -> Result<()> {
    for (scenario, needle) in [
        ("timer", "PASS timer interrupt after the deadline"),
        ("ipi", "PASS IPI delivered and answered"),
        ("hsm", "PASS hart_stop returns it to stopped"),
    ] {
        let fx = fixture::get(t)?;
        let mut m = Machine::new(t, &fx.hypervisor);
        m.sifive_u = true;
        m.smp = 5;
        m.memory_mib = 1024;
        m.append = Some(format!("-- diosix.test={scenario}"));
        let mut vm = m.spawn()?;
        let done = vm.expect("testguest: all passed", TIMEOUT).map(|_| ());
        let out = vm.finish(Duration::ZERO).output;
        ensure!(done.is_ok(), "the test guest did not finish {scenario}\n{out}");
        ensure!(!out.contains("testguest: FAIL"), "a check failed\n{out}");
        expect_all(&out, &[
            "uart: sifive,uart0 at 0x10010000",
            "harts: 4 usable of 5: 1 2 3 4\n",
            ", vcores 1 2 3 4, ",
            needle,
        ])?;
        if out.contains("starting on hart 0 ") {
            expect_all(&out, &["[diosix] hart 0 cannot run vcores: the boot capsule starts on hart 1"])?;
        }
    }
    Ok(())
}
