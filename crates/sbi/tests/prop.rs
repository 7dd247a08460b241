//! Property tests: `dispatch` on random and edge-case calls never panics,
//! never touches memory outside the capsule, and answers in SBI's terms.
//!
//! This has its own fake of the hypervisor rather than sharing
//! tests/dispatch.rs's: it records every guest memory access the
//! dispatcher asks for (the properties are about those), where that one
//! models answers for scripted calls. Their guest-memory copies look alike.

use proptest::prelude::*;
use sbi::pmu::HwOp;
use sbi::{Action, Call, Fence, HartSet, Host, SbiRet, VcoreState, dispatch};

const RAM_BASE: u64 = 0x8020_0000;
const RAM_LEN: usize = 0x2000;
const HARTS: [usize; 3] = [0, 1, 2];

/// Extensions diosix implements or is adding, legacy ones, and others.
const EIDS: [usize; 17] = [
    0x10, 0x5449_4D45, 0x0073_5049, 0x5246_4E43, 0x0048_534D, 0x5352_5354, 0x4442_434E, 0x0050_4D55,
    0x5355_5350, 0x4657_4654, STA, 0, 1, 2, 4, 7, 8,
];
const STA: usize = 0x0053_5441;

struct Fake {
    state: VcoreState,
    ram: Vec<u8>,
    /// Every guest access the dispatcher asked for: (address, length, write).
    accesses: Vec<(u64, usize, bool)>,
    ipis: Vec<usize>,
    fences: Vec<usize>,
    started: Vec<usize>,
    out: usize,
}

impl Fake {
    fn new() -> Fake {
        Fake {
            state: VcoreState::new(),
            ram: vec![0xa5; RAM_LEN],
            accesses: Vec::new(),
            ipis: Vec::new(),
            fences: Vec::new(),
            started: Vec::new(),
            out: 0,
        }
    }
}

impl Host for Fake {
    fn harts(&self) -> HartSet {
        HartSet::from_ids(&HARTS)
    }
    fn set_timer(&mut self, _: u64) {}
    fn send_ipi(&mut self, hart: usize) {
        self.ipis.push(hart);
    }
    fn clear_ipi(&mut self) {}
    fn remote_fence(&mut self, harts: HartSet, _: Fence) {
        self.fences.extend(harts.iter());
    }
    fn hart_start(&mut self, hart: usize, _: usize, _: usize) -> SbiRet {
        if hart == 0 || self.started.contains(&hart) {
            return SbiRet::already_available();
        }
        self.started.push(hart);
        SbiRet::success(0)
    }
    fn hart_status(&self, hart: usize) -> usize {
        if hart == 0 || self.started.contains(&hart) { 0 } else { 1 }
    }
    fn this_hart(&self) -> usize {
        0
    }
    fn vcore_state<R>(&mut self, f: impl FnOnce(&mut VcoreState) -> R) -> R {
        f(&mut self.state)
    }
    fn counter_op(&mut self, _: HwOp) {}
    fn console_write(&mut self, bytes: &[u8]) {
        self.out += bytes.len();
    }
    fn console_read(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(3);
        buf[..n].fill(b'x');
        n
    }
    fn owns(&self, addr: u64, len: u64) -> bool {
        addr.checked_sub(RAM_BASE)
            .and_then(|off| off.checked_add(len))
            .is_some_and(|end| end <= RAM_LEN as u64)
    }
    fn read_guest(&mut self, addr: u64, buf: &mut [u8]) -> bool {
        self.accesses.push((addr, buf.len(), false));
        if !self.owns(addr, buf.len() as u64) {
            return false;
        }
        let off = (addr - RAM_BASE) as usize;
        buf.copy_from_slice(&self.ram[off..off + buf.len()]);
        true
    }
    fn write_guest(&mut self, addr: u64, data: &[u8]) -> bool {
        self.accesses.push((addr, data.len(), true));
        if !self.owns(addr, data.len() as u64) {
            return false;
        }
        let off = (addr - RAM_BASE) as usize;
        self.ram[off..off + data.len()].copy_from_slice(data);
        true
    }
    fn machine_ids(&self) -> [usize; 3] {
        [1, 2, 3]
    }
    fn impl_version(&self) -> usize {
        0x0001_0000
    }
}

fn word() -> impl Strategy<Value = usize> {
    let base = RAM_BASE as usize;
    prop_oneof![
        Just(0usize),
        Just(usize::MAX),
        Just(usize::MAX - 1),
        Just(1usize << (usize::BITS - 1)),
        0usize..4,
        0usize..70,
        Just(0x8000_0000usize),
        Just(0x1000_0000usize),
        Just(0x0200_0000usize),
        Just(0x0c00_0000usize),
        Just(0x0010_0000usize),
        (base - 8)..(base + 8),
        base..(base + RAM_LEN),
        (base + RAM_LEN - 8)..(base + RAM_LEN + 8),
        any::<usize>(),
    ]
}

fn eid() -> impl Strategy<Value = usize> {
    prop_oneof![
        6 => prop::sample::select(EIDS.to_vec()),
        1 => 0usize..16,
        1 => any::<u32>().prop_map(|e| e as usize),
        1 => any::<usize>(),
    ]
}

fn fid() -> impl Strategy<Value = usize> {
    prop_oneof![4 => 0usize..10, 1 => 0usize..64, 1 => any::<usize>()]
}

fn call() -> impl Strategy<Value = Call> {
    (eid(), fid(), prop::array::uniform6(word())).prop_map(|(eid, fid, args)| Call { eid, fid, args })
}

/// The standard SBI error codes (SBI 3.0 goes down to -15).
fn standard(ret: SbiRet) -> bool {
    let e = ret.error as isize;
    (-15..=0).contains(&e)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    #[test]
    fn one_call_never_panics_and_answers_in_sbi_terms(c in call()) {
        let h = &mut Fake::new();
        let before = h.ram.clone();
        let action = dispatch(h, c);
        if let Action::Return(ret) = action {
            prop_assert!(standard(ret), "{c:x?} gave error {:#x}", ret.error);
            if c.eid > 8 && !EIDS.contains(&c.eid) {
                prop_assert_eq!(ret, SbiRet::not_supported(), "an unknown extension: {:x?}", c);
            }
        }
        if let Action::ReturnLegacy(_) = action {
            prop_assert!(c.eid <= 8, "a legacy answer to {c:x?}");
        }
        // Hart masks never name a hart the capsule lacks.
        for h2 in h.ipis.iter().chain(&h.fences).chain(&h.started) {
            prop_assert!(HARTS.contains(h2), "{c:x?} reached hart {h2}");
        }
        // Guest memory changes only through a write the fake allowed.
        if h.ram != before {
            prop_assert!(h.accesses.iter().any(|a| a.2), "{c:x?} changed memory without a write");
        }
    }

}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    /// STA `set_shmem` either succeeds, having zeroed exactly the 64
    /// aligned bytes named (or disabled reporting), or changes nothing.
    #[test]
    fn sta_set_shmem_zeroes_its_64_bytes_or_nothing(
        lo in prop_oneof![word(), word().prop_map(|w| w & !63)],
        hi in prop_oneof![3 => Just(0usize), 1 => word()],
        flags in prop_oneof![3 => Just(0usize), 1 => word()],
    ) {
        let h = &mut Fake::new();
        let before = h.ram.clone();
        let ret = match dispatch(h, Call { eid: STA, fid: 0, args: [lo, hi, flags, 0, 0, 0] }) {
            Action::Return(ret) => ret,
            other => return Err(TestCaseError::fail(format!("{other:?}"))),
        };
        let off = (lo as u64).wrapping_sub(RAM_BASE) as usize;
        if ret != SbiRet::success(0) {
            prop_assert_eq!(&h.ram, &before, "refused, yet memory changed");
            prop_assert!(!h.state.sta.enabled());
        } else if lo == usize::MAX && hi == usize::MAX {
            prop_assert_eq!(flags, 0);
            prop_assert!(!h.state.sta.enabled());
            prop_assert_eq!(&h.ram, &before);
        } else {
            prop_assert_eq!(flags, 0);
            prop_assert_eq!(lo % 64, 0);
            prop_assert_eq!(hi, 0, "nothing here lies above 4 GiB");
            prop_assert!(off + 64 <= RAM_LEN);
            prop_assert!(h.state.sta.enabled());
            prop_assert!(h.ram[off..off + 64].iter().all(|&b| b == 0));
            prop_assert_eq!(&h.ram[..off], &before[..off]);
            prop_assert_eq!(&h.ram[off + 64..], &before[off + 64..]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn a_sequence_of_calls_never_panics(calls in prop::collection::vec(call(), 1..40)) {
        let h = &mut Fake::new();
        for c in calls {
            match dispatch(h, c) {
                Action::Return(ret) => prop_assert!(standard(ret), "{c:x?} gave error {:#x}", ret.error),
                Action::ReturnLegacy(_) => prop_assert!(c.eid <= 8),
                _ => {}
            }
            // Asking still gives the right identity, whatever came before.
            let base = dispatch(h, Call { eid: 0x10, fid: 0, args: [0; 6] });
            prop_assert_eq!(base, Action::Return(SbiRet::success(0x0200_0000)));
        }
    }
}

/// `HartSet::from_mask` and `iter` against the spec's definition, one bit
/// at a time: hart `base + i` for each set bit `i`, all of them in `valid`.
mod hart_masks {
    use proptest::prelude::*;
    use sbi::HartSet;

    fn reference(mask: usize, base: usize, valid: HartSet) -> Option<Vec<usize>> {
        if base == usize::MAX {
            return Some(valid.iter().collect());
        }
        let mut ids = Vec::new();
        for bit in 0..usize::BITS as usize {
            if mask & (1 << bit) != 0 {
                let id = base.checked_add(bit)?;
                if id >= 64 || valid.0 & (1 << id) == 0 {
                    return None;
                }
                ids.push(id);
            }
        }
        Some(ids)
    }

    proptest! {
        #[test]
        fn from_mask_names_exactly_the_spec_harts(
            mask in prop_oneof![any::<usize>(), 0usize..16, Just(0)],
            base in prop_oneof![0usize..70, Just(usize::MAX), Just(usize::MAX - 1), any::<usize>()],
            valid in prop_oneof![any::<u64>(), 0u64..0x10000, Just(u64::MAX)],
        ) {
            let valid = HartSet(valid);
            let got = HartSet::from_mask(mask, base, valid).ok().map(|s| s.iter().collect::<Vec<_>>());
            prop_assert_eq!(got, reference(mask, base, valid));
        }
    }
}
