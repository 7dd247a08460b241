//! Decoding and dispatching one SBI call.

use sbi_spec::binary::SbiRet;
use sbi_spec::pmu::firmware_event as fw;
use sbi_spec::{base, dbcn, fwft, hsm, legacy, pmu, rfnc, spi, srst, sta, susp, time};

use crate::HartSet;
use crate::fwft::Fwft;
use crate::pmu::{HwOp, HwOps, Pmu};
use crate::sta::Sta;

/// One `ecall`: extension in a7, function in a6, arguments in a0..a5.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call {
    pub eid: usize,
    pub fid: usize,
    pub args: [usize; 6],
}

/// A fence to run on another hart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fence {
    I,
    /// `sfence.vma` over `start..start+size` (`size == usize::MAX` or 0: all),
    /// for one address space or all.
    Vma { start: usize, size: usize, asid: Option<usize> },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetKind {
    Shutdown,
    ColdReboot,
    WarmReboot,
}

/// How a vcore suspends; it waits until an interrupt it has enabled in
/// `sie` is pending, then resumes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suspend {
    /// HSM retentive suspend: the call returns success.
    Retentive,
    /// HSM non-retentive suspend: the vcore resumes in S-mode at `addr`
    /// with a0 = its hart id, a1 = `opaque`, satp = 0 and sstatus.SIE = 0,
    /// as after `hart_start`.
    NonRetentive { addr: usize, opaque: usize },
    /// SUSP suspend to RAM (every other vcore of the capsule is stopped):
    /// resumes as a non-retentive suspend does.
    System { addr: usize, opaque: usize },
}

/// SBI extension state kept per vcore; nothing in it is shared with
/// another vcore or capsule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VcoreState {
    pub pmu: Pmu,
    pub fwft: Fwft,
    pub sta: Sta,
}

impl VcoreState {
    /// The state of a vcore just started (its "hart reset").
    pub const fn new() -> VcoreState {
        VcoreState { pmu: Pmu::new(), fwft: Fwft::new(), sta: Sta::new() }
    }
}

/// What the hypervisor must do after the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Resume the caller with `error` in a0 and `value` in a1.
    Return(SbiRet),
    /// Resume the caller with this in a0 only (legacy calls).
    ReturnLegacy(usize),
    /// The calling hart stops (HSM `hart_stop`).
    StopHart,
    /// The calling hart suspends (HSM `hart_suspend`, SUSP).
    Suspend(Suspend),
    /// The capsule asked to be shut down or rebooted.
    Reset { kind: ResetKind, reason: u32 },
}

/// What the hypervisor provides to carry out calls for one capsule.
pub trait Host {
    /// The capsule's harts (vcore ids as the capsule sees them).
    fn harts(&self) -> HartSet;
    /// Program the calling hart's timer: an S timer interrupt at `deadline`.
    fn set_timer(&mut self, deadline: u64);
    /// Make an S software interrupt pending on `hart`.
    fn send_ipi(&mut self, hart: usize);
    /// Clear the calling hart's pending S software interrupt (legacy).
    fn clear_ipi(&mut self);
    /// Run `fence` on every hart of `harts` (the caller's included) before
    /// returning; given all at once, so the harts can fence in parallel.
    fn remote_fence(&mut self, harts: HartSet, fence: Fence);
    /// Start a stopped `hart` at `addr` in S-mode with a1 = `opaque`.
    fn hart_start(&mut self, hart: usize, addr: usize, opaque: usize) -> SbiRet;
    /// One of sbi_spec::hsm::hart_state.
    fn hart_status(&self, hart: usize) -> usize;
    /// The calling vcore's id.
    fn this_hart(&self) -> usize;
    /// Runs `f` on the calling vcore's own SBI state.
    fn vcore_state<R>(&mut self, f: impl FnOnce(&mut VcoreState) -> R) -> R;
    /// Carries out `op` on the calling vcore's hardware counter.
    fn counter_op(&mut self, op: HwOp);
    fn console_write(&mut self, bytes: &[u8]);
    /// Bytes of console input available now, at most `buf.len()`.
    fn console_read(&mut self, buf: &mut [u8]) -> usize;
    /// True if `addr..addr+len` lies wholly inside the capsule's memory.
    fn owns(&self, addr: u64, len: u64) -> bool;
    /// Copies the capsule's memory at `addr` into `buf`; false (and
    /// nothing read) if any of it lies outside the capsule. Copies, rather
    /// than a reference, because the capsule's other vcores may be
    /// writing the same bytes meanwhile.
    fn read_guest(&mut self, addr: u64, buf: &mut [u8]) -> bool;
    /// Copies `data` into the capsule's memory at `addr`; false (and
    /// nothing written) if any of it lies outside the capsule.
    fn write_guest(&mut self, addr: u64, data: &[u8]) -> bool;
    /// mvendorid, marchid, mimpid as the capsule should see them.
    fn machine_ids(&self) -> [usize; 3];
    /// This hypervisor's version, encoded as SBI's impl version.
    fn impl_version(&self) -> usize;
}

const EXTENSIONS: [usize; 11] = [
    base::EID_BASE,
    time::EID_TIME,
    spi::EID_SPI,
    rfnc::EID_RFNC,
    hsm::EID_HSM,
    srst::EID_SRST,
    dbcn::EID_DBCN,
    pmu::EID_PMU,
    susp::EID_SUSP,
    sta::EID_STA,
    fwft::EID_FWFT,
];

fn ok(value: usize) -> Action {
    Action::Return(SbiRet::success(value))
}

fn err(ret: SbiRet) -> Action {
    Action::Return(ret)
}

/// A 64-bit value passed in one register (rv64) or two (rv32: lo, hi).
fn wide(lo: usize, hi: usize) -> u64 {
    if usize::BITS == 32 { (lo as u64) | ((hi as u64) << 32) } else { lo as u64 }
}

/// A physical address given as lo/hi halves; `None` if it needs more
/// than 64 bits.
pub(crate) fn phys(lo: usize, hi: usize) -> Option<u64> {
    if usize::BITS == 32 { Some(wide(lo, hi)) } else { (hi == 0).then_some(lo as u64) }
}

/// Firmware event `code` happened `n` times on the calling vcore.
fn count<H: Host>(host: &mut H, code: usize, n: usize) {
    if n != 0 {
        host.vcore_state(|s| s.pmu.count(code, n));
    }
}

pub fn dispatch<H: Host>(host: &mut H, call: Call) -> Action {
    let a = call.args;
    match call.eid {
        base::EID_BASE => base_call(host, call.fid, a[0]),
        time::EID_TIME if call.fid == time::SET_TIMER => {
            host.set_timer(wide(a[0], a[1]));
            count(host, fw::SET_TIMER, 1);
            ok(0)
        }
        spi::EID_SPI if call.fid == spi::SEND_IPI => match HartSet::from_mask(a[0], a[1], host.harts()) {
            Ok(set) => {
                set.iter().for_each(|h| host.send_ipi(h));
                count(host, fw::IPI_SENT, set.len());
                ok(0)
            }
            Err(e) => err(e),
        },
        rfnc::EID_RFNC => fence_call(host, call.fid, a),
        hsm::EID_HSM => hsm_call(host, call.fid, a),
        srst::EID_SRST if call.fid == srst::SYSTEM_RESET => reset_call(a[0], a[1]),
        dbcn::EID_DBCN => console_call(host, call.fid, a),
        pmu::EID_PMU => pmu_call(host, call.fid, a),
        susp::EID_SUSP if call.fid == susp::SUSPEND => system_suspend(host, a),
        sta::EID_STA => Action::Return(crate::sta::call(host, call.fid, a[0], a[1], a[2])),
        fwft::EID_FWFT => Action::Return(host.vcore_state(|s| s.fwft.call(call.fid, a[0], a[1], a[2]))),
        legacy::LEGACY_SET_TIMER..=legacy::LEGACY_SHUTDOWN => legacy_call(host, call.eid, a),
        _ => err(SbiRet::not_supported()),
    }
}

fn base_call<H: Host>(host: &mut H, fid: usize, arg: usize) -> Action {
    match fid {
        base::GET_SBI_SPEC_VERSION => ok(crate::SPEC_VERSION),
        base::GET_SBI_IMPL_ID => ok(base::impl_id::DIOSIX),
        base::GET_SBI_IMPL_VERSION => ok(host.impl_version()),
        base::PROBE_EXTENSION => {
            let known = EXTENSIONS.contains(&arg)
                || (legacy::LEGACY_SET_TIMER..=legacy::LEGACY_SHUTDOWN).contains(&arg);
            ok(known as usize)
        }
        base::GET_MVENDORID => ok(host.machine_ids()[0]),
        base::GET_MARCHID => ok(host.machine_ids()[1]),
        base::GET_MIMPID => ok(host.machine_ids()[2]),
        _ => err(SbiRet::not_supported()),
    }
}

fn fence_call<H: Host>(host: &mut H, fid: usize, a: [usize; 6]) -> Action {
    let fence = match fid {
        rfnc::REMOTE_FENCE_I => Fence::I,
        rfnc::REMOTE_SFENCE_VMA => Fence::Vma { start: a[2], size: a[3], asid: None },
        rfnc::REMOTE_SFENCE_VMA_ASID => Fence::Vma { start: a[2], size: a[3], asid: Some(a[4]) },
        _ => return err(SbiRet::not_supported()),
    };
    match HartSet::from_mask(a[0], a[1], host.harts()) {
        Ok(set) => {
            host.remote_fence(set, fence);
            count(host, fence_event(fence), set.len());
            ok(0)
        }
        Err(e) => err(e),
    }
}

fn fence_event(fence: Fence) -> usize {
    match fence {
        Fence::I => fw::FENCE_I_SENT,
        Fence::Vma { asid: None, .. } => fw::SFENCE_VMA_SENT,
        Fence::Vma { asid: Some(_), .. } => fw::SFENCE_VMA_ASID_SENT,
    }
}

fn hsm_call<H: Host>(host: &mut H, fid: usize, a: [usize; 6]) -> Action {
    match fid {
        hsm::HART_START => {
            if !host.harts().contains(a[0]) {
                return err(SbiRet::invalid_param());
            }
            if !host.owns(a[1] as u64, 4) {
                return err(SbiRet::invalid_address());
            }
            Action::Return(host.hart_start(a[0], a[1], a[2]))
        }
        hsm::HART_STOP => Action::StopHart,
        hsm::HART_GET_STATUS => {
            if host.harts().contains(a[0]) { ok(host.hart_status(a[0])) } else { err(SbiRet::invalid_param()) }
        }
        // suspend_type is 32 bits wide: the register's upper half is ignored.
        hsm::HART_SUSPEND => match a[0] as u32 {
            hsm::suspend_type::RETENTIVE => Action::Suspend(Suspend::Retentive),
            hsm::suspend_type::NON_RETENTIVE => {
                if !host.owns(a[1] as u64, 4) {
                    return err(SbiRet::invalid_address());
                }
                Action::Suspend(Suspend::NonRetentive { addr: a[1], opaque: a[2] })
            }
            // Reserved types, and platform-specific ones (none implemented).
            _ => err(SbiRet::invalid_param()),
        },
        _ => err(SbiRet::not_supported()),
    }
}

/// SUSP `system_suspend`: suspend to RAM (sleep type 0) only, once every
/// other vcore of the capsule has stopped.
fn system_suspend<H: Host>(host: &mut H, a: [usize; 6]) -> Action {
    const SUSPEND_TO_RAM: u32 = 0;
    // sleep_type is 32 bits wide; every other type is reserved or
    // platform-specific, and none of those is implemented.
    if a[0] as u32 != SUSPEND_TO_RAM {
        return err(SbiRet::invalid_param());
    }
    if !host.owns(a[1] as u64, 4) {
        return err(SbiRet::invalid_address());
    }
    let me = host.this_hart();
    let others_stopped = host
        .harts()
        .iter()
        .filter(|&h| h != me)
        .all(|h| host.hart_status(h) == hsm::hart_state::STOPPED);
    if !others_stopped {
        return err(SbiRet::denied());
    }
    Action::Suspend(Suspend::System { addr: a[1], opaque: a[2] })
}

fn pmu_call<H: Host>(host: &mut H, fid: usize, a: [usize; 6]) -> Action {
    let (ret, ops): (SbiRet, HwOps) = host.vcore_state(|s| match fid {
        pmu::NUM_COUNTERS => (s.pmu.num_counters(), HwOps::default()),
        pmu::COUNTER_GET_INFO => (s.pmu.info(a[0]), HwOps::default()),
        // event_data (a4, a5) matters only for raw events, not offered.
        pmu::COUNTER_CONFIG_MATCHING => s.pmu.config(a[0], a[1], a[2], a[3]),
        pmu::COUNTER_START => s.pmu.start(a[0], a[1], a[2], wide(a[3], a[4])),
        pmu::COUNTER_STOP => s.pmu.stop(a[0], a[1], a[2]),
        pmu::COUNTER_FW_READ => (s.pmu.fw_read(a[0], false), HwOps::default()),
        pmu::COUNTER_FW_READ_HI => (s.pmu.fw_read(a[0], true), HwOps::default()),
        // No snapshot shared memory; event_get_info is SBI v3.0.
        _ => (SbiRet::not_supported(), HwOps::default()),
    });
    ops.iter().for_each(|op| host.counter_op(op));
    err(ret)
}

fn reset_call(kind: usize, reason: usize) -> Action {
    let kind = match kind as u32 {
        srst::RESET_TYPE_SHUTDOWN => ResetKind::Shutdown,
        srst::RESET_TYPE_COLD_REBOOT => ResetKind::ColdReboot,
        srst::RESET_TYPE_WARM_REBOOT => ResetKind::WarmReboot,
        _ => return err(SbiRet::invalid_param()),
    };
    let reason = reason as u32;
    let known = reason == srst::RESET_REASON_NO_REASON
        || reason == srst::RESET_REASON_SYSTEM_FAILURE
        || reason >= 0xE000_0000;
    if !known {
        return err(SbiRet::invalid_param());
    }
    Action::Reset { kind, reason }
}

fn console_call<H: Host>(host: &mut H, fid: usize, a: [usize; 6]) -> Action {
    match fid {
        dbcn::CONSOLE_WRITE | dbcn::CONSOLE_READ => {
            let Some(addr) = phys(a[1], a[2]) else {
                return err(SbiRet::invalid_param());
            };
            // The whole buffer the caller names must be its own, even
            // though at most `buf.len()` bytes move per call.
            if !host.owns(addr, a[0] as u64) {
                return err(SbiRet::invalid_param());
            }
            let mut buf = [0u8; 256];
            let len = a[0].min(buf.len());
            if fid == dbcn::CONSOLE_WRITE {
                if !host.read_guest(addr, &mut buf[..len]) {
                    return err(SbiRet::invalid_param());
                }
                host.console_write(&buf[..len]);
                ok(len)
            } else {
                let n = host.console_read(&mut buf[..len]);
                if !host.write_guest(addr, &buf[..n]) {
                    return err(SbiRet::invalid_param());
                }
                ok(n)
            }
        }
        dbcn::CONSOLE_WRITE_BYTE => {
            host.console_write(&[a[0] as u8]);
            ok(0)
        }
        _ => err(SbiRet::not_supported()),
    }
}

/// Reads the `unsigned long` hart mask a legacy call passes by address.
/// The address is taken as physical: v0.1 callers with their MMU on pass a
/// virtual one, which fails the ownership check (Linux uses the v0.2+
/// extensions, which pass masks by value).
fn legacy_mask<H: Host>(host: &mut H, addr: usize) -> Option<HartSet> {
    if addr == 0 {
        return Some(host.harts());
    }
    let mut word = [0u8; size_of::<usize>()];
    if !host.read_guest(addr as u64, &mut word) {
        return None;
    }
    HartSet::from_mask(usize::from_le_bytes(word), 0, host.harts()).ok()
}

fn legacy_call<H: Host>(host: &mut H, eid: usize, a: [usize; 6]) -> Action {
    const FAILED: usize = usize::MAX - 1; // SBI_ERR_NOT_SUPPORTED, -2
    match eid {
        legacy::LEGACY_SET_TIMER => {
            host.set_timer(wide(a[0], a[1]));
            count(host, fw::SET_TIMER, 1);
            Action::ReturnLegacy(0)
        }
        legacy::LEGACY_CONSOLE_PUTCHAR => {
            host.console_write(&[a[0] as u8]);
            Action::ReturnLegacy(0)
        }
        legacy::LEGACY_CONSOLE_GETCHAR => {
            let mut b = [0u8];
            let n = host.console_read(&mut b);
            Action::ReturnLegacy(if n == 1 { b[0] as usize } else { usize::MAX })
        }
        legacy::LEGACY_CLEAR_IPI => {
            host.clear_ipi();
            Action::ReturnLegacy(0)
        }
        legacy::LEGACY_SEND_IPI => match legacy_mask(host, a[0]) {
            Some(set) => {
                set.iter().for_each(|h| host.send_ipi(h));
                count(host, fw::IPI_SENT, set.len());
                Action::ReturnLegacy(0)
            }
            None => Action::ReturnLegacy(FAILED),
        },
        legacy::LEGACY_REMOTE_FENCE_I
        | legacy::LEGACY_REMOTE_SFENCE_VMA
        | legacy::LEGACY_REMOTE_SFENCE_VMA_ASID => {
            let fence = match eid {
                legacy::LEGACY_REMOTE_FENCE_I => Fence::I,
                legacy::LEGACY_REMOTE_SFENCE_VMA => Fence::Vma { start: a[1], size: a[2], asid: None },
                _ => Fence::Vma { start: a[1], size: a[2], asid: Some(a[3]) },
            };
            match legacy_mask(host, a[0]) {
                Some(set) => {
                    host.remote_fence(set, fence);
                    count(host, fence_event(fence), set.len());
                    Action::ReturnLegacy(0)
                }
                None => Action::ReturnLegacy(FAILED),
            }
        }
        _ => Action::Reset { kind: ResetKind::Shutdown, reason: srst::RESET_REASON_NO_REASON },
    }
}
