//! Every SBI call diosix offers, and hostile variants of them, against a
//! recording fake of the hypervisor.

use sbi::{Action, Call, Fence, HartSet, Host, ResetKind, SbiRet, dispatch};

const BASE: usize = 0x10;
const TIME: usize = 0x5449_4D45;
const IPI: usize = 0x0073_5049;
const RFNC: usize = 0x5246_4E43;
const HSM: usize = 0x0048_534D;
const SRST: usize = 0x5352_5354;
const DBCN: usize = 0x4442_434E;
const PMU: usize = 0x0050_4D55;

const RAM_BASE: u64 = 0x8020_0000;

#[derive(Default)]
struct Fake {
    timer: Option<u64>,
    ipis: Vec<usize>,
    cleared: usize,
    fences: Vec<(usize, Fence)>,
    started: Vec<(usize, usize, usize)>,
    suspended: usize,
    out: Vec<u8>,
    input: Vec<u8>,
    ram: Vec<u8>,
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
    fn remote_fence(&mut self, hart: usize, fence: Fence) {
        self.fences.push((hart, fence));
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
    fn suspend(&mut self) {
        self.suspended += 1;
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
    for ext in [BASE, TIME, IPI, RFNC, HSM, SRST, DBCN, 0x00, 0x01, 0x02, 0x08] {
        assert_eq!(call(h, BASE, 3, &[ext]), ret(1), "extension {ext:#x} must be present");
    }
    for ext in [PMU, 0x09, 0x4E41_434C, usize::MAX] {
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
    for (eid, fid) in [(PMU, 0), (0x0A00_0000, 0), (TIME, 1), (IPI, 1), (SRST, 1), (DBCN, 3), (HSM, 4), (RFNC, 3), (RFNC, 6)] {
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
    assert_eq!(call(h, HSM, 3, &[0]), ret(0));
    assert_eq!(h.suspended, 1);
    assert_eq!(call(h, HSM, 3, &[0x8000_0000]), Action::Return(SbiRet::not_supported()));
    assert_eq!(call(h, HSM, 3, &[5]), Action::Return(SbiRet::invalid_param()));
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
