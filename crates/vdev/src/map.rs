//! Where a capsule sees its devices: fixed guest-physical windows, the
//! same in every capsule and named in its device tree.
//!
//! The windows sit below 2 GiB, where no board diosix runs on has RAM
//! (QEMU virt, sifive_u and spike all start RAM at 0x8000_0000), and the
//! hypervisor refuses to create a capsule whose RAM would overlap them.
//! The addresses are the ones QEMU's virt board uses for the same
//! devices, so they are familiar in a capsule's `/proc/iomem`; the real
//! devices there, if any, stay out of every capsule's reach (PMP).

/// Which device a window holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    /// The 16550-compatible UART ([`crate::uart`]).
    Uart,
    /// The platform-level interrupt controller ([`crate::plic`]).
    Plic,
    /// The virtio-mmio console ([`crate::virtio::console`]).
    VirtioConsole,
    /// The panic register ([`crate::pvpanic`]).
    PvPanic,
}

impl DeviceKind {
    /// How messages name it.
    pub fn name(self) -> &'static str {
        match self {
            DeviceKind::Uart => "UART",
            DeviceKind::Plic => "PLIC",
            DeviceKind::VirtioConsole => "virtio console",
            DeviceKind::PvPanic => "pvpanic register",
        }
    }
}

/// One device window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub kind: DeviceKind,
    pub base: u64,
    /// Bytes the device tree gives it; accesses beyond are refused.
    pub size: u64,
}

/// The UART: eight byte-wide registers, one byte apart (`reg-shift` 0).
pub const UART: Window = Window { kind: DeviceKind::Uart, base: 0x1000_0000, size: 0x100 };
/// The PLIC: one S-mode context per vcore.
pub const PLIC: Window = Window { kind: DeviceKind::Plic, base: 0x0c00_0000, size: crate::plic::WINDOW_SIZE };

/// The virtio-mmio console, right after the UART as QEMU's first virtio
/// slot is.
pub const VIRTIO_CONSOLE: Window =
    Window { kind: DeviceKind::VirtioConsole, base: 0x1000_1000, size: crate::virtio::mmio::WINDOW_SIZE };

/// The pvpanic register, the page after the virtio console (QEMU's virt
/// board has none; this is where its second virtio slot would be).
pub const PVPANIC: Window = Window { kind: DeviceKind::PvPanic, base: 0x1000_2000, size: crate::pvpanic::WINDOW_SIZE };

/// The UART's interrupt source at the PLIC.
pub const UART_IRQ: usize = 10;
/// The virtio console's.
pub const VIRTIO_CONSOLE_IRQ: usize = 1;

/// Every window a capsule has.
pub const WINDOWS: &[Window] = &[PLIC, UART, VIRTIO_CONSOLE, PVPANIC];

/// The lowest and highest+1 guest-physical addresses the windows use:
/// a capsule's RAM must not overlap `SPAN.0..SPAN.1`.
pub const SPAN: (u64, u64) = (0x0c00_0000, 0x1000_3000);

/// The window an access of `width` bytes at guest-physical `addr` falls
/// in, and its offset there; `None` if it is in no window or runs past
/// the end of one.
pub fn find(addr: u64, width: u8) -> Option<(Window, u64)> {
    WINDOWS.iter().find_map(|w| {
        let offset = addr.checked_sub(w.base)?;
        let end = offset.checked_add(u64::from(width))?;
        (end <= w.size).then_some((*w, offset))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_uart_and_its_offset() {
        assert_eq!(find(0x1000_0005, 1), Some((UART, 5)));
        assert_eq!(find(0x1000_0000, 8), Some((UART, 0)));
    }

    #[test]
    fn finds_the_virtio_console() {
        assert_eq!(find(0x1000_1070, 4), Some((VIRTIO_CONSOLE, 0x70)));
        assert_eq!(find(0x1000_1200, 4), None);
    }

    #[test]
    fn finds_the_pvpanic_register_alone() {
        assert_eq!(find(0x1000_2000, 1), Some((PVPANIC, 0)));
        assert_eq!(find(0x1000_2001, 1), Some((PVPANIC, 1)));
        assert_eq!(find(0x1000_2001, 2), None, "runs past its two bytes");
        assert_eq!(find(0x1000_2002, 1), None);
    }

    #[test]
    fn finds_the_plic_by_its_context_registers() {
        assert_eq!(find(0x0c20_1004, 4), Some((PLIC, 0x20_1004)));
        assert_eq!(find(0x0c00_0000 + crate::plic::WINDOW_SIZE, 4), None);
    }

    #[test]
    fn nothing_outside_or_across_a_window_end() {
        assert_eq!(find(0x0fff_ffff, 1), None);
        assert_eq!(find(0x0bff_ffff, 1), None);
        assert_eq!(find(0x1000_0100, 1), None);
        assert_eq!(find(0x1000_00ff, 2), None, "straddles the end");
        assert_eq!(find(u64::MAX, 8), None, "no overflow");
        assert_eq!(find(0x8000_0000, 4), None);
    }

    #[test]
    fn windows_lie_inside_the_span_and_apart() {
        for w in WINDOWS {
            assert!(w.base >= SPAN.0 && w.base + w.size <= SPAN.1, "{w:?}");
        }
        for (i, a) in WINDOWS.iter().enumerate() {
            for b in &WINDOWS[i + 1..] {
                assert!(a.base + a.size <= b.base || b.base + b.size <= a.base, "{a:?} overlaps {b:?}");
            }
        }
    }
}
