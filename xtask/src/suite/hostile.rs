//! A capsule doing what Linux never does on purpose but a hostile or
//! broken kernel may: the hypervisor must give it what real hardware
//! under firmware would, and never end the machine for it.

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
    ]
}

