//! HTIF, the host-target interface of Spike and QEMU's `spike` board: the
//! console and power-off. Two 64-bit words, `tohost` and `fromhost`, live
//! in this executable (the loader finds them by symbol and puts the device
//! there); a command is written to `tohost` and the host answers in
//! `fromhost`, which the hart must clear. A word is written as two 32-bit
//! halves, low first: the host acts on the high half, so rv32 and rv64
//! drive it the same way.
//!
//! The host keeps one received byte in `fromhost` and replaces it with the
//! next, so input is read often (the console's callers poll) and a byte
//! seen while writing is kept in [`BUFFERED`].

use core::arch::global_asm;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

// Both words are 8 bytes (the loader checks the symbols' sizes) and next to
// each other: the host's device covers everything from the lower to the
// end of the higher, which must then hold nothing else.
global_asm!(
    r#"
    .pushsection .htif, "aw", @progbits
    .balign 64
    .globl tohost
    .type tohost, @object
    .size tohost, 8
tohost:
    .dword 0
    .globl fromhost
    .type fromhost, @object
    .size fromhost, 8
fromhost:
    .dword 0
    .popsection
    "#
);

unsafe extern "C" {
    static mut tohost: u64;
    static mut fromhost: u64;
}

/// Device 1 is the console; its command 0 reads a byte, 1 writes one.
const CONSOLE: u64 = 1 << 56;
const GETC: u64 = 0 << 48;
const PUTC: u64 = 1 << 48;
/// Device 0 command 0 with bit 0 set: end the simulation, status in bits 1..48.
const EXIT: u64 = 1;

/// A byte received while waiting for something else: `0x100 | byte`, or 0.
static BUFFERED: AtomicUsize = AtomicUsize::new(0);
/// A read is outstanding (asked for, not yet answered).
static READ_ASKED: AtomicBool = AtomicBool::new(false);

fn write(word: *mut u64, value: u64) {
    let halves = word.cast::<u32>();
    // SAFETY: `word` is `tohost` or `fromhost`, 8 bytes of this executable
    // that only this module touches; on Spike they are the HTIF device.
    unsafe {
        halves.write_volatile(value as u32);
        halves.add(1).write_volatile((value >> 32) as u32);
    }
}

fn read(word: *mut u64) -> u64 {
    let halves = word.cast::<u32>();
    // SAFETY: as in `write`.
    unsafe { u64::from(halves.read_volatile()) | (u64::from(halves.add(1).read_volatile()) << 32) }
}

fn tohost_word() -> *mut u64 {
    &raw mut tohost
}

fn fromhost_word() -> *mut u64 {
    &raw mut fromhost
}

/// Takes the host's answer, if there is one: a received byte is kept in
/// [`BUFFERED`]. Returns true if there was an answer.
fn take_answer() -> bool {
    let answer = read(fromhost_word());
    if answer == 0 {
        return false;
    }
    write(fromhost_word(), 0);
    if answer >> 48 == (CONSOLE | GETC) >> 48 {
        BUFFERED.store(0x100 | (answer & 0xff) as usize, Ordering::SeqCst);
        READ_ASKED.store(false, Ordering::SeqCst);
    }
    true
}

/// Sends `byte`, waiting at most `spins` polls for the host's answer.
pub fn put(byte: u8, spins: usize) -> bool {
    take_answer();
    write(tohost_word(), CONSOLE | PUTC | u64::from(byte));
    for _ in 0..spins {
        // Any answer ends the wait: a byte that arrives now replaces the
        // host's acknowledgement (QEMU keeps one answer).
        if take_answer() {
            return true;
        }
        core::hint::spin_loop();
    }
    false
}

/// A received byte, if one is waiting; otherwise asks the host for the next.
pub fn get() -> Option<u8> {
    take_answer();
    let held = BUFFERED.swap(0, Ordering::SeqCst);
    if held != 0 {
        return Some(held as u8);
    }
    if !READ_ASKED.swap(true, Ordering::SeqCst) {
        write(tohost_word(), CONSOLE | GETC);
    }
    None
}

/// Ends the simulation with `status` as the host's exit status.
pub fn exit(status: u16) {
    write(tohost_word(), (u64::from(status) << 1) | EXIT);
}
