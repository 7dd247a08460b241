//! A capsule doing what Linux never does on purpose but a hostile or
//! broken kernel may: the hypervisor must give it what real hardware
//! under firmware would, and never end the machine for it.

use super::hypervisor::{boot, expect_exit};
use super::{Case, case, expect_all, testguest};
use crate::target::Target;

pub fn cases(t: Target) -> Vec<Case> {
    let a = t.arch();
    vec![
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
            expect_all(&run.output, &[
                "[diosix] self-test: locking PMP entry 8 over 0x10000000",
                "[diosix] cannot confine the boot capsule on hart 0: PMP entry 8 (cfg 0x9b) was locked by an earlier boot stage \
                 and lets S/U-mode reach memory outside any capsule; isolation cannot be guaranteed",
            ])?;
            anyhow::ensure!(!run.output.contains("testguest: hart"), "the capsule ran\n{}", run.output);
            Ok(())
        }),
    ]
}

