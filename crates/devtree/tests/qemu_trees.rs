//! Platform discovery on device trees dumped from QEMU's `virt` board
//! (`qemu-system-riscv64 -machine virt,dumpdtb=FILE -smp 3 -m 384M` and the
//! rv32 equivalent with `-smp 2 -m 256M -append ...`).

mod common;

use devtree::{Console, Fdt, HartTimer, Platform, PowerOffKind, TimerIpi, UartKind};

fn platform(bytes: &'static [u8]) -> Platform {
    let fdt = Fdt::parse(bytes).expect("QEMU's tree parses");
    Platform::from_fdt(&fdt).expect("QEMU's tree describes a platform")
}

#[test]
fn rv64_virt_smp3_384m() {
    let p = platform(include_bytes!("data/qemu-virt-rv64-smp3-384M.dtb"));
    assert_eq!(p.ram.len(), 1);
    assert_eq!(p.ram[0].start(), 0x8000_0000);
    assert_eq!(p.ram_bytes(), 384 << 20);
    assert!(p.reserved.is_empty(), "QEMU virt reserves nothing: {:?}", p.reserved);
    assert_eq!(p.harts.iter().map(|h| h.id).collect::<Vec<_>>(), [0, 1, 2]);
    assert!(p.harts.iter().all(|h| h.usable && h.isa.starts_with("rv64imafdc")));
    assert_eq!(p.harts[0].mmu.as_deref(), Some("riscv,sv57"));
    assert_eq!(p.timebase_hz, Some(10_000_000));
    let uart = p.uart().expect("uart");
    assert_eq!((uart.mmio.base, uart.mmio.compatible, uart.kind), (0x1000_0000, "ns16550a", UartKind::Ns16550));
    assert_eq!(p.timer.expect("clint").base, 0x200_0000);
    assert_eq!(p.timer_ipi, [TimerIpi { msip: 0x200_0000, mtimecmp: 0x200_4000, mtime: 0x200_bff8, harts: vec![0, 1, 2] }]);
    assert_eq!(p.timer_of(2), Some(&HartTimer { hart: 2, msip: 0x200_0008, mtimecmp: 0x200_4010, mtime: 0x200_bff8 }));
    assert_eq!(p.plic.expect("plic").base, 0xc00_0000);
    let off = p.poweroff.expect("poweroff");
    assert_eq!((off.base, off.offset, off.value), (0x10_0000, 0, 0x5555));
    assert_eq!(off.kind, PowerOffKind::SifiveTest);
    let reset = p.reboot.expect("reboot");
    assert_eq!((reset.base, reset.value, reset.kind), (0x10_0000, 0x7777, PowerOffKind::SifiveTest));
    assert_eq!(p.model, Some("riscv-virtio,qemu"));
    assert_eq!(p.bootargs, None);
}

#[test]
fn rv32_virt_smp2_256m_with_bootargs() {
    let p = platform(include_bytes!("data/qemu-virt-rv32-smp2-256M.dtb"));
    assert_eq!(p.ram_bytes(), 256 << 20);
    assert_eq!(p.usable_harts().count(), 2);
    assert_eq!(p.harts[1].mmu.as_deref(), Some("riscv,sv32"));
    assert!(p.harts[0].isa.starts_with("rv32ima"));
    assert_eq!(p.bootargs, Some("console=ttyS0 diosix.selftest=panic"));
    assert!(p.has_bootarg("diosix.selftest=panic"));
    assert!(!p.has_bootarg("diosix.selftest"));
    assert_eq!(p.uart().expect("uart").mmio.base, 0x1000_0000);
}

#[test]
fn node_lookup_by_path_and_unit_address() {
    let fdt = Fdt::parse(include_bytes!("data/qemu-virt-rv64-smp3-384M.dtb")).unwrap();
    assert!(fdt.find_path("/").is_some());
    assert_eq!(fdt.find_path("/soc/serial@10000000").unwrap().name(), "serial@10000000");
    assert_eq!(fdt.find_path("/soc/serial").unwrap().name(), "serial@10000000");
    assert_eq!(fdt.find_path("/memory").unwrap().name(), "memory@80000000");
    assert!(fdt.find_path("/soc/serial@10000001").is_none());
    assert!(fdt.find_path("/nonexistent").is_none());
    assert!(fdt.find_path("/cpus/cpu@1").is_some());
    assert!(fdt.find_path("/cpus/cpu@3").is_none());
}

#[test]
fn reserved_memory_is_read_from_both_places() {
    use vm_fdt::{FdtReserveEntry, FdtWriter};
    let mut w = FdtWriter::new_with_mem_reserv(&[FdtReserveEntry::new(0x8000_0000, 0x8_0000).unwrap()]).unwrap();
    let root = w.begin_node("").unwrap();
    w.property_u32("#address-cells", 2).unwrap();
    w.property_u32("#size-cells", 2).unwrap();
    let mem = w.begin_node("memory@80000000").unwrap();
    w.property_string("device_type", "memory").unwrap();
    w.property_array_u64("reg", &[0x8000_0000, 0x1000_0000]).unwrap();
    w.end_node(mem).unwrap();
    let rm = w.begin_node("reserved-memory").unwrap();
    w.property_u32("#address-cells", 2).unwrap();
    w.property_u32("#size-cells", 2).unwrap();
    w.property_null("ranges").unwrap();
    let fw = w.begin_node("mmode_resv0@80080000").unwrap();
    w.property_array_u64("reg", &[0x8008_0000, 0x2_0000]).unwrap();
    w.end_node(fw).unwrap();
    w.end_node(rm).unwrap();
    common::write_one_hart(&mut w, None);
    w.end_node(root).unwrap();
    let blob: &'static [u8] = Box::leak(w.finish().unwrap().into_boxed_slice());
    let p = Platform::from_fdt(&Fdt::parse(blob).unwrap()).unwrap();
    let got: Vec<(u64, u64)> = p.reserved.iter().map(|r| (r.start(), r.size())).collect();
    assert_eq!(got, [(0x8000_0000, 0x8_0000), (0x8008_0000, 0x2_0000)]);
}

/// `-machine virt,aclint=on`: the timer and software interrupts are
/// separate ACLINT devices, at the same addresses the CLINT uses.
#[test]
fn rv64_virt_with_aclint() {
    let p = platform(include_bytes!("data/qemu-virt-rv64-aclint-smp2.dtb"));
    assert_eq!(p.timer.expect("mtimer").compatible, "riscv,aclint-mtimer");
    assert_eq!(p.timer_ipi, [TimerIpi { msip: 0x200_0000, mtimecmp: 0x200_4000, mtime: 0x200_bff8, harts: vec![0, 1] }]);
    assert_eq!(p.timer_of(1), Some(&HartTimer { hart: 1, msip: 0x200_0004, mtimecmp: 0x200_4008, mtime: 0x200_bff8 }));
}

/// Every hart's registers, as (hart, msip, mtimecmp, mtime).
fn per_hart(p: &Platform) -> Vec<(u64, u64, u64, u64)> {
    p.hart_timers.iter().map(|t| (t.hart, t.msip, t.mtimecmp, t.mtime)).collect()
}

/// `-smp 4,sockets=2 -numa node,cpus=0-1 -numa node,cpus=2-3 -m 512M`
/// (memory split between the nodes with memory backends): one CLINT per
/// socket, each serving its two harts as indexes 0 and 1.
#[test]
fn rv64_virt_numa_two_clints() {
    let p = platform(include_bytes!("data/qemu-virt-rv64-numa2-smp4-512M.dtb"));
    assert_eq!(p.ram.len(), 2);
    assert_eq!(p.ram_bytes(), 512 << 20);
    assert_eq!(p.usable_harts().count(), 4);
    assert_eq!(
        p.timer_ipi,
        [
            TimerIpi { msip: 0x200_0000, mtimecmp: 0x200_4000, mtime: 0x200_bff8, harts: vec![0, 1] },
            TimerIpi { msip: 0x201_0000, mtimecmp: 0x201_4000, mtime: 0x201_bff8, harts: vec![2, 3] },
        ]
    );
    assert_eq!(
        per_hart(&p),
        [
            (0, 0x200_0000, 0x200_4000, 0x200_bff8),
            (1, 0x200_0004, 0x200_4008, 0x200_bff8),
            (2, 0x201_0000, 0x201_4000, 0x201_bff8),
            (3, 0x201_0004, 0x201_4008, 0x201_bff8),
        ]
    );
}

#[test]
fn rv32_virt_numa_two_clints() {
    let p = platform(include_bytes!("data/qemu-virt-rv32-numa2-smp4-512M.dtb"));
    assert_eq!(p.usable_harts().count(), 4);
    assert_eq!(p.timer_ipi.len(), 2);
    assert_eq!(p.timer_of(3), Some(&HartTimer { hart: 3, msip: 0x201_0004, mtimecmp: 0x201_4008, mtime: 0x201_bff8 }));
}

/// The same with `aclint=on`: an MSWI and an MTIMER per socket.
#[test]
fn rv64_virt_numa_two_aclints() {
    let p = platform(include_bytes!("data/qemu-virt-rv64-aclint-numa2-smp4-512M.dtb"));
    assert_eq!(p.usable_harts().count(), 4);
    assert_eq!(
        per_hart(&p),
        [
            (0, 0x200_0000, 0x200_4000, 0x200_bff8),
            (1, 0x200_0004, 0x200_4008, 0x200_bff8),
            (2, 0x201_0000, 0x201_4000, 0x201_bff8),
            (3, 0x201_0004, 0x201_4008, 0x201_bff8),
        ]
    );
    assert_eq!(p.timer_ipi.len(), 2);
    assert_eq!(p.timer_ipi[1].harts, [2, 3]);
}


/// QEMU's model of the HiFive Unleashed: its console is a SiFive UART (the
/// one `stdout-path` names, of two), and hart 0 is the E51 monitor core,
/// which has no MMU and so cannot run a capsule.
#[test]
fn sifive_u_uart_and_monitor_core() {
    let p = platform(include_bytes!("data/qemu-sifive_u-smp5-1G.dtb"));
    let uart = p.uart().expect("uart");
    assert_eq!((uart.mmio.base, uart.kind), (0x1001_0000, UartKind::Sifive));
    assert_eq!(p.usable_harts().map(|h| h.id).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert!(!p.harts[0].usable);
}

/// QEMU's `sifive_u` has no power-off device; its tree's `gpio-restart`
/// (pin 10 of the SiFive GPIO controller, active low) is the reset, and
/// the only way to end the machine.
#[test]
fn sifive_u_reset_through_gpio() {
    let p = platform(include_bytes!("data/qemu-sifive_u-smp5-1G.dtb"));
    assert_eq!(p.poweroff, None);
    let reset = p.reboot.expect("gpio-restart");
    assert_eq!(reset.base, 0x1006_0000);
    assert_eq!(reset.kind, PowerOffKind::SifiveGpio { pin: 10, active_low: true });
}

/// QEMU's Spike: the console and power-off are HTIF (`stdout-path` names
/// `/htif`); a CLINT, no PLIC, no UART.
#[test]
fn spike_console_and_poweroff_are_htif() {
    for (blob, harts) in [
        (&include_bytes!("data/qemu-spike-rv64-smp2-256M.dtb")[..], 2),
        (&include_bytes!("data/qemu-spike-rv32-smp1-128M.dtb")[..], 1),
    ] {
        let fdt = Fdt::parse(blob).unwrap();
        let p = Platform::from_fdt(&fdt).unwrap();
        assert_eq!(p.console, Some(Console::Htif));
        assert_eq!(p.poweroff.map(|d| d.kind), Some(PowerOffKind::Htif));
        assert_eq!(p.reboot, None);
        assert_eq!(p.usable_harts().count(), harts);
        assert_eq!(p.timer.expect("clint").base, 0x200_0000);
        assert_eq!(p.plic, None);
    }
}
