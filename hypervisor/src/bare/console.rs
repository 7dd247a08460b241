//! The hypervisor's console: a 16550-compatible UART.
//!
//! Until the device tree is read, output goes to QEMU `virt`'s UART
//! address. `println!` serialises whole lines with a lock; `force_println!`
//! skips the lock for the panic and fatal-trap paths, where the lock may be
//! held by the very hart that is failing.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicUsize, Ordering};

/// QEMU `virt`'s first UART, used before the device tree names one.
pub const EARLY_UART: usize = 0x1000_0000;

static BASE: AtomicUsize = AtomicUsize::new(EARLY_UART);
static LOCK: spin::Mutex<()> = spin::Mutex::new(());

const THR: usize = 0; // transmit holding register
const LSR: usize = 5; // line status register
const LSR_THR_EMPTY: u8 = 1 << 5;

/// Use the UART at `base` from now on.
pub fn set_base(base: usize) {
    BASE.store(base, Ordering::SeqCst);
}

struct Uart(usize);

impl Uart {
    fn put(&self, byte: u8) {
        // SAFETY: `self.0` is the UART the device tree (or, before it is
        // read, the QEMU virt board) places there; only its THR and LSR
        // byte registers are touched, with volatile accesses.
        unsafe {
            let lsr = (self.0 + LSR) as *const u8;
            while lsr.read_volatile() & LSR_THR_EMPTY == 0 {}
            ((self.0 + THR) as *mut u8).write_volatile(byte);
        }
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
    let mut uart = Uart(BASE.load(Ordering::SeqCst));
    // A capsule's held-back line start goes out first; after our line the
    // capsule's next byte starts a line of its own.
    let mut line = LINE.lock();
    HV_PREFIX[..line.held].iter().for_each(|&c| uart.put(c));
    *line = LineState { at_start: true, held: 0 };
    let _ = uart.write_fmt(args);
}

pub fn force_print(args: fmt::Arguments) {
    let _ = Uart(BASE.load(Ordering::SeqCst)).write_fmt(args);
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
    let uart = Uart(BASE.load(Ordering::SeqCst));
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

const RBR: usize = 0; // receive buffer register
const LSR_DATA_READY: u8 = 1 << 0;

/// A byte of input, if one has arrived. Under the console lock: two harts
/// polling at once could otherwise both see "data ready" and one of them
/// read the receive register empty (a NUL).
pub fn read_byte() -> Option<u8> {
    let _guard = LOCK.lock();
    let base = BASE.load(Ordering::SeqCst);
    // SAFETY: the UART's line status and receive registers, read with
    // volatile byte accesses; reading RBR consumes the byte.
    unsafe {
        let ready = ((base + LSR) as *const u8).read_volatile() & LSR_DATA_READY != 0;
        ready.then(|| ((base + RBR) as *const u8).read_volatile())
    }
}
