//! QEMU's `sifive_u` (HiFive Unleashed): the console is a SiFive UART,
//! hart 0 is the E51 monitor core (no MMU: never a vcore, whichever hart
//! wins the boot lottery), the U54s have no `time` CSR, so the hypervisor
//! emulates `rdtime` from the CLINT as firmware does, and power-off is the
//! tree's `gpio-restart` pin, which QEMU answers with a reset (so
//! `Machine` starts it with `-no-reboot`).

use anyhow::Result;

use super::super::{Case, case, expect_all};
use crate::qemu::{Board, Machine};
use crate::target::Target;

/// The E51 and four U54s, and RAM for the boot capsule and more.
fn board(mut m: Machine) -> Machine {
    m.board = Board::SifiveU;
    m.smp = 5;
    m.memory_mib = 1024;
    m
}

const REPORT: &[&str] = &[
    "platform: SiFive HiFive Unleashed A00",
    "uart: sifive,uart0 at 0x10010000",
    "harts: 4 usable of 5: 1 2 3 4\n",
    "timer: sifive,clint0 at 0x2000000, timebase 1000000 Hz",
    "plic: sifive,plic-1.0.0 at 0xc000000",
    "power-off: none found",
    // The tree's `gpio-restart`: pin 10, GPIO_ACTIVE_LOW.
    "reset: gpio 10 of sifive,gpio0 at 0x10060000, active low (used to power off)",
    // The capsule's own hart ids are 0..3, whichever harts run them.
    ", vcores 0 1 2 3 on harts 1 2 3 4, ",
];

pub fn cases(t: Target) -> Vec<Case> {
    let a = t.arch();
    vec![
        case(
            format!("{a}: sifive_u: the boot report on its SiFive UART, the E51 left out, timers (rdtime emulated), IPIs and HSM on the U54s, power-off through its GPIO"),
            move || scenarios(t),
        ),
        case(
            format!("{a}: sifive_u: Linux in the boot capsule reaches its prompt on the four U54s, answers `info`, and `poweroff` ends QEMU with 0"),
            move || super::linux(t, board, 4, REPORT),
        ),
    ]
}

fn scenarios(t: Target) -> Result<()> {
    super::scenarios(t, board, |out| {
        expect_all(out, REPORT)?;
        // Whichever hart won the boot lottery, the E51 was left out; when
        // the E51 itself won, it says which U54 the boot capsule starts on.
        if out.contains("starting on hart 0 ") {
            expect_all(out, &["[diosix] hart 0 cannot run vcores: the boot capsule starts on hart 1"])?;
        }
        Ok(())
    })
}
