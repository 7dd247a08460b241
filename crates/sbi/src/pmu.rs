//! The PMU extension's state for one vcore: which event each counter
//! counts, which counters run, and the firmware counters' values.
//!
//! Counters, as the capsule numbers them:
//! - 0: `cycle` (CSR 0xC00), a hardware counter that counts CPU cycles;
//! - 1: `time` (CSR 0xC01) is not a counter: every call naming it fails;
//! - 2: `instret` (CSR 0xC02), a hardware counter that counts instructions;
//! - 3..19: firmware counters, for the SBI calls this crate counts.
//!
//! The `hpmcounter`s are not offered: what they count is platform-specific
//! and needs `mhpmevent` programming we do not do. The capsule reads the
//! two hardware counters itself, through their CSRs; this state decides
//! only whether they run (and what they are set to), which the hypervisor
//! carries out on the vcore's hart (see [`HwOp`]). Nothing here is shared
//! between vcores, so a capsule can neither read nor program another's
//! counts.

use sbi_spec::binary::SbiRet;
use sbi_spec::pmu::{event_type, firmware_event, hardware_event};

/// Counter 0: the cycle CSR.
pub const CYCLE: usize = 0;
/// Index 1 is the time CSR, which is no counter.
pub const TIME: usize = 1;
/// Counter 2: the instret CSR.
pub const INSTRET: usize = 2;
/// The first firmware counter.
pub const FIRST_FW: usize = 3;
/// How many firmware counters each vcore has.
pub const FW_COUNTERS: usize = 16;
/// What `num_counters` answers (index 1, time, included but invalid).
pub const NUM_COUNTERS: usize = FIRST_FW + FW_COUNTERS;

/// The firmware events this crate counts: calls the capsule makes.
pub const COUNTED_FW_EVENTS: [usize; 5] = [
    firmware_event::SET_TIMER,
    firmware_event::IPI_SENT,
    firmware_event::FENCE_I_SENT,
    firmware_event::SFENCE_VMA_SENT,
    firmware_event::SFENCE_VMA_ASID_SENT,
];

const HW: u32 = (1 << CYCLE) | (1 << INSTRET);
const FW: u32 = ((1 << FW_COUNTERS) - 1) << FIRST_FW;

// Flags (SBI v2.0 tables 37, 39 and 41; v3.0 makes undefined bits an
// invalid parameter).
const CFG_SKIP_MATCH: usize = 1 << 0;
const CFG_CLEAR_VALUE: usize = 1 << 1;
const CFG_AUTO_START: usize = 1 << 2;
/// SKIP_MATCH..SET_MINH: the filtering bits (3..7) are accepted and
/// ignored: counting by privilege mode needs Sscofpmf/Smcntrpmf.
const CFG_DEFINED: usize = 0xff;
const START_INIT_VALUE: usize = 1 << 0;
const START_INIT_SNAPSHOT: usize = 1 << 1;
const STOP_RESET: usize = 1 << 0;
const STOP_TAKE_SNAPSHOT: usize = 1 << 1;

/// Something the hypervisor must do to a hardware counter on the calling
/// vcore's hart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HwOp {
    /// Set counter `idx` (CYCLE or INSTRET) to `value`.
    Write { idx: usize, value: u64 },
    /// Let counter `idx` count (`run`) or hold its value.
    Run { idx: usize, run: bool },
}

/// Up to four hardware operations one call asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HwOps {
    ops: [Option<HwOp>; 4],
}

impl HwOps {
    fn push(&mut self, op: HwOp) {
        if let Some(slot) = self.ops.iter_mut().find(|o| o.is_none()) {
            *slot = Some(op);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = HwOp> + '_ {
        self.ops.iter().flatten().copied()
    }
}

/// One vcore's PMU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pmu {
    /// The event index each counter is configured for.
    event: [Option<usize>; NUM_COUNTERS],
    /// Counters that run (bit per index). The hardware counters run from
    /// reset, as on a hart whose kernel has no PMU driver.
    running: u32,
    fw: [u64; FW_COUNTERS],
}

impl Default for Pmu {
    fn default() -> Self {
        Self::new()
    }
}

impl Pmu {
    pub const fn new() -> Pmu {
        Pmu { event: [None; NUM_COUNTERS], running: HW, fw: [0; FW_COUNTERS] }
    }

    /// True if the hardware counters are as [`Pmu::new`] leaves them
    /// (both running).
    pub fn hardware_at_reset(&self) -> bool {
        self.running & HW == HW
    }

    /// One occurrence of firmware event `code`, `n` times: every running
    /// firmware counter configured for it counts.
    /// On the path of every timer, IPI and fence call: it visits only the
    /// running firmware counters, usually none.
    pub fn count(&mut self, code: usize, n: usize) {
        let event = (event_type::FIRMWARE << 16) | code;
        let mut running = (self.running >> FIRST_FW) & ((1 << FW_COUNTERS) - 1);
        while running != 0 {
            let i = running.trailing_zeros() as usize;
            running &= running - 1;
            if self.event[FIRST_FW + i] == Some(event) {
                self.fw[i] = self.fw[i].wrapping_add(n as u64);
            }
        }
    }

    /// The counters `base`/`mask` name, which must all exist.
    /// `counter_start`/`counter_stop`'s checks before [`Pmu::set`]: `flags`
    /// may hold only `known` and `snapshot`, and a snapshot (which needs
    /// shared memory, not offered) is NO_SHMEM.
    fn flagged_set(base: usize, mask: usize, flags: usize, known: usize, snapshot: usize) -> Result<u32, SbiRet> {
        if flags & !(known | snapshot) != 0 {
            return Err(SbiRet::invalid_param());
        }
        if flags & snapshot != 0 {
            return Err(SbiRet::no_shmem());
        }
        Pmu::set(base, mask)
    }

    fn set(base: usize, mask: usize) -> Result<u32, SbiRet> {
        if mask == 0 {
            return Err(SbiRet::invalid_param());
        }
        let mut set = 0u32;
        for bit in 0..usize::BITS as usize {
            if mask & (1 << bit) == 0 {
                continue;
            }
            let idx = base.checked_add(bit).ok_or(SbiRet::invalid_param())?;
            if idx >= NUM_COUNTERS || idx == TIME {
                return Err(SbiRet::invalid_param());
            }
            set |= 1 << idx;
        }
        Ok(set)
    }

    /// The counters able to count `event_idx` (type in bits 19:16, code
    /// in 15:0).
    fn able(event_idx: usize) -> u32 {
        let (kind, code) = (event_idx >> 16, event_idx & 0xffff);
        match kind {
            event_type::HARDWARE_GENERAL if code == hardware_event::CPU_CYCLES => 1 << CYCLE,
            event_type::HARDWARE_GENERAL if code == hardware_event::INSTRUCTIONS => 1 << INSTRET,
            event_type::FIRMWARE if COUNTED_FW_EVENTS.contains(&code) => FW,
            _ => 0,
        }
    }

    /// SBI `num_counters`.
    pub fn num_counters(&self) -> SbiRet {
        SbiRet::success(NUM_COUNTERS)
    }

    /// SBI `counter_get_info`: CSR number in bits 11:0, width - 1 in
    /// 17:12, firmware counters with the top bit set.
    pub fn info(&self, idx: usize) -> SbiRet {
        const WIDTH_64: usize = 63 << 12;
        match idx {
            CYCLE | INSTRET => SbiRet::success((0xc00 + idx) | WIDTH_64),
            i if (FIRST_FW..NUM_COUNTERS).contains(&i) => SbiRet::success((1 << (usize::BITS - 1)) | WIDTH_64),
            _ => SbiRet::invalid_param(),
        }
    }

    /// SBI `counter_config_matching`.
    pub fn config(&mut self, base: usize, mask: usize, flags: usize, event_idx: usize) -> (SbiRet, HwOps) {
        let mut ops = HwOps::default();
        if flags & !CFG_DEFINED != 0 {
            return (SbiRet::invalid_param(), ops);
        }
        let set = match Pmu::set(base, mask) {
            Ok(s) => s,
            Err(e) => return (e, ops),
        };
        let able = set & Pmu::able(event_idx);
        let candidates = if flags & CFG_SKIP_MATCH != 0 {
            // The caller names its counter: the first of the set.
            able & (1 << set.trailing_zeros())
        } else {
            let used = (0..NUM_COUNTERS).filter(|&i| self.event[i].is_some()).fold(0u32, |m, i| m | 1 << i);
            able & !used
        };
        if candidates == 0 {
            return (SbiRet::not_supported(), ops);
        }
        let idx = candidates.trailing_zeros() as usize;
        self.event[idx] = Some(event_idx);
        if flags & CFG_CLEAR_VALUE != 0 {
            self.write(idx, 0, &mut ops);
        }
        if flags & CFG_AUTO_START != 0 && self.running & (1 << idx) == 0 {
            self.run(idx, true, &mut ops);
        }
        (SbiRet::success(idx), ops)
    }

    /// SBI `counter_start`.
    pub fn start(&mut self, base: usize, mask: usize, flags: usize, value: u64) -> (SbiRet, HwOps) {
        let mut ops = HwOps::default();
        let set = match Pmu::flagged_set(base, mask, flags, START_INIT_VALUE, START_INIT_SNAPSHOT) {
            Ok(s) => s,
            Err(e) => return (e, ops),
        };
        // A firmware counter counts only once configured for an event.
        if (0..NUM_COUNTERS).any(|i| set & FW & (1 << i) != 0 && self.event[i].is_none()) {
            return (SbiRet::invalid_param(), ops);
        }
        let mut already = false;
        for idx in (0..NUM_COUNTERS).filter(|i| set & (1 << i) != 0) {
            if self.running & (1 << idx) != 0 {
                already = true;
                continue;
            }
            if flags & START_INIT_VALUE != 0 {
                self.write(idx, value, &mut ops);
            }
            self.run(idx, true, &mut ops);
        }
        (if already { SbiRet::already_started() } else { SbiRet::success(0) }, ops)
    }

    /// SBI `counter_stop`.
    pub fn stop(&mut self, base: usize, mask: usize, flags: usize) -> (SbiRet, HwOps) {
        let mut ops = HwOps::default();
        let set = match Pmu::flagged_set(base, mask, flags, STOP_RESET, STOP_TAKE_SNAPSHOT) {
            Ok(s) => s,
            Err(e) => return (e, ops),
        };
        let mut already = false;
        for idx in (0..NUM_COUNTERS).filter(|i| set & (1 << i) != 0) {
            if self.running & (1 << idx) != 0 {
                self.run(idx, false, &mut ops);
            } else {
                already = true;
            }
            if flags & STOP_RESET != 0 {
                self.event[idx] = None;
            }
        }
        (if already { SbiRet::already_stopped() } else { SbiRet::success(0) }, ops)
    }

    /// SBI `counter_fw_read` (`high`: `counter_fw_read_hi`).
    pub fn fw_read(&self, idx: usize, high: bool) -> SbiRet {
        if !(FIRST_FW..NUM_COUNTERS).contains(&idx) {
            return SbiRet::invalid_param();
        }
        let v = self.fw[idx - FIRST_FW];
        if !high {
            SbiRet::success(v as usize)
        } else if usize::BITS == 32 {
            SbiRet::success((v >> 32) as usize)
        } else {
            SbiRet::success(0)
        }
    }

    fn write(&mut self, idx: usize, value: u64, ops: &mut HwOps) {
        if idx >= FIRST_FW {
            self.fw[idx - FIRST_FW] = value;
        } else {
            ops.push(HwOp::Write { idx, value });
        }
    }

    fn run(&mut self, idx: usize, run: bool, ops: &mut HwOps) {
        if run {
            self.running |= 1 << idx;
        } else {
            self.running &= !(1 << idx);
        }
        if idx < FIRST_FW {
            ops.push(HwOp::Run { idx, run });
        }
    }
}
