//! QEMU's `spike`: RAM, a CLINT, and HTIF, through which the hypervisor
//! prints, reads (one byte at a time: `Running::send` waits for each
//! echo) and powers off; no UART and no PLIC. It takes every target.

use anyhow::Result;

use super::super::{Case, case, expect_all};
use crate::qemu::{Board, Machine};
use crate::target::Target;

fn board(harts: u32) -> impl Fn(Machine) -> Machine {
    move |mut m| {
        m.board = Board::Spike;
        m.smp = harts;
        m.memory_mib = 512;
        m
    }
}

/// What the boot report says about a spike board with `harts` harts.
fn report(t: Target, harts: u32) -> Vec<String> {
    let ids: Vec<String> = (0..harts).map(|h| h.to_string()).collect();
    let isa = match t {
        Target::Riscv64gc => "rv64imafdc",
        Target::Riscv64imac => "rv64imac",
        Target::Riscv32imac => "rv32imac",
    };
    vec![
        "platform: ucbbar,spike-bare,qemu".into(),
        "console: htif (ucb,htif0)".into(),
        format!("harts: {harts} usable of {harts}: {}\n", ids.join(" ")),
        format!("harts {}: isa {isa}", ids.join(" ")),
        "timer: sifive,clint0 at 0x2000000, timebase 10000000 Hz".into(),
        "plic: none found".into(),
        "power-off: htif".into(),
        format!(", vcores {ids} on harts {ids}, ", ids = ids.join(" ")),
    ]
}

fn expect_report(out: &str, t: Target, harts: u32) -> Result<()> {
    let report = report(t, harts);
    expect_all(out, &report.iter().map(String::as_str).collect::<Vec<_>>())
}

pub fn cases(t: Target) -> Vec<Case> {
    let a = t.arch();
    vec![
        case(
            format!("{a}: spike: the boot report on its HTIF console, timers, IPIs and HSM, power-off through HTIF"),
            move || super::scenarios(t, board(2), |out| expect_report(out, t, 2)),
        ),
        case(
            format!("{a}: spike: Linux in the boot capsule reaches its prompt on 4 harts, answers `info` typed through HTIF, and `poweroff` ends QEMU with 0"),
            move || {
                let report = report(t, 4);
                super::linux(t, board(4), 4, &report.iter().map(String::as_str).collect::<Vec<_>>())
            },
        ),
    ]
}
