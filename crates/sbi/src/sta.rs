//! The STA extension (steal-time accounting, SBI v2.0) for one vcore.
//!
//! A vcore names 64 bytes of its own memory with `steal_time_set_shmem`;
//! from then on the hypervisor, through [`publish`], keeps a record there
//! of how long the vcore was ready to run but kept off its hart ("stolen"
//! time). The record, little-endian:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | `sequence`: odd while the record is being written |
//! | 4 | 4 | `flags`: always 0 |
//! | 8 | 8 | `steal`: nanoseconds stolen since the record was set |
//! | 16 | 1 | `preempted`: always 0 (the spec allows, not requires, non-zero while the vcore is kept off its hart) |
//! | 17 | 47 | zero |
//!
//! A reader reads `sequence`, then `steal`, then `sequence` again, and
//! retries if the two differ or are odd. The hypervisor keeps the sequence
//! number itself rather than reading it back, so a capsule scribbling on
//! the record can spoil only its own reading of it.

use core::sync::atomic::{Ordering, fence};

use sbi_spec::binary::SbiRet;
use sbi_spec::sta;

use crate::Host;

/// The size (and alignment) of the steal-time record, in bytes.
pub const SHMEM_SIZE: u64 = 64;

/// `shmem_phys_lo` and `shmem_phys_hi` both this: stop reporting.
const DISABLE: usize = usize::MAX;

/// A vcore's STA state: where its steal-time record is, if anywhere, the
/// time stolen since it was set, and the (even) sequence number last
/// written there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sta {
    shmem: Option<u64>,
    steal: u64,
    sequence: u32,
}

impl Sta {
    /// No record: the state of a vcore just started.
    pub const fn new() -> Sta {
        Sta { shmem: None, steal: 0, sequence: 0 }
    }

    /// True if the vcore has a steal-time record for [`publish`] to keep.
    pub fn enabled(&self) -> bool {
        self.shmem.is_some()
    }
}

/// One STA call from the calling vcore.
pub(crate) fn call<H: Host>(host: &mut H, fid: usize, lo: usize, hi: usize, flags: usize) -> SbiRet {
    if fid != sta::SET_SHMEM {
        return SbiRet::not_supported();
    }
    // flags is reserved and must be 0, all XLEN bits of it.
    if flags != 0 {
        return SbiRet::invalid_param();
    }
    if lo == DISABLE && hi == DISABLE {
        host.vcore_state(|s| s.sta = Sta::new());
        return SbiRet::success(0);
    }
    if !(lo as u64).is_multiple_of(SHMEM_SIZE) {
        return SbiRet::invalid_param();
    }
    // On rv64 a non-zero high half names memory beyond any physical address.
    let Some(addr) = crate::dispatch::phys(lo, hi) else {
        return SbiRet::invalid_address();
    };
    if !host.owns(addr, SHMEM_SIZE) {
        return SbiRet::invalid_address();
    }
    // The spec has every byte zeroed before the call returns. On failure
    // the vcore's previous record, if any, is kept.
    if !host.write_guest(addr, &[0; SHMEM_SIZE as usize]) {
        return SbiRet::failed();
    }
    // Stolen time counts from here: the record says 0.
    host.vcore_state(|s| s.sta = Sta { shmem: Some(addr), steal: 0, sequence: 0 });
    SbiRet::success(0)
}

/// Adds `stolen_ns` nanoseconds to the calling vcore's steal time and
/// writes the new total into its record; nothing if it has no record, or
/// if `stolen_ns` is 0 (the record already says what it would write).
///
/// The hypervisor calls this on the vcore's hart just before the vcore
/// runs again after waiting for the hart, with the time it waited (the
/// hypervisor converts from timebase ticks). Only time the vcore was
/// ready but kept off its hart counts: time it spent stopped, suspended
/// or in `wfi` is idle, not stolen. Never call it while the vcore cannot
/// run (stopped, suspended, its capsule resetting): the spec forbids
/// writing the record then. Time stolen while the vcore has no record is
/// not counted: the total starts at 0 when the record is set, as the
/// zeroed record says.
///
/// The sequence number goes odd, the record is written, the sequence goes
/// even; fences keep another hart from seeing those stores out of order.
/// [`Host::write_guest`] may store a byte at a time, which the protocol
/// survives: going odd changes only the sequence's low byte, and no mix
/// of old and new bytes going even equals the even value a reader saw
/// before the update began.
/// If the record is no longer wholly in the capsule's memory, it is
/// forgotten, unwritten.
pub fn publish<H: Host>(host: &mut H, stolen_ns: u64) {
    if stolen_ns == 0 {
        return;
    }
    let Some((addr, steal, sequence)) =
        host.vcore_state(|s| s.sta.shmem.map(|a| (a, s.sta.steal.saturating_add(stolen_ns), s.sta.sequence)))
    else {
        return;
    };
    // Checked once, so that the three writes below either all happen or
    // (only if the capsule's memory changed in between) the record is
    // dropped; a sequence left odd would stall the vcore's readers.
    let written = host.owns(addr, SHMEM_SIZE) && {
        let odd = sequence.wrapping_add(1);
        // flags (offset 4), steal (8), preempted (16).
        let mut body = [0u8; 13];
        body[4..12].copy_from_slice(&steal.to_le_bytes());
        host.write_guest(addr, &odd.to_le_bytes())
            && {
                fence(Ordering::Release);
                host.write_guest(addr + 4, &body)
            }
            && {
                fence(Ordering::Release);
                host.write_guest(addr, &odd.wrapping_add(1).to_le_bytes())
            }
    };
    host.vcore_state(|s| {
        if written {
            s.sta.steal = steal;
            s.sta.sequence = sequence.wrapping_add(2);
        } else {
            s.sta = Sta::new();
        }
    });
}
