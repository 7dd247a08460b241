//! Property tests: random interleavings of capsules and the hypervisor
//! writing, capsules coming and going, and keys being typed.
//!
//! Each source writes letters of its own, which nothing the mux adds
//! (tags labelled in capitals, `[capsule] `, CR LF, SGR, CAN) contains, so
//! the letters in the output say whose bytes went where: a line holding
//! two sources' letters is a line the mux let them share.

use conmux::{FOCUS_KEY, INPUT_BYTES, Mux, Notice, RECENT_BYTES, Source};
use proptest::prelude::*;

/// Sources 0..4 are capsules with those ids; 4 is the hypervisor.
const SOURCES: usize = 5;
const LETTERS: [&[u8]; SOURCES] = [b"bf", b"gh", b"jk", b"nq", b"rt"];
const LABELS: [&str; 4] = ["A", "B", "C", "D"];
/// Line ends and pieces of escape sequences and of `[diosix`, none with
/// a source's letters.
const OTHERS: [&[u8]; 14] =
    [b"\r", b"\n", b"\r\n", b"\x1b", b"[", b"31", b";", b"m", b"\x1b[0m", b"]0;", b"\x07", b"\x18", b"[dios", b"ix"];

#[derive(Clone, Debug)]
enum Op {
    Add(u32),
    Remove(u32),
    Write(usize, Vec<u8>),
    Type(u8),
    Read(u32, usize),
}

fn source(s: usize) -> Source {
    if s == 4 { Source::Hypervisor } else { Source::Capsule(s as u32) }
}

fn owner(b: u8) -> Option<usize> {
    LETTERS.iter().position(|l| l.contains(&b))
}

fn piece(s: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => proptest::collection::vec(proptest::sample::select(LETTERS[s]), 1..6),
        2 => proptest::sample::select(&OTHERS[..]).prop_map(|p| p.to_vec()),
    ]
}

fn write() -> impl Strategy<Value = Op> {
    (0..SOURCES).prop_flat_map(|s| {
        proptest::collection::vec(piece(s), 0..6).prop_map(move |ps| Op::Write(s, ps.concat()))
    })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => (0..4u32).prop_map(Op::Add),
        1 => (0..4u32).prop_map(Op::Remove),
        8 => write(),
        2 => prop_oneof![Just(FOCUS_KEY), Just(b'x')].prop_map(Op::Type),
        1 => (0..4u32, 0..300usize).prop_map(|(id, n)| Op::Read(id, n)),
    ]
}

/// What the mux should do with input, kept the plain way.
#[derive(Default)]
struct Model {
    /// Registered ids in the order added, with their queued input.
    capsules: Vec<(u32, Vec<u8>)>,
    focus: Option<u32>,
}

impl Model {
    fn notice(&self) -> Notice {
        match self.focus {
            Some(id) => Notice::Focus { id, tag: LABELS[id as usize].into() },
            None => Notice::Nobody,
        }
    }

    fn queue(&mut self, id: u32) -> Option<&mut Vec<u8>> {
        self.capsules.iter_mut().find(|c| c.0 == id).map(|c| &mut c.1)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn lines_are_never_shared_and_nothing_is_lost_or_late(
        colour in any::<bool>(),
        ops in proptest::collection::vec(op(), 1..80),
    ) {
        let mut mux = Mux::new(colour);
        let mut model = Model::default();
        let mut out = Vec::new();
        for op in ops {
            match op {
                Op::Add(id) => {
                    let new = model.queue(id).is_none();
                    prop_assert_eq!(mux.add(id, LABELS[id as usize]), new);
                    if new {
                        model.capsules.push((id, Vec::new()));
                        model.focus.get_or_insert(id);
                    }
                }
                Op::Remove(id) => {
                    let at = model.capsules.iter().position(|c| c.0 == id);
                    let notice = mux.remove(id);
                    if let Some(at) = at {
                        model.capsules.remove(at);
                    }
                    if at.is_some() && model.focus == Some(id) {
                        model.focus = model.capsules.first().map(|c| c.0);
                        prop_assert_eq!(notice, Some(model.notice()));
                    } else {
                        prop_assert_eq!(notice, None);
                    }
                    prop_assert!(mux.recent(id).is_empty());
                }
                Op::Write(s, bytes) => {
                    let mut sent = Vec::new();
                    mux.write(source(s), &bytes, &mut |b| sent.extend_from_slice(b));
                    // Every letter of the write goes out in the write, and
                    // only its own; an unregistered capsule's go nowhere.
                    let heard = s == 4 || model.queue(s as u32).is_some();
                    let mine = |b: &&u8| owner(**b) == Some(s);
                    let expected: Vec<u8> = if heard { bytes.iter().filter(mine).copied().collect() } else { vec![] };
                    let letters: Vec<u8> = sent.iter().filter(|b| owner(**b).is_some()).copied().collect();
                    prop_assert_eq!(letters, expected);
                    out.extend_from_slice(&sent);
                    if s < 4 {
                        prop_assert!(mux.recent(s as u32).len() <= RECENT_BYTES);
                    }
                }
                Op::Type(b) => {
                    let notice = mux.input(b);
                    if b == FOCUS_KEY && model.capsules.len() > 1 {
                        let ids = model.capsules.iter().map(|c| c.0);
                        let cur = model.focus.unwrap_or(0);
                        model.focus = ids.clone().filter(|&id| id > cur).min().or_else(|| ids.min());
                        prop_assert_eq!(notice, Some(model.notice()));
                    } else {
                        prop_assert_eq!(notice, None);
                        if let Some(q) = model.focus.and_then(|id| model.queue(id))
                            && q.len() < INPUT_BYTES
                        {
                            q.push(b);
                        }
                    }
                }
                Op::Read(id, n) => {
                    let mut buf = vec![0; n];
                    let got = mux.read(id, &mut buf);
                    let want: Vec<u8> = match model.queue(id) {
                        Some(q) => q.drain(..n.min(q.len())).collect(),
                        None => vec![],
                    };
                    prop_assert_eq!(&buf[..got], &want[..]);
                }
            }
            prop_assert_eq!(mux.focus(), model.focus);
        }
        for line in out.split(|&b| b == b'\n') {
            let mut whose = line.iter().filter_map(|&b| owner(b));
            if let Some(first) = whose.next() {
                prop_assert!(whose.all(|s| s == first), "shared line {:?}", String::from_utf8_lossy(line));
            }
        }
    }

    #[test]
    fn a_single_capsule_passes_untouched(
        writes in proptest::collection::vec(
            proptest::collection::vec(any::<u8>().prop_filter("the guard's", |&b| b != b'['), 0..40),
            0..20,
        ),
        colour in any::<bool>(),
    ) {
        let mut mux = Mux::new(colour);
        mux.add(7, "only");
        for bytes in writes {
            let mut sent = Vec::new();
            mux.write(Source::Capsule(7), &bytes, &mut |b| sent.extend_from_slice(b));
            prop_assert_eq!(sent, bytes);
        }
    }

    #[test]
    fn any_bytes_and_ids_are_taken_without_panics(
        colour in any::<bool>(),
        ops in proptest::collection::vec(
            (0..4u8, prop_oneof![0..5u32, Just(u32::MAX)], proptest::collection::vec(any::<u8>(), 0..64)),
            1..60,
        ),
    ) {
        let mut mux = Mux::new(colour);
        for (kind, id, bytes) in ops {
            match kind {
                0 => {
                    mux.add(id, &String::from_utf8_lossy(&bytes));
                }
                1 => {
                    mux.remove(id);
                }
                2 => {
                    let src = if id == 4 { Source::Hypervisor } else { Source::Capsule(id) };
                    mux.write(src, &bytes, &mut |_| {});
                    prop_assert!(mux.recent(id).len() <= RECENT_BYTES);
                }
                _ => {
                    for b in bytes {
                        mux.input(b);
                    }
                    let mut buf = [0; 2 * INPUT_BYTES];
                    prop_assert!(mux.read(id, &mut buf) <= INPUT_BYTES);
                }
            }
            match mux.focus() {
                Some(id) => {
                    let named = matches!(mux.notice(), Notice::Focus { id: n, .. } if n == id);
                    prop_assert!(named);
                }
                None => prop_assert_eq!(mux.notice(), Notice::Nobody),
            }
        }
    }
}
