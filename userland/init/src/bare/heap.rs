//! The heap, for the control protocol's messages (the `ctl` crate needs
//! `alloc`): a buddy allocator over a fixed arena in `.bss`.
//!
//! A static arena rather than `mmap`: it is there before `main` runs, so
//! there is no start-up call that can fail and nothing to grow later; it
//! costs nothing in the file; and Linux backs `.bss` with zero pages on
//! first touch, so only what is used takes RAM. Its size bounds what
//! /init can ever take from the boot capsule. The most the manager holds
//! at once is a decoder (one largest frame, 64 KiB and a header, which
//! the buddy allocator rounds up to 128 KiB), a reply's payload (64 KiB)
//! and the text made from it, so 4 MiB is plenty.

use core::cell::UnsafeCell;

use buddy_system_allocator::LockedHeap;

const SIZE: usize = 4 << 20;

#[repr(C, align(4096))]
struct Arena(UnsafeCell<[u8; SIZE]>);

// SAFETY: the arena is only reached through HEAP, whose lock serialises
// every use.
unsafe impl Sync for Arena {}

static ARENA: Arena = Arena(UnsafeCell::new([0; SIZE]));

#[global_allocator]
static HEAP: LockedHeap<32> = LockedHeap::empty();

/// Hands the arena to the allocator. Called once, first thing in `main`.
pub fn init() {
    // SAFETY: the arena is static, writable, and used by nothing but the
    // allocator; this runs once, before any allocation.
    unsafe { HEAP.lock().init(ARENA.0.get() as usize, SIZE) };
}
