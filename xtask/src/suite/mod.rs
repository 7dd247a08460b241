//! `cargo xtask test`'s integration tests: a small runner that names each
//! case, times it, shows a failing case's evidence, and ends with the line
//! `N passed, N failed`.

pub mod boards;
pub mod boot_capsule;
pub mod capsules;
pub mod debug;
pub mod clocks;
pub mod fixture;
pub mod fuzz;
pub mod hostile;
pub mod hypervisor;
pub mod linux;
pub mod manager;
pub mod nofpu;
pub mod numa;
pub mod refusal;
pub mod routes;
pub mod stock_kernel;
pub mod storage;
pub mod testguest;

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::qemu::{Board, Running};
use crate::target::Target;

pub struct Case {
    pub name: String,
    pub run: Box<dyn FnOnce() -> Result<()>>,
}

pub fn case(name: impl Into<String>, run: impl FnOnce() -> Result<()> + 'static) -> Case {
    Case { name: name.into(), run: Box::new(run) }
}

/// Every integration case for `targets` on `board`: for `virt`, all but
/// the other boards' cases; for another board, its own; for none, every
/// case of every board.
pub fn all(targets: &[Target], board: Option<Board>) -> Vec<Case> {
    let mut cases = Vec::new();
    for &t in targets {
        if board.is_none_or(|b| b == Board::Virt) {
            cases.extend(virt(t));
        }
        for b in Board::ALL.into_iter().filter(|&b| board.is_none_or(|m| m == b)) {
            cases.extend(boards::cases(t, b));
        }
    }
    cases
}

/// The cases that boot on QEMU's `virt` with `-bios none -kernel`.
fn virt(t: Target) -> Vec<Case> {
    let mut cases = Vec::new();
    cases.extend(hypervisor::cases(t));
    cases.extend(refusal::cases(t));
    cases.extend(storage::cases(t));
    cases.extend(routes::cases(t));
    cases.extend(testguest::cases(t));
    cases.extend(fuzz::cases(t));
    cases.extend(numa::cases(t));
    cases.extend(hostile::cases(t));
    cases.extend(debug::cases(t));
    cases.extend(nofpu::cases(t));
    cases.extend(linux::cases(t));
    cases.extend(boot_capsule::cases(t));
    cases.extend(clocks::cases(t));
    cases.extend(capsules::cases(t));
    cases.extend(stock_kernel::cases(t));
    cases.extend(manager::cases(t));
    cases
}

/// Runs the cases whose names contain `filter`; fails if any failed.
pub fn run(cases: Vec<Case>, filter: Option<&str>) -> Result<()> {
    let selected: Vec<Case> = cases
        .into_iter()
        .filter(|c| filter.is_none_or(|f| c.name.contains(f)))
        .collect();
    println!("\nrunning {} integration tests", selected.len());
    let mut failures = Vec::new();
    let mut passed = 0;
    for c in selected {
        let started = Instant::now();
        let result = (c.run)();
        let secs = started.elapsed().as_secs_f64();
        match result {
            Ok(()) => {
                passed += 1;
                println!("test {} ... ok ({secs:.1}s)", c.name);
            }
            Err(e) => {
                println!("test {} ... FAILED ({secs:.1}s)", c.name);
                failures.push((c.name, format!("{e:?}")));
            }
        }
    }
    for (name, why) in &failures {
        println!("\n---- {name} ----\n{why}");
    }
    println!("\n{passed} passed, {} failed", failures.len());
    if !failures.is_empty() {
        bail!("{} integration test(s) failed", failures.len());
    }
    Ok(())
}

/// Fails with `output` attached unless it contains every one of `needles`.
/// The focus key (Ctrl-]), as typed.
pub const FOCUS: &str = "\x1d";

/// Types `poweroff` at a Linux shell in `vm`: QEMU must end, with status
/// 0, within `timeout`.
pub fn poweroff(mut vm: Running, timeout: Duration) -> Result<()> {
    vm.send("poweroff\r")?;
    let run = vm.finish(timeout);
    if run.timed_out || run.exit_code != Some(0) {
        bail!("poweroff did not end QEMU with status 0 (status {:?}, timed out: {})\n--- output ---\n{}", run.exit_code, run.timed_out, run.output);
    }
    Ok(())
}

pub fn expect_all(output: &str, needles: &[&str]) -> Result<()> {
    let missing: Vec<&&str> = needles.iter().filter(|n| !output.contains(**n)).collect();
    if !missing.is_empty() {
        bail!("expected output to contain {missing:?}\n--- output ---\n{output}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(board: Option<Board>) -> Vec<String> {
        all(&Target::ALL, board).into_iter().map(|c| c.name).collect()
    }

    fn count(names: &[String], part: &str) -> usize {
        names.iter().filter(|n| n.contains(part)).count()
    }

    #[test]
    fn a_board_selects_its_own_cases() {
        let every = names(None);
        let virt = names(Some(Board::Virt));
        let (sifive_u, spike) = (names(Some(Board::SifiveU)), names(Some(Board::Spike)));
        // The whole suite is virt's cases and every other board's.
        assert_eq!(every.len(), virt.len() + sifive_u.len() + spike.len());
        assert_eq!(count(&virt, ": sifive_u: ") + count(&virt, ": spike: "), 0);
        assert!(count(&virt, ": virt: ") == 6 && virt.len() > 3 * 10, "{virt:?}");
        assert!(!sifive_u.is_empty() && sifive_u.iter().all(|n| n.contains(": sifive_u: ")), "{sifive_u:?}");
        assert!(!spike.is_empty() && spike.iter().all(|n| n.contains(": spike: ")), "{spike:?}");
        // sifive_u has no 32-bit harts; spike takes every target.
        assert_eq!(count(&sifive_u, "riscv32imac: "), 0);
        assert_eq!(count(&spike, "riscv32imac: "), spike.len() / 3);
    }
}
