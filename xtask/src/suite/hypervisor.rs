//! The hypervisor boots on QEMU, reports the machine correctly, embeds its
//! kernel byte for byte, and fails loudly rather than hanging.

use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use elf::ElfBytes;
use elf::endian::AnyEndian;

use super::{Case, case, expect_all, fixture};
use crate::qemu::{Captured, Machine};
use crate::target::Target;

const BOOT_TIMEOUT: Duration = Duration::from_secs(60);

pub fn cases(t: Target) -> Vec<Case> {
    let a = t.arch();
    vec![
        case(format!("{a}: executable has entry 0x80000000 and embeds the supervisor byte for byte"), move || embeds_supervisor(t)),
        case(format!("{a}: boot report matches -smp 3 -m 384M, exit 0"), move || boot_report(t, 3, 384)),
        case(format!("{a}: boot report matches run's defaults (4 harts, 512 MiB)"), move || boot_report(t, 4, 512)),
        case(format!("{a}: a hypervisor panic names hart and location, exit 1"), move || panic_path(t)),
        case(format!("{a}: a fatal trap is reported, exit 3"), move || trap_path(t)),
        case(format!("{a}: the seed's `cargo build --release` makes a bootable executable"), move || release_build(t)),
    ]
}

/// `cargo build --release --target <triple> -p hypervisor`, as the seed
/// documents it, writes target/<triple>/release/hypervisor, which boots.
fn release_build(t: Target) -> Result<()> {
    let fx = fixture::get(t)?;
    let dir = crate::paths::test_target_dir();
    let exe = crate::cargo::Build {
        package: "hypervisor",
        target: t,
        release: true,
        target_dir: Some(&dir),
        supervisor: Some(&fx.guest),
        keep: None,
    }
    .run()?;
    ensure!(
        exe == dir.join(t.triple()).join("release/hypervisor"),
        "the release build wrote {}",
        exe.display()
    );
    let mut m = Machine::new(t, &exe);
    m.smp = 2;
    m.memory_mib = 256;
    let run = m.run_captured(BOOT_TIMEOUT)?;
    expect_exit(&run, 0)?;
    expect_all(&run.output, &["testguest: all passed", "[diosix] boot capsule shut down the system"])
}

pub fn boot(t: Target, smp: u32, mib: u64, append: Option<&str>) -> Result<Captured> {
    let fx = fixture::get(t)?;
    let mut m = Machine::new(t, &fx.hypervisor);
    m.smp = smp;
    m.memory_mib = mib;
    m.append = append.map(str::to_string);
    let run = m.run_captured(BOOT_TIMEOUT)?;
    if run.timed_out {
        bail!("QEMU did not finish within {BOOT_TIMEOUT:?}\n--- output ---\n{}", run.output);
    }
    Ok(run)
}

pub fn expect_exit(run: &Captured, code: i32) -> Result<()> {
    if run.exit_code != Some(code) {
        bail!("QEMU exited with {:?}, expected {code}\n--- output ---\n{}", run.exit_code, run.output);
    }
    Ok(())
}

fn embeds_supervisor(t: Target) -> Result<()> {
    let fx = fixture::get(t)?;
    let exe = std::fs::read(&fx.hypervisor)?;
    let guest = std::fs::read(&fx.guest)?;
    let file = ElfBytes::<AnyEndian>::minimal_parse(&exe).context("hypervisor is not an ELF")?;
    ensure!(file.ehdr.e_entry == 0x8000_0000, "entry is {:#x}", file.ehdr.e_entry);
    let section = file
        .section_header_by_name(".supervisor")?
        .context("no .supervisor section")?;
    let (data, _) = file.section_data(&section)?;
    ensure!(
        data.get(..guest.len()) == Some(&guest[..]),
        "the .supervisor section ({} bytes) does not start with the {} bytes of {}",
        data.len(),
        guest.len(),
        fx.guest.display()
    );
    Ok(())
}

fn boot_report(t: Target, smp: u32, mib: u64) -> Result<()> {
    let fx = fixture::get(t)?;
    let run = boot(t, smp, mib, None)?;
    expect_exit(&run, 0)?;
    let ids: Vec<String> = (0..smp).map(|i| i.to_string()).collect();
    let ids = ids.join(" ");
    let guest_len = std::fs::metadata(&fx.guest)?.len();
    let width = if t.is_64bit() { "64-bit" } else { "32-bit" };
    expect_all(
        &run.output,
        &[
            &format!("diosix {} ({})", env!("CARGO_PKG_VERSION"), t.triple()),
            &format!("ram: 0x80000000..{:#x} ({mib} MiB)", 0x8000_0000u64 + (mib << 20)),
            &format!("ram total: {mib} MiB"),
            &format!("harts: {smp} usable of {smp}: {ids}\n"),
            &format!("harts running in M-mode: {ids}\n"),
            "uart: ns16550a at 0x10000000",
            "timer: sifive,clint0 at 0x2000000, timebase 10000000 Hz",
            "timer registers: msip 0x2000000, mtimecmp 0x2004000, mtime 0x200bff8",
            "plic: sifive,plic-1.0.0 at 0xc000000",
            "power-off: sifive test device at 0x100000, value 0x5555",
            &format!("supervisor: {width} RISC-V ELF for {}, {guest_len} bytes", t.arch()),
        ],
    )?;
    // The ISA the harts report must match the CPU QEMU emulates: no F or D
    // on the imac targets.
    let isa_line = run
        .output
        .lines()
        .find(|l| l.starts_with(&format!("harts {ids}: isa ")))
        .context(format!("no ISA line for harts {ids}\n{}", run.output))?;
    let isa = isa_line.split("isa ").nth(1).unwrap_or("");
    let base = isa.split(['_', ',']).next().unwrap_or("");
    let prefix = if t.is_64bit() { "rv64ima" } else { "rv32ima" };
    ensure!(base.starts_with(prefix), "ISA {base} is not {prefix}...");
    let fpu = base.contains('f') && base.contains('d');
    ensure!(fpu == t.has_fpu(), "ISA {base}: FPU present = {fpu}, expected {}", t.has_fpu());
    // What the boot capsule (256 MiB) and the hypervisor leave for more
    // capsules: less than the rest of RAM, more than nothing.
    let free = run
        .output
        .lines()
        .find_map(|l| l.strip_prefix("ram for more capsules: "))
        .and_then(|l| l.split(" MiB free").next())
        .and_then(|n| n.parse::<f64>().ok())
        .context(format!("no `ram for more capsules: <n> MiB free` line\n{}", run.output))?;
    ensure!(free > 0.0 && free < (mib - 256) as f64, "{free} MiB free for more capsules with {mib} MiB of RAM\n{}", run.output);
    Ok(())
}

fn panic_path(t: Target) -> Result<()> {
    let run = boot(t, 2, 256, Some("diosix.selftest=panic"))?;
    expect_exit(&run, 1)?;
    expect_all(
        &run.output,
        &["panicked at hypervisor/src/boot/mod.rs:", ": self-test: panic requested on the command line"],
    )?;
    let line = run.output.lines().find(|l| l.contains("panicked at")).unwrap_or("");
    ensure!(line.starts_with("[diosix] hart "), "panic line does not name the hart: {line}");
    Ok(())
}

fn trap_path(t: Target) -> Result<()> {
    let run = boot(t, 1, 128, Some("diosix.selftest=trap"))?;
    expect_exit(&run, 3)?;
    expect_all(&run.output, &["[diosix] hart 0: fatal exception 2 (illegal instruction) at pc 0x8"])
}
