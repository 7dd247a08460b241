//! The device tree a capsule's kernel boots with: its RAM, its harts, its
//! boot arguments, and the devices the hypervisor emulates for it
//! (`vdev::map`): a 16550 UART, named by `/chosen/stdout-path` so a kernel
//! with no SBI console driver still has a console, the PLIC, a virtio
//! console and, unless turned off, a pvpanic register. The timer, other harts
//! and the early console are reached through SBI; real device MMIO is
//! outside the capsule's PMP window.

use alloc::string::String;
use alloc::vec::Vec;

use memrange::Range;
use vm_fdt::FdtWriter;

/// One of the capsule's harts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestHart {
    pub id: u32,
    /// Already filtered for capsules (see [`crate::isa::for_capsule`]).
    pub isa: String,
    /// `riscv,sv39` etc.
    pub mmu: String,
}

/// Everything the capsule's tree says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestTree {
    pub ram: Range,
    pub harts: Vec<GuestHart>,
    pub boot_hart: u32,
    pub timebase_hz: u32,
    pub bootargs: String,
    /// Offer the pvpanic register (`qemu,pvpanic-mmio`).
    pub pvpanic: bool,
}

impl GuestTree {
    /// The flattened tree, or `None` if the writer refuses (it only does
    /// for impossible input such as a NUL inside a string).
    pub fn to_blob(&self) -> Option<Vec<u8>> {
        self.write().ok()
    }

    fn write(&self) -> Result<Vec<u8>, vm_fdt::Error> {
        let mut w = FdtWriter::new()?;
        w.set_boot_cpuid_phys(self.boot_hart);
        let root = w.begin_node("")?;
        w.property_u32("#address-cells", 2)?;
        w.property_u32("#size-cells", 2)?;
        w.property_string("compatible", "diosix,capsule")?;
        w.property_string("model", "diosix capsule")?;

        let uart_path = alloc::format!("/soc/serial@{:x}", vdev::map::UART.base);
        let chosen = w.begin_node("chosen")?;
        w.property_string("bootargs", &self.bootargs)?;
        w.property_string("stdout-path", &uart_path)?;
        w.end_node(chosen)?;
        let aliases = w.begin_node("aliases")?;
        w.property_string("serial0", &uart_path)?;
        w.end_node(aliases)?;

        let mem = w.begin_node(&alloc::format!("memory@{:x}", self.ram.start()))?;
        w.property_string("device_type", "memory")?;
        w.property_array_u64("reg", &[self.ram.start(), self.ram.size()])?;
        w.end_node(mem)?;

        let cpus = w.begin_node("cpus")?;
        w.property_u32("#address-cells", 1)?;
        w.property_u32("#size-cells", 0)?;
        w.property_u32("timebase-frequency", self.timebase_hz)?;
        for (i, hart) in self.harts.iter().enumerate() {
            let cpu = w.begin_node(&alloc::format!("cpu@{:x}", hart.id))?;
            w.property_string("device_type", "cpu")?;
            w.property_u32("reg", hart.id)?;
            w.property_string("status", "okay")?;
            w.property_string("compatible", "riscv")?;
            // Both bindings: the ISA string, and the base + extension list
            // that kernels built without RISCV_ISA_FALLBACK require.
            w.property_string("riscv,isa", &hart.isa)?;
            let (base, extensions) = crate::isa::split(&hart.isa);
            w.property_string("riscv,isa-base", &base)?;
            w.property_string_list("riscv,isa-extensions", extensions)?;
            w.property_string("mmu-type", &hart.mmu)?;
            let intc = w.begin_node("interrupt-controller")?;
            w.property_u32("#interrupt-cells", 1)?;
            w.property_null("interrupt-controller")?;
            w.property_string("compatible", "riscv,cpu-intc")?;
            w.property_phandle(i as u32 + 1)?;
            w.end_node(intc)?;
            w.end_node(cpu)?;
        }
        w.end_node(cpus)?;
        write_devices(&mut w, self.harts.len() as u32, self.pvpanic)?;
        w.end_node(root)?;
        w.finish()
    }
}

/// The PLIC's phandle (the harts' interrupt controllers are 1..=16).
const PLIC_PHANDLE: u32 = 0x100;
/// A hart's supervisor external interrupt, as a `riscv,cpu-intc` cell.
const S_EXTERNAL: u32 = 9;

/// The emulated devices, under a `simple-bus` as on real boards: the
/// PLIC, one S-mode context per vcore (context n raises vcore n's
/// external interrupt), the UART and the virtio console wired to it, and
/// the pvpanic register if `pvpanic`.
fn write_devices(w: &mut FdtWriter, harts: u32, pvpanic: bool) -> Result<(), vm_fdt::Error> {
    let soc = w.begin_node("soc")?;
    w.property_u32("#address-cells", 2)?;
    w.property_u32("#size-cells", 2)?;
    w.property_string("compatible", "simple-bus")?;
    w.property_null("ranges")?;

    let plic = vdev::map::PLIC;
    let node = w.begin_node(&alloc::format!("interrupt-controller@{:x}", plic.base))?;
    w.property_string_list("compatible", alloc::vec!["sifive,plic-1.0.0".into(), "riscv,plic0".into()])?;
    w.property_array_u64("reg", &[plic.base, plic.size])?;
    w.property_u32("#address-cells", 0)?;
    w.property_u32("#interrupt-cells", 1)?;
    w.property_null("interrupt-controller")?;
    w.property_u32("riscv,ndev", vdev::plic::SOURCES as u32 - 1)?;
    let contexts: Vec<u32> = (0..harts).flat_map(|i| [i + 1, S_EXTERNAL]).collect();
    w.property_array_u32("interrupts-extended", &contexts)?;
    w.property_phandle(PLIC_PHANDLE)?;
    w.end_node(node)?;

    let uart = vdev::map::UART;
    let serial = w.begin_node(&alloc::format!("serial@{:x}", uart.base))?;
    w.property_string("compatible", "ns16550a")?;
    w.property_array_u64("reg", &[uart.base, uart.size])?;
    // The 8250 driver needs a clock to compute divisors from; the model
    // ignores the divisor. 3.6864 MHz is the classic 16550 crystal.
    w.property_u32("clock-frequency", 3_686_400)?;
    w.property_u32("reg-io-width", 1)?;
    w.property_u32("interrupt-parent", PLIC_PHANDLE)?;
    w.property_u32("interrupts", vdev::map::UART_IRQ as u32)?;
    w.end_node(serial)?;

    let virtio = vdev::map::VIRTIO_CONSOLE;
    let node = w.begin_node(&alloc::format!("virtio_mmio@{:x}", virtio.base))?;
    w.property_string("compatible", "virtio,mmio")?;
    w.property_array_u64("reg", &[virtio.base, virtio.size])?;
    w.property_u32("interrupt-parent", PLIC_PHANDLE)?;
    w.property_u32("interrupts", vdev::map::VIRTIO_CONSOLE_IRQ as u32)?;
    w.end_node(node)?;

    if pvpanic {
        let p = vdev::map::PVPANIC;
        let node = w.begin_node(&alloc::format!("pvpanic@{:x}", p.base))?;
        w.property_string("compatible", "qemu,pvpanic-mmio")?;
        w.property_array_u64("reg", &[p.base, p.size])?;
        w.end_node(node)?;
    }
    w.end_node(soc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use devtree::{Fdt, Platform};

    fn tree() -> GuestTree {
        GuestTree {
            ram: Range::new(0x80c0_0000, 256 << 20).unwrap(),
            harts: (0..3)
                .map(|id| GuestHart { id, isa: "rv64imac_zicsr".into(), mmu: "riscv,sv39".into() })
                .collect(),
            boot_hart: 1,
            timebase_hz: 10_000_000,
            bootargs: "console=hvc0 earlycon=sbi".into(),
            pvpanic: true,
        }
    }

    #[test]
    fn pvpanic_can_be_left_out() {
        let blob = GuestTree { pvpanic: false, ..tree() }.to_blob().unwrap();
        let fdt = Fdt::parse(&blob).unwrap();
        assert!(fdt.find_path("/soc/pvpanic@10002000").is_none());
        assert!(fdt.find_path("/soc/virtio_mmio@10001000").is_some());
    }

    #[test]
    fn our_own_reader_sees_what_we_wrote() {
        let blob: &'static [u8] = Box::leak(tree().to_blob().unwrap().into_boxed_slice());
        let fdt = Fdt::parse(blob).unwrap();
        let p = Platform::from_fdt(&fdt).unwrap();
        assert_eq!(p.ram, [Range::new(0x80c0_0000, 256 << 20).unwrap()]);
        assert_eq!(p.harts.iter().map(|h| h.id).collect::<Vec<_>>(), [0, 1, 2]);
        assert!(p.harts.iter().all(|h| h.usable && h.isa == "rv64imac_zicsr"));
        assert_eq!(p.timebase_hz, Some(10_000_000));
        assert_eq!(p.bootargs, Some("console=hvc0 earlycon=sbi"));
        let cpu = fdt.find_path("/cpus/cpu@1").unwrap();
        assert_eq!(cpu.str_property("riscv,isa-base"), Some("rv64i"));
        let exts: Vec<&str> = cpu.property("riscv,isa-extensions").unwrap().strings().collect();
        assert_eq!(exts, ["i", "m", "a", "c", "zicsr"]);
        // The emulated UART is the only device, and the console.
        match p.console {
            Some(devtree::Console::Uart(u)) => assert_eq!((u.mmio.base, u.reg_shift, u.io_width), (0x1000_0000, 0, 1)),
            other => panic!("the UART should be the capsule's console, not {other:?}"),
        }
        assert_eq!(fdt.find_path("/chosen").unwrap().str_property("stdout-path"), Some("/soc/serial@10000000"));
        let plic = p.plic.expect("the emulated PLIC");
        assert_eq!(plic.base, 0x0c00_0000);
        assert_eq!((p.timer, p.poweroff, p.reboot), (None, None, None));
        let node = fdt.find_path("/soc/interrupt-controller@c000000").unwrap();
        let ctx: Vec<u32> = node.property("interrupts-extended").unwrap().cells().collect();
        assert_eq!(ctx, [1, 9, 2, 9, 3, 9], "one S context per vcore, in vcore order");
        let uart = fdt.find_path("/soc/serial@10000000").unwrap();
        assert_eq!(uart.property("interrupts").unwrap().cells().collect::<Vec<_>>(), [10]);
        let virtio = fdt.find_path("/soc/virtio_mmio@10001000").unwrap();
        assert!(virtio.is_compatible("virtio,mmio"));
        assert_eq!(virtio.property("interrupts").unwrap().cells().collect::<Vec<_>>(), [1]);
        let pvpanic = fdt.find_path("/soc/pvpanic@10002000").unwrap();
        assert!(pvpanic.is_compatible("qemu,pvpanic-mmio"));
        // The boot hart is recorded in the header (boot_cpuid_phys).
        assert_eq!(u32::from_be_bytes(blob[28..32].try_into().unwrap()), 1);
    }
}
