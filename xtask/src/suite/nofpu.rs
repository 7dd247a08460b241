//! The imac supervisors contain no floating-point instruction anywhere,
//! kernel or userland; the riscv64gc one is the control that shows the
//! check can see them.

use std::process::Command;

use anyhow::{Context, Result, ensure};

use super::{Case, case};
use crate::supervisor;
use crate::target::Target;

pub fn cases(t: Target) -> Vec<Case> {
    let what = if t.has_fpu() { "has F/D instructions (control)" } else { "has no F/D instruction in kernel or /init" };
    vec![case(format!("{}: supervisor {what}", t.arch()), move || check(t))]
}

/// True for F and D instruction mnemonics in objdump's output (`fld`,
/// `fsd`, `fadd.d`, `fmv.x.w`, `frcsr`, `fcvt.s.w`, compressed `c.fldsp`...).
fn is_fp(mnemonic: &str) -> bool {
    let m = mnemonic.strip_prefix("c.").unwrap_or(mnemonic);
    const PLAIN: &[&str] = &["fld", "fsd", "flw", "fsw", "fldsp", "fsdsp", "flwsp", "fswsp",
        "frcsr", "fscsr", "frrm", "fsrm", "frflags", "fsflags", "fsrmi", "fsflagsi"];
    if PLAIN.contains(&m) {
        return true;
    }
    let base = m.split('.').next().unwrap_or("");
    m.contains('.')
        && matches!(base, "fadd" | "fsub" | "fmul" | "fdiv" | "fsqrt" | "fmin" | "fmax" | "fmadd"
            | "fmsub" | "fnmadd" | "fnmsub" | "fsgnj" | "fsgnjn" | "fsgnjx" | "fmv" | "fcvt"
            | "feq" | "flt" | "fle" | "fclass")
}

/// FP instructions in `elf`, as `address: mnemonic` lines (at most 5).
pub fn fp_instructions(elf: &std::path::Path) -> Result<(usize, Vec<String>)> {
    let out = Command::new("riscv64-linux-gnu-objdump")
        .arg("-d")
        .arg(elf)
        .output()
        .context("cannot run riscv64-linux-gnu-objdump (cargo xtask deps installs it)")?;
    ensure!(out.status.success(), "objdump failed on {}", elf.display());
    let text = String::from_utf8_lossy(&out.stdout);
    let mut found = Vec::new();
    let mut count = 0;
    for line in text.lines() {
        // "ffffffff80001234:\t00053507          \tfld\tfa0,0(a0)"
        let mut cols = line.split('\t');
        let (Some(addr), Some(_), Some(mnemonic)) = (cols.next(), cols.next(), cols.next()) else {
            continue;
        };
        if addr.trim_end().ends_with(':') && is_fp(mnemonic.trim()) {
            count += 1;
            if found.len() < 5 {
                found.push(format!("{} {}", addr.trim(), mnemonic.trim()));
            }
        }
    }
    Ok((count, found))
}

fn check(t: Target) -> Result<()> {
    let built = supervisor::build(t)?;
    let init = crate::cargo::Build { package: "init", target: t, release: true, target_dir: None, supervisor: None, keep: None }.run()?;
    for elf in [&built.vmlinux, &init] {
        let (count, examples) = fp_instructions(elf)?;
        if t.has_fpu() {
            if elf == &built.vmlinux {
                ensure!(count > 0, "no FP instruction found in the riscv64gc kernel: the check is blind");
            }
        } else {
            ensure!(count == 0, "{} has {count} FP instructions, e.g. {examples:?}", elf.display());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_fp;

    #[test]
    fn recognises_fp_mnemonics_only() {
        for m in ["fld", "fsd", "c.fldsp", "fadd.d", "fmv.x.w", "fcvt.s.w", "frcsr", "fsflags", "fsgnj.d"] {
            assert!(is_fp(m), "{m}");
        }
        for m in ["fence", "fence.i", "addi", "c.fence", "sfence.vma", "ld", "sd"] {
            assert!(!is_fp(m), "{m}");
        }
    }
}
