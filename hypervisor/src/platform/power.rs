//! Powering the machine off, with an exit status where the device allows.
//! A board whose tree names only a reset (QEMU `sifive_u`: a GPIO line)
//! is reset instead; QEMU started with `-no-reboot` then exits.

use devtree::{PowerOff, PowerOffKind};

use crate::run::console::{self, force_println};
use crate::arch::phys::Phys;
use crate::{arch::{cpu, machine}, platform::{gpio_sifive, htif}};

/// QEMU `virt`'s SiFive test device, used if the tree names no power-off device.
const EARLY_POWEROFF: PowerOff =
    PowerOff { base: 0x10_0000, offset: 0, value: 0x5555, kind: PowerOffKind::SifiveTest };

static DEVICE: spin::Once<Option<PowerOff>> = spin::Once::new();
static RESET: spin::Once<Option<PowerOff>> = spin::Once::new();

/// Record the power-off and reset devices the device tree describes.
pub fn init(poweroff: Option<PowerOff>, reset: Option<PowerOff>) {
    DEVICE.call_once(|| poweroff);
    RESET.call_once(|| reset);
}

fn reset_device() -> Option<PowerOff> {
    RESET.get().copied().flatten()
}

/// Reset the whole machine (QEMU reboots); power off if there is no way.
pub fn reset() -> ! {
    match reset_device() {
        Some(dev) => {
            console::drain();
            write(&dev, dev.value)
        }
        None => force_println!("[diosix] no reset device: powering off instead"),
    }
    exit(0)
}

fn device() -> Option<PowerOff> {
    *DEVICE.get().unwrap_or(&Some(EARLY_POWEROFF))
}

/// The word that powers off with `status`: the SiFive test device takes
/// `status << 16 | 0x3333` as a failure; a generic syscon only knows its value.
fn command(dev: &PowerOff, status: u16) -> u32 {
    match (dev.kind, status) {
        (_, 0) => dev.value,
        (PowerOffKind::SifiveTest, s) => (u32::from(s) << 16) | 0x3333,
        (PowerOffKind::Syscon | PowerOffKind::SifiveGpio { .. } | PowerOffKind::Htif, _) => dev.value,
    }
}

/// Power off; QEMU exits with `status` where the device can say it.
pub fn exit(status: u16) -> ! {
    match device() {
        Some(dev) if dev.kind == PowerOffKind::Htif => htif::exit(status),
        Some(dev) => {
            if status != 0 && dev.kind == PowerOffKind::Syscon {
                force_println!("[diosix] this power-off device cannot report status {status}");
            }
            write(&dev, command(&dev, status));
        }
        None => match reset_device() {
            Some(dev) => {
                match status {
                    0 => force_println!("[diosix] no power-off device: resetting the machine instead"),
                    s => force_println!("[diosix] no power-off device: resetting the machine instead (exit status {s} is lost)"),
                }
                console::drain();
                write(&dev, dev.value);
            }
            None => force_println!("[diosix] no power-off device: halting hart {}", cpu::hart_id()),
        },
    }
    cpu::park()
}

/// Power off without printing anything (for failures inside the console).
pub fn exit_quietly(status: u16) -> ! {
    match device().or_else(reset_device) {
        Some(dev) if dev.kind == PowerOffKind::Htif => htif::exit(status),
        Some(dev) => write(&dev, command(&dev, status)),
        None => {}
    }
    cpu::park()
}

fn write(dev: &PowerOff, word: u32) {
    let Some(addr) = dev.address().and_then(Phys::new) else {
        force_println!("[diosix] the power-off register lies beyond this hypervisor's reach: halting hart {}", cpu::hart_id());
        return;
    };
    match dev.kind {
        PowerOffKind::SifiveGpio { pin, active_low } => gpio_sifive::drive(addr.as_usize(), pin, !active_low),
        PowerOffKind::Htif => htif::exit(0),
        // The device tree (or, before it is read, the guess of QEMU virt's
        // map) says a power-off register lives here; writing it ends the
        // machine. A store that faults (the guess on another board) is
        // skipped, and the caller halts the hart.
        PowerOffKind::SifiveTest | PowerOffKind::Syscon => {
            if !machine::store_if_present(addr.as_usize(), word) {
                force_println!("[diosix] no power-off register answers at {:#x}", addr.as_usize());
            }
        }
    }
}
