//! A capsule doing what Linux never does on purpose but a hostile or
//! broken kernel may: the hypervisor must give it what real hardware
//! under firmware would, and never end the machine for it.

use super::hypervisor::{boot, expect_exit};
use super::{Case, case, expect_all, testguest};
use crate::target::Target;

pub fn cases(t: Target) -> Vec<Case> {
    let a = t.arch();
    let mut cases = vec![
        case(format!("{a}: H extension: traps from VS-mode reach the capsule's kernel as on real hardware"), move || {
            let out = testguest::run(t, "hext", None)?;
            expect_all(&out, &[
                "the hart has the H extension; entering VS-mode",
                "PASS back in HS-mode after three traps from VS-mode",
                "PASS ecall from VS-mode reaches the kernel as cause 10 with SPV set",
                "PASS an access fault in VS-mode reaches the kernel as cause 5 with SPV and GVA set",
            ])
        }),
        case(format!("{a}: console: a capsule's line that imitates the hypervisor is marked as the capsule's"), move || {
            let out = testguest::run(t, "spoof", None)?;
            expect_all(&out, &[
                "[capsule] [diosix] boot capsule died: spoofed by the capsule",
                "[capsule] [diosix] boot capsule shut down the system (spoofed in pieces)",
                "an ordinary line [diosix] in the middle stays as it is",
            ])?;
            let starts = |p: &str| out.lines().filter(|l| l.trim_start_matches('\r').starts_with(p)).count();
            anyhow::ensure!(starts("[diosix] boot capsule died") == 0, "a spoofed line passed as the hypervisor's\n{out}");
            anyhow::ensure!(starts("[diosix] boot capsule shut down") == 1, "expected only the real shutdown line\n{out}");
            Ok(())
        }),
        case(format!("{a}: an ecall in the last word of the address space returns with the pc wrapped to 0"), move || {
            let out = testguest::run(t, "top-ecall", None)?;
            expect_all(&out, &["PASS an ecall in the last word of the address space returns and the pc wraps to 0"])
        }),
        case(format!("{a}: a capsule that stops its last vcore is reported and the machine powers off with 4"), move || {
            let run = boot(t, 2, 256, Some("-- diosix.test=stop-all"))?;
            expect_exit(&run, 4)?;
            expect_all(&run.output, &[
                "testguest: stopping the last running vcore",
                "[diosix] boot capsule died: it stopped all its vcores (HSM hart_stop on the last one)",
            ])
        }),
        case(format!("{a}: a PMP entry locked by an earlier stage that opens memory to S-mode stops the boot, exit 2"), move || {
            let run = boot(t, 2, 256, Some("diosix.selftest=pmp-lock"))?;
            expect_exit(&run, 2)?;
            // The boot hart (whichever won the lottery) locked the entry
            // and is the one that refuses.
            expect_all(&run.output, &[
                "[diosix] self-test: locking PMP entry 8 over 0x10000000",
                "[diosix] cannot confine the boot capsule on hart ",
                ": PMP entry 8 (cfg 0x9b) was locked by an earlier boot stage \
                 and lets S/U-mode reach memory outside any capsule; isolation cannot be guaranteed",
            ])?;
            anyhow::ensure!(!run.output.contains("testguest: hart"), "the capsule ran\n{}", run.output);
            Ok(())
        }),
    ];
    if !t.is_64bit() {
        cases.push(case(
            format!("{a}: on a machine with RAM above 4 GiB, capsule RAM stays where rv32 M-mode can address it"),
            move || big_ram(t),
        ));
    }
    cases
}


/// rv32 M-mode reaches only the low 4 GiB. On a 6 GiB machine, a 2 GiB
/// capsule for a raw Linux `Image` (which may go anywhere) lands in the
/// largest free block, above QEMU's device tree at 3 GiB - and would run
/// past 4 GiB. It must stop at 4 GiB. (A test guest at its fixed address
/// never gets there.) Only the boot report is needed, not Linux's boot.
fn big_ram(t: Target) -> anyhow::Result<()> {
    let built = crate::supervisor::build(t)?;
    let dir = crate::paths::test_target_dir();
    let hypervisor = crate::cargo::Build {
        package: "hypervisor",
        target: t,
        release: false,
        target_dir: Some(&dir),
        supervisor: Some(&built.image),
        keep: Some("big-capsule"),
    }
    .run_with_env(&[("DIOSIX_BOOT_CAPSULE_MIB", "2048")])?;
    let mut m = crate::qemu::Machine::new(t, &hypervisor);
    m.smp = 1;
    m.memory_mib = 6144;
    let mut vm = m.spawn()?;
    let line = vm.expect("boot capsule: ram ", std::time::Duration::from_secs(60));
    let out = vm.finish(std::time::Duration::ZERO).output;
    let line = line?;
    expect_all(&out, &["ram: 0x80000000..0x200000000 (6 GiB)"])?;
    anyhow::ensure!(line.starts_with("0xc0000000..0x100000000 (1 GiB)"), "the capsule's RAM is {line}\n{out}");
    Ok(())
}
