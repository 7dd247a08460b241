//! Choosing the console and the power devices from trees built here:
//! `stdout-path` first, the DesignWare 8250's register layout, consoles
//! and GPIO controllers without a driver.

mod common;

use devtree::{Console, Fdt, Platform, PowerOffKind, UartKind};
use vm_fdt::FdtWriter;

/// One serial node: compatible, base, and optional reg-shift/reg-io-width.
struct Serial(&'static str, u64, Option<(u32, u32)>);

/// A one-hart tree with these serial nodes under /soc, a stdout-path if
/// given, and optionally a gpio-restart on a controller of `gpio` kind.
fn tree(serials: &[Serial], stdout: Option<&str>, gpio: Option<(&str, u32)>) -> Platform {
    let mut w = FdtWriter::new().unwrap();
    let root = w.begin_node("").unwrap();
    w.property_u32("#address-cells", 2).unwrap();
    w.property_u32("#size-cells", 2).unwrap();
    if let Some(path) = stdout {
        let c = w.begin_node("chosen").unwrap();
        w.property_string("stdout-path", path).unwrap();
        w.end_node(c).unwrap();
    }
    let mem = w.begin_node("memory@80000000").unwrap();
    w.property_string("device_type", "memory").unwrap();
    w.property_array_u64("reg", &[0x8000_0000, 0x1000_0000]).unwrap();
    w.end_node(mem).unwrap();
    common::write_one_hart(&mut w, Some("rv64imac"));
    let soc = w.begin_node("soc").unwrap();
    w.property_u32("#address-cells", 2).unwrap();
    w.property_u32("#size-cells", 2).unwrap();
    for Serial(compat, base, layout) in serials {
        let n = w.begin_node(&format!("serial@{base:x}")).unwrap();
        w.property_string("compatible", compat).unwrap();
        w.property_array_u64("reg", &[*base, 0x100]).unwrap();
        if let Some((shift, width)) = layout {
            w.property_u32("reg-shift", *shift).unwrap();
            w.property_u32("reg-io-width", *width).unwrap();
        }
        w.end_node(n).unwrap();
    }
    if let Some((compat, _)) = gpio {
        let g = w.begin_node("gpio@10060000").unwrap();
        w.property_string("compatible", compat).unwrap();
        w.property_array_u64("reg", &[0x1006_0000, 0x1000]).unwrap();
        w.property_u32("#gpio-cells", 2).unwrap();
        w.property_phandle(0x33).unwrap();
        w.end_node(g).unwrap();
    }
    w.end_node(soc).unwrap();
    if let Some((_, pin)) = gpio {
        let r = w.begin_node("gpio-restart").unwrap();
        w.property_string("compatible", "gpio-restart").unwrap();
        w.property_array_u32("gpios", &[0x33, pin, 0]).unwrap();
        w.end_node(r).unwrap();
    }
    w.end_node(root).unwrap();
    let blob: &'static [u8] = Box::leak(w.finish().unwrap().into_boxed_slice());
    Platform::from_fdt(&Fdt::parse(blob).unwrap()).unwrap()
}

#[test]
fn designware_8250_keeps_its_register_layout() {
    let p = tree(&[Serial("snps,dw-apb-uart", 0x1000_0000, Some((2, 4)))], Some("/soc/serial@10000000:115200n8"), None);
    let u = p.uart().expect("the DesignWare UART has a driver");
    assert_eq!((u.mmio.base, u.kind, u.reg_shift, u.io_width), (0x1000_0000, UartKind::Ns16550, 2, 4));
}

#[test]
fn stdout_path_wins_over_tree_order() {
    let serials = [Serial("ns16550a", 0x1000_0000, None), Serial("sifive,uart0", 0x1001_0000, None)];
    let p = tree(&serials, Some("/soc/serial@10010000"), None);
    assert_eq!(p.uart().map(|u| (u.mmio.base, u.kind)), Some((0x1001_0000, UartKind::Sifive)));
    let p = tree(&serials, None, None);
    assert_eq!(p.uart().map(|u| (u.mmio.base, u.kind, u.reg_shift, u.io_width)), Some((0x1000_0000, UartKind::Ns16550, 0, 1)));
}

/// A stdout-path to a UART without a driver falls back to one that has
/// one; a tree with none has no console (the hypervisor boots silent).
#[test]
fn unknown_uarts_are_not_consoles() {
    let p = tree(&[Serial("acme,uart9", 0x1000_0000, None), Serial("ns16550a", 0x1000_1000, None)], Some("/soc/serial@10000000"), None);
    assert_eq!(p.uart().map(|u| u.mmio.base), Some(0x1000_1000));
    let p = tree(&[Serial("acme,uart9", 0x1000_0000, None)], Some("/soc/serial@10000000"), None);
    assert_eq!(p.console, None);
    // A 16550 layout the driver does not do (16-bit registers) is no console either.
    let p = tree(&[Serial("snps,dw-apb-uart", 0x1000_0000, Some((1, 2)))], None, None);
    assert_eq!(p.console, None);
}

#[test]
fn gpio_restart_needs_a_sifive_controller() {
    let p = tree(&[], None, Some(("sifive,gpio0", 7)));
    assert_eq!(p.reboot.map(|r| (r.base, r.kind)), Some((0x1006_0000, PowerOffKind::SifiveGpio { pin: 7, active_low: false })));
    assert_eq!(p.console, None::<Console>);
    assert_eq!(tree(&[], None, Some(("acme,gpio", 7))).reboot, None);
    assert_eq!(tree(&[], None, Some(("sifive,gpio0", 32))).reboot, None, "pin 32 does not exist on a 32-pin controller");
}
