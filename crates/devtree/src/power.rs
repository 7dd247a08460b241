//! How the machine is powered off and reset: `syscon-poweroff` and
//! `syscon-reboot` registers, SiFive's test finisher, a GPIO pin
//! (`gpio-poweroff`, `gpio-restart`) on a SiFive GPIO controller, or HTIF.

use crate::console::HTIF_COMPATIBLE;
use crate::fdt::Fdt;
use crate::platform::{PlatformError, first_compatible};

/// How the machine is powered off (or reset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowerOffKind {
    /// SiFive's test finisher (QEMU `virt`): 0x5555 passes, `code << 16 | 0x3333` fails.
    SifiveTest,
    /// A generic syscon register: `value` is written, no exit code can be given.
    Syscon,
    /// Pin `pin` of the SiFive GPIO controller (`sifive,gpio0`) at `base`:
    /// driven to its active level, it ends (or resets) the machine.
    SifiveGpio { pin: u8, active_low: bool },
    /// HTIF's `tohost` word (Spike), which carries an exit code.
    Htif,
}

/// The power-off device: write `value` to `base + offset` (for
/// [`PowerOffKind::SifiveGpio`], `base` is the controller's; for
/// [`PowerOffKind::Htif`] no address is used).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PowerOff {
    pub base: u64,
    pub offset: u64,
    pub value: u32,
    pub kind: PowerOffKind,
}

impl PowerOff {
    /// `base + offset`. [`crate::Platform::from_fdt`] refuses a device where it
    /// overflows, so this is `Some` for every device read from a tree.
    pub fn address(&self) -> Option<u64> {
        self.base.checked_add(self.offset)
    }
}

const TEST_COMPATIBLE: &[&str] = &["sifive,test1", "sifive,test0"];
const GPIO_COMPATIBLE: &str = "sifive,gpio0";
/// The GPIO binding's flag for an active-low line.
const GPIO_ACTIVE_LOW: u32 = 1;

/// The power-off device, in order of preference: `syscon-poweroff`, the
/// SiFive test device, `gpio-poweroff`, HTIF.
pub(crate) fn read_poweroff(fdt: &Fdt<'static>) -> Result<Option<PowerOff>, PlatformError> {
    let found = find_syscon(fdt, "syscon-poweroff", 0x5555)
        .or_else(|| find_gpio(fdt, "gpio-poweroff"))
        .or_else(|| {
            fdt.compatible(HTIF_COMPATIBLE)
                .next()
                .map(|_| PowerOff { base: 0, offset: 0, value: 0, kind: PowerOffKind::Htif })
        });
    checked(found, "power-off")
}

/// The reset device: `syscon-reboot`, the SiFive test device, `gpio-restart`.
pub(crate) fn read_reset(fdt: &Fdt<'static>) -> Result<Option<PowerOff>, PlatformError> {
    let found = find_syscon(fdt, "syscon-reboot", 0x7777).or_else(|| find_gpio(fdt, "gpio-restart"));
    checked(found, "reset")
}

/// Refuses a register that lies beyond the address space; `what` names
/// the device in the error.
fn checked(device: Option<PowerOff>, what: &'static str) -> Result<Option<PowerOff>, PlatformError> {
    match device {
        Some(d) if d.address().is_none() => Err(PlatformError::BadSyscon { what, base: d.base, offset: d.offset }),
        _ => Ok(device),
    }
}

/// A `compat` syscon node, or else the SiFive test device with
/// `test_value` (what QEMU's virt board uses for each).
fn find_syscon(fdt: &Fdt<'static>, compat: &'static str, test_value: u32) -> Option<PowerOff> {
    if let Some(node) = fdt.compatible(compat).next() {
        let syscon = node.u32_property("regmap").and_then(|h| fdt.find_phandle(h))?;
        let (base, _) = syscon.reg().next()?;
        let kind = if TEST_COMPATIBLE.iter().any(|c| syscon.is_compatible(c)) {
            PowerOffKind::SifiveTest
        } else {
            PowerOffKind::Syscon
        };
        return Some(PowerOff {
            base,
            offset: u64::from(node.u32_property("offset").unwrap_or(0)),
            value: node.u32_property("value")?,
            kind,
        });
    }
    let test = first_compatible(fdt, TEST_COMPATIBLE)?;
    Some(PowerOff { base: test.base, offset: 0, value: test_value, kind: PowerOffKind::SifiveTest })
}

/// A `gpio-poweroff`/`gpio-restart` node whose `gpios` names a pin of a
/// SiFive GPIO controller (`<&controller pin flags>`, the controller's
/// `#gpio-cells` being 2). Another controller has no driver here.
fn find_gpio(fdt: &Fdt<'static>, compat: &'static str) -> Option<PowerOff> {
    let node = fdt.compatible(compat).find(|n| n.is_enabled())?;
    let mut cells = node.property("gpios")?.cells();
    let (handle, pin, flags) = (cells.next()?, cells.next()?, cells.next()?);
    let controller = fdt.find_phandle(handle)?;
    if !controller.is_compatible(GPIO_COMPATIBLE) || controller.u32_property("#gpio-cells") != Some(2) || pin >= 32 {
        return None;
    }
    let (base, _) = controller.reg().next()?;
    Some(PowerOff {
        base,
        offset: 0,
        value: 0,
        kind: PowerOffKind::SifiveGpio { pin: pin as u8, active_low: flags & GPIO_ACTIVE_LOW != 0 },
    })
}
