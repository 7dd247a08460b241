//! The input rules of the crate docs: focus, the focus key, queues.

use conmux::{FOCUS_KEY, INPUT_BYTES, Mux, Notice};

fn focus(id: u32, tag: &str) -> Option<Notice> {
    Some(Notice::Focus { id, tag: tag.into() })
}

fn typed(mux: &mut Mux, bytes: &[u8]) {
    for &b in bytes {
        assert_eq!(mux.input(b), None);
    }
}

fn read_all(mux: &mut Mux, id: u32) -> Vec<u8> {
    let mut buf = [0; 2 * INPUT_BYTES];
    let n = mux.read(id, &mut buf);
    buf[..n].to_vec()
}

/// Capsules 5 (boot), 2 and 9, added in that order.
fn three() -> Mux {
    let mut mux = Mux::new(false);
    assert!(mux.add(5, "boot"));
    assert!(mux.add(2, "b"));
    assert!(mux.add(9, "c"));
    mux
}

#[test]
fn the_boot_capsule_has_the_focus() {
    let mut mux = Mux::new(false);
    assert_eq!(mux.focus(), None);
    assert_eq!(mux.notice(), Notice::Nobody);
    mux.add(5, "boot");
    assert_eq!(mux.focus(), Some(5));
    mux.add(2, "b");
    assert_eq!(mux.focus(), Some(5));
    assert_eq!(Some(mux.notice()), focus(5, "boot"));
}

#[test]
fn the_focus_key_cycles_in_id_order() {
    let mut mux = three();
    assert_eq!(mux.input(FOCUS_KEY), focus(9, "c"));
    assert_eq!(mux.input(FOCUS_KEY), focus(2, "b"));
    assert_eq!(mux.input(FOCUS_KEY), focus(5, "boot"));
    assert_eq!(mux.focus(), Some(5));
    assert_eq!(mux.dropped_input(), 0);
}

#[test]
fn input_goes_to_the_focus_only() {
    let mut mux = three();
    typed(&mut mux, b"ls\r");
    assert_eq!(read_all(&mut mux, 5), b"ls\r");
    assert_eq!(read_all(&mut mux, 5), b"");
    assert_eq!(read_all(&mut mux, 2), b"");
    mux.input(FOCUS_KEY);
    typed(&mut mux, b"x");
    assert_eq!(read_all(&mut mux, 9), b"x");
    assert_eq!(read_all(&mut mux, 5), b"");
}

#[test]
fn queued_input_waits_after_the_focus_moves() {
    let mut mux = three();
    typed(&mut mux, b"abc");
    mux.input(FOCUS_KEY);
    typed(&mut mux, b"z");
    assert_eq!(read_all(&mut mux, 5), b"abc");
    assert_eq!(read_all(&mut mux, 9), b"z");
}

#[test]
fn reads_take_what_fits() {
    let mut mux = three();
    typed(&mut mux, b"abcde");
    let mut buf = [0; 2];
    assert_eq!(mux.read(5, &mut buf), 2);
    assert_eq!(&buf, b"ab");
    assert_eq!(mux.read(5, &mut []), 0);
    assert_eq!(read_all(&mut mux, 5), b"cde");
}

#[test]
fn a_full_queue_drops_and_counts() {
    let mut mux = three();
    let bytes: Vec<u8> = (0..INPUT_BYTES + 44).map(|i| b'a' + (i % 26) as u8).collect();
    typed(&mut mux, &bytes);
    assert_eq!(mux.dropped_input(), 44);
    assert_eq!(read_all(&mut mux, 5), &bytes[..INPUT_BYTES]);
    typed(&mut mux, b"!");
    assert_eq!(read_all(&mut mux, 5), b"!");
    assert_eq!(mux.dropped_input(), 44);
}

#[test]
fn with_one_capsule_the_focus_key_is_an_ordinary_byte() {
    let mut mux = Mux::new(false);
    mux.add(3, "only");
    assert_eq!(mux.input(FOCUS_KEY), None);
    assert_eq!(read_all(&mut mux, 3), [FOCUS_KEY]);
    assert_eq!(mux.focus(), Some(3));
}

#[test]
fn without_capsules_input_is_dropped() {
    let mut mux = Mux::new(false);
    assert_eq!(mux.input(b'x'), None);
    assert_eq!(mux.input(FOCUS_KEY), None);
    assert_eq!(mux.dropped_input(), 2);
}

#[test]
fn removing_the_focus_returns_it_to_the_boot_capsule() {
    let mut mux = three();
    mux.input(FOCUS_KEY);
    assert_eq!(mux.focus(), Some(9));
    assert_eq!(mux.remove(9), focus(5, "boot"));
    assert_eq!(mux.focus(), Some(5));
}

#[test]
fn without_the_boot_capsule_the_earliest_added_takes_the_focus() {
    let mut mux = three();
    assert_eq!(mux.remove(5), focus(2, "b"));
    assert_eq!(mux.input(FOCUS_KEY), focus(9, "c"));
    assert_eq!(mux.remove(9), focus(2, "b"));
    assert_eq!(mux.remove(2), Some(Notice::Nobody));
    assert_eq!(mux.focus(), None);
    // The next capsule added has it.
    mux.add(7, "d");
    assert_eq!(mux.focus(), Some(7));
}

#[test]
fn removing_another_capsule_keeps_the_focus() {
    let mut mux = three();
    assert_eq!(mux.remove(2), None);
    assert_eq!(mux.focus(), Some(5));
    assert_eq!(mux.input(FOCUS_KEY), focus(9, "c"));
    assert_eq!(mux.input(FOCUS_KEY), focus(5, "boot"));
}

#[test]
fn removing_a_capsule_drops_its_queue() {
    let mut mux = three();
    typed(&mut mux, b"abc");
    mux.remove(5);
    mux.add(5, "boot");
    assert_eq!(read_all(&mut mux, 5), b"");
}

#[test]
fn unknown_ids_are_ignored() {
    let mut mux = three();
    assert_eq!(mux.remove(77), None);
    assert_eq!(mux.read(77, &mut [0; 4]), 0);
    assert!(!mux.add(2, "again"));
    assert_eq!(mux.input(FOCUS_KEY), focus(9, "c"));
    assert_eq!(mux.input(FOCUS_KEY), focus(2, "b"), "the label is the first one given");
}

#[test]
fn the_notice_names_the_shown_label() {
    let mut mux = Mux::new(false);
    mux.add(0, "");
    mux.add(1, "diosix");
    assert_eq!(mux.notice(), Notice::Focus { id: 0, tag: "0".into() });
    assert_eq!(mux.input(FOCUS_KEY), focus(1, "capsule-diosix"));
    assert_eq!(
        mux.notice().to_string(),
        "console input goes to capsule-diosix (capsule 1); Ctrl-] switches"
    );
}

#[test]
fn focus_given_by_the_manager_comes_back_with_the_key() {
    let mut mux = three();
    assert_eq!(mux.give_focus(9, 5), focus(9, "c"));
    typed(&mut mux, b"x");
    assert_eq!(read_all(&mut mux, 9), b"x");
    assert_eq!(mux.input(FOCUS_KEY), focus(5, "boot"), "back to the boot capsule, not on to the next");
    assert_eq!(mux.input(FOCUS_KEY), focus(9, "c"), "then the key cycles again");
    assert_eq!(mux.give_focus(77, 5), None, "an unknown capsule");
    assert_eq!(mux.focus(), Some(9), "unchanged");
}

#[test]
fn the_way_back_is_forgotten_if_its_capsule_is_gone() {
    let mut mux = three();
    assert_eq!(mux.give_focus(2, 9), focus(2, "b"));
    mux.remove(9);
    assert_eq!(mux.input(FOCUS_KEY), focus(5, "boot"), "cycles on from 2 as usual");
}
