//! A kernel with only the console drivers riscv `defconfig` has (the 8250
//! UART with of_serial, virtio console; no SBI console driver, no built-in
//! command line) must find a console in a capsule: the emulated 16550
//! that the capsule's `/chosen/stdout-path` names. On stock OpenSBI the
//! same kernel uses QEMU's own UART; under diosix, before the emulated
//! UART, it went silent after early boot.

use std::time::Duration;

use anyhow::{Context, Result, ensure};

use super::capsules::hypervisor;
use super::linux::PROMPT;
use super::{Case, FOCUS, case, poweroff};
use crate::paths;
use crate::qemu::{Machine, Running};
use crate::supervisor::{self, Flavour};
use crate::target::Target;

const BOOT_TIMEOUT: Duration = Duration::from_secs(300);
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

pub fn cases(t: Target) -> Vec<Case> {
    let a = t.arch();
    vec![
        case(format!("{a}: a kernel with only defconfig's console drivers (no SBI console) reaches its shell in the boot capsule through the emulated UART"), move || as_boot_capsule(t)),
        case(format!("{a}: the same kernel reaches its shell as a second capsule, its UART output tagged and its input by the focus key"), move || as_second_capsule(t)),
        case(format!("{a}: the same kernel told console=hvc0 answers typed commands on the virtio console"), move || on_virtio_console(t)),
    ]
}

/// What the stock-console kernel says when it takes the emulated UART as
/// its console.
const UART_FOUND: &str = "10000000.serial: ttyS0 at MMIO 0x10000000";
const UART_CONSOLE: &str = "[ttyS0] enabled";

fn as_boot_capsule(t: Target) -> Result<()> {
    let stock = supervisor::build_flavour(t, Flavour::StockConsole)?;
    let manifest = empty_manifest(t)?;
    let exe = hypervisor(t, &stock.vmlinux, &manifest, "stock-boot", &[])?;
    let mut m = Machine::new(t, &exe);
    m.smp = 2;
    m.memory_mib = 512;
    let mut vm = m.spawn()?;
    vm.expect(UART_FOUND, BOOT_TIMEOUT)?;
    vm.expect(UART_CONSOLE, BOOT_TIMEOUT)?;
    vm.expect(PROMPT, BOOT_TIMEOUT)?;
    // Idle past the watchdog's 10 s: a kernel that waits for its UART's
    // interrupts is not polling, and must not be taken for dead.
    std::thread::sleep(Duration::from_secs(12));
    let cpus = info(&mut vm, "")?;
    ensure!(cpus == 2, "the kernel sees {cpus} CPUs, expected 2\n{}", vm.transcript());
    poweroff(vm, REPLY_TIMEOUT)
}

/// Its console on virtio console port 0 (hvc0, the SBI console being
/// absent): output comes from the port, and typed input must reach it,
/// though the kernel never reads the SBI console or the UART.
fn on_virtio_console(t: Target) -> Result<()> {
    let stock = supervisor::build_flavour(t, Flavour::StockConsole)?;
    let manifest = empty_manifest(t)?;
    let exe = hypervisor(t, &stock.vmlinux, &manifest, "stock-hvc", &[("DIOSIX_BOOT_CAPSULE_ARGS", "console=hvc0")])?;
    let mut m = Machine::new(t, &exe);
    m.smp = 2;
    m.memory_mib = 512;
    let mut vm = m.spawn()?;
    vm.expect(PROMPT, BOOT_TIMEOUT)?;
    let cpus = info(&mut vm, "")?;
    ensure!(cpus == 2, "the kernel sees {cpus} CPUs, expected 2\n{}", vm.transcript());
    ensure!(!vm.transcript().contains(UART_CONSOLE), "the UART became the console too\n{}", vm.transcript());
    poweroff(vm, REPLY_TIMEOUT)
}

fn as_second_capsule(t: Target) -> Result<()> {
    let stock = supervisor::build_flavour(t, Flavour::StockConsole)?;
    let ours = supervisor::build(t)?;
    let dir = paths::test_target_dir().join("capsules").join(t.arch());
    std::fs::create_dir_all(&dir)?;
    let manifest = dir.join("stock.toml");
    std::fs::write(
        &manifest,
        format!(
            "[[capsule]]\nname = \"stock\"\nimage = \"{}\"\nram_mib = 128\nvcores = 1\nautostart = true\n",
            stock.vmlinux.display()
        ),
    )?;
    let exe = hypervisor(t, &ours.vmlinux, &manifest, "stock-second", &[])?;
    let mut m = Machine::new(t, &exe);
    m.smp = 2;
    m.memory_mib = 1024;
    let mut vm = m.spawn()?;
    vm.wait_all(&[UART_FOUND, "[stock] type 'help'", "[boot] type 'help'"], BOOT_TIMEOUT)?;
    std::thread::sleep(Duration::from_secs(12));
    vm.send(FOCUS)?;
    vm.expect("[diosix] console input goes to stock (capsule 2)", REPLY_TIMEOUT)?;
    let cpus = info(&mut vm, "[stock] ")?;
    ensure!(cpus == 1, "the stock capsule sees {cpus} CPUs, expected 1\n{}", vm.transcript());
    vm.send(FOCUS)?;
    vm.expect("[diosix] console input goes to boot (capsule 1)", REPLY_TIMEOUT)?;
    poweroff(vm, REPLY_TIMEOUT)
}

fn empty_manifest(t: Target) -> Result<std::path::PathBuf> {
    let dir = paths::test_target_dir().join("capsules").join(t.arch());
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("none.toml");
    std::fs::write(&path, "")?;
    Ok(path)
}

/// Types `info` for the capsule with the focus, whose lines start with
/// `tag`; returns its CPU count.
fn info(vm: &mut Running, tag: &str) -> Result<u32> {
    vm.send("info\r")?;
    let cpus = vm.expect(&format!("{tag}cpus:"), REPLY_TIMEOUT)?;
    vm.expect(&format!("{tag}memory:"), REPLY_TIMEOUT)?;
    vm.expect(&format!("{tag}{PROMPT}"), REPLY_TIMEOUT)?;
    cpus.trim().parse().with_context(|| format!("cpus: {cpus}"))
}

