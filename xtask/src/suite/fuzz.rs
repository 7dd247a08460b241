//! The test guest fuzzes the hypervisor's SBI: 100 000 pseudo-random calls
//! from inside the boot capsule, then checks the capsule still works.
//!
//! The seed is chosen here (or taken from `DIOSIX_FUZZ_SEED`) and shown
//! with any failure, with the commands that replay it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

use super::{Case, case, expect_all, fixture};
use crate::qemu::Machine;
use crate::target::Target;

/// 100k ecalls take seconds in TCG; booting and the checks add a few more.
const TIMEOUT: Duration = Duration::from_secs(120);

/// Lines the guest prints when the storm and every check after it passed.
const PASSES: &[&str] = &[
    "PASS every fuzz call came back with a well-formed answer",
    "PASS fuzz: no fault reached the capsule",
    "PASS fuzz: memory canary untouched",
    "PASS fuzz: spec version is still 2.0",
    "PASS fuzz: implementation id is still 5",
    "PASS fuzz: own vcore is started",
    "PASS fuzz: the other vcore is back to stopped",
    "PASS fuzz: it still starts and stops",
    "PASS fuzz: set_timer still raises a timer interrupt",
    "PASS fuzz: an IPI to itself still arrives",
    "PASS fuzz: DBCN write still works",
    "testguest: fuzz: a known line through one DBCN write",
    "testguest: all passed",
    "[diosix] boot capsule shut down the system",
];

pub fn cases(t: Target) -> Vec<Case> {
    vec![case(
        format!("{}: fuzz: 100000 random SBI calls leave the hypervisor up and the capsule consistent", t.arch()),
        move || {
            let seed = seed()?;
            storm(t, seed).with_context(|| {
                let guest = crate::cargo::kept_path(&crate::paths::test_target_dir(), "testguest", t, false, "testguest");
                format!(
                    "fuzz seed {seed:#x}: replay with DIOSIX_FUZZ_SEED={seed:#x} cargo xtask test --no-host --target {} fuzz, \
                     or DIOSIX_SUPERVISOR={} cargo xtask run --target {} --smp 2 --append \"-- diosix.test=fuzz:{seed:#x}\"",
                    t.arch(),
                    guest.display(),
                    t.arch()
                )
            })
        },
    )]
}

/// `DIOSIX_FUZZ_SEED` (decimal or 0x-hex), else one from the clock.
fn seed() -> Result<u64> {
    if let Ok(s) = std::env::var("DIOSIX_FUZZ_SEED") {
        let parsed = match s.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => s.parse(),
        };
        return parsed.with_context(|| format!("DIOSIX_FUZZ_SEED={s} is not a number"));
    }
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    // Mixed so that seeds drawn close together differ in every bit.
    let mut z = (nanos as u64) ^ (u64::from(std::process::id()) << 32);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    Ok(z ^ (z >> 31))
}

fn storm(t: Target, seed: u64) -> Result<()> {
    let fx = fixture::get(t)?;
    let mut m = Machine::new(t, &fx.hypervisor);
    m.smp = 2;
    m.memory_mib = 512;
    m.append = Some(format!("-- diosix.test=fuzz:{seed:#x}"));
    let out = m.run_captured(TIMEOUT)?;
    let text = &out.output;
    if out.timed_out {
        bail!("QEMU did not finish within {TIMEOUT:?}\n--- output ---\n{text}");
    }
    if text.contains("fatal") || out.exit_code == Some(3) {
        bail!("the hypervisor faulted (exit {:?})\n--- output ---\n{text}", out.exit_code);
    }
    if text.contains("testguest: FAIL") {
        bail!("a check failed (exit {:?})\n--- output ---\n{text}", out.exit_code);
    }
    if out.exit_code != Some(0) {
        bail!("QEMU exited with {:?}, expected 0 (4: the capsule died)\n--- output ---\n{text}", out.exit_code);
    }
    expect_all(text, &[&format!("testguest: fuzz seed {seed:#x}, 100000 calls")])?;
    expect_all(text, PASSES)
}
