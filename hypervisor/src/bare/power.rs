//! Powering the machine off, with an exit status where the device allows.

use devtree::{PowerOff, PowerOffKind};

use super::console::force_println;
use super::cpu;
use super::phys::Phys;

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

/// Reset the whole machine (QEMU reboots); power off if there is no way.
pub fn reset() -> ! {
    match RESET.get().copied().flatten() {
        Some(dev) => write(&dev, dev.value),
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
        (PowerOffKind::Syscon, _) => dev.value,
    }
}

/// Power off; QEMU exits with `status` where the device can say it.
pub fn exit(status: u16) -> ! {
    match device() {
        Some(dev) => {
            if status != 0 && dev.kind == PowerOffKind::Syscon {
                force_println!("[diosix] this power-off device cannot report status {status}");
            }
            write(&dev, command(&dev, status));
        }
        None => force_println!("[diosix] no power-off device: halting hart {}", cpu::hart_id()),
    }
    cpu::park()
}

/// Power off without printing anything (for failures inside the console).
pub fn exit_quietly(status: u16) -> ! {
    if let Some(dev) = device() {
        write(&dev, command(&dev, status));
    }
    cpu::park()
}

fn write(dev: &PowerOff, word: u32) {
    let Some(addr) = dev.address().and_then(Phys::new) else {
        force_println!("[diosix] the power-off register lies beyond this hypervisor's reach: halting hart {}", cpu::hart_id());
        return;
    };
    // SAFETY: the device tree (or the virt board's fixed map) says a
    // power-off register lives here; writing it ends the machine.
    unsafe { addr.ptr::<u32>().write_volatile(word) };
}
