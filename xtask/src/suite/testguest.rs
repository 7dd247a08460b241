//! The test guest in the boot capsule: every SBI extension from the
//! inside, and attacks on isolation that must be contained.

use std::time::Duration;

use anyhow::{Result, bail, ensure};

use super::{Case, case, expect_all, fixture};
use crate::qemu::Machine;
use crate::target::Target;

const TIMEOUT: Duration = Duration::from_secs(60);

/// (scenario, what the test is called, lines the guest must print).
const SCENARIOS: &[(&str, &str, &[&str])] = &[
    ("sbi", "SBI base: spec 2.0, implementation ID 5, the right extensions present and absent",
        &["PASS spec version is 2.0", "PASS implementation id is 5 (Diosix)", "PASS PMU present", "PASS SUSP present",
          "PASS FWFT present", "PASS NACL absent"]),
    ("pmu", "PMU: cycle and instret as hardware counters, firmware counters, refusals",
        &["PASS PMU: 19 counters", "PASS PMU: a stopped cycle counter holds its value", "PASS PMU: started from 0, it counts",
          "PASS PMU: it counted three set_timer calls", "PASS PMU: an unconfigured firmware counter cannot start"]),
    ("fwft", "FWFT: misaligned delegation fixed on and lockable, the rest not supported or denied",
        &["PASS FWFT: misaligned exceptions are delegated", "PASS FWFT: taking them back is denied",
          "PASS FWFT: a locked feature cannot be set", "PASS FWFT: a reserved feature is denied"]),
    ("suspend", "HSM suspend: SUSPENDED while suspended, woken by an IPI, retentive and at the resume address",
        &["PASS a retentively suspended hart reports SUSPENDED", "PASS retentive suspend returns success after an IPI",
          "PASS non-retentive suspend resumes at the resume address with its opaque value",
          "PASS resumed with a0 = hartid, satp = 0 and sstatus.SIE = 0", "PASS resuming outside the capsule is refused"]),
    ("susp", "SUSP: refusals, then suspend to RAM woken by the timer",
        &["PASS SUSP: denied while another vcore runs", "PASS SUSP: resuming outside the capsule",
          "[diosix] boot capsule suspended to RAM", "[diosix] boot capsule resumed from suspend to RAM",
          "PASS SUSP: woken by the timer, after its deadline"]),
    ("timer", "a timer interrupt arrives after set_timer's deadline and not before",
        &["PASS no timer interrupt before the deadline", "PASS timer interrupt after the deadline"]),
    ("sstc", "Sstc: the capsule writes its own stimecmp; its timer interrupt comes after the deadline, not before",
        &["sstc: on harts 0 1", "PASS sstc: stimecmp at never clears the timer interrupt",
          "PASS sstc: no timer interrupt before the stimecmp deadline", "PASS sstc: timer interrupt from stimecmp after the deadline"]),
    ("hsm", "HSM starts, stops and reports vcores; bad starts are refused",
        &["PASS started hart runs with its opaque value", "PASS hart_stop returns it to stopped", "PASS starting outside the capsule is refused"]),
    ("ipi", "IPIs travel between vcores both ways", &["PASS IPI delivered and answered"]),
    ("rfence", "remote fences on every target vcore", &["PASS remote fence.i on all harts", "PASS remote sfence.vma on the other hart"]),
    ("srst", "SRST refuses bad arguments, then shuts down with 0", &["PASS unknown reset type is refused"]),
    ("uart", "the emulated 16550 UART: driven as a driver does, then every width, offset and alignment; refusals fault back",
        &["testguest: the UART says hello", "PASS uart: stdout-path names it",
          "PASS uart: scratch keeps a byte, lb sign-extends it and lbu does not",
          "PASS uart: the divisor latch sits behind LCR.DLAB", "PASS uart: loopback returns what it sends",
          "PASS uart: enabling the THR-empty interrupt raises it; reading IIR clears it",
          "PASS uart: a driver's accesses raise no fault",
          "PASS uart: every other width, offset and alignment is refused and comes back as a fault",
          "still running after the UART sweep", "is a device access not emulated: the UART refused"]),
    ("plic", "the emulated PLIC: the UART's interrupt reaches the vcore through it, claim and complete, threshold; refusals fault back",
        &["PASS plic: priority, enable and threshold read back", "PASS plic: nothing pending while the UART is quiet",
          "PASS plic: the UART's line makes source 10 pending", "PASS plic: the vcore sees SEIP",
          "PASS plic: a threshold equal to the priority masks it",
          "PASS plic: the UART's interrupt arrives as an S external interrupt and claims as source 10",
          "PASS plic: completed with the line low, nothing is left pending", "PASS plic: a driver's accesses raise no fault",
          "PASS plic: every other width, offset and alignment is refused and comes back as a fault",
          "still running after the PLIC sweep"]),
    ("virtio", "the emulated virtio console: brought up, a line sent; hostile queues stop it until a reset; refusals fault back",
        &["PASS virtio: a version 2 console device", "PASS virtio: VERSION_1 and MULTIPORT offered",
          "PASS virtio: the boot capsule alone has the control port", "PASS virtio: brought up (FEATURES_OK, DRIVER_OK)",
          "testguest: hello through virtio", "PASS virtio: a line sent on port 0 is used",
          "PASS virtio: every hostile queue stops the device, and a reset brings it back",
          "PASS virtio: rings outside RAM stop it at QueueReady",
          "PASS virtio: every width and alignment of its registers is emulated or faults back",
          "still running after the virtio tests", "its virtio console stopped: queue 1: descriptor chain longer than the queue (a loop)"]),
];

/// Targets of isolation attacks, and how the test names them.
const ATTACKS: &[(&str, &str)] = &[
    ("hv", "hypervisor RAM"),
    ("ram", "RAM outside the capsule"),
    ("uart", "the UART's MMIO (where the capsule's own UART is)"),
    ("clint", "the CLINT's MMIO"),
    ("plic", "the real PLIC's MMIO beyond the capsule's own"),
    ("poweroff", "the power-off device's MMIO"),
];

pub fn cases(t: Target) -> Vec<Case> {
    let a = t.arch();
    let mut cases = Vec::new();
    for &(scenario, what, needles) in SCENARIOS {
        cases.push(case(format!("{a}: test guest: {what}"), move || {
            let out = run(t, scenario, None)?;
            expect_all(&out, needles)
        }));
    }
    cases.push(case(format!("{a}: with the virt board's ACLINT instead of its CLINT, timers, IPIs and HSM work"), move || {
        for (scenario, needle) in [
            ("timer", "PASS timer interrupt after the deadline"),
            ("ipi", "PASS IPI delivered and answered"),
            ("hsm", "PASS hart_stop returns it to stopped"),
        ] {
            let out = run_on(t, scenario, None, true)?;
            expect_all(&out, &[
                needle,
                "timer: riscv,aclint-mtimer at 0x200bff8",
                "timer registers: msip 0x2000000, mtimecmp 0x2004000, mtime 0x200bff8",
            ])?;
        }
        Ok(())
    }));
    cases.push(case(format!("{a}: test guest: console output and input through SBI"), move || console(t)));
    if t == Target::Riscv64gc {
        cases.push(case(format!("{a}: built with DIOSIX_SSTC=0, a capsule has no Sstc: stimecmp is an illegal instruction, SBI timers work"), move || no_sstc(t)));
        cases.push(case(format!("{a}: built with DIOSIX_PVPANIC=0, a capsule has no pvpanic register: its window faults"), move || {
            let exe = built_with(t, "no-pvpanic", ("DIOSIX_PVPANIC", "0"))?;
            expect_all(&run_machine(small(t, &exe, 2), "pvpanic", None)?, &["PASS pvpanic: not offered, and its window faults"])
        }));
        cases.push(case(format!("{a}: DIOSIX_BOOT_CAPSULE_VCORES=2 gives 2 vcores on -smp 4, and on -smp 1 too (sharing the hart)"), move || vcore_setting(t)));
    }
    for &(target, what) in ATTACKS {
        cases.push(case(format!("{a}: isolation: a load and a store to {what} are contained"), move || {
            let out = run(t, &format!("isolation:{target}"), None)?;
            expect_all(&out, &["PASS load", "PASS store", &format!("still running after touching {target}")])?;
            // The capsule's own emulated UART sits where QEMU's is: its
            // 4-byte accesses there are refused by the model instead.
            let reported = out.matches("is outside the capsule; reflected to its kernel").count()
                + out.matches("is a device access not emulated").count();
            ensure!(reported == 2, "the hypervisor reported {reported} contained accesses, expected 2\n{out}");
            Ok(())
        }));
    }
    cases.push(case(format!("{a}: a capsule that faults with no trap handler is stopped, exit 4"), move || dies(t)));
    cases.push(case(
        format!("{a}: pvpanic: the register reads as the events it takes, other accesses fault back, and a reported panic ends the capsule a second later, exit 4"),
        move || pvpanic(t),
    ));
    cases.push(case(format!("{a}: isolation: M-mode CSRs are out of reach"), move || {
        let out = run(t, "isolation:mcsr", None)?;
        expect_all(&out, &["PASS reading mstatus faults as illegal instruction", "PASS writing mtvec faults as illegal instruction"])
    }));
    cases
}

/// Boots the test guest with `scenario`; returns the transcript of a run
/// that ended with exit 0 and no failed check.
pub fn run(t: Target, scenario: &str, input: Option<(&str, &str)>) -> Result<String> {
    run_on(t, scenario, input, false)
}

pub fn run_on(t: Target, scenario: &str, input: Option<(&str, &str)>, aclint: bool) -> Result<String> {
    let fx = fixture::get(t)?;
    let mut m = Machine::new(t, &fx.hypervisor);
    m.aclint = aclint;
    m.smp = 2;
    m.memory_mib = 512;
    run_machine(m, scenario, input)
}

/// Boots `m`, whose kernel is the hypervisor with the test guest embedded
/// (`fixture::get`), with `scenario`; the same checks as [`run`].
pub fn run_machine(m: Machine, scenario: &str, input: Option<(&str, &str)>) -> Result<String> {
    run_machine_within(m, scenario, input, TIMEOUT)
}

/// [`run_machine`] with its own deadline (for slower boards).
pub fn run_machine_within(mut m: Machine, scenario: &str, input: Option<(&str, &str)>, timeout: Duration) -> Result<String> {
    m.append = Some(format!("-- diosix.test={scenario}"));
    run_as_built(m, scenario, input, timeout)
}

/// Boots `m` as it is, its kernel a hypervisor whose test guest runs
/// `scenario` without being told on QEMU's command line (a capsule
/// command line built in); the same checks as [`run`].
pub fn run_as_built(m: Machine, scenario: &str, input: Option<(&str, &str)>, timeout: Duration) -> Result<String> {
    let mut vm = m.spawn()?;
    if let Some((prompt, text)) = input {
        vm.expect(prompt, timeout)?;
        vm.send(text)?;
    }
    let out = vm.finish(timeout);
    if out.timed_out {
        bail!("QEMU did not finish within {timeout:?}\n--- output ---\n{}", out.output);
    }
    ensure!(!out.output.contains("testguest: FAIL"), "a check failed\n{}", out.output);
    ensure!(out.output.contains(&format!("scenario {scenario}")), "the guest did not run {scenario}\n{}", out.output);
    ensure!(out.output.contains("testguest: all passed"), "the guest did not finish\n{}", out.output);
    ensure!(out.exit_code == Some(0), "QEMU exited with {:?}\n{}", out.exit_code, out.output);
    ensure!(out.output.contains("[diosix] boot capsule shut down the system"), "no shutdown report\n{}", out.output);
    Ok(out.output)
}

fn console(t: Target) -> Result<()> {
    let out = run(t, "console", Some(("testguest: type three characters", "xyz")))?;
    expect_all(
        &out,
        &[
            "testguest: written with one DBCN call",
            "testguest: legacy putchar",
            "PASS DBCN write from outside the capsule is refused",
            "PASS legacy getchar with no input",
            "testguest: read 'xyz'",
        ],
    )
}

/// Boots the test guest with `scenario`, in which its capsule must die:
/// the transcript of a machine that ended with 4 (not hung).
fn to_death(t: Target, scenario: &str) -> Result<String> {
    let fx = fixture::get(t)?;
    let mut m = Machine::new(t, &fx.hypervisor);
    m.smp = 2;
    m.memory_mib = 256;
    m.append = Some(format!("-- diosix.test={scenario}"));
    let out = m.run_captured(TIMEOUT)?;
    ensure!(!out.timed_out, "the machine hung\n{}", out.output);
    ensure!(out.exit_code == Some(4), "QEMU exited with {:?}, expected 4\n{}", out.exit_code, out.output);
    Ok(out.output)
}

fn pvpanic(t: Target) -> Result<()> {
    let out = to_death(t, "pvpanic")?;
    ensure!(!out.contains("testguest: FAIL"), "a check failed\n{out}");
    expect_all(
        &out,
        &[
            "PASS pvpanic: the device tree offers qemu,pvpanic-mmio",
            "PASS pvpanic: it takes the panicked and crash-loaded events",
            "PASS pvpanic: other widths and offsets fault back",
            "testguest: still running 2 s after writing bits it does not take",
            "testguest: reporting a panic",
            "[diosix] boot capsule died: its kernel panicked (it said so through pvpanic)",
        ],
    )?;
    let (told, died) = (out.find("reporting a panic"), out.find("boot capsule died"));
    ensure!(told < died, "the capsule died before it reported its panic\n{out}");
    Ok(())
}

fn dies(t: Target) -> Result<()> {
    let out = to_death(t, "die")?;
    expect_all(&out, &["testguest: faulting with no trap handler", "[diosix] boot capsule died: access fault with no working trap handler"])?;
    ensure!(!out.contains("execution went on"), "the guest ran on\n{out}");
    Ok(())
}

/// The hypervisor built with `DIOSIX_SSTC=0` (for comparing timer costs):
/// no `sstc` in the capsule's tree, `stimecmp` traps to the capsule's own
/// handler, and the SBI timer still works.
fn no_sstc(t: Target) -> Result<()> {
    let exe = built_with(t, "no-sstc", ("DIOSIX_SSTC", "0"))?;
    for (scenario, needles) in [
        ("sstc", &["sstc: not offered (built with DIOSIX_SSTC=0)", "PASS without sstc in the tree, writing stimecmp is an illegal instruction"][..]),
        ("timer", &["PASS no timer interrupt before the deadline", "PASS timer interrupt after the deadline"][..]),
    ] {
        expect_all(&run_machine(small(t, &exe, 2), scenario, None)?, needles)?;
    }
    Ok(())
}

/// The test-guest hypervisor built with one build-time `setting`, kept as
/// `name`.
fn built_with(t: Target, name: &str, setting: (&str, &str)) -> Result<std::path::PathBuf> {
    let guest = fixture::guest(t)?;
    let dir = crate::paths::test_target_dir();
    crate::cargo::Build { package: "hypervisor", target: t, release: false, target_dir: Some(&dir), supervisor: Some(&guest), keep: Some(name) }
        .run_with_env(&[setting])
}

/// A virt machine with `smp` harts and 256 MiB.
fn small(t: Target, exe: &std::path::Path, smp: u32) -> Machine {
    let mut m = Machine::new(t, exe);
    m.smp = smp;
    m.memory_mib = 256;
    m
}

/// `DIOSIX_BOOT_CAPSULE_VCORES`: the boot capsule gets the vcores asked
/// for, fewer than the harts or more (then they share them).
fn vcore_setting(t: Target) -> Result<()> {
    let exe = built_with(t, "vcores", ("DIOSIX_BOOT_CAPSULE_VCORES", "2"))?;
    for (smp, needles) in [
        (4, &[", vcores 0 1 on harts ", "PASS started hart runs with its opaque value"][..]),
        (1, &[", vcores 0 1 on harts 0, ", "PASS started hart runs with its opaque value"][..]),
    ] {
        expect_all(&run_machine(small(t, &exe, smp), "hsm", None)?, needles)?;
    }
    Ok(())
}
