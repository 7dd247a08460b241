//! The hypervisor's own memory, as the linker script lays it out.

use memrange::Range;

/// Bytes of stack for each hart (link.ld's STACK_SIZE).
pub const STACK_SIZE: usize = 64 * 1024;
/// Harts with an id at or above this are parked at boot (link.ld's MAX_HARTS).
pub const MAX_HARTS: usize = 16;

unsafe extern "C" {
    static __image_start: u8;
    static __image_end: u8;
    static __stacks_start: u8;
    static __heap_start: u8;
    static __heap_end: u8;
}

fn addr(sym: &u8) -> usize {
    sym as *const u8 as usize
}

/// All memory the hypervisor occupies: code, data, stacks and heap.
pub fn image() -> Range {
    // SAFETY: only the addresses of linker-defined symbols are taken.
    let (start, end) = unsafe { (addr(&__image_start), addr(&__image_end)) };
    Range::from_bounds(start as u64, end as u64).expect("linker script gives a non-empty image")
}

/// The heap region reserved by the linker script.
pub fn heap() -> (usize, usize) {
    // SAFETY: only the addresses of linker-defined symbols are taken.
    unsafe { (addr(&__heap_start), addr(&__heap_end)) }
}

/// The top of `hart`'s hypervisor stack (entry.rs sets sp the same way).
pub fn stack_top(hart: usize) -> usize {
    // SAFETY: only the address of a linker-defined symbol is taken.
    let base = unsafe { addr(&__stacks_start) };
    base + (hart + 1) * STACK_SIZE
}
