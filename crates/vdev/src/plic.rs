//! A platform-level interrupt controller as the `sifive,plic-1.0.0`
//! device-tree binding and the RISC-V PLIC specification describe it, the
//! one Linux drives with its `irq-sifive-plic` driver.
//!
//! Each capsule gets one, with one context per vcore: context n is vcore
//! n's supervisor mode, and its interrupt output is that vcore's
//! supervisor external interrupt (SEIP). The model has no harts: after
//! every access and every [`Plic::set_level`] the hypervisor asks
//! [`Plic::eip`] for each context and sets or clears the vcore's SEIP.
//!
//! Sources 1 to 31 exist ([`SOURCES`] ids, of which 0 means "no
//! interrupt"). Each source's gateway is level-triggered: while the
//! device's line is high and the source is not in flight (claimed and
//! not yet completed), it is pending; if the line drops before a claim,
//! it stops being pending. A claim by a context picks, among the pending
//! sources enabled for that context whose priority is strictly above the
//! context's threshold, the one with the highest priority (the lowest id
//! among equals), stops it being pending and puts it in flight; nothing
//! eligible reads as 0. A completion names a source: if it is in flight
//! and enabled for the completing context its flight ends, and if its
//! line is still high it is pending again at once; otherwise the
//! completion is ignored, as the specification says. Priority 0 means
//! "never interrupt". Priorities and thresholds are three bits wide: a
//! write keeps its low three bits.
//!
//! The register map, in offsets from the window's base; every register
//! is 32 bits wide and only aligned 4-byte accesses are accepted (any
//! other width is [`AccessError::Width`], an unaligned 4-byte access
//! [`AccessError::Misaligned`]):
//!
//! | offset                     | register                                  |
//! |----------------------------|-------------------------------------------|
//! | `0x0000 + 4*i`             | priority of source i (i = 1..=31)         |
//! | `0x1000`                   | pending bits of sources 0..=31, read-only |
//! | `0x2000 + 0x80*c`          | enable bits of sources 0..=31 for context c |
//! | `0x20_0000 + 0x1000*c`     | context c's priority threshold            |
//! | `0x20_0000 + 0x1000*c + 4` | context c's claim (read) / complete (write) |
//!
//! The specification lays out registers for 1024 sources; those for the
//! sources this PLIC does not have, and for source 0, are hardwired to
//! zero: they read 0 and writes to them are ignored, as on a PLIC built
//! with fewer sources. That covers the priorities of source 0 and of
//! sources 32..=1023 (`0x0000` and `0x0080..0x1000`), pending words 1..=31
//! (`0x1004..0x1080`), enable words 1..=31 of each context that exists
//! (`+0x04..+0x80`), and bit 0 of pending and enable word 0. A write to
//! the pending word is ignored too (it is read-only). Every other offset
//! in the window names no register and is [`AccessError::NoRegister`]:
//! the gap the specification reserves after the pending bits
//! (`0x1080..0x2000`), the enable blocks and the threshold/claim pages of
//! contexts this PLIC does not have (c >= [`Plic::contexts`]), the rest
//! of the enable area, and the words of a context's page after
//! claim/complete (`+0x008..+0x1000`). So does any offset at or past
//! [`WINDOW_SIZE`]. A refused access changes nothing.

use crate::{AccessError, Device};

/// Interrupt ids 0..SOURCES; 0 is "no interrupt", so sources
/// 1..=31 exist. One 32-bit word holds every source's pending or enable
/// bit.
pub const SOURCES: usize = 32;
/// Most contexts a PLIC here has: one per vcore, and a capsule has at
/// most 16.
pub const MAX_CONTEXTS: usize = 16;
/// The window's size: up to the end of the last context's page.
pub const WINDOW_SIZE: u64 = CONTEXT_BASE + CONTEXT_STRIDE * MAX_CONTEXTS as u64;

/// Source priorities, one word per source id.
const PRIORITY_BASE: u64 = 0x0000;
/// Pending bits, one bit per source id.
const PENDING_BASE: u64 = 0x1000;
/// The pending words of sources 32..=1023 start here.
const PENDING_WORD1: u64 = PENDING_BASE + 4;
/// End of the specification's pending array (1024 sources).
const PENDING_END: u64 = 0x1080;
/// Enable bits, one block per context.
const ENABLE_BASE: u64 = 0x2000;
const ENABLE_STRIDE: u64 = 0x80;
/// Per-context threshold and claim/complete, one page per context.
const CONTEXT_BASE: u64 = 0x20_0000;
const CONTEXT_STRIDE: u64 = 0x1000;
/// In a context's page.
const THRESHOLD: u64 = 0x0;
const CLAIM_COMPLETE: u64 = 0x4;

/// Priorities and thresholds are three bits.
const PRIORITY_MASK: u32 = 0x7;
const LEVELS: usize = 8;
/// The bits of a pending or enable word that name a source: all but 0.
const SOURCE_BITS: u32 = !1;

/// One PLIC's state. Pending is not stored: it is, by the gateway rules
/// above, exactly "line high and not in flight".
#[derive(Clone, Debug)]
pub struct Plic {
    contexts: usize,
    priority: [u8; SOURCES],
    /// `above[t]` has bit i set when source i's priority is above t, so a
    /// context with threshold t can be interrupted by those sources.
    above: [u32; LEVELS],
    /// Interrupt lines that are high.
    level: u32,
    /// Sources claimed and not yet completed.
    in_flight: u32,
    enable: [u32; MAX_CONTEXTS],
    threshold: [u8; MAX_CONTEXTS],
}

/// What an offset names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reg {
    Priority(usize),
    Pending,
    Enable(usize),
    Threshold(usize),
    ClaimComplete(usize),
    /// Hardwired to zero: reads 0, writes ignored.
    Zero,
}

impl Plic {
    /// A PLIC as after reset, with `contexts` contexts (clamped to
    /// 1..=[`MAX_CONTEXTS`]; the manifest already limits a capsule to that
    /// many vcores): every priority, enable and threshold 0, every line
    /// low, nothing in flight.
    pub fn new(contexts: usize) -> Self {
        Plic {
            contexts: contexts.clamp(1, MAX_CONTEXTS),
            priority: [0; SOURCES],
            above: [0; LEVELS],
            level: 0,
            in_flight: 0,
            enable: [0; MAX_CONTEXTS],
            threshold: [0; MAX_CONTEXTS],
        }
    }

    /// How many contexts it has (after clamping).
    pub fn contexts(&self) -> usize {
        self.contexts
    }

    /// Drive source `source`'s interrupt line high or low, as the
    /// device behind it asserts or deasserts it. Source 0 and ids at or
    /// past [`SOURCES`] have no line: ignored.
    pub fn set_level(&mut self, source: usize, high: bool) {
        if source == 0 || source >= SOURCES {
            return;
        }
        let bit = 1u32 << source;
        if high {
            self.level |= bit;
        } else {
            self.level &= !bit;
        }
    }

    /// Whether `context`'s interrupt output is raised: some pending
    /// source enabled for it has a priority above its threshold. False
    /// for a context it does not have. A few mask operations.
    pub fn eip(&self, context: usize) -> bool {
        self.eligible(context) != 0
    }

    /// The pending bits (bit i for source i; bit 0 always clear).
    fn pending(&self) -> u32 {
        self.level & !self.in_flight & SOURCE_BITS
    }

    /// Sources `context` could claim now.
    fn eligible(&self, context: usize) -> u32 {
        if context >= self.contexts {
            return 0;
        }
        let t = usize::from(self.threshold[context]);
        self.pending() & self.enable[context] & self.above[t]
    }

    fn set_priority(&mut self, source: usize, value: u32) {
        let p = (value & PRIORITY_MASK) as u8;
        self.priority[source] = p;
        let bit = 1u32 << source;
        for (t, mask) in self.above.iter_mut().enumerate() {
            if usize::from(p) > t {
                *mask |= bit;
            } else {
                *mask &= !bit;
            }
        }
    }

    /// The claim: the eligible source with the highest priority, the
    /// lowest id among equals, now in flight; 0 if none.
    fn claim(&mut self, context: usize) -> u32 {
        let mut candidates = self.eligible(context);
        let mut best = 0usize;
        while candidates != 0 {
            let id = candidates.trailing_zeros() as usize;
            candidates &= candidates - 1;
            if best == 0 || self.priority[id] > self.priority[best] {
                best = id;
            }
        }
        if best != 0 {
            self.in_flight |= 1 << best;
        }
        best as u32
    }

    /// The completion of `id` by `context`; ignored unless `id` is in
    /// flight and enabled for `context`. Pending follows from the line.
    fn complete(&mut self, context: usize, id: u32) {
        let Ok(id) = usize::try_from(id) else { return };
        if id == 0 || id >= SOURCES {
            return;
        }
        let bit = 1u32 << id;
        if self.in_flight & bit != 0 && self.enable[context] & bit != 0 {
            self.in_flight &= !bit;
        }
    }

    /// What an aligned word offset inside the window names.
    fn decode(&self, offset: u64) -> Result<Reg, AccessError> {
        let reg = match offset {
            PRIORITY_BASE..PENDING_BASE => {
                let source = ((offset - PRIORITY_BASE) / 4) as usize;
                if source == 0 || source >= SOURCES {
                    Reg::Zero
                } else {
                    Reg::Priority(source)
                }
            }
            PENDING_BASE => Reg::Pending,
            PENDING_WORD1..PENDING_END => Reg::Zero,
            PENDING_END..ENABLE_BASE => return Err(AccessError::NoRegister),
            ENABLE_BASE..CONTEXT_BASE => {
                let rel = offset - ENABLE_BASE;
                let context = self.context((rel / ENABLE_STRIDE) as usize)?;
                if rel.is_multiple_of(ENABLE_STRIDE) {
                    Reg::Enable(context)
                } else {
                    Reg::Zero
                }
            }
            CONTEXT_BASE..WINDOW_SIZE => {
                let rel = offset - CONTEXT_BASE;
                let context = self.context((rel / CONTEXT_STRIDE) as usize)?;
                match rel % CONTEXT_STRIDE {
                    THRESHOLD => Reg::Threshold(context),
                    CLAIM_COMPLETE => Reg::ClaimComplete(context),
                    _ => return Err(AccessError::NoRegister),
                }
            }
            _ => return Err(AccessError::NoRegister),
        };
        Ok(reg)
    }

    fn context(&self, context: usize) -> Result<usize, AccessError> {
        if context < self.contexts {
            Ok(context)
        } else {
            Err(AccessError::NoRegister)
        }
    }
}

impl Device for Plic {
    fn read(&mut self, offset: u64, width: u8) -> Result<u64, AccessError> {
        check(offset, width)?;
        let value = match self.decode(offset)? {
            Reg::Priority(source) => u32::from(self.priority[source]),
            Reg::Pending => self.pending(),
            Reg::Enable(context) => self.enable[context],
            Reg::Threshold(context) => u32::from(self.threshold[context]),
            Reg::ClaimComplete(context) => self.claim(context),
            Reg::Zero => 0,
        };
        Ok(u64::from(value))
    }

    fn write(&mut self, offset: u64, width: u8, value: u64) -> Result<(), AccessError> {
        check(offset, width)?;
        let value = value as u32;
        match self.decode(offset)? {
            Reg::Priority(source) => self.set_priority(source, value),
            Reg::Enable(context) => self.enable[context] = value & SOURCE_BITS,
            Reg::Threshold(context) => self.threshold[context] = (value & PRIORITY_MASK) as u8,
            Reg::ClaimComplete(context) => self.complete(context, value),
            Reg::Pending | Reg::Zero => {}
        }
        Ok(())
    }
}

/// Aligned 4-byte accesses only; the width is checked before the
/// alignment.
fn check(offset: u64, width: u8) -> Result<(), AccessError> {
    if width != 4 {
        return Err(AccessError::Width);
    }
    if !offset.is_multiple_of(4) {
        return Err(AccessError::Misaligned);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn priority(i: usize) -> u64 {
        PRIORITY_BASE + 4 * i as u64
    }
    fn enable(c: usize) -> u64 {
        ENABLE_BASE + ENABLE_STRIDE * c as u64
    }
    fn threshold(c: usize) -> u64 {
        CONTEXT_BASE + CONTEXT_STRIDE * c as u64 + THRESHOLD
    }
    fn claim_complete(c: usize) -> u64 {
        CONTEXT_BASE + CONTEXT_STRIDE * c as u64 + CLAIM_COMPLETE
    }
    fn rd(p: &mut Plic, off: u64) -> u32 {
        p.read(off, 4).unwrap() as u32
    }
    fn wr(p: &mut Plic, off: u64, v: u32) {
        p.write(off, 4, u64::from(v)).unwrap()
    }
    fn claim(p: &mut Plic, c: usize) -> u32 {
        rd(p, claim_complete(c))
    }
    fn complete(p: &mut Plic, c: usize, id: u32) {
        wr(p, claim_complete(c), id)
    }

    /// A PLIC with `contexts` contexts and sources 1..=31 at priority 1.
    fn plic(contexts: usize) -> Plic {
        let mut p = Plic::new(contexts);
        for i in 1..SOURCES {
            wr(&mut p, priority(i), 1);
        }
        p
    }

    #[test]
    fn window_size_covers_sixteen_context_pages() {
        assert_eq!(WINDOW_SIZE, 0x21_0000);
    }

    #[test]
    fn contexts_are_clamped() {
        assert_eq!(Plic::new(0).contexts(), 1);
        assert_eq!(Plic::new(3).contexts(), 3);
        assert_eq!(Plic::new(99).contexts(), MAX_CONTEXTS);
    }

    #[test]
    fn claim_complete_cycle() {
        let mut p = plic(1);
        wr(&mut p, enable(0), 1 << 5);
        assert!(!p.eip(0));
        assert_eq!(claim(&mut p, 0), 0, "nothing pending claims 0");
        p.set_level(5, true);
        assert_eq!(rd(&mut p, PENDING_BASE), 1 << 5);
        assert!(p.eip(0));
        assert_eq!(claim(&mut p, 0), 5);
        assert_eq!(rd(&mut p, PENDING_BASE), 0, "claiming cleared pending");
        assert!(!p.eip(0), "in flight, so not raised");
        assert_eq!(claim(&mut p, 0), 0, "claimed only once");
        p.set_level(5, false);
        complete(&mut p, 0, 5);
        assert!(!p.eip(0));
        assert_eq!(rd(&mut p, PENDING_BASE), 0);
        p.set_level(5, true);
        assert!(p.eip(0), "completed, so it can interrupt again");
        assert_eq!(claim(&mut p, 0), 5);
    }

    #[test]
    fn highest_priority_first_lowest_id_among_equals() {
        let mut p = plic(1);
        wr(&mut p, enable(0), SOURCE_BITS);
        wr(&mut p, priority(3), 2);
        wr(&mut p, priority(9), 5);
        wr(&mut p, priority(4), 5);
        for i in [3, 9, 4, 7, 2] {
            p.set_level(i, true);
        }
        let order: Vec<u32> = (0..6).map(|_| claim(&mut p, 0)).collect();
        assert_eq!(order, [4, 9, 3, 2, 7, 0]);
    }

    #[test]
    fn threshold_masks_priorities_at_or_below_it() {
        let mut p = plic(1);
        wr(&mut p, enable(0), 1 << 1 | 1 << 2);
        wr(&mut p, priority(1), 3);
        wr(&mut p, priority(2), 4);
        wr(&mut p, threshold(0), 3);
        p.set_level(1, true);
        assert!(!p.eip(0), "priority equal to the threshold does not interrupt");
        assert_eq!(claim(&mut p, 0), 0);
        assert_eq!(rd(&mut p, PENDING_BASE), 1 << 1, "still pending");
        p.set_level(2, true);
        assert!(p.eip(0));
        assert_eq!(claim(&mut p, 0), 2);
        wr(&mut p, threshold(0), 2);
        assert!(p.eip(0), "lowering the threshold lets source 1 through");
        assert_eq!(claim(&mut p, 0), 1);
        wr(&mut p, threshold(0), 0xff);
        assert_eq!(rd(&mut p, threshold(0)), 7, "three bits kept");
    }

    #[test]
    fn priority_zero_never_interrupts() {
        let mut p = Plic::new(1);
        wr(&mut p, enable(0), 1 << 6);
        p.set_level(6, true);
        assert_eq!(rd(&mut p, PENDING_BASE), 1 << 6, "pending all the same");
        assert!(!p.eip(0));
        assert_eq!(claim(&mut p, 0), 0);
        wr(&mut p, priority(6), 0x1f);
        assert_eq!(rd(&mut p, priority(6)), 7, "three bits kept");
        assert!(p.eip(0));
        wr(&mut p, priority(6), 8);
        assert_eq!(rd(&mut p, priority(6)), 0);
        assert!(!p.eip(0), "back to never");
    }

    #[test]
    fn enables_are_per_context() {
        let mut p = plic(2);
        wr(&mut p, enable(1), 1 << 3);
        p.set_level(3, true);
        assert!(!p.eip(0), "not enabled for context 0");
        assert!(p.eip(1));
        assert_eq!(claim(&mut p, 0), 0);
        assert_eq!(claim(&mut p, 1), 3);
        assert_eq!(rd(&mut p, enable(0)), 0);
        assert_eq!(rd(&mut p, enable(1)), 1 << 3);
    }

    #[test]
    fn a_claim_by_one_context_takes_it_from_all() {
        let mut p = plic(2);
        wr(&mut p, enable(0), 1 << 3);
        wr(&mut p, enable(1), 1 << 3);
        p.set_level(3, true);
        assert!(p.eip(0) && p.eip(1));
        assert_eq!(claim(&mut p, 1), 3);
        assert!(!p.eip(0) && !p.eip(1));
        assert_eq!(claim(&mut p, 0), 0);
    }

    #[test]
    fn completion_by_a_context_not_enabled_is_ignored() {
        let mut p = plic(2);
        wr(&mut p, enable(0), 1 << 8);
        p.set_level(8, true);
        assert_eq!(claim(&mut p, 0), 8);
        p.set_level(8, false);
        complete(&mut p, 1, 8);
        p.set_level(8, true);
        assert!(!p.eip(0), "still in flight: context 1 could not complete it");
        assert_eq!(rd(&mut p, PENDING_BASE), 0);
        complete(&mut p, 0, 9);
        complete(&mut p, 0, 0);
        complete(&mut p, 0, 8 | 1 << 5);
        assert!(!p.eip(0), "other ids do not complete it");
        complete(&mut p, 0, 8);
        assert!(p.eip(0));
    }

    #[test]
    fn a_level_still_high_after_completion_pends_again() {
        let mut p = plic(1);
        wr(&mut p, enable(0), 1 << 2);
        p.set_level(2, true);
        assert_eq!(claim(&mut p, 0), 2);
        complete(&mut p, 0, 2);
        assert_eq!(rd(&mut p, PENDING_BASE), 1 << 2);
        assert!(p.eip(0));
        assert_eq!(claim(&mut p, 0), 2);
    }

    #[test]
    fn a_line_dropped_before_claim_is_no_longer_pending() {
        let mut p = plic(1);
        wr(&mut p, enable(0), 1 << 4);
        p.set_level(4, true);
        assert!(p.eip(0));
        p.set_level(4, false);
        assert_eq!(rd(&mut p, PENDING_BASE), 0);
        assert!(!p.eip(0));
        assert_eq!(claim(&mut p, 0), 0);
    }

    #[test]
    fn source_zero_and_bit_zero_are_hardwired() {
        let mut p = plic(1);
        wr(&mut p, priority(0), 7);
        assert_eq!(rd(&mut p, priority(0)), 0);
        wr(&mut p, enable(0), u32::MAX);
        assert_eq!(rd(&mut p, enable(0)), SOURCE_BITS, "enable bit 0 reads 0");
        p.set_level(0, true);
        p.set_level(SOURCES, true);
        p.set_level(usize::MAX, true);
        assert_eq!(rd(&mut p, PENDING_BASE), 0);
        assert!(!p.eip(0));
        assert_eq!(claim(&mut p, 0), 0);
        wr(&mut p, PENDING_BASE, u32::MAX);
        assert_eq!(rd(&mut p, PENDING_BASE), 0, "pending is read-only");
    }

    #[test]
    fn reserved_words_read_zero_and_ignore_writes() {
        let mut p = plic(2);
        p.set_level(1, true);
        let zeros = [
            priority(32),
            priority(1023),
            PENDING_BASE + 4,
            PENDING_END - 4,
            enable(0) + 4,
            enable(1) + ENABLE_STRIDE - 4,
        ];
        for off in zeros {
            wr(&mut p, off, u32::MAX);
            assert_eq!(rd(&mut p, off), 0, "{off:#x}");
        }
        assert_eq!(rd(&mut p, enable(0)), 0, "the neighbouring real words are untouched");
        assert_eq!(rd(&mut p, PENDING_BASE), 1 << 1);
    }

    #[test]
    fn unnamed_offsets_and_missing_contexts_are_refused() {
        let mut p = plic(2);
        let refused = [
            PENDING_END,
            ENABLE_BASE - 4,
            enable(2),
            enable(MAX_CONTEXTS),
            CONTEXT_BASE - 4,
            threshold(0) + 8,
            threshold(0) + CONTEXT_STRIDE - 4,
            threshold(2),
            claim_complete(2),
            claim_complete(MAX_CONTEXTS - 1),
            WINDOW_SIZE,
            WINDOW_SIZE + 4,
            !3,
        ];
        for off in refused {
            assert_eq!(p.read(off, 4), Err(AccessError::NoRegister), "{off:#x}");
            assert_eq!(p.write(off, 4, 1), Err(AccessError::NoRegister), "{off:#x}");
        }
        assert!(!p.eip(2) && !p.eip(MAX_CONTEXTS) && !p.eip(usize::MAX));
    }

    #[test]
    fn only_aligned_words() {
        let mut p = plic(1);
        wr(&mut p, priority(1), 3);
        for off in [priority(1), PENDING_BASE, enable(0), threshold(0), claim_complete(0), WINDOW_SIZE] {
            for w in [0, 1, 2, 3, 5, 8, 16, 255] {
                assert_eq!(p.read(off, w), Err(AccessError::Width), "{off:#x} {w}");
                assert_eq!(p.write(off, w, 0), Err(AccessError::Width), "{off:#x} {w}");
            }
            for m in 1..4 {
                assert_eq!(p.read(off + m, 4), Err(AccessError::Misaligned), "{off:#x}+{m}");
                assert_eq!(p.write(off + m, 4, 0), Err(AccessError::Misaligned), "{off:#x}+{m}");
            }
        }
        assert_eq!(p.read(u64::MAX, 4), Err(AccessError::Misaligned));
        assert_eq!(rd(&mut p, priority(1)), 3, "refused writes changed nothing");
    }

    #[test]
    fn a_refused_claim_claims_nothing() {
        let mut p = plic(1);
        wr(&mut p, enable(0), 1 << 1);
        p.set_level(1, true);
        assert_eq!(p.read(claim_complete(0), 8), Err(AccessError::Width));
        assert_eq!(p.read(claim_complete(0) + 2, 4), Err(AccessError::Misaligned));
        assert!(p.eip(0));
        assert_eq!(claim(&mut p, 0), 1);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Read(u64, u8),
        Write(u64, u8, u64),
        Level(usize, bool),
        /// Complete, through context (index) c, the n-th source now in
        /// flight (counting round), or 0 if none is.
        CompleteInFlight(usize, usize),
    }

    /// Offsets that mostly name registers of the first few contexts,
    /// sometimes a missing context, a reserved word or anywhere in the
    /// window or just past it, and sometimes a few bytes off alignment.
    fn offset() -> impl Strategy<Value = u64> {
        let ctx = prop_oneof![4 => 0u64..4, 1 => 0..=MAX_CONTEXTS as u64];
        let word = prop_oneof![4 => Just(0u64), 1 => 0u64..32];
        let page_word = prop_oneof![4 => 0u64..2, 1 => 0u64..0x400];
        let aligned = prop_oneof![
            1 => 0..WINDOW_SIZE + 0x10,
            4 => (0u64..34).prop_map(|i| PRIORITY_BASE + 4 * i),
            1 => (0u64..3).prop_map(|i| PENDING_BASE - 4 + 4 * i),
            4 => (ctx.clone(), word).prop_map(|(c, w)| ENABLE_BASE + ENABLE_STRIDE * c + 4 * w),
            6 => (ctx, page_word).prop_map(|(c, w)| CONTEXT_BASE + CONTEXT_STRIDE * c + 4 * w),
        ];
        let skew = prop_oneof![8 => Just(0u64), 1 => 1u64..4];
        (aligned, skew).prop_map(|(o, k)| o + k)
    }

    fn op() -> impl Strategy<Value = Op> {
        let width = prop_oneof![6 => Just(4u8), 1 => Just(1u8), 1 => Just(2u8), 1 => Just(8u8)];
        let value = prop_oneof![0u64..SOURCES as u64 + 2, 0u64..8, any::<u64>()];
        prop_oneof![
            3 => (offset(), width.clone()).prop_map(|(o, w)| Op::Read(o, w)),
            3 => (offset(), width, value).prop_map(|(o, w, v)| Op::Write(o, w, v)),
            2 => (0usize..SOURCES + 2, any::<bool>()).prop_map(|(s, h)| Op::Level(s, h)),
            1 => (0usize..4, 0usize..SOURCES).prop_map(|(c, n)| Op::CompleteInFlight(c, n)),
        ]
    }

    /// The context a claim/complete offset names, if it is one.
    fn claim_context(off: u64) -> Option<usize> {
        let rel = off.checked_sub(CONTEXT_BASE)?;
        (off < WINDOW_SIZE && rel % CONTEXT_STRIDE == CLAIM_COMPLETE).then_some((rel / CONTEXT_STRIDE) as usize)
    }

    /// After a store of `value` at `off`: if it was a completion, the
    /// source named left flight exactly when it was in flight and enabled
    /// for the completing context; nothing else changed flight.
    fn check_complete(before: &Plic, after: &Plic, off: u64, width: u8, value: u64) -> Result<(), TestCaseError> {
        let c = match claim_context(off) {
            Some(c) if width == 4 && c < before.contexts => c,
            _ => {
                prop_assert_eq!(after.in_flight, before.in_flight);
                return Ok(());
            }
        };
        let ended = before.in_flight & !after.in_flight;
        prop_assert_eq!(after.in_flight & !before.in_flight, 0, "a completion put something in flight");
        let expected = match usize::try_from(value as u32) {
            Ok(id) if (1..SOURCES).contains(&id) => before.in_flight & before.enable[c] & (1 << id),
            _ => 0,
        };
        prop_assert_eq!(ended, expected, "completing {:#x} by context {}", value, c);
        Ok(())
    }

    proptest! {
        /// Whatever the capsule and the devices do, the model never
        /// panics, a claim only hands out an eligible source, and `eip`
        /// says exactly whether a claim would find one.
        #[test]
        fn any_sequence_keeps_the_rules(
            contexts in prop_oneof![1usize..=3, 1..=MAX_CONTEXTS],
            priorities in proptest::collection::vec(0u32..8, SOURCES),
            enables in proptest::collection::vec(any::<u32>(), MAX_CONTEXTS),
            thresholds in proptest::collection::vec(0u32..3, MAX_CONTEXTS),
            ops in proptest::collection::vec(op(), 0..300),
        ) {
            // Start from a random setup, as a driver would leave it, so
            // that claims and completions have something to work on.
            let mut p = Plic::new(contexts);
            for (i, v) in priorities.into_iter().enumerate() {
                wr(&mut p, priority(i), v);
            }
            for c in 0..contexts {
                wr(&mut p, enable(c), enables[c]);
                wr(&mut p, threshold(c), thresholds[c]);
            }
            for op in ops {
                let before = p.clone();
                match op {
                    Op::Level(s, h) => p.set_level(s, h),
                    Op::Write(off, w, v) => {
                        let r = p.write(off, w, v);
                        if w != 4 {
                            prop_assert_eq!(r, Err(AccessError::Width));
                        } else if !off.is_multiple_of(4) {
                            prop_assert_eq!(r, Err(AccessError::Misaligned));
                        }
                        if r.is_err() {
                            prop_assert_eq!(p.in_flight, before.in_flight, "a refused store completed something");
                        }
                        check_complete(&before, &p, off, w, v)?;
                    }
                    Op::CompleteInFlight(c, n) => {
                        let flying = p.in_flight;
                        let id = (0..32).filter(|i| flying & (1 << i) != 0).cycle().nth(n).unwrap_or(0);
                        let c = c % contexts;
                        wr(&mut p, claim_complete(c), id);
                        check_complete(&before, &p, claim_complete(c), 4, u64::from(id))?;
                    }
                    Op::Read(off, w) => {
                        let r = p.read(off, w);
                        if w != 4 {
                            prop_assert_eq!(r, Err(AccessError::Width));
                        } else if !off.is_multiple_of(4) {
                            prop_assert_eq!(r, Err(AccessError::Misaligned));
                        }
                        if let Ok(v) = r {
                            prop_assert!(v <= u64::from(u32::MAX));
                        }
                        if let (Some(c), true) = (claim_context(off), w == 4) {
                            if c >= contexts {
                                prop_assert_eq!(r, Err(AccessError::NoRegister));
                            } else {
                                let id = r.unwrap() as usize;
                                prop_assert!(id < SOURCES);
                                prop_assert_eq!(id != 0, before.eip(c));
                                if id != 0 {
                                    let bit = 1u32 << id;
                                    prop_assert!(before.pending() & bit != 0, "claimed {} not pending", id);
                                    prop_assert!(before.enable[c] & bit != 0, "claimed {} not enabled", id);
                                    prop_assert!(before.priority[id] > before.threshold[c]);
                                    prop_assert!(p.pending() & bit == 0, "claimed {} still pending", id);
                                    // And it was the best: no eligible source has a higher
                                    // priority, or the same and a lower id.
                                    let eligible = before.eligible(c);
                                    for j in (1..SOURCES).filter(|j| eligible & (1 << j) != 0) {
                                        let (pj, pid) = (before.priority[j], before.priority[id]);
                                        prop_assert!(pj < pid || (pj == pid && j >= id), "claimed {} over {}", id, j);
                                    }
                                }
                            }
                        }
                    }
                }
                // Pending never includes source 0 or in-flight sources.
                prop_assert_eq!(p.pending() & (1 | p.in_flight), 0);
                let mut words = p.clone();
                let pending = rd(&mut words, PENDING_BASE);
                prop_assert_eq!(pending & 1, 0);
                for c in 0..MAX_CONTEXTS + 1 {
                    if c >= contexts {
                        prop_assert!(!p.eip(c));
                        prop_assert_eq!(p.clone().read(claim_complete(c), 4), Err(AccessError::NoRegister));
                        continue;
                    }
                    // eip agrees with a claim on a copy, and with the
                    // registers read one by one.
                    let mut copy = p.clone();
                    prop_assert_eq!(p.eip(c), claim(&mut copy, c) != 0, "context {}", c);
                    let en = rd(&mut words, enable(c));
                    prop_assert_eq!(en & 1, 0);
                    let th = rd(&mut words, threshold(c));
                    prop_assert!(th <= 7);
                    let by_hand = (1..SOURCES).any(|i| {
                        pending & en & (1 << i) != 0 && rd(&mut words, priority(i)) > th
                    });
                    prop_assert_eq!(p.eip(c), by_hand, "context {}", c);
                }
            }
        }
    }
}
