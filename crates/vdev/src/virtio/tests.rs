//! The console driven as Linux drives it, over the transport.

use super::console::*;
use super::fake::{reg, Guest};
use super::mmio::{INT_USED_BUFFER, MAGIC, VENDOR_ID};
use super::*;

const CTL: Option<&str> = Some("diosix.ctl");

/// Port 0 the console, port 1 named, port 2 not.
fn brought_up() -> Guest {
    let mut g = Guest::new(&[None, CTL, None]);
    g.probe();
    g.settle();
    g
}

#[test]
fn identifies_as_a_version_2_console() {
    let mut g = Guest::new(&[None]);
    assert_eq!(g.rd(reg::MAGIC), MAGIC);
    assert_eq!(g.rd(reg::MAGIC).to_le_bytes(), *b"virt");
    assert_eq!(g.rd(reg::VERSION), 2);
    assert_eq!(g.rd(reg::DEVICE_ID), 3);
    assert_eq!(g.rd(reg::VENDOR_ID), VENDOR_ID);
    assert_eq!(g.rd(reg::CONFIG_GENERATION), 0);
    assert_eq!(g.rd(reg::STATUS), 0);
}

#[test]
fn offers_version_1_and_multiport_only() {
    let mut g = Guest::new(&[None, None]);
    g.wr(reg::DEVICE_FEATURES_SEL, 0);
    assert_eq!(g.rd(reg::DEVICE_FEATURES), F_MULTIPORT as u32);
    g.wr(reg::DEVICE_FEATURES_SEL, 1);
    assert_eq!(g.rd(reg::DEVICE_FEATURES), 1, "VERSION_1 is bit 32");
    g.wr(reg::DEVICE_FEATURES_SEL, 2);
    assert_eq!(g.rd(reg::DEVICE_FEATURES), 0);
}

#[test]
fn features_without_version_1_or_not_offered_are_refused() {
    let mut g = Guest::new(&[None]);
    assert!(!g.negotiate(F_MULTIPORT), "VERSION_1 is required");
    g.driver_ok();
    assert_eq!(g.rd(reg::STATUS) & (STATUS_FEATURES_OK | STATUS_DRIVER_OK), 0, "no DRIVER_OK without FEATURES_OK");
    // Accepting a bit not offered, by hand.
    g.wr(reg::STATUS, 0);
    g.wr(reg::DRIVER_FEATURES_SEL, 1);
    g.wr(reg::DRIVER_FEATURES, 1);
    g.wr(reg::DRIVER_FEATURES_SEL, 0);
    g.wr(reg::DRIVER_FEATURES, (F_MULTIPORT | F_SIZE) as u32);
    g.wr(reg::STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
    assert_eq!(g.rd(reg::STATUS), STATUS_ACKNOWLEDGE | STATUS_DRIVER, "SIZE was not offered");
    assert!(g.negotiate(F_VERSION_1 | F_MULTIPORT));
    assert_eq!(g.dev.features(), F_VERSION_1 | F_MULTIPORT);
    g.wr(reg::DRIVER_FEATURES, 0);
    assert_eq!(g.dev.features(), F_VERSION_1 | F_MULTIPORT, "frozen after FEATURES_OK");
}

#[test]
fn config_space_has_max_nr_ports_in_any_width() {
    let mut g = Guest::new(&[None, CTL, None]);
    let rd = |g: &mut Guest, off, w| g.dev.read(reg::CONFIG + off, w).unwrap();
    assert_eq!(rd(&mut g, 0, 4), 0, "cols and rows: SIZE not offered");
    assert_eq!(rd(&mut g, 4, 4), 3);
    assert_eq!(rd(&mut g, 4, 2), 3);
    assert_eq!(rd(&mut g, 4, 1), 3);
    assert_eq!(rd(&mut g, 5, 1), 0);
    assert_eq!(rd(&mut g, 8, 4), 0, "emerg_wr");
    assert_eq!(g.dev.read(reg::CONFIG + 12, 1), Err(crate::AccessError::NoRegister));
    g.dev.write(&g.ram, reg::CONFIG + 8, 4, u64::from(b'!')).unwrap();
    assert!(g.take_all_output().is_empty(), "emergency write is not offered");
}

impl Guest {
    fn take_all_output(&mut self) -> Vec<u8> {
        (0..self.dev.device().port_count()).flat_map(|p| self.dev.take_output(p)).collect()
    }
}

#[test]
fn control_conversation_follows_linux() {
    let mut g = Guest::new(&[None, CTL, None]);
    g.probe();
    let msgs: Vec<_> = g.settle().into_iter().map(|(id, ev, v, extra)| (id, ev, v, String::from_utf8(extra).unwrap())).collect();
    let s = String::new;
    assert_eq!(
        msgs,
        [
            (0, PORT_ADD, 0, s()),
            (1, PORT_ADD, 0, s()),
            (2, PORT_ADD, 0, s()),
            (0, CONSOLE_PORT, 1, s()),
            (0, PORT_OPEN, 1, s()),
            (1, PORT_NAME, 0, "diosix.ctl".into()),
            (1, PORT_OPEN, 1, s()),
            (2, PORT_OPEN, 1, s()),
        ]
    );
    assert!(g.dev.guest_open(0), "hvc attached to the console port");
    assert!(!g.dev.guest_open(1) && !g.dev.guest_open(2), "nobody opened the others");
    g.control(1, PORT_OPEN, 1);
    assert!(g.dev.guest_open(1));
    g.control(1, PORT_OPEN, 0);
    assert!(!g.dev.guest_open(1));
    // Said again, PORT_READY and DEVICE_READY change nothing.
    g.control(1, PORT_READY, 1);
    g.control(u32::MAX, DEVICE_READY, 1);
    assert!(g.control_msgs().is_empty());
    assert_eq!(g.dev.broken(), None);
}

#[test]
fn control_messages_wait_for_buffers() {
    let mut g = Guest::new(&[None, CTL]);
    assert!(g.negotiate(F_VERSION_1 | F_MULTIPORT));
    (0..6).for_each(|q| g.setup_queue(q));
    g.driver_ok();
    g.post(CONTROL_RX, 1);
    g.control(u32::MAX, DEVICE_READY, 1);
    assert_eq!(g.received(CONTROL_RX).len(), 1, "one buffer, one message");
    g.post(CONTROL_RX, 3);
    let got = g.received(CONTROL_RX);
    assert_eq!(got.len(), 1, "the second PORT_ADD");
    assert_eq!(&got[0][..6], &[1, 0, 0, 0, PORT_ADD as u8, 0]);
}

#[test]
fn transmits_from_the_console_and_the_named_port() {
    let mut g = brought_up();
    g.send(1, &[b"hello "]);
    g.send(1, &[b"wor", b"ld\n"]);
    assert_eq!(g.dev.take_output(0), b"hello world\n");
    assert!(g.dev.take_output(0).is_empty(), "taken once");
    g.control(1, PORT_OPEN, 1);
    g.send(receive_queue(1) + 1, &[b"{\"cmd\":1}"]);
    assert_eq!(g.dev.take_output(1), b"{\"cmd\":1}");
    assert!(g.dev.take_output(0).is_empty() && g.dev.take_output(2).is_empty());
    let used = g.received(1);
    assert_eq!(used.len(), 2);
    assert!(used.iter().all(Vec::is_empty), "nothing written into a transmit buffer");
}

#[test]
fn output_beyond_the_limit_is_dropped_and_counted() {
    let mut g = brought_up();
    let page = [b'x'; 4096];
    for _ in 0..(OUTPUT_LIMIT / 4096 + 2) {
        g.send(1, &[&page]);
        g.received(1);
    }
    assert_eq!(g.dev.take_output(0).len(), OUTPUT_LIMIT);
    assert_eq!(g.dev.device().dropped_output(0), 2 * 4096);
}

#[test]
fn input_reaches_posted_buffers_of_an_open_port() {
    let mut g = brought_up();
    assert_eq!(g.dev.push_input(&g.ram, 0, b"ls\n"), 3);
    assert_eq!(g.received(0), [b"ls\n".to_vec()]);
    // Port 1 is not open: input waits, then arrives on open.
    assert_eq!(g.dev.push_input(&g.ram, 1, b"early"), 5);
    assert!(g.received(receive_queue(1)).is_empty());
    g.control(1, PORT_OPEN, 1);
    assert_eq!(g.received(receive_queue(1)), [b"early".to_vec()]);
    // No buffers left (4 were posted, 1 used, say use them up): it waits.
    let rxq = receive_queue(1);
    for _ in 0..3 {
        g.dev.push_input(&g.ram, 1, b"a");
    }
    assert_eq!(g.received(rxq).len(), 3);
    assert_eq!(g.dev.push_input(&g.ram, 1, b"later"), 5);
    assert_eq!(g.dev.device().pending_input(1), 5);
    assert_eq!(g.dev.input_room(1), INPUT_LIMIT - 5, "what waits takes room");
    g.post(rxq, 1);
    assert_eq!(g.received(rxq), [b"later".to_vec()]);
    // Closing drops what waits.
    g.dev.push_input(&g.ram, 1, b"stale");
    g.control(1, PORT_OPEN, 0);
    assert_eq!(g.dev.device().pending_input(1), 0);
}

#[test]
fn input_is_bounded_and_split_over_buffers() {
    let mut g = brought_up();
    let big = vec![7u8; INPUT_LIMIT + 100];
    g.control(2, PORT_OPEN, 1);
    let rxq = receive_queue(2);
    g.received(rxq);
    // 4 page buffers posted: all of it fits, in page-sized pieces.
    assert_eq!(g.dev.push_input(&g.ram, 2, &big), INPUT_LIMIT);
    let got = g.received(rxq);
    assert_eq!(got.iter().map(Vec::len).sum::<usize>(), INPUT_LIMIT);
    assert_eq!(got.len(), 1, "one page holds the whole limit");
    assert_eq!(g.dev.push_input(&g.ram, 9, b"x"), 0, "no such port");
    assert_eq!(g.dev.input_room(9), 0, "no such port");
    assert_eq!(g.dev.input_room(2), INPUT_LIMIT, "all of it was delivered");
}

#[test]
fn interrupt_status_and_ack() {
    let mut g = brought_up();
    let pending = g.rd(reg::INTERRUPT_STATUS);
    g.wr(reg::INTERRUPT_ACK, pending);
    assert!(!g.dev.interrupt());
    g.dev.push_input(&g.ram, 0, b"x");
    assert!(g.dev.interrupt());
    assert_eq!(g.rd(reg::INTERRUPT_STATUS), INT_USED_BUFFER);
    g.wr(reg::INTERRUPT_ACK, INT_USED_BUFFER);
    assert!(!g.dev.interrupt());
    // Linux's control-o has no callback, so it asks for no interrupts.
    let l = g.queue(CONTROL_TX).layout;
    g.ram.write_u16(l.avail, 1);
    g.control(0, PORT_OPEN, 1);
    assert!(!g.dev.interrupt(), "the driver asked for none");
}

#[test]
fn reset_forgets_the_driver_and_a_second_probe_works() {
    let mut g = brought_up();
    g.control(1, PORT_OPEN, 1);
    g.dev.push_input(&g.ram, 0, b"x");
    g.wr(reg::STATUS, 0);
    assert_eq!(g.rd(reg::STATUS), 0);
    assert_eq!(g.rd(reg::INTERRUPT_STATUS), 0);
    g.wr(reg::QUEUE_SEL, 0);
    assert_eq!(g.rd(reg::QUEUE_READY), 0);
    assert!(!g.dev.guest_open(0) && !g.dev.guest_open(1));
    g.queues.clear();
    g.probe();
    assert_eq!(g.settle().len(), 8, "the whole conversation again");
}

#[test]
fn a_driver_without_multiport_gets_port_0_alone() {
    let mut g = Guest::new(&[None, CTL]);
    assert!(g.negotiate(F_VERSION_1));
    g.setup_queue(0);
    g.setup_queue(1);
    g.driver_ok();
    assert!(g.dev.guest_open(0));
    g.post(0, 1);
    g.dev.push_input(&g.ram, 0, b"in");
    assert_eq!(g.received(0), [b"in".to_vec()]);
    g.send(1, &[b"out"]);
    assert_eq!(g.dev.take_output(0), b"out");
}

#[test]
fn nothing_is_processed_before_driver_ok() {
    let mut g = Guest::new(&[None]);
    assert!(g.negotiate(F_VERSION_1 | F_MULTIPORT));
    (0..4).for_each(|q| g.setup_queue(q));
    g.send(1, &[b"early"]);
    assert!(g.dev.take_output(0).is_empty());
    let l = g.queue(1).layout;
    assert_eq!(l.used_idx(&g.ram), 0);
    g.driver_ok();
    assert_eq!(g.dev.take_output(0), b"early", "taken at DRIVER_OK");
}
