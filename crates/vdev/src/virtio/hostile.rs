//! A driver that breaks the rules: every access refused or the device
//! broken, never a panic, never a write outside RAM (the fake RAM
//! panics on one), never an endless loop.

use proptest::prelude::*;

use super::console::*;
use super::fake::{reg, FakeRam, Guest, RawDesc, RingLayout, BASE, QSIZE};
use super::mmio::INT_CONFIG_CHANGE;
use super::*;
use crate::AccessError;

const NEXT: u16 = 1;
const WRITE: u16 = 2;
const INDIRECT: u16 = 4;
const END: u64 = BASE + FakeRam::SIZE;
const DATA: u64 = BASE + 0x7_0000;

fn brought_up() -> Guest {
    let mut g = Guest::new(&[None, Some("diosix.ctl")]);
    g.probe();
    g.settle();
    g.control(1, PORT_OPEN, 1);
    let pending = g.rd(reg::INTERRUPT_STATUS);
    g.wr(reg::INTERRUPT_ACK, pending);
    g
}

/// Writes `descs` at indexes 0.. of queue `q`'s table behind the fake
/// driver's back, makes head 0 available and kicks.
fn inject(g: &mut Guest, q: u16, descs: &[RawDesc]) {
    let l = g.queue(q).layout;
    for (i, (addr, len, flags, next)) in descs.iter().enumerate() {
        l.set_desc(&g.ram, i as u16, *addr, *len, *flags, *next);
    }
    let idx = g.ram.read_u16(l.avail + 2);
    l.make_available(&g.ram, idx, 0);
    g.wr(reg::QUEUE_NOTIFY, u32::from(q));
}

/// The device is broken for `fault` on `queue`, says so, does nothing
/// more, and works again after a reset and a new probe.
fn assert_broken(mut g: Guest, queue: u32, fault: Fault) {
    assert_eq!(g.dev.broken(), Some(Broken { queue, fault }));
    assert_ne!(g.rd(reg::STATUS) & STATUS_DEVICE_NEEDS_RESET, 0);
    assert_ne!(g.rd(reg::INTERRUPT_STATUS) & INT_CONFIG_CHANGE, 0);
    assert!(g.dev.interrupt());
    g.wr(reg::STATUS, 0xff & !STATUS_DEVICE_NEEDS_RESET);
    assert_ne!(g.rd(reg::STATUS) & STATUS_DEVICE_NEEDS_RESET, 0, "the driver cannot clear it");
    let before = g.ram.peek(BASE, 0x20000);
    g.dev.push_input(&g.ram, 0, b"x");
    for q in 0..8 {
        g.wr(reg::QUEUE_NOTIFY, q);
    }
    assert_eq!(g.ram.peek(BASE, 0x20000), before, "no ring touched while broken");
    assert!(!format!("{}", g.dev.broken().unwrap()).is_empty());
    g.queues.clear();
    g.probe();
    assert_eq!(g.dev.broken(), None);
    assert_eq!(g.settle().first(), Some(&(0, PORT_ADD, 0, Vec::new())), "a reset brings it back");
}

#[test]
fn hostile_transmit_chains_break_the_device() {
    let cases: [(&[RawDesc], Fault); 9] = [
        (&[(END - 2, 4, 0, 0)], Fault::BufferOutsideRam),
        (&[(0x1000, 4, 0, 0)], Fault::BufferOutsideRam),
        (&[(u64::MAX, 2, 0, 0)], Fault::LengthOverflow),
        (&[(DATA, u32::MAX, 0, 0)], Fault::ChainTooBig),
        (&[(DATA, 4, NEXT, 1), (DATA, 4, NEXT, 2), (DATA, 4, NEXT, 0)], Fault::ChainLoop),
        (&[(DATA, 4, NEXT, 0)], Fault::ChainLoop),
        (&[(DATA, 4, NEXT, QSIZE)], Fault::DescIndex),
        (&[(DATA, 16, INDIRECT, 0)], Fault::Indirect),
        (&[(DATA, 4, WRITE, 0)], Fault::UnexpectedWritable),
    ];
    for (descs, fault) in cases {
        let mut g = brought_up();
        inject(&mut g, 1, descs);
        assert!(g.dev.take_output(0).is_empty(), "{descs:x?}");
        assert_broken(g, 1, fault);
    }
}

#[test]
fn wrong_direction_buffers_break_the_device() {
    let mut g = brought_up();
    inject(&mut g, CONTROL_TX, &[(DATA, 8, WRITE, 0)]);
    assert_broken(g, u32::from(CONTROL_TX), Fault::UnexpectedWritable);
    let mut g = brought_up();
    inject(&mut g, CONTROL_TX, &[(DATA, 8, WRITE | NEXT, 1), (DATA, 8, 0, 0)]);
    assert_broken(g, u32::from(CONTROL_TX), Fault::ReadableAfterWritable);
    // A readable buffer among the console's receive buffers.
    let mut g = brought_up();
    let rxq = receive_queue(1);
    while g.received(rxq).is_empty() {
        g.dev.push_input(&g.ram, 1, b"use them up");
    }
    for _ in 0..4 {
        g.dev.push_input(&g.ram, 1, b"more");
        g.received(rxq);
    }
    inject(&mut g, rxq, &[(DATA, 64, 0, 0)]);
    g.dev.push_input(&g.ram, 1, b"x");
    assert_broken(g, u32::from(rxq), Fault::UnexpectedReadable);
    // A readable control receive buffer when the device has news.
    let mut g = Guest::new(&[None]);
    assert!(g.negotiate(F_VERSION_1 | F_MULTIPORT));
    (0..4).for_each(|q| g.setup_queue(q));
    g.driver_ok();
    inject(&mut g, CONTROL_RX, &[(DATA, 64, 0, 0)]);
    g.control(u32::MAX, DEVICE_READY, 1);
    assert_broken(g, u32::from(CONTROL_RX), Fault::UnexpectedReadable);
}

#[test]
fn avail_index_jump_breaks_the_device() {
    let mut g = brought_up();
    let l = g.queue(1).layout;
    let idx = g.ram.read_u16(l.avail + 2);
    g.ram.write_u16(l.avail + 2, idx.wrapping_add(QSIZE + 1));
    g.wr(reg::QUEUE_NOTIFY, 1);
    assert_broken(g, 1, Fault::AvailJump);
}

#[test]
fn notify_of_a_queue_that_does_not_exist_breaks_the_device() {
    let mut g = brought_up();
    g.wr(reg::QUEUE_NOTIFY, 6);
    assert_broken(g, 6, Fault::NoSuchQueue);
}

#[test]
fn bad_queue_setup_breaks_the_device() {
    type Setup = fn(&mut Guest);
    // Whether the driver gives the queue its rings first, then what else.
    let cases: [(bool, Setup, Fault); 5] = [
        (false, |_| {}, Fault::RingOutsideRam),
        (true, |g| g.wr(reg::QUEUE_NUM, 12), Fault::QueueSize),
        (true, |g| g.wr(reg::QUEUE_NUM, 512), Fault::QueueSize),
        (true, |g| g.wr(reg::QUEUE_DESC_LOW, (END - 0x80) as u32), Fault::RingOutsideRam),
        (true, |g| g.wr(reg::QUEUE_DEVICE_HIGH, 1), Fault::RingOutsideRam),
    ];
    for (rings, setup, fault) in cases {
        let mut g = Guest::new(&[None]);
        assert!(g.negotiate(F_VERSION_1 | F_MULTIPORT));
        g.wr(reg::QUEUE_SEL, 0);
        if rings {
            let l = RingLayout::at(BASE, QSIZE);
            g.wr(reg::QUEUE_NUM, u32::from(QSIZE));
            g.wr(reg::QUEUE_DESC_LOW, l.desc as u32);
            g.wr(reg::QUEUE_DRIVER_LOW, l.avail as u32);
            g.wr(reg::QUEUE_DEVICE_LOW, l.used as u32);
        }
        setup(&mut g);
        g.wr(reg::QUEUE_READY, 1);
        assert_eq!(g.rd(reg::QUEUE_READY), 0, "{fault:?}");
        assert_eq!(g.dev.broken(), Some(Broken { queue: 0, fault }));
        assert_ne!(g.rd(reg::STATUS) & STATUS_DEVICE_NEEDS_RESET, 0);
    }
}

#[test]
fn a_ready_queue_keeps_its_setup() {
    let mut g = brought_up();
    g.wr(reg::QUEUE_SEL, 1);
    g.wr(reg::QUEUE_DESC_LOW, 0);
    g.wr(reg::QUEUE_NUM, 3);
    g.send(1, &[b"still fine"]);
    assert_eq!(g.dev.take_output(0), b"still fine");
    g.wr(reg::QUEUE_SEL, 99);
    assert_eq!(g.rd(reg::QUEUE_NUM_MAX), 0, "no such queue");
    g.wr(reg::QUEUE_READY, 1);
    assert_eq!(g.rd(reg::QUEUE_READY), 0);
    assert_eq!(g.dev.broken(), None);
}

/// Whether an access of `width` at `offset` is one the window takes.
fn allowed(offset: u64, width: u8) -> bool {
    if offset >= reg::CONFIG {
        let c = offset - reg::CONFIG;
        matches!(width, 1 | 2 | 4) && c.is_multiple_of(u64::from(width)) && c + u64::from(width) <= 12
    } else {
        width == 4 && reg::ALL.contains(&offset)
    }
}

#[test]
fn every_width_and_alignment_at_every_offset() {
    let mut g = brought_up();
    let mut seen = 0;
    for offset in 0..0x200u64 {
        for width in 0..=16u8 {
            let r = g.dev.read(offset, width);
            assert_eq!(r.is_ok(), allowed(offset, width), "read {offset:#x}/{width}");
            if r.is_err() && width == 4 && offset % 4 == 0 {
                assert_eq!(r, Err(AccessError::NoRegister), "{offset:#x}");
            }
            let w = g.dev.write(&g.ram, offset, width, offset.wrapping_mul(0x0101_0101));
            assert_eq!(w.is_ok(), allowed(offset, width), "write {offset:#x}/{width}");
            seen += usize::from(w.is_ok());
        }
    }
    assert_eq!(seen, reg::ALL.len() + 3 + 6 + 12);
    assert_eq!(g.dev.read(reg::CONFIG + 2, 4), Err(AccessError::Misaligned));
    assert_eq!(g.dev.read(0x72, 4), Err(AccessError::Misaligned));
    assert_eq!(g.dev.read(0x70, 8), Err(AccessError::Width));
    assert_eq!(g.dev.read(u64::MAX - 1, 2), Err(AccessError::NoRegister));
    assert_eq!(g.dev.write(&g.ram, u64::MAX - 3, 4, 0), Err(AccessError::NoRegister));
}

#[test]
fn shared_memory_regions_read_as_absent() {
    let mut g = Guest::new(&[None]);
    g.wr(reg::SHM[0], 0);
    for off in &reg::SHM[1..] {
        assert_eq!(g.rd(*off), u32::MAX);
    }
    for off in [reg::QUEUE_DESC_HIGH, reg::QUEUE_DRIVER_HIGH, reg::QUEUE_DEVICE_HIGH] {
        assert_eq!(g.rd(off), 0, "write-only reads 0");
    }
}

/// A descriptor, mostly aimed near or in RAM so chains get walked.
fn any_desc() -> impl Strategy<Value = RawDesc> {
    let addr = prop_oneof![
        (0u64..FakeRam::SIZE).prop_map(|o| BASE + o),
        (0u64..0x200).prop_map(|o| END - o),
        any::<u64>(),
    ];
    let addr = prop_oneof![8 => addr, 1 => Just(0u64)];
    let len = prop_oneof![10 => 0u32..0x2000, 1 => any::<u32>()];
    let flags = prop_oneof![12 => 0u16..4, 1 => 0u16..8, 1 => any::<u16>()];
    (addr, len, flags, prop_oneof![20 => 0u16..QSIZE, 1 => any::<u16>()])
}

#[derive(Clone, Debug)]
enum Op {
    /// Rewrite queue `q`'s descriptor `i`.
    Desc(u16, u16, RawDesc),
    /// Rewrite an available ring field (flags, idx or a slot).
    Avail(u16, u16, u16),
    /// Offer head `h` on queue `q` as a driver would, and notify.
    Offer(u16, u16),
    Notify(u32),
    Write(u64, u8, u64),
    Read(u64, u8),
    Input(usize, Vec<u8>),
    Take(usize),
}

fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u16..6, 0u16..QSIZE, any_desc()).prop_map(|(q, i, d)| Op::Desc(q, i, d)),
        3 => (0u16..6, 0u16..QSIZE + 2, any::<u16>()).prop_map(|(q, f, v)| Op::Avail(q, f, v)),
        6 => (0u16..6, prop_oneof![20 => 0u16..QSIZE, 1 => any::<u16>()]).prop_map(|(q, h)| Op::Offer(q, h)),
        3 => prop_oneof![20 => 0u32..6, 1 => any::<u32>()].prop_map(Op::Notify),
        1 => (0u64..0x120, 1u8..9, any::<u64>()).prop_map(|(o, w, v)| Op::Write(o & !3, w, v)),
        1 => (0u64..0x200, 0u8..9).prop_map(|(o, w)| Op::Read(o, w)),
        2 => (0usize..3, proptest::collection::vec(any::<u8>(), 0..64)).prop_map(|(p, b)| Op::Input(p, b)),
        1 => (0usize..3).prop_map(Op::Take),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Random ring contents and register stores on a device Linux has
    /// brought up: no panic, no write outside RAM (the fake RAM would
    /// panic), every call returns, and the bounds hold.
    #[test]
    fn random_rings_and_registers_are_safe(fill in proptest::collection::vec(any::<u8>(), 1..64),
                                           ops in proptest::collection::vec(any_op(), 0..120)) {
        let mut g = brought_up();
        // Random bytes everywhere but the rings and a few buffers.
        let junk: Vec<u8> = fill.iter().cycle().take(0x1000).copied().collect();
        for page in (0x20000..FakeRam::SIZE).step_by(0x1000) {
            g.ram.poke(BASE + page, &junk);
        }
        for op in ops {
            match op {
                Op::Desc(q, i, (a, len, f, n)) => {
                    let l = g.queue(q).layout;
                    l.set_desc(&g.ram, i, a, len, f, n);
                }
                Op::Avail(q, field, v) => {
                    let l = g.queue(q).layout;
                    g.ram.write_u16(l.avail + 2 * u64::from(field), v);
                }
                Op::Offer(q, h) => {
                    let l = g.queue(q).layout;
                    l.make_available(&g.ram, g.ram.read_u16(l.avail + 2), h);
                    let _ = g.dev.write(&g.ram, reg::QUEUE_NOTIFY, 4, u64::from(q));
                }
                Op::Notify(q) => { let _ = g.dev.write(&g.ram, reg::QUEUE_NOTIFY, 4, u64::from(q)); }
                Op::Write(o, w, v) => { let _ = g.dev.write(&g.ram, o, w, v); }
                Op::Read(o, w) => prop_assert_eq!(g.dev.read(o, w).is_ok(), allowed(o, w)),
                Op::Input(p, b) => { prop_assert!(g.dev.push_input(&g.ram, p, &b) <= b.len()); }
                Op::Take(p) => prop_assert!(g.dev.take_output(p).len() <= OUTPUT_LIMIT),
            }
            let status = g.dev.status();
            prop_assert_eq!(g.dev.broken().is_some(), status & STATUS_DEVICE_NEEDS_RESET != 0);
            for p in 0..2 {
                prop_assert!(g.dev.device().pending_input(p) <= INPUT_LIMIT);
            }
        }
    }
}
