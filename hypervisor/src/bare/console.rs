//! The hypervisor's console: the UART the device tree names, through the
//! driver for its kind (`uart_ns16550`, `uart_sifive`; a new kind of UART
//! needs only a new driver and a line in [`Uart::put`] and [`read_byte`]).
//!
//! Until the device tree is read, output goes to QEMU `virt`'s 16550. Every
//! wait for room in a UART is bounded, so a console that is not there (the
//! early guess on another board) loses bytes instead of hanging the hart.
//! `println!` serialises whole lines with a lock; `force_println!` skips
//! the lock for the panic and fatal-trap paths, where the lock may be held
//! by the very hart that is failing.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicUsize, Ordering};

use devtree::UartKind;

use super::{uart_ns16550, uart_sifive};

/// QEMU `virt`'s first UART, used before the device tree names one.
pub const EARLY_UART: usize = 0x1000_0000;

static BASE: AtomicUsize = AtomicUsize::new(EARLY_UART);
/// 0: a 16550, 1: a SiFive UART.
static KIND: AtomicUsize = AtomicUsize::new(0);
static LOCK: spin::Mutex<()> = spin::Mutex::new(());

/// Polls for room in the UART before a byte is dropped: ample for a UART
/// that is there (a byte leaves a 115200-baud line in under 100 us).
const SPINS: usize = 1 << 20;

/// Use the UART at `base`, of `kind`, from now on.
pub fn set_uart(base: usize, kind: UartKind) {
    if kind == UartKind::Sifive {
        uart_sifive::init(base);
    }
    KIND.store(kind as usize, Ordering::SeqCst);
    BASE.store(base, Ordering::SeqCst);
}

fn kind() -> UartKind {
    if KIND.load(Ordering::SeqCst) == UartKind::Sifive as usize { UartKind::Sifive } else { UartKind::Ns16550 }
}

struct Uart(usize);

impl Uart {
    fn now() -> Uart {
        Uart(BASE.load(Ordering::SeqCst))
    }

    fn put(&self, byte: u8) {
        match kind() {
            UartKind::Ns16550 => uart_ns16550::put(self.0, byte, SPINS),
            UartKind::Sifive => uart_sifive::put(self.0, byte, SPINS),
        };
    }
}

impl Write for Uart {
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
    let mut uart = Uart::now();
    // A capsule's held-back line start goes out first; after our line the
    // capsule's next byte starts a line of its own.
    let mut line = LINE.lock();
    HV_PREFIX[..line.held].iter().for_each(|&c| uart.put(c));
    *line = LineState { at_start: true, held: 0 };
    let _ = uart.write_fmt(args);
}

pub fn force_print(args: fmt::Arguments) {
    let _ = Uart::now().write_fmt(args);
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
    let uart = Uart::now();
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
    let base = BASE.load(Ordering::SeqCst);
    match kind() {
        UartKind::Ns16550 => uart_ns16550::get(base),
        UartKind::Sifive => uart_sifive::get(base),
    }
}
