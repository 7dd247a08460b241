//! The build refuses a supervisor it cannot use, before writing any
//! executable, and says what is wrong and how to get a good one.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail, ensure};

use super::{Case, case, expect_all, fixture};
use crate::cargo::{Build, Outcome};
use crate::paths;
use crate::target::Target;

/// What each refusal case hands the build, and what the message must say.
#[derive(Clone, Copy)]
enum Bad {
    Missing,
    Unreadable,
    NotElf,
    ForeignMachine,
    WrongClass,
}

pub fn cases(t: Target) -> Vec<Case> {
    // Every kind of refusal on the default target and on rv32; the wrong
    // class on every target.
    let kinds: &[Bad] = match t {
        Target::Riscv64imac => &[Bad::WrongClass],
        _ => &[Bad::Missing, Bad::Unreadable, Bad::NotElf, Bad::ForeignMachine, Bad::WrongClass],
    };
    kinds
        .iter()
        .map(|&bad| {
            let what = match bad {
                Bad::Missing => "a missing supervisor",
                Bad::Unreadable => "an unreadable supervisor",
                Bad::NotElf => "a supervisor that is not an ELF",
                Bad::ForeignMachine => "an x86-64 supervisor",
                Bad::WrongClass => "a supervisor of the wrong width",
            };
            case(format!("{}: build refuses {what}", t.arch()), move || refuse(t, bad))
        })
        .collect()
}

fn scratch() -> PathBuf {
    let dir = paths::test_target_dir().join("refusal");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// The hypervisor embedding `supervisor`, built in `dir` (not kept).
fn embedding<'a>(t: Target, dir: &'a Path, supervisor: &'a Path) -> Build<'a> {
    Build { package: "hypervisor", target: t, release: false, target_dir: Some(dir), supervisor: Some(supervisor), keep: None }
}

fn refuse(t: Target, bad: Bad) -> Result<()> {
    // A good build first, so there is an executable that must not survive:
    // cargo's own, in the target directory the refused build uses.
    let dir = paths::test_target_dir();
    let earlier = embedding(t, &dir, &fixture::guest(t)?).run()?;
    ensure!(earlier.exists(), "the good build left no executable");
    let (path, reason): (PathBuf, String) = match bad {
        Bad::Missing => (scratch().join("no-such-kernel"), "the file does not exist".into()),
        Bad::Unreadable => (scratch(), "it cannot be read".into()),
        Bad::NotElf => {
            let p = scratch().join("not-an-elf");
            std::fs::write(&p, "#!/bin/sh\necho this is not a kernel\n")?;
            (p, "not an ELF file".into())
        }
        Bad::ForeignMachine => (std::env::current_exe()?, "built for x86-64 (e_machine 62)".into()),
        Bad::WrongClass => {
            let other = if t.is_64bit() { Target::Riscv32imac } else { Target::Riscv64gc };
            let reason = if t.is_64bit() {
                "it is a 32-bit (ELF32) ELF, but this target needs a 64-bit (ELF64) kernel"
            } else {
                "it is a 64-bit (ELF64) ELF, but this target needs a 32-bit (ELF32) kernel"
            };
            (fixture::guest(other)?, reason.into())
        }
    };
    let outcome = embedding(t, &dir, &path).try_run()?;
    let stderr = match outcome {
        Outcome::Built(exe) => bail!("the build accepted {} and wrote {}", path.display(), exe.display()),
        Outcome::Failed { stderr } => stderr,
    };
    expect_all(
        &stderr,
        &[
            &format!("unusable boot capsule kernel (supervisor) at {}", path.display()),
            &reason,
            &format!("cargo xtask supervisor --arch {}", t.arch()),
            &format!("copy boot/buildroot/{}.config to Buildroot's .config", t.arch()),
        ],
    )?;
    ensure!(!earlier.exists(), "a refused build left the earlier executable {} in place", earlier.display());
    Ok(())
}
