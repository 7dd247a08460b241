//! A two-socket NUMA `virt` board: QEMU gives each socket its own CLINT
//! (or ACLINT MSWI + MTIMER) at 0x2000000 and 0x2010000, each serving its
//! own harts from index 0. One hart per socket, so the test guest's
//! partner hart (IPI, HSM) is always on the other node than the boot hart.

use anyhow::{Result, ensure};

use super::{Case, case, expect_all, fixture, testguest};
use crate::qemu::Machine;
use crate::target::Target;

pub fn cases(t: Target) -> Vec<Case> {
    let a = t.arch();
    let mut cases: Vec<Case> = [false, true]
        .into_iter()
        .map(|aclint| {
            let device = if aclint { "an ACLINT" } else { "a CLINT" };
            case(
                format!("{a}: on a two-socket NUMA board with {device} per socket, timers, IPIs and HSM work on both nodes"),
                move || two_sockets(t, aclint),
            )
        })
        .collect();
    if !t.is_64bit() {
        // QEMU 10.0's MTIMER combines the 32-bit halves of the second
        // socket's mtimecmp with the wrong slot (it indexes them by the
        // absolute hart id), so on rv32 hart 1's timer cannot be set.
        // diosix checks every hart's timer, leaves such a hart out and, if
        // it won the boot lottery, starts the capsule on a working one.
        cases = vec![case(
            format!("{a}: on a two-socket NUMA board whose second socket's timer is broken (QEMU), that hart is left out and the capsule runs"),
            move || broken_second_socket(t),
        )];
    }
    cases
}

fn broken_second_socket(t: Target) -> Result<()> {
    // Whichever hart wins the boot lottery, the result must be the same;
    // three boots give the second socket's hart a fair chance to win.
    for _ in 0..3 {
        let fx = fixture::get(t)?;
        let mut m = Machine::new(t, &fx.hypervisor);
        m.smp = 2;
        m.memory_mib = 512;
        m.numa_nodes = 2;
        let out = testguest::run_machine(m, "timer", None)?;
        expect_all(&out, &[
            "[diosix] hart 1: its timer does not work",
            "harts running in M-mode: 0\n",
            ", vcores 0 on harts 0, ",
            "PASS no timer interrupt before the deadline",
            "PASS timer interrupt after the deadline",
        ])?;
        if out.contains("starting on hart 1") {
            expect_all(&out, &["[diosix] hart 1 cannot run vcores: the boot capsule starts on hart 0"])?;
        }
    }
    Ok(())
}

fn two_sockets(t: Target, aclint: bool) -> Result<()> {
    for (scenario, needles) in [
        ("timer", &["PASS no timer interrupt before the deadline", "PASS timer interrupt after the deadline"][..]),
        ("ipi", &["PASS IPI delivered and answered"][..]),
        ("hsm", &["PASS started hart runs with its opaque value", "PASS hart_stop returns it to stopped"][..]),
    ] {
        let fx = fixture::get(t)?;
        let mut m = Machine::new(t, &fx.hypervisor);
        m.aclint = aclint;
        m.smp = 2;
        m.memory_mib = 512;
        m.numa_nodes = 2;
        let out = testguest::run_machine(m, scenario, None)?;
        expect_all(&out, needles)?;
        expect_all(
            &out,
            &[
                "ram: 0x80000000..0x90000000",
                "ram: 0x90000000..0xa0000000",
                "harts: 2 usable of 2: 0 1\n",
                "harts running in M-mode: 0 1\n",
                "timer registers: msip 0x2000000, mtimecmp 0x2004000, mtime 0x200bff8 for harts 0\n",
                "timer registers: msip 0x2010000, mtimecmp 0x2014000, mtime 0x201bff8 for harts 1\n",
            ],
        )?;
        ensure!(out.contains(", vcores 0 1 on harts 0 1, "), "the capsule did not get both harts\n{out}");
    }
    Ok(())
}
