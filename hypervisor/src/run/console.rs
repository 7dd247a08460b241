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
use core::sync::atomic::{AtomicUsize, Ordering};

use devtree::{Console, UartKind};

use conmux::{Hold, Mux, Source};

use crate::run::capsule::Capsule;
use crate::built::settings::CONSOLE_COLOUR as COLOUR;
use crate::platform::uart_ns16550::Regs;
use crate::{arch::machine, platform::{htif, uart_sifive}};

/// QEMU `virt`'s first UART, used before the device tree names one.
pub const EARLY_UART: usize = 0x1000_0000;
const EARLY: Device = Device::Ns16550(EARLY_REGS);

/// The console device, once chosen.
static CHOSEN: spin::Once<Device> = spin::Once::new();

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
    let mut mux = MUX.lock();
    let _ = HvWriter { mux: &mut mux, device: Device::now() }.write_fmt(args);
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
        $crate::run::console::print(format_args!("{}\n", format_args!($($arg)*)))
    };
}

macro_rules! force_println {
    ($($arg:tt)*) => {
        $crate::run::console::force_print(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {force_println, println};


/// Every capsule's output and input, and the hypervisor's own lines,
/// through the multiplexer (`conmux`): lines tagged by capsule once there
/// are two, never two sources within one line, input to the capsule with
/// the focus. Its lock is the console's: whole writes go out together.
static MUX: spin::Mutex<Mux> = spin::Mutex::new(Mux::new(COLOUR));

/// The hypervisor's formatted output, each `\n` sent as CR LF.
struct HvWriter<'a> {
    mux: &'a mut Mux,
    device: Device,
}

impl Write for HvWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let device = self.device;
        let mut out = |b: &[u8]| b.iter().for_each(|&c| device.put(c));
        for (i, part) in s.split('\n').enumerate() {
            if i > 0 {
                self.mux.write(Source::Hypervisor, b"\r\n", &mut out);
            }
            if !part.is_empty() {
                self.mux.write(Source::Hypervisor, part.as_bytes(), &mut out);
            }
        }
        Ok(())
    }
}

/// Capsules on the console: with more than one, their lines are tagged,
/// and partial lines are held back (below).
static CAPSULES: AtomicUsize = AtomicUsize::new(0);

/// Each capsule's unfinished line while several share the console
/// (the rules are `conmux::hold`'s). Released when the capsule polls for
/// input, when all its vcores wait for an interrupt (`sched`), when it
/// ends, and by the tick once quiet.
static HELD: spin::Mutex<Hold> = spin::Mutex::new(Hold::new());

/// A capsule now exists: its output is tagged once there are two, and
/// with the second the hypervisor says where input goes and how to move it.
pub fn capsule_added(c: &Capsule) {
    let notice = {
        let mut mux = MUX.lock();
        mux.add(c.id, &c.name);
        (CAPSULES.fetch_add(1, Ordering::SeqCst) == 1).then(|| mux.notice())
    };
    if let Some(n) = notice {
        println!("[diosix] {n}");
    }
}

/// A capsule has ended: its held line goes out, its queued input and
/// recent output go.
pub fn capsule_removed(c: &Capsule) {
    flush(c.id);
    let notice = MUX.lock().remove(c.id);
    CAPSULES.fetch_sub(1, Ordering::SeqCst);
    if let Some(n) = notice {
        println!("[diosix] {n}");
    }
}

fn emit(mux: &mut Mux, id: u32, bytes: &[u8]) {
    let device = Device::now();
    mux.write(Source::Capsule(id), bytes, &mut |b: &[u8]| b.iter().for_each(|&x| device.put(x)));
}

/// Output from capsule `c`.
pub fn capsule_write(c: &Capsule, bytes: &[u8]) {
    let mut held = HELD.lock();
    if CAPSULES.load(Ordering::SeqCst) <= 1 && held.is_empty() {
        drop(held);
        emit(&mut MUX.lock(), c.id, bytes);
        return;
    }
    // Under HELD still, so a capsule's bytes keep their order.
    held.write(c.id, bytes, |line| emit(&mut MUX.lock(), c.id, line));
}

/// Sends the held partial line of capsule `id`.
pub fn flush(id: u32) {
    HELD.lock().release(id, |line| emit(&mut MUX.lock(), id, line));
}

/// The hypervisor's tick: sends the held partial lines that did not grow
/// since the last tick (a prompt, or a line the capsule stopped writing),
/// so they show within two seconds even from a capsule that never polls.
pub fn flush_quiet() {
    let mut held = HELD.lock();
    let mut mux = MUX.lock();
    held.tick(|id, line| emit(&mut mux, id, line));
}

/// Input for capsule `c`: what was typed while it had the focus. A
/// capsule that asks for input may have a prompt held: it goes out.
pub fn capsule_read(c: &Capsule, buf: &mut [u8]) -> usize {
    flush(c.id);
    capsule_input(c, buf)
}

/// Input for capsule `c`, as [`capsule_read`] but leaving its held
/// output alone: a UART driver looks for input between the bytes of a
/// line it is still writing.
pub fn capsule_input(c: &Capsule, buf: &mut [u8]) -> usize {
    pump();
    MUX.lock().read(c.id, buf)
}

/// Gives capsule `id` the input focus (the boot capsule's manager asked);
/// the focus key then brings it back to `back_to`. The hypervisor says
/// where input goes now. False if there is no such capsule.
pub fn give_focus(id: u32, back_to: u32) -> bool {
    let notice = MUX.lock().give_focus(id, back_to);
    match notice {
        Some(n) => {
            println!("[diosix] {n}");
            true
        }
        None => false,
    }
}

/// Capsule `id`'s recent output, as far as the console keeps it.
pub fn recent(id: u32) -> alloc::vec::Vec<u8> {
    flush(id);
    MUX.lock().recent(id)
}

/// The capsule typed input goes to.
pub fn focus() -> Option<u32> {
    MUX.lock().focus()
}

/// Whether typed input waits for capsule `id`.
pub fn has_input(id: u32) -> bool {
    MUX.lock().has_input(id)
}

/// Reads what was typed and routes it: to the focused capsule's queue,
/// or, for the focus key, to moving the focus (which is announced).
/// Capsules that poll their console pump it; the hypervisor's tick does
/// too, so the focus key works while the focused capsule never reads.
pub fn pump() {
    let device = Device::now();
    loop {
        let notice = {
            let mut mux = MUX.lock();
            let Some(b) = device.get() else { return };
            mux.input(b)
        };
        if let Some(n) = notice {
            println!("[diosix] {n}");
        }
    }
}
