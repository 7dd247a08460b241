//! The boot report: what the hypervisor found and what it will run.
//! Tests read these lines, so change them with the tests.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use devtree::{Console, Hart, Platform, PowerOff, PowerOffKind};
use memrange::Size;
use payload::{Format, Kernel, Xlen};

use crate::arch::{XLEN, layout, machine, vector};
use crate::boot::harts;
use crate::built::{settings, storage, supervisor};
use crate::run::console::println;

/// The target triple this hypervisor was built for.
pub const TARGET: &str = match supervisor::ARCH.as_bytes() {
    b"riscv64gc" => "riscv64gc-unknown-none-elf",
    b"riscv64imac" => "riscv64imac-unknown-none-elf",
    _ => "riscv32imac-unknown-none-elf",
};

pub fn print(p: &Platform, all_harts_in: bool) {
    if let Some(model) = p.model {
        println!("platform: {model}");
    }
    for r in &p.ram {
        println!("ram: {r} ({})", Size(r.size()));
    }
    println!("ram total: {}", Size(p.ram_bytes()));
    let image = layout::image();
    println!("hypervisor: {image} ({})", Size(image.size()));

    let usable: Vec<&Hart> = p.usable_harts().collect();
    println!(
        "harts: {} usable of {}: {}",
        usable.len(),
        p.harts.len(),
        id_list(usable.iter().map(|h| h.id))
    );
    for group in isa_groups(&usable) {
        println!("{group}");
    }
    for h in p.harts.iter().filter(|h| !h.usable) {
        if p.timer_of(h.id).is_none() {
            println!("hart {}: left out (no CLINT or ACLINT serves it)", h.id);
        } else {
            println!("hart {}: left out (disabled, or no S-mode MMU)", h.id);
        }
    }
    let running = usable.iter().map(|h| h.id).filter(|&id| harts::is_online(id as usize));
    println!("harts running in M-mode: {}", id_list(running));
    if !all_harts_in {
        println!(
            "warning: not every usable hart checked in (ids >= {} are parked; a hart that failed a check says so above)",
            layout::MAX_HARTS
        );
    }

    match p.console {
        Some(Console::Uart(u)) if u.reg_shift == 0 && u.io_width == 1 => {
            println!("uart: {} at {:#x}", u.mmio.compatible, u.mmio.base)
        }
        Some(Console::Uart(u)) => println!(
            "uart: {} at {:#x}, registers {} bytes apart, {}-byte accesses",
            u.mmio.compatible,
            u.mmio.base,
            1u32 << u.reg_shift,
            u.io_width
        ),
        Some(Console::Htif) => println!("console: htif (ucb,htif0)"),
        None => println!("uart: none diosix can drive"),
    }
    match (p.timer, p.timebase_hz) {
        (Some(t), Some(hz)) => println!("timer: {} at {:#x}, timebase {hz} Hz", t.compatible, t.base),
        (Some(t), None) => println!("timer: {} at {:#x}, timebase unknown", t.compatible, t.base),
        (None, _) => println!("timer: none found"),
    }
    let online: Vec<u64> = usable.iter().map(|h| h.id).filter(|&id| harts::is_online(id as usize)).collect();
    let sstc: Vec<u64> = online.iter().copied().filter(|&id| machine::has_sstc(id as usize)).collect();
    match (settings::OFFER_SSTC, sstc.len()) {
        (false, _) => println!("sstc: not offered (built with DIOSIX_SSTC=0)"),
        (true, 0) => println!("sstc: not on these harts"),
        (true, _) => println!("sstc: on harts {}", id_list(sstc.into_iter())),
    }
    // Only where there are any: not offered to capsules, but switched.
    let vector: Vec<u64> = online.iter().copied().filter(|&id| vector::present(id as usize)).collect();
    if !vector.is_empty() {
        println!(
            "vector registers: on harts {}, {} bits, kept per vcore (V is not offered to capsules)",
            id_list(vector.into_iter()),
            8 * vector::max_vlenb()
        );
    }
    // One device: the line as it always was. More (one per NUMA node or
    // socket): a line each, with the harts it serves.
    for r in &p.timer_ipi {
        if p.timer_ipi.len() == 1 {
            println!("timer registers: msip {:#x}, mtimecmp {:#x}, mtime {:#x}", r.msip, r.mtimecmp, r.mtime);
        } else {
            println!(
                "timer registers: msip {:#x}, mtimecmp {:#x}, mtime {:#x} for harts {}",
                r.msip,
                r.mtimecmp,
                r.mtime,
                id_list(r.harts.iter().copied())
            );
        }
    }
    match p.plic {
        Some(i) => println!("plic: {} at {:#x}", i.compatible, i.base),
        None => println!("plic: none found"),
    }
    match p.poweroff {
        Some(d) => println!("power-off: {}", Device(d)),
        None => println!("power-off: none found"),
    }
    if let Some(d) = p.reboot.filter(|_| p.poweroff.is_none()) {
        println!("reset: {} (used to power off)", Device(d));
    }
}

/// What kind of kernel `k` is, for the report.
fn kind(k: &Kernel) -> &'static str {
    match (k.format(), k.xlen()) {
        (Format::Image, _) => "RISC-V Linux Image (width not recorded)",
        (Format::Elf, Xlen::Rv32) => "32-bit RISC-V ELF",
        (Format::Elf, Xlen::Rv64) => "64-bit RISC-V ELF",
    }
}

pub fn print_supervisor(bytes: &[u8]) {
    match Kernel::parse(bytes, XLEN) {
        Ok(k) => println!(
            "supervisor: {} for {}, {} bytes, entry {:#x}, {} load segments, {} to load ({} from the file)",
            kind(&k),
            supervisor::ARCH,
            bytes.len(),
            k.entry(),
            k.segment_count(),
            Size(k.mem_bytes()),
            Size(k.file_bytes()),
        ),
        // build.rs checked the same bytes, so this means memory corruption.
        Err(e) => println!("supervisor: embedded kernel is unusable: {e}"),
    }
}

fn id_list(ids: impl Iterator<Item = u64>) -> String {
    let mut s = String::new();
    for id in ids {
        if !s.is_empty() {
            s.push(' ');
        }
        let _ = write!(s, "{id}");
    }
    if s.is_empty() {
        s.push_str("none");
    }
    s
}

/// One line per distinct (ISA, MMU) among the harts: `harts 0 1 2: isa ..., mmu ...`.
fn isa_groups(harts: &[&Hart]) -> Vec<String> {
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for h in harts {
        let key = (h.isa.as_str(), h.mmu.as_deref().unwrap_or("none"));
        if !seen.contains(&key) {
            seen.push(key);
        }
    }
    seen.iter()
        .map(|&(isa, mmu)| {
            let ids = harts
                .iter()
                .filter(|h| h.isa == isa && h.mmu.as_deref().unwrap_or("none") == mmu)
                .map(|h| h.id);
            alloc::format!("harts {}: isa {isa}, mmu {mmu}", id_list(ids))
        })
        .collect()
}

/// A power-off or reset device, as the boot report names it.
struct Device(PowerOff);

impl core::fmt::Display for Device {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let d = self.0;
        let at = d.address().unwrap_or(d.base);
        match d.kind {
            PowerOffKind::SifiveTest => write!(f, "sifive test device at {at:#x}, value {:#x}", d.value),
            PowerOffKind::Syscon => write!(f, "syscon register at {at:#x}, value {:#x}", d.value),
            PowerOffKind::SifiveGpio { pin, active_low } => write!(
                f,
                "gpio {pin} of sifive,gpio0 at {at:#x}, active {}",
                if active_low { "low" } else { "high" }
            ),
            PowerOffKind::Htif => write!(f, "htif"),
        }
    }
}

/// The bundled capsule images (storage memory), one line each.
pub fn print_storage() {
    if storage::IMAGES.is_empty() {
        println!("storage: no capsule images bundled");
    }
    for i in storage::IMAGES {
        let what = Kernel::parse(i.bytes, XLEN).map_or("unusable", |k| kind(&k));
        let plural = if i.vcores == 1 { "" } else { "s" };
        let start = if i.autostart { ", starts at boot" } else { "" };
        let death = match i.on_death {
            storage::OnDeath::Stop => String::from("stays stopped when it dies"),
            storage::OnDeath::Restart => alloc::format!("restarts up to {} times", i.restart_limit),
        };
        println!(
            "storage: image {}: {what}, {}; capsule of {} MiB, {} vcore{plural}{start}, {death}",
            i.name,
            Size(i.bytes.len() as u64),
            i.ram_mib,
            i.vcores
        );
    }
}
