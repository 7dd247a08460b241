//! The hypervisor's console: the device the device tree names, through
//! its driver (`uart_ns16550`, `uart_sifive`, `htif`; a new kind needs only
//! a new driver and a line in [`Device::put`] and [`Device::get`]).
//!
//! Until the device tree is read, output goes to QEMU `virt`'s 16550. If
//! the tree names no console diosix can drive, that guess is kept only on
//! QEMU `virt` (or if the tree could not be read) and only if a device
//! answers there: on another board that address may be anything (the
//! clock controller, on `sifive_u`). Otherwise the console is silent. Every wait for
//! room is bounded, so a console that is not there loses bytes instead of
//! hanging the hart. `println!` serialises whole lines with a lock;
//! `force_println!` skips the lock for the panic and fatal-trap paths,
//! where the lock may be held by the very hart that is failing.

use core::fmt::{self, Write};

use devtree::{Console, UartKind};

use super::uart_ns16550::Regs;
use super::{htif, machine, uart_sifive};

/// QEMU `virt`'s first UART, used before the device tree names one.
pub const EARLY_UART: usize = 0x1000_0000;
const EARLY: Device = Device::Ns16550(EARLY_REGS);

/// The console device, once chosen.
static CHOSEN: spin::Once<Device> = spin::Once::new();
static LOCK: spin::Mutex<()> = spin::Mutex::new(());

/// Polls for room in the UART before a byte is dropped: ample for a UART
/// that is there (a byte leaves a 115200-baud line in under 100 us).
const SPINS: usize = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Device {
    Ns16550(Regs),
    Sifive(usize),
    Htif,
    /// No console: output is dropped, no input comes.
    Silent,
}

/// What [`init`] chose, for the boot report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chosen {
    /// The device the tree names.
    Named,
    /// The tree names none diosix can drive (or could not be read), and
    /// QEMU virt's 16550 answers.
    EarlyGuess,
    /// Nothing: the console is silent.
    Silent,
}

/// Chooses the console: `console` (from the device tree, whose base
/// addresses the caller has checked fit this hypervisor), or else the
/// early guess if `may_guess` and a device answers there. Only the first
/// call counts.
pub fn init(console: Option<Console>, base: Option<usize>, may_guess: bool) -> Chosen {
    let named = match (console, base) {
        (Some(Console::Htif), _) => Some(Device::Htif),
        (Some(Console::Uart(u)), Some(base)) => Some(match u.kind {
            UartKind::Ns16550 => Device::Ns16550(Regs { base, shift: u.reg_shift, width: u.io_width }),
            UartKind::Sifive => {
                uart_sifive::init(base);
                Device::Sifive(base)
            }
        }),
        _ => None,
    };
    let (device, chosen) = match named {
        Some(d) => (d, Chosen::Named),
        None if may_guess && machine::responds(EARLY_REGS.status_address()) => (EARLY, Chosen::EarlyGuess),
        None => (Device::Silent, Chosen::Silent),
    };
    CHOSEN.call_once(|| device);
    chosen
}

const EARLY_REGS: Regs = Regs { base: EARLY_UART, shift: 0, width: 1 };

impl Device {
    fn now() -> Device {
        *CHOSEN.get().unwrap_or(&EARLY)
    }

    fn put(&self, byte: u8) {
        match *self {
            Device::Ns16550(regs) => regs.put(byte, SPINS),
            Device::Sifive(base) => uart_sifive::put(base, byte, SPINS),
            Device::Htif => htif::put(byte, SPINS),
            Device::Silent => true,
        };
    }

    fn drain(&self) {
        match *self {
            Device::Ns16550(regs) => regs.drain(SPINS),
            Device::Sifive(base) => uart_sifive::drain(base, SPINS),
            Device::Htif | Device::Silent => {}
        }
    }

    fn get(&self) -> Option<u8> {
        match *self {
            Device::Ns16550(regs) => regs.get(),
            Device::Sifive(base) => uart_sifive::get(base),
            Device::Htif => htif::get(),
            Device::Silent => None,
        }
    }
}

impl Write for Device {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                self.put(b'\r');
            }
            self.put(b);
        }
        Ok(())
    }
}

pub fn print(args: fmt::Arguments) {
    let _guard = LOCK.lock();
    let mut uart = Device::now();
    // A capsule's held-back line start goes out first; after our line the
    // capsule's next byte starts a line of its own.
    let mut line = LINE.lock();
    HV_PREFIX[..line.held].iter().for_each(|&c| uart.put(c));
    *line = LineState { at_start: true, held: 0 };
    let _ = uart.write_fmt(args);
}

/// Waits (bounded) until the console has sent everything: before the
/// machine is reset, which would cut the last line short.
pub fn drain() {
    Device::now().drain();
}

pub fn force_print(args: fmt::Arguments) {
    let _ = Device::now().write_fmt(args);
}

macro_rules! println {
    ($($arg:tt)*) => {
        $crate::bare::console::print(format_args!("{}\n", format_args!($($arg)*)))
    };
}

macro_rules! force_println {
    ($($arg:tt)*) => {
        $crate::bare::console::force_print(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {force_println, println};


/// The hypervisor's own messages start their line with this. A capsule's
/// line that starts with it too gets [`CAPSULE_MARK`] in front, so that
/// nothing a capsule prints can pass for the hypervisor speaking.
const HV_PREFIX: &[u8] = b"[diosix";
const CAPSULE_MARK: &[u8] = b"[capsule] ";

/// Where the capsules' output stands: at the start of a line, and how many
/// bytes of [`HV_PREFIX`] it has matched there and holds back.
struct LineState {
    at_start: bool,
    held: usize,
}

static LINE: spin::Mutex<LineState> = spin::Mutex::new(LineState { at_start: true, held: 0 });

/// Writes a capsule's bytes as they are (the capsule's kernel already
/// turns its newlines into CR LF), except that a line beginning like the
/// hypervisor's messages is marked as the capsule's.
pub fn write_bytes(bytes: &[u8]) {
    let _guard = LOCK.lock();
    let mut line = LINE.lock();
    let uart = Device::now();
    for &b in bytes {
        if line.at_start {
            if b == HV_PREFIX[line.held] {
                line.held += 1;
                if line.held == HV_PREFIX.len() {
                    CAPSULE_MARK.iter().chain(HV_PREFIX).for_each(|&c| uart.put(c));
                    line.held = 0;
                    line.at_start = false;
                }
                continue;
            }
            HV_PREFIX[..line.held].iter().for_each(|&c| uart.put(c));
            line.held = 0;
            line.at_start = false;
        }
        uart.put(b);
        if b == b'\n' || b == b'\r' {
            line.at_start = true;
        }
    }
}


/// A byte of input, if one has arrived. Under the console lock: two harts
/// polling at once could otherwise both see "data ready" and one of them
/// read the receive register empty (a NUL).
pub fn read_byte() -> Option<u8> {
    let _guard = LOCK.lock();
    Device::now().get()
}
