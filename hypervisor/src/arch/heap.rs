//! The hypervisor's heap, in the region the linker script reserves.

use buddy_system_allocator::LockedHeap;

use crate::arch::layout;

#[global_allocator]
static HEAP: LockedHeap<32> = LockedHeap::empty();

/// Hand the heap region to the allocator. Called once, by the boot hart.
pub fn init() {
    let (start, end) = layout::heap();
    // SAFETY: the linker script reserves start..end for the heap and
    // nothing else uses it; this runs once, before any allocation.
    unsafe { HEAP.lock().init(start, end - start) };
}
