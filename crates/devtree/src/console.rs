//! The console the tree names: a UART the hypervisor has a driver for, or
//! HTIF (Spike's host interface).

use crate::fdt::{Fdt, Node};
use crate::platform::{Mmio, mmio_of};

/// The kinds of UART the hypervisor has a console driver for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UartKind {
    /// A 16550: QEMU's `virt` (`ns16550a`, byte registers one byte apart),
    /// or Synopsys DesignWare's 8250 (`snps,dw-apb-uart`, as on the
    /// VisionFive 2: 32-bit registers four bytes apart).
    Ns16550,
    /// SiFive's UART (`sifive,uart0`: the HiFive Unleashed, QEMU's `sifive_u`).
    Sifive,
}

/// A console UART: where it is, which driver it needs, and for a 16550
/// how its registers are laid out (`reg-shift`, `reg-io-width`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Uart {
    pub mmio: Mmio,
    pub kind: UartKind,
    /// Register `n` is at `base + (n << reg_shift)`.
    pub reg_shift: u8,
    /// Bytes per register access: 1 or 4.
    pub io_width: u8,
}

/// Where the hypervisor's console goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Console {
    Uart(Uart),
    /// HTIF (`ucb,htif0`, Spike): bytes pass through the `tohost` and
    /// `fromhost` words the hypervisor's own executable provides.
    Htif,
}

/// UARTs with a driver, by `compatible`, in order of preference.
const UARTS: &[(&str, UartKind)] = &[
    ("ns16550a", UartKind::Ns16550),
    ("ns16550", UartKind::Ns16550),
    ("snps,dw-apb-uart", UartKind::Ns16550),
    ("sifive,uart0", UartKind::Sifive),
];
pub(crate) const HTIF_COMPATIBLE: &str = "ucb,htif0";

/// The console `/chosen/stdout-path` names (a path or an alias, with
/// optional `:options`) if there is a driver for it, or else the first
/// UART in the tree that has one, or else HTIF if the tree has it.
pub(crate) fn read_console(fdt: &Fdt<'static>, chosen: Option<Node<'static>>) -> Option<Console> {
    let named = chosen
        .and_then(|c| c.str_property("stdout-path"))
        .map(|p| p.split(':').next().unwrap_or(p))
        .and_then(|p| {
            if p.starts_with('/') {
                fdt.find_path(p)
            } else {
                let target = fdt.find_path("/aliases")?.str_property(p)?;
                fdt.find_path(target)
            }
        })
        .and_then(|n| console_of(&n));
    named
        .or_else(|| UARTS.iter().flat_map(|(c, _)| fdt.compatible(c)).find_map(|n| uart_of(&n)).map(Console::Uart))
        .or_else(|| fdt.compatible(HTIF_COMPATIBLE).next().map(|_| Console::Htif))
}

fn console_of(node: &Node<'static>) -> Option<Console> {
    if node.is_compatible(HTIF_COMPATIBLE) {
        return Some(Console::Htif);
    }
    uart_of(node).map(Console::Uart)
}

/// `node` as a console UART, if it is one we have a driver for, with a
/// register layout that driver handles.
fn uart_of(node: &Node<'static>) -> Option<Uart> {
    if !node.is_enabled() {
        return None;
    }
    let kind = UARTS.iter().find(|(c, _)| node.is_compatible(c))?.1;
    let reg_shift = node.u32_property("reg-shift").unwrap_or(0);
    let io_width = node.u32_property("reg-io-width").unwrap_or(1);
    if kind == UartKind::Ns16550 && (reg_shift > 3 || !matches!(io_width, 1 | 4)) {
        return None;
    }
    Some(Uart { mmio: mmio_of(node)?, kind, reg_shift: reg_shift as u8, io_width: io_width as u8 })
}
