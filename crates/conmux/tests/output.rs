//! The output rules of the crate docs, one by one.

use conmux::{Mux, RECENT_BYTES, Source};

const HV: Source = Source::Hypervisor;
const A: Source = Source::Capsule(1);
const B: Source = Source::Capsule(2);

/// What one write sends to the terminal.
fn w(mux: &mut Mux, src: Source, bytes: &[u8]) -> String {
    let mut sent = Vec::new();
    mux.write(src, bytes, &mut |b| sent.extend_from_slice(b));
    String::from_utf8(sent).expect("these tests write ASCII")
}

fn one() -> Mux {
    let mut mux = Mux::new(false);
    mux.add(1, "a");
    mux
}

fn two(colour: bool) -> Mux {
    let mut mux = Mux::new(colour);
    mux.add(1, "a");
    mux.add(2, "b");
    mux
}

/// The hypervisor keeps its mux in a static.
static SHARED: std::sync::Mutex<Mux> = std::sync::Mutex::new(Mux::new(true));

#[test]
fn a_mux_can_be_a_static() {
    let mut mux = SHARED.lock().unwrap();
    mux.add(1, "a");
    assert_eq!(w(&mut mux, A, b"x"), "x");
}

#[test]
fn one_capsule_passes_untouched() {
    let mut mux = one();
    for bytes in ["Linux version 6.6\r\n", "\x1b[1;32m  OK  \x1b[0m x\r\n", "login: ", "r", "oot\r\n", "50%\r60%\r\n"] {
        assert_eq!(w(&mut mux, A, bytes.as_bytes()), bytes);
    }
}

#[test]
fn two_capsules_tag_their_lines() {
    let mut mux = two(false);
    assert_eq!(w(&mut mux, A, b"hello\r\nworld\r\n"), "[a] hello\r\n[a] world\r\n");
    assert_eq!(w(&mut mux, B, b"hi\r\n"), "[b] hi\r\n");
}

#[test]
fn a_line_is_tagged_once_however_it_is_written() {
    let mut mux = two(false);
    assert_eq!(w(&mut mux, A, b"h"), "[a] h");
    assert_eq!(w(&mut mux, A, b"ello"), "ello");
    assert_eq!(w(&mut mux, A, b"\r"), "\r");
    assert_eq!(w(&mut mux, A, b"\n"), "\n");
    assert_eq!(w(&mut mux, A, b"next"), "[a] next");
}

#[test]
fn a_prompt_shows_at_once() {
    let mut mux = two(false);
    assert_eq!(w(&mut mux, A, b"login: "), "[a] login: ");
    let mut mux = one();
    assert_eq!(w(&mut mux, A, b"[root@box ~]# "), "[root@box ~]# ");
}

#[test]
fn another_source_ends_an_open_line_first() {
    let mut mux = two(false);
    assert_eq!(w(&mut mux, A, b"abc"), "[a] abc");
    assert_eq!(w(&mut mux, B, b"def\r\n"), "\r\n[b] def\r\n");
    assert_eq!(w(&mut mux, A, b"ghi\r\n"), "[a] ghi\r\n");
    assert_eq!(w(&mut mux, B, b"jk"), "[b] jk");
    assert_eq!(w(&mut mux, A, b"lm"), "\r\n[a] lm");
}

#[test]
fn a_finished_line_is_not_broken_again() {
    let mut mux = two(false);
    w(&mut mux, A, b"abc\r\n");
    assert_eq!(w(&mut mux, B, b"x"), "[b] x");
    // A line with nothing but CR on it is empty.
    let mut mux = two(false);
    w(&mut mux, A, b"abc\r\n\r");
    assert_eq!(w(&mut mux, B, b"x"), "[b] x");
}

#[test]
fn the_hypervisor_breaks_lines_and_is_not_tagged() {
    let mut mux = two(false);
    assert_eq!(w(&mut mux, A, b"login: "), "[a] login: ");
    assert_eq!(w(&mut mux, HV, b"[diosix] hello\r\n"), "\r\n[diosix] hello\r\n");
    assert_eq!(w(&mut mux, A, b"root"), "[a] root");
    // And is broken in turn.
    assert_eq!(w(&mut mux, HV, b"[diosix] half"), "\r\n[diosix] half");
    assert_eq!(w(&mut mux, B, b"x\r\n"), "\r\n[b] x\r\n");
}

#[test]
fn the_hypervisor_breaks_a_single_capsules_line() {
    let mut mux = one();
    assert_eq!(w(&mut mux, A, b"login: "), "login: ");
    assert_eq!(w(&mut mux, HV, b"[diosix] hello\r\n"), "\r\n[diosix] hello\r\n");
    assert_eq!(w(&mut mux, A, b"root"), "root");
}

#[test]
fn tags_are_coloured_by_id_when_colour_is_on() {
    let mut mux = two(true);
    assert_eq!(w(&mut mux, A, b"x\r\n"), "\x1b[0;36m[a]\x1b[0m x\r\n");
    assert_eq!(w(&mut mux, B, b"y\r\n"), "\x1b[0;33m[b]\x1b[0m y\r\n");
    assert_eq!(w(&mut mux, HV, b"[diosix] z\r\n"), "[diosix] z\r\n");
}

#[test]
fn tags_start_and_stop_with_the_second_capsule() {
    let mut mux = one();
    assert_eq!(w(&mut mux, A, b"one\r\n"), "one\r\n");
    mux.add(2, "b");
    assert_eq!(w(&mut mux, A, b"two\r\n"), "[a] two\r\n");
    mux.remove(2);
    assert_eq!(w(&mut mux, A, b"three\r\n"), "three\r\n");
}

#[test]
fn after_a_lone_cr_the_tag_is_written_again() {
    let mut mux = two(false);
    assert_eq!(w(&mut mux, A, b"10%\r20%\r"), "[a] 10%\r[a] 20%\r");
    assert_eq!(w(&mut mux, A, b"\n"), "\n");
    assert_eq!(w(&mut mux, A, b"\r\n\r\n"), "\r\n\r\n", "empty lines stay empty");
}

#[test]
fn no_tag_inside_an_escape_sequence() {
    let mut mux = two(false);
    assert_eq!(w(&mut mux, A, b"\x1b[1m*\r\n"), "[a] \x1b[1m*\r\n");
    // LF inside a sequence is carried out without ending it.
    assert_eq!(w(&mut mux, A, b"\x1b[0\nm*"), "[a] \x1b[0\nm[a] *");
}

#[test]
fn a_half_sent_escape_sequence_is_cancelled() {
    let mut mux = two(false);
    assert_eq!(w(&mut mux, A, b"\x1b[3"), "[a] \x1b[3");
    assert_eq!(w(&mut mux, B, b"x\r\n"), "\x18\r\n[b] x\r\n");
    let mut mux = one();
    assert_eq!(w(&mut mux, A, b"\x1b]0;title"), "\x1b]0;title");
    assert_eq!(w(&mut mux, HV, b"[diosix] x\r\n"), "\x18\r\n[diosix] x\r\n");
}

#[test]
fn colours_do_not_leak_into_another_sources_lines() {
    let mut mux = two(false);
    assert_eq!(w(&mut mux, A, b"\x1b[31mred"), "[a] \x1b[31mred");
    assert_eq!(w(&mut mux, B, b"plain\r\n"), "\x1b[0m\r\n[b] plain\r\n");
    // A carries on in red.
    assert_eq!(w(&mut mux, A, b"more"), "[a] \x1b[31mmore");
    assert_eq!(w(&mut mux, A, b"\x1b[0m\r\n"), "\x1b[0m\r\n");
    assert_eq!(w(&mut mux, B, b"x"), "[b] x");
}

#[test]
fn a_coloured_tag_keeps_the_capsules_colours() {
    let mut mux = two(true);
    let tag = "\x1b[0;36m[a]\x1b[0m ";
    assert_eq!(w(&mut mux, A, b"\x1b[1mbold\r\nstill"), format!("{tag}\x1b[1mbold\r\n{tag}\x1b[1mstill"));
    assert_eq!(w(&mut mux, A, b"\x1b[m\r\nplain"), format!("\x1b[m\r\n{tag}plain"));
}

#[test]
fn the_hypervisors_colours_do_not_leak_either() {
    let mut mux = one();
    assert_eq!(w(&mut mux, HV, b"\x1b[33m[diosix] warn\r\n"), "\x1b[33m[diosix] warn\r\n");
    assert_eq!(w(&mut mux, A, b"x"), "\x1b[0mx");
    assert_eq!(w(&mut mux, HV, b"[diosix] y\r\n"), "\r\n\x1b[33m[diosix] y\r\n");
}

#[test]
fn a_single_capsule_cannot_pass_for_the_hypervisor() {
    let mut mux = one();
    assert_eq!(w(&mut mux, A, b"[diosix] fake\r\n"), "[capsule] [diosix] fake\r\n");
    assert_eq!(w(&mut mux, A, b"ok\r[diosix] fake\r\n"), "ok\r[capsule] [diosix] fake\r\n");
    // Byte by byte: held while it matches, let go when it stops matching.
    let sent: String = b"[dioX".iter().map(|&b| w(&mut mux, A, &[b])).collect::<Vec<_>>().join("|");
    assert_eq!(sent, "||||[dioX");
    // Or when someone else writes.
    assert_eq!(w(&mut mux, A, b"\r\n[di"), "\r\n");
    assert_eq!(w(&mut mux, HV, b"[diosix] x\r\n"), "[di\r\n[diosix] x\r\n");
}

#[test]
fn a_tag_cannot_pass_for_the_hypervisor() {
    let mut mux = Mux::new(false);
    mux.add(1, "diosix");
    mux.add(2, "");
    assert_eq!(w(&mut mux, A, b"x\r\n"), "[capsule-diosix] x\r\n");
    assert_eq!(w(&mut mux, B, b"x\r\n"), "[2] x\r\n");
}

#[test]
fn held_bytes_follow_the_tag_when_a_second_capsule_arrives() {
    let mut mux = one();
    assert_eq!(w(&mut mux, A, b"[dio"), "");
    mux.add(2, "b");
    assert_eq!(w(&mut mux, A, b"s"), "[a] [dios");
}

#[test]
fn unknown_capsules_are_ignored() {
    let mut mux = two(false);
    assert_eq!(w(&mut mux, A, b"open"), "[a] open");
    assert_eq!(w(&mut mux, Source::Capsule(9), b"ghost\r\n"), "");
    assert_eq!(w(&mut mux, A, b" still\r\n"), " still\r\n");
    assert!(mux.recent(9).is_empty());
}

#[test]
fn a_capsule_added_again_starts_a_new_line() {
    let mut mux = two(false);
    assert_eq!(w(&mut mux, A, b"abc"), "[a] abc");
    mux.remove(1);
    mux.add(1, "a");
    assert_eq!(w(&mut mux, A, b"x"), "\r\n[a] x");
}

#[test]
fn recent_output_is_kept_untagged() {
    let mut mux = two(true);
    w(&mut mux, A, b"one\r\n");
    w(&mut mux, B, b"other\r\n");
    w(&mut mux, A, b"two");
    assert_eq!(mux.recent(1), b"one\r\ntwo");
    assert_eq!(mux.recent(2), b"other\r\n");
}

#[test]
fn recent_output_is_bounded_and_starts_at_a_line() {
    let mut mux = two(false);
    for i in 0..1000 {
        w(&mut mux, A, format!("line {i}\r\n").as_bytes());
    }
    let recent = mux.recent(1);
    assert!(recent.len() <= RECENT_BYTES);
    assert!(recent.len() > RECENT_BYTES - 16);
    assert!(recent.starts_with(b"line "), "{:?}", &recent[..16]);
    assert!(recent.ends_with(b"line 999\r\n"));
    // One long line: kept as it is rather than emptied.
    w(&mut mux, B, &[b'y'; 2 * RECENT_BYTES]);
    w(&mut mux, B, b"\n");
    assert_eq!(mux.recent(2).len(), RECENT_BYTES);
}

#[test]
fn recent_output_goes_with_the_capsule() {
    let mut mux = two(false);
    w(&mut mux, A, b"one\r\n");
    mux.remove(1);
    assert!(mux.recent(1).is_empty());
    mux.add(1, "a");
    assert!(mux.recent(1).is_empty());
}

#[test]
fn empty_writes_change_nothing() {
    let mut mux = two(false);
    assert_eq!(w(&mut mux, A, b"abc"), "[a] abc");
    assert_eq!(w(&mut mux, B, b""), "");
    assert_eq!(w(&mut mux, HV, b""), "");
    assert_eq!(w(&mut mux, A, b"d"), "d");
}
