//! Every SBI call diosix offers, and hostile variants of them, against a
//! recording fake of the hypervisor.

use sbi::pmu::HwOp;
use sbi::{Action, Call, Fence, HartSet, Host, ResetKind, SbiRet, Suspend, VcoreState, dispatch};

const BASE: usize = 0x10;
const TIME: usize = 0x5449_4D45;
const IPI: usize = 0x0073_5049;
const RFNC: usize = 0x5246_4E43;
const HSM: usize = 0x0048_534D;
const SRST: usize = 0x5352_5354;
const DBCN: usize = 0x4442_434E;
const PMU: usize = 0x0050_4D55;
const SUSP: usize = 0x5355_5350;
const FWFT: usize = 0x4657_4654;
const STA: usize = 0x0053_5441;

const RAM_BASE: u64 = 0x8020_0000;

#[derive(Default)]
struct Fake {
    timer: Option<u64>,
    ipis: Vec<usize>,
    cleared: usize,
    fences: Vec<(usize, Fence)>,
    started: Vec<(usize, usize, usize)>,
    out: Vec<u8>,
    state: VcoreState,
    counter_ops: Vec<HwOp>,
    input: Vec<u8>,
    ram: Vec<u8>,
    /// Every guest write made: (address, bytes).
    writes: Vec<(u64, Vec<u8>)>,
}

impl Fake {
    fn new() -> Fake {
        Fake { ram: vec![0; 0x1000], ..Default::default() }
    }
}

impl Host for Fake {
    fn harts(&self) -> HartSet {
        HartSet::from_ids(&[0, 1, 2])
    }
    fn set_timer(&mut self, deadline: u64) {
        self.timer = Some(deadline);
    }
    fn send_ipi(&mut self, hart: usize) {
        self.ipis.push(hart);
    }
    fn clear_ipi(&mut self) {
        self.cleared += 1;
    }
    fn remote_fence(&mut self, harts: HartSet, fence: Fence) {
        self.fences.extend(harts.iter().map(|h| (h, fence)));
    }
    fn hart_start(&mut self, hart: usize, addr: usize, opaque: usize) -> SbiRet {
        if self.started.iter().any(|s| s.0 == hart) {
            return SbiRet::already_available();
        }
        self.started.push((hart, addr, opaque));
        SbiRet::success(0)
    }
    fn hart_status(&self, hart: usize) -> usize {
        if hart == 0 || self.started.iter().any(|s| s.0 == hart) { 0 } else { 1 }
    }
    fn this_hart(&self) -> usize {
        0
    }
    fn vcore_state<R>(&mut self, f: impl FnOnce(&mut VcoreState) -> R) -> R {
        f(&mut self.state)
    }
    fn counter_op(&mut self, op: HwOp) {
        self.counter_ops.push(op);
    }
    fn console_write(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }
    fn console_read(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.input.len());
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input.drain(..n);
        n
    }
    fn owns(&self, addr: u64, len: u64) -> bool {
        addr.checked_sub(RAM_BASE)
            .and_then(|off| off.checked_add(len))
            .is_some_and(|end| end <= self.ram.len() as u64)
    }
    fn read_guest(&mut self, addr: u64, buf: &mut [u8]) -> bool {
        if !self.owns(addr, buf.len() as u64) {
            return false;
        }
        let off = (addr - RAM_BASE) as usize;
        buf.copy_from_slice(&self.ram[off..off + buf.len()]);
        true
    }
    fn write_guest(&mut self, addr: u64, data: &[u8]) -> bool {
        if !self.owns(addr, data.len() as u64) {
            return false;
        }
        let off = (addr - RAM_BASE) as usize;
        self.ram[off..off + data.len()].copy_from_slice(data);
        self.writes.push((addr, data.to_vec()));
        true
    }
    fn machine_ids(&self) -> [usize; 3] {
        [0x11, 0x22, 0x33]
    }
    fn impl_version(&self) -> usize {
        0x0001_0000
    }
}

fn call(h: &mut Fake, eid: usize, fid: usize, args: &[usize]) -> Action {
    let mut a = [0usize; 6];
    a[..args.len()].copy_from_slice(args);
    dispatch(h, Call { eid, fid, args: a })
}

fn ret(value: usize) -> Action {
    Action::Return(SbiRet::success(value))
}

#[test]
fn base_identifies_diosix_and_probes_extensions() {
    let h = &mut Fake::new();
    assert_eq!(call(h, BASE, 0, &[]), ret(0x0200_0000), "spec version 2.0");
    assert_eq!(call(h, BASE, 1, &[]), ret(5), "implementation ID 5 is Diosix");
    assert_eq!(call(h, BASE, 2, &[]), ret(0x0001_0000));
    for ext in [BASE, TIME, IPI, RFNC, HSM, SRST, DBCN, PMU, SUSP, FWFT, STA, 0x00, 0x01, 0x02, 0x08] {
        assert_eq!(call(h, BASE, 3, &[ext]), ret(1), "extension {ext:#x} must be present");
    }
    for ext in [0x09, 0x4E41_434C, 0x4350_5043, 0x0053_5345, usize::MAX] {
        assert_eq!(call(h, BASE, 3, &[ext]), ret(0), "extension {ext:#x} must be absent");
    }
    assert_eq!(call(h, BASE, 4, &[]), ret(0x11));
    assert_eq!(call(h, BASE, 5, &[]), ret(0x22));
    assert_eq!(call(h, BASE, 6, &[]), ret(0x33));
    assert_eq!(call(h, BASE, 7, &[]), Action::Return(SbiRet::not_supported()));
}

#[test]
fn unknown_extensions_and_functions_are_not_supported() {
    let h = &mut Fake::new();
    for (eid, fid) in [
        (0x0A00_0000, 0),
        (TIME, 1),
        (IPI, 1),
        (SRST, 1),
        (DBCN, 3),
        (HSM, 4),
        (RFNC, 3),
        (RFNC, 6),
        (PMU, 7),
        (PMU, 8),
        (PMU, 9),
        (SUSP, 1),
        (FWFT, 2),
        (FWFT, usize::MAX),
        (STA, 1),
        (STA, usize::MAX),
    ] {
        assert_eq!(call(h, eid, fid, &[]), Action::Return(SbiRet::not_supported()), "{eid:#x}/{fid}");
    }
}

#[test]
fn timer_and_ipis() {
    let h = &mut Fake::new();
    assert_eq!(call(h, TIME, 0, &[123_456, 0]), ret(0));
    assert_eq!(h.timer, Some(123_456));
    assert_eq!(call(h, IPI, 0, &[0b110, 0]), ret(0));
    assert_eq!(h.ipis, [1, 2]);
    assert_eq!(call(h, IPI, 0, &[0, usize::MAX]), ret(0));
    assert_eq!(h.ipis, [1, 2, 0, 1, 2]);
    // A hart the capsule does not have: nothing is sent.
    assert_eq!(call(h, IPI, 0, &[0b1001, 0]), Action::Return(SbiRet::invalid_param()));
    assert_eq!(h.ipis.len(), 5);
}

#[test]
fn remote_fences_reach_every_named_hart() {
    let h = &mut Fake::new();
    assert_eq!(call(h, RFNC, 0, &[0b11, 0]), ret(0));
    assert_eq!(call(h, RFNC, 1, &[0b1, 2, 0x1000, 0x2000]), ret(0));
    assert_eq!(call(h, RFNC, 2, &[0b1, 1, 0, usize::MAX, 7]), ret(0));
    assert_eq!(
        h.fences,
        [
            (0, Fence::I),
            (1, Fence::I),
            (2, Fence::Vma { start: 0x1000, size: 0x2000, asid: None }),
            (1, Fence::Vma { start: 0, size: usize::MAX, asid: Some(7) }),
        ]
    );
    assert_eq!(call(h, RFNC, 0, &[0b1, 3]), Action::Return(SbiRet::invalid_param()));
}

#[test]
fn hart_state_management() {
    let h = &mut Fake::new();
    let entry = RAM_BASE as usize + 0x100;
    assert_eq!(call(h, HSM, 2, &[1]), ret(1), "hart 1 starts stopped");
    assert_eq!(call(h, HSM, 0, &[1, entry, 0xfeed]), ret(0));
    assert_eq!(h.started, [(1, entry, 0xfeed)]);
    assert_eq!(call(h, HSM, 2, &[1]), ret(0));
    assert_eq!(call(h, HSM, 0, &[1, entry, 0]), Action::Return(SbiRet::already_available()));
    assert_eq!(call(h, HSM, 0, &[7, entry, 0]), Action::Return(SbiRet::invalid_param()));
    // Starting a hart outside the capsule's memory is refused.
    assert_eq!(call(h, HSM, 0, &[2, 0x8000_0000, 0]), Action::Return(SbiRet::invalid_address()));
    assert_eq!(call(h, HSM, 2, &[9]), Action::Return(SbiRet::invalid_param()));
    assert_eq!(call(h, HSM, 1, &[]), Action::StopHart);
}

#[test]
fn hart_suspend() {
    let h = &mut Fake::new();
    let resume = RAM_BASE as usize + 0x200;
    assert_eq!(call(h, HSM, 3, &[0]), Action::Suspend(Suspend::Retentive));
    assert_eq!(
        call(h, HSM, 3, &[0x8000_0000, resume, 0xfeed]),
        Action::Suspend(Suspend::NonRetentive { addr: resume, opaque: 0xfeed })
    );
    // A retentive suspend has no resume address to check.
    assert_eq!(call(h, HSM, 3, &[0, 0x8000_0000, 0]), Action::Suspend(Suspend::Retentive));
    // Reserved types, and platform-specific ones (none implemented).
    for t in [1, 5, 0x0fff_ffff, 0x1000_0000, 0x7fff_ffff, 0x8000_0001, 0x8fff_ffff, 0x9000_0000, 0xffff_ffff] {
        assert_eq!(call(h, HSM, 3, &[t, resume, 0]), Action::Return(SbiRet::invalid_param()), "type {t:#x}");
    }
    // Resuming outside the capsule: hypervisor memory, past the end, wrapping.
    for addr in [0x8000_0000, RAM_BASE as usize + 0xffe, usize::MAX - 1, 0] {
        assert_eq!(
            call(h, HSM, 3, &[0x8000_0000, addr, 0]),
            Action::Return(SbiRet::invalid_address()),
            "resume at {addr:#x}"
        );
    }
    if usize::BITS == 64 {
        // suspend_type is 32 bits wide: the register's upper half is ignored.
        assert_eq!(call(h, HSM, 3, &[0x1_0000_0000]), Action::Suspend(Suspend::Retentive));
        assert_eq!(call(h, HSM, 3, &[0x1_0000_0001]), Action::Return(SbiRet::invalid_param()));
    }
}

#[test]
fn system_suspend() {
    let h = &mut Fake::new();
    let resume = RAM_BASE as usize + 0x200;
    assert_eq!(call(h, SUSP, 0, &[0, resume, 7]), Action::Suspend(Suspend::System { addr: resume, opaque: 7 }));
    for t in [1, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff] {
        assert_eq!(call(h, SUSP, 0, &[t, resume, 0]), Action::Return(SbiRet::invalid_param()), "type {t:#x}");
    }
    for addr in [0x8000_0000, RAM_BASE as usize + 0x1000, usize::MAX] {
        assert_eq!(call(h, SUSP, 0, &[0, addr, 0]), Action::Return(SbiRet::invalid_address()), "{addr:#x}");
    }
    // Another vcore running (or about to): denied.
    assert_eq!(call(h, HSM, 0, &[2, resume, 0]), ret(0));
    assert_eq!(call(h, SUSP, 0, &[0, resume, 0]), Action::Return(SbiRet::denied()));
    // A bad type or address is reported before the other vcores are looked at.
    assert_eq!(call(h, SUSP, 0, &[1, resume, 0]), Action::Return(SbiRet::invalid_param()));
    assert_eq!(call(h, SUSP, 0, &[0, 0x8000_0000, 0]), Action::Return(SbiRet::invalid_address()));
}

#[test]
fn system_reset() {
    let h = &mut Fake::new();
    assert_eq!(call(h, SRST, 0, &[0, 0]), Action::Reset { kind: ResetKind::Shutdown, reason: 0 });
    assert_eq!(call(h, SRST, 0, &[1, 1]), Action::Reset { kind: ResetKind::ColdReboot, reason: 1 });
    assert_eq!(call(h, SRST, 0, &[2, 0]), Action::Reset { kind: ResetKind::WarmReboot, reason: 0 });
    assert_eq!(call(h, SRST, 0, &[3, 0]), Action::Return(SbiRet::invalid_param()));
    assert_eq!(call(h, SRST, 0, &[0, 2]), Action::Return(SbiRet::invalid_param()));
}

#[test]
fn debug_console_reads_and_writes_guest_memory() {
    let h = &mut Fake::new();
    h.ram[0x10..0x15].copy_from_slice(b"hello");
    let addr = RAM_BASE as usize + 0x10;
    assert_eq!(call(h, DBCN, 0, &[5, addr, 0]), ret(5));
    assert_eq!(call(h, DBCN, 2, &[b'!' as usize]), ret(0));
    assert_eq!(h.out, b"hello!");
    h.input = b"ls\r".to_vec();
    let buf = RAM_BASE as usize + 0x100;
    assert_eq!(call(h, DBCN, 1, &[16, buf, 0]), ret(3));
    assert_eq!(&h.ram[0x100..0x103], b"ls\r");
    assert_eq!(call(h, DBCN, 1, &[16, buf, 0]), ret(0), "nothing more to read");
}

#[test]
fn debug_console_refuses_memory_outside_the_capsule() {
    let h = &mut Fake::new();
    let outside = [
        (4, 0x8000_0000usize),                      // hypervisor memory
        (0x2000, RAM_BASE as usize),                // runs past the end
        (usize::MAX, RAM_BASE as usize),            // absurd length
        (1, usize::MAX),                            // wraps
    ];
    for (len, addr) in outside {
        assert_eq!(call(h, DBCN, 0, &[len, addr, 0]), Action::Return(SbiRet::invalid_param()));
        assert_eq!(call(h, DBCN, 1, &[len, addr, 0]), Action::Return(SbiRet::invalid_param()));
    }
    if usize::BITS == 64 {
        // The high half of a 128-bit address must be zero on rv64.
        assert_eq!(call(h, DBCN, 0, &[1, RAM_BASE as usize, 1]), Action::Return(SbiRet::invalid_param()));
    }
    assert!(h.out.is_empty());
}

#[test]
fn legacy_calls() {
    let h = &mut Fake::new();
    assert_eq!(call(h, 0x00, 0, &[42]), Action::ReturnLegacy(0));
    assert_eq!(h.timer, Some(42));
    assert_eq!(call(h, 0x01, 0, &[b'x' as usize]), Action::ReturnLegacy(0));
    assert_eq!(h.out, b"x");
    assert_eq!(call(h, 0x02, 0, &[]), Action::ReturnLegacy(usize::MAX), "no input: -1");
    h.input = b"q".to_vec();
    assert_eq!(call(h, 0x02, 0, &[]), Action::ReturnLegacy(b'q' as usize));
    assert_eq!(call(h, 0x03, 0, &[]), Action::ReturnLegacy(0));
    assert_eq!(h.cleared, 1);
    // Hart masks are passed by address in the capsule's memory.
    h.ram[..8].copy_from_slice(&0b101u64.to_le_bytes());
    assert_eq!(call(h, 0x04, 0, &[RAM_BASE as usize]), Action::ReturnLegacy(0));
    assert_eq!(h.ipis, [0, 2]);
    assert_eq!(call(h, 0x05, 0, &[RAM_BASE as usize]), Action::ReturnLegacy(0));
    assert_eq!(h.fences, [(0, Fence::I), (2, Fence::I)]);
    // A mask pointer into hypervisor memory fails and sends nothing.
    assert_eq!(call(h, 0x04, 0, &[0x8000_0000]), Action::ReturnLegacy(usize::MAX - 1));
    assert_eq!(h.ipis.len(), 2);
    assert_eq!(call(h, 0x08, 0, &[]), Action::Reset { kind: ResetKind::Shutdown, reason: 0 });
}

const NOT_SUPPORTED: Action = Action::Return(SbiRet::not_supported());
const INVALID: Action = Action::Return(SbiRet::invalid_param());
const FW_TOP: usize = 1 << (usize::BITS - 1);

#[test]
fn pmu_counters_and_their_info() {
    let h = &mut Fake::new();
    assert_eq!(call(h, PMU, 0, &[]), ret(19));
    assert_eq!(call(h, PMU, 1, &[0]), ret(0xc00 | (63 << 12)), "cycle: CSR 0xc00, 64 bits");
    assert_eq!(call(h, PMU, 1, &[1]), INVALID, "time is no counter");
    assert_eq!(call(h, PMU, 1, &[2]), ret(0xc02 | (63 << 12)), "instret");
    for idx in 3..19 {
        assert_eq!(call(h, PMU, 1, &[idx]), ret(FW_TOP | (63 << 12)), "firmware counter {idx}");
    }
    for idx in [19, 32, 64, usize::MAX] {
        assert_eq!(call(h, PMU, 1, &[idx]), INVALID, "counter {idx}");
    }
}

#[test]
fn pmu_hardware_counters() {
    let h = &mut Fake::new();
    let all = (1 << 19) - 1 - 2; // every counter but time
    // cycles: counter 0, cleared and started at once.
    assert_eq!(call(h, PMU, 2, &[0, all, 0b110, 0x1]), ret(0));
    assert_eq!(h.counter_ops, [HwOp::Write { idx: 0, value: 0 }], "cycle already ran: only cleared");
    // Counter 0 is taken: a second cycles event has nowhere to go.
    assert_eq!(call(h, PMU, 2, &[0, all, 0, 0x1]), NOT_SUPPORTED);
    assert_eq!(call(h, PMU, 2, &[0, all, 0, 0x2]), ret(2), "instructions: counter 2");
    // Events no counter here can count.
    for event in [0x0, 0x3, 0x6, 0xa, 0xb, 0x1_0000, 0x2_0000, 0x3_0000, 0xf_0000, 0xf_0004, 0xf_ffff, 0x10_0001, usize::MAX] {
        assert_eq!(call(h, PMU, 2, &[0, all, 0, event]), NOT_SUPPORTED, "event {event:#x}");
    }
    h.counter_ops.clear();
    assert_eq!(call(h, PMU, 4, &[0, 0b101, 0]), ret(0), "stop both");
    assert_eq!(h.counter_ops, [HwOp::Run { idx: 0, run: false }, HwOp::Run { idx: 2, run: false }]);
    assert_eq!(call(h, PMU, 4, &[0, 0b1, 0]), Action::Return(SbiRet::already_stopped()));
    h.counter_ops.clear();
    assert_eq!(call(h, PMU, 3, &[0, 0b1, 1, 1234, 0]), ret(0), "start with a value");
    assert_eq!(h.counter_ops, [HwOp::Write { idx: 0, value: 1234 }, HwOp::Run { idx: 0, run: true }]);
    h.counter_ops.clear();
    assert_eq!(call(h, PMU, 3, &[0, 0b101, 1, 99, 0]), Action::Return(SbiRet::already_started()));
    assert_eq!(h.counter_ops, [HwOp::Write { idx: 2, value: 99 }, HwOp::Run { idx: 2, run: true }], "only the stopped one");
    // SKIP_MATCH takes the first counter named, if it can count the event.
    assert_eq!(call(h, PMU, 2, &[2, 0b1, 0b1, 0x2]), ret(2));
    assert_eq!(call(h, PMU, 2, &[0, 0b101, 0b1, 0x2]), NOT_SUPPORTED, "counter 0 counts no instructions");
    // Stop with reset frees the counters for new events.
    assert_eq!(call(h, PMU, 4, &[0, 0b101, 1]), ret(0));
    assert_eq!(call(h, PMU, 2, &[0, 0b1, 0, 0x1]), ret(0));
}

#[test]
fn pmu_refuses_bad_counters_and_flags() {
    let h = &mut Fake::new();
    for (base, mask) in [(0, 0), (0, 0b10), (1, 1), (19, 1), (0, 1 << 19), (usize::MAX, 0b11), (usize::MAX - 1, 0b100), (0, usize::MAX)] {
        for fid in [2, 3, 4] {
            assert_eq!(call(h, PMU, fid, &[base, mask, 0, 0x1]), INVALID, "fid {fid}, base {base:#x}, mask {mask:#x}");
        }
    }
    assert!(h.counter_ops.is_empty());
    // Undefined flag bits.
    assert_eq!(call(h, PMU, 2, &[0, 1, 1 << 8, 0x1]), INVALID);
    assert_eq!(call(h, PMU, 3, &[0, 1, 1 << 2, 0]), INVALID);
    assert_eq!(call(h, PMU, 4, &[0, 1, 1 << 2]), INVALID);
    // No snapshot memory: snapshot flags fail, and setting it up is not offered.
    assert_eq!(call(h, PMU, 3, &[0, 1, 0b10, 0]), Action::Return(SbiRet::no_shmem()));
    assert_eq!(call(h, PMU, 4, &[0, 1, 0b10]), Action::Return(SbiRet::no_shmem()));
    assert_eq!(call(h, PMU, 7, &[RAM_BASE as usize, 0, 0]), NOT_SUPPORTED);
    // Filtering flags (SINH, UINH, ...) are accepted.
    assert_eq!(call(h, PMU, 2, &[0, 1, 0xf8, 0x1]), ret(0));
    // Firmware reads of hardware or absent counters.
    for idx in [0, 1, 2, 19, usize::MAX] {
        assert_eq!(call(h, PMU, 5, &[idx]), INVALID, "fw_read {idx}");
        assert_eq!(call(h, PMU, 6, &[idx]), INVALID, "fw_read_hi {idx}");
    }
    assert!(h.counter_ops.is_empty());
}

#[test]
fn pmu_firmware_counters_count_this_vcores_calls() {
    let h = &mut Fake::new();
    let fw = 0xffff << 3;
    // An unconfigured firmware counter cannot start.
    assert_eq!(call(h, PMU, 3, &[3, 1, 0, 0]), INVALID);
    let timer = call(h, PMU, 2, &[0, fw, 0b110, 0xf_0005]);
    assert_eq!(timer, ret(3), "SET_TIMER on the first firmware counter, cleared and started");
    assert_eq!(call(h, PMU, 2, &[0, fw, 0b110, 0xf_0006]), ret(4), "IPI_SENT");
    assert_eq!(call(h, PMU, 2, &[0, fw, 0b000, 0xf_000a]), ret(5), "SFENCE_VMA_SENT, not started");
    call(h, TIME, 0, &[1, 0]);
    call(h, 0x00, 0, &[2]);
    call(h, IPI, 0, &[0b111, 0]);
    call(h, IPI, 0, &[0b1000, 0]); // refused: not counted
    call(h, RFNC, 1, &[0b11, 0, 0, 0]);
    assert_eq!(call(h, PMU, 5, &[3]), ret(2));
    assert_eq!(call(h, PMU, 5, &[4]), ret(3));
    assert_eq!(call(h, PMU, 5, &[5]), ret(0), "stopped counters do not count");
    assert_eq!(call(h, PMU, 6, &[3]), ret(0));
    // Started with a value, then counting from there.
    assert_eq!(call(h, PMU, 3, &[5, 1, 1, 40, 0]), ret(0));
    call(h, RFNC, 1, &[0b1, 0, 0, 0]);
    assert_eq!(call(h, PMU, 5, &[5]), ret(41));
    // Stopped, the value stays readable; reset frees the counter.
    assert_eq!(call(h, PMU, 4, &[3, 0b111, 1]), ret(0));
    call(h, TIME, 0, &[1, 0]);
    assert_eq!(call(h, PMU, 5, &[3]), ret(2));
    assert_eq!(call(h, PMU, 3, &[3, 1, 0, 0]), INVALID, "reset: no event any more");
    assert!(h.counter_ops.is_empty(), "firmware counters never touch hardware");
}

#[test]
fn fwft_features() {
    let h = &mut Fake::new();
    let denied = Action::Return(SbiRet::denied());
    assert_eq!(call(h, FWFT, 1, &[0]), ret(1), "misaligned exceptions are delegated");
    assert_eq!(call(h, FWFT, 0, &[0, 1, 0]), ret(0), "setting the current value succeeds");
    assert_eq!(call(h, FWFT, 0, &[0, 0, 0]), denied, "taking them back is denied");
    assert_eq!(call(h, FWFT, 0, &[0, 2, 0]), INVALID);
    assert_eq!(call(h, FWFT, 0, &[0, 1, 0b10]), INVALID, "undefined flag bit");
    assert_eq!(call(h, FWFT, 0, &[0, 1, usize::MAX]), INVALID);
    // Defined features diosix does not offer.
    for f in 1..=5 {
        assert_eq!(call(h, FWFT, 1, &[f]), NOT_SUPPORTED, "get {f}");
        assert_eq!(call(h, FWFT, 0, &[f, 1, 0]), NOT_SUPPORTED, "set {f}");
        assert_eq!(call(h, FWFT, 0, &[f, 0, 0]), NOT_SUPPORTED, "set {f} to 0");
    }
    // Reserved and platform-specific features.
    for f in [6, 0x3fff_ffff, 0x4000_0000, 0x7fff_ffff, 0x8000_0000, 0xbfff_ffff, 0xc000_0000, 0xffff_ffff] {
        assert_eq!(call(h, FWFT, 1, &[f]), denied, "get {f:#x}");
        assert_eq!(call(h, FWFT, 0, &[f, 0, 0]), denied, "set {f:#x}");
    }
    // Locking: the value stays readable and can no longer be set.
    assert_eq!(call(h, FWFT, 0, &[0, 1, 1]), ret(0));
    assert_eq!(call(h, FWFT, 0, &[0, 1, 0]), Action::Return(SbiRet::denied_locked()));
    assert_eq!(call(h, FWFT, 0, &[0, 0, 1]), Action::Return(SbiRet::denied_locked()));
    assert_eq!(call(h, FWFT, 1, &[0]), ret(1));
    // A fresh vcore (hart reset) is unlocked.
    h.state = VcoreState::new();
    assert_eq!(call(h, FWFT, 0, &[0, 1, 0]), ret(0));
    if usize::BITS == 64 {
        // feature is 32 bits wide: the register's upper half is ignored.
        assert_eq!(call(h, FWFT, 1, &[0x1_0000_0000]), ret(1));
    }
}

const INVALID_ADDRESS: Action = Action::Return(SbiRet::invalid_address());
const STA_OFF: usize = usize::MAX;

/// The steal-time record the spec defines, as bytes.
fn sta_record(sequence: u32, steal: u64) -> [u8; 64] {
    let mut r = [0u8; 64];
    r[..4].copy_from_slice(&sequence.to_le_bytes());
    r[8..16].copy_from_slice(&steal.to_le_bytes());
    r
}

#[test]
fn sta_set_shmem_zeroes_the_record() {
    let h = &mut Fake::new();
    h.ram.fill(0xa5);
    let area = RAM_BASE as usize + 0x40;
    assert_eq!(call(h, STA, 0, &[area, 0, 0]), ret(0));
    assert!(h.state.sta.enabled());
    assert_eq!(h.ram[0x40..0x80], [0; 64], "all 64 bytes zeroed");
    assert_eq!((h.ram[0x3f], h.ram[0x80]), (0xa5, 0xa5), "and nothing else");
    // The last 64 bytes of the capsule's memory will do.
    let last = RAM_BASE as usize + 0x1000 - 64;
    assert_eq!(call(h, STA, 0, &[last, 0, 0]), ret(0));
    assert_eq!(h.ram[0xfc0..], [0; 64]);
}

#[test]
fn sta_set_shmem_refuses_bad_parameters() {
    let h = &mut Fake::new();
    h.ram.fill(0xa5);
    h.ram.truncate(0x1000 - 0x20); // RAM ends 32 bytes into a 64-byte block
    let good = RAM_BASE as usize + 0x40;
    let mut bad: Vec<([usize; 3], Action)> = vec![
        // flags is reserved: every bit of it must be 0.
        ([good, 0, 1], INVALID),
        ([good, 0, 1 << 31], INVALID),
        ([good, 0, usize::MAX], INVALID),
        ([STA_OFF, STA_OFF, 1], INVALID),
        // Not 64-byte aligned.
        ([good + 1, 0, 0], INVALID),
        ([good + 8, 0, 0], INVALID),
        ([good + 0x20, 0, 0], INVALID),
        ([good + 0x3f, 0, 0], INVALID),
        ([STA_OFF, 0, 0], INVALID),
        // Not the capsule's: hypervisor memory, below, past the end,
        // straddling the end, wrapping.
        ([0x8000_0000, 0, 0], INVALID_ADDRESS),
        ([RAM_BASE as usize - 64, 0, 0], INVALID_ADDRESS),
        ([RAM_BASE as usize + 0x1000, 0, 0], INVALID_ADDRESS),
        ([RAM_BASE as usize + 0x1000 - 64, 0, 0], INVALID_ADDRESS),
        ([usize::MAX & !63, 0, 0], INVALID_ADDRESS),
        ([0, 0, 0], INVALID_ADDRESS),
    ];
    if usize::BITS == 64 {
        // A non-zero high half names memory beyond any physical address.
        bad.push(([good, 1, 0], INVALID_ADDRESS));
        bad.push(([good, usize::MAX, 0], INVALID_ADDRESS));
        bad.push(([0, STA_OFF, 0], INVALID_ADDRESS));
    }
    let before = h.ram.clone();
    for (args, want) in bad {
        assert_eq!(call(h, STA, 0, &args), want, "set_shmem{args:x?}");
        assert!(!h.state.sta.enabled(), "set_shmem{args:x?}");
    }
    assert_eq!(h.ram, before, "a refused call writes nothing");
    assert!(h.writes.is_empty());
}

#[test]
fn sta_a_refused_set_keeps_the_record_and_disabling_drops_it() {
    let h = &mut Fake::new();
    let area = RAM_BASE + 0x80;
    assert_eq!(call(h, STA, 0, &[area as usize, 0, 0]), ret(0));
    assert_eq!(call(h, STA, 0, &[0x8000_0000, 0, 0]), INVALID_ADDRESS);
    assert_eq!(call(h, STA, 0, &[area as usize + 1, 0, 0]), INVALID);
    assert!(h.state.sta.enabled());
    sbi::sta::publish(h, 7);
    assert_eq!(h.ram[0x80..0xc0], sta_record(2, 7), "still reported at the first area");
    // Disabling needs both halves all-ones, and flags 0.
    assert_eq!(call(h, STA, 0, &[STA_OFF, STA_OFF, 1]), INVALID);
    assert!(h.state.sta.enabled());
    assert_eq!(call(h, STA, 0, &[STA_OFF, STA_OFF, 0]), ret(0));
    assert!(!h.state.sta.enabled());
    let writes = h.writes.len();
    sbi::sta::publish(h, 9);
    assert_eq!(h.writes.len(), writes, "disabled: nothing written");
    assert_eq!(h.ram[0x80..0xc0], sta_record(2, 7));
    // Disabling what is not enabled succeeds too.
    assert_eq!(call(h, STA, 0, &[STA_OFF, STA_OFF, 0]), ret(0));
}

#[test]
fn sta_publish_writes_the_record_sequence_odd_then_even() {
    let h = &mut Fake::new();
    h.ram.fill(0xa5);
    let area = RAM_BASE + 0x100;
    sbi::sta::publish(h, 1);
    assert!(h.writes.is_empty(), "no record: nothing written");
    assert!(h.ram.iter().all(|&b| b == 0xa5));

    assert_eq!(call(h, STA, 0, &[area as usize, 0, 0]), ret(0));
    h.writes.clear();
    let steal = 0x0102_0304_0506_0708u64;
    sbi::sta::publish(h, steal);
    let mut body = vec![0u8; 13];
    body[4..12].copy_from_slice(&steal.to_le_bytes());
    assert_eq!(
        h.writes,
        [(area, 1u32.to_le_bytes().to_vec()), (area + 4, body), (area, 2u32.to_le_bytes().to_vec())],
        "sequence odd, then flags/steal/preempted, then sequence even"
    );
    assert_eq!(h.ram[0x100..0x140], sta_record(2, steal));
    assert_eq!((h.ram[0xff], h.ram[0x140]), (0xa5, 0xa5), "nothing outside the record");

    // Each publish adds the time just stolen to the total.
    sbi::sta::publish(h, 5);
    assert_eq!(h.ram[0x100..0x140], sta_record(4, steal + 5));
    // Nothing stolen: nothing to write.
    h.writes.clear();
    sbi::sta::publish(h, 0);
    assert!(h.writes.is_empty());
    // The sequence and total are the hypervisor's: a capsule scribbling
    // on the record spoils only its own copy, repaired at the next
    // publish (all but the padding).
    h.ram[0x100..0x111].fill(0xff);
    sbi::sta::publish(h, 1);
    assert_eq!(h.ram[0x100..0x140], sta_record(6, steal + 6));
    // The total saturates rather than wrapping to a small value.
    sbi::sta::publish(h, u64::MAX);
    assert_eq!(h.ram[0x100..0x140], sta_record(8, u64::MAX));

    // Setting the record again zeroes it and restarts the sequence and
    // the total.
    assert_eq!(call(h, STA, 0, &[area as usize, 0, 0]), ret(0));
    assert_eq!(h.ram[0x100..0x140], [0; 64]);
    sbi::sta::publish(h, 3);
    assert_eq!(h.ram[0x100..0x140], sta_record(2, 3));
}

#[test]
fn sta_publish_forgets_a_record_no_longer_in_the_capsule() {
    let h = &mut Fake::new();
    let area = RAM_BASE as usize + 0xfc0;
    assert_eq!(call(h, STA, 0, &[area, 0, 0]), ret(0));
    h.writes.clear();
    h.ram.truncate(0xfe0); // the capsule's memory shrank under the record
    sbi::sta::publish(h, 10);
    assert!(h.writes.is_empty(), "nothing written, not even the odd sequence");
    assert!(!h.state.sta.enabled());
    h.ram.resize(0x1000, 0);
    sbi::sta::publish(h, 11);
    assert!(h.writes.is_empty(), "forgotten for good");
}

#[test]
fn sta_is_reset_with_the_vcore() {
    let h = &mut Fake::new();
    assert_eq!(call(h, STA, 0, &[RAM_BASE as usize, 0, 0]), ret(0));
    sbi::sta::publish(h, 1);
    assert!(h.state.sta.enabled());
    h.state = VcoreState::new();
    assert!(!h.state.sta.enabled());
    assert_eq!(h.state.sta, sbi::sta::Sta::new());
    assert_eq!(h.state.sta, sbi::sta::Sta::default());
    h.writes.clear();
    sbi::sta::publish(h, 2);
    assert!(h.writes.is_empty());
}
