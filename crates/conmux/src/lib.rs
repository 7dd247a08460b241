//! One console, several capsules: what the hypervisor sends to its one
//! UART when the capsules and the hypervisor all write to it, and which
//! capsule gets what is typed. Plain bytes in, plain bytes out, so every
//! rule below is tested on the host; the hypervisor owns the UART, the
//! locking and the printing.
//!
//! A [`Mux`] knows the capsules by ids the hypervisor chooses, each with a
//! label for its tag ([`Mux::add`], [`Mux::remove`]).
//!
//! # Output
//!
//! [`Mux::write`] passes on each write at once, as it comes: nothing a
//! capsule writes waits for the end of its line, so a shell prompt shows
//! as soon as it is written. Only the hypervisor's own messages, the
//! tags and the line breaks described here are added.
//!
//! * **One line, one source.** The mux remembers who wrote the line the
//!   terminal's cursor is on. If someone else writes before that line is
//!   ended (by LF), the mux ends it with CR LF first. The console is a raw
//!   serial line, so LF alone would not return the cursor; capsules'
//!   kernels send CR LF themselves. The hypervisor breaks capsules' lines
//!   and capsules break its lines in the same way. A line holding only CR
//!   is not broken: there is nothing on it.
//! * **Tags.** While more than one capsule is registered, each line a
//!   capsule starts begins with its tag, `[label] `: the label given to
//!   [`Mux::add`] (printable ASCII without brackets, at most
//!   [`TAG_CHARS`] characters; the id if that leaves nothing). With
//!   colour on ([`Mux::new`]), the bracketed part is coloured by the
//!   capsule's id (green, cyan, yellow, magenta, blue, red, by id modulo
//!   6), and every colour and attribute is switched off after it. The
//!   hypervisor's lines are never tagged: they start with `[diosix]`.
//!   A tag goes in front of the first byte of a line that is not CR or LF
//!   (so empty lines stay empty) and is not inside an escape sequence.
//! * **CR.** A lone CR does not end a line for breaking, but it does
//!   return the cursor to the start, where the capsule then writes over
//!   its tag (a progress bar, or a shell redrawing its prompt). So after a
//!   CR, the next byte that is not CR or LF gets the tag again.
//! * **One capsule.** With a single capsule registered its bytes pass
//!   untouched: the system looks as it does without the mux. One rule
//!   stays: a line of the capsule's that starts as the hypervisor's do
//!   (`[diosix`) gets `[capsule] ` in front, so that the capsule cannot
//!   pass for the hypervisor. To know, the mux holds back up to six bytes
//!   at a line start while they match `[diosix`; the next byte that does
//!   not match, or anyone else's write, lets them go. (Tagged lines need
//!   no such rule; a label that starts with `diosix` is shown as
//!   `capsule-diosix...`.)
//! * **Escape sequences.** Capsules' bytes are not filtered: colours,
//!   cursor moves and titles reach the terminal. Two things would leak
//!   from one source into another's text, and the mux follows enough of
//!   the terminal's parser (ECMA-48) to stop them. A sequence cut short
//!   by someone else's write (half sent in one call, as a byte-at-a-time
//!   console sends everything) is cancelled with CAN (0x18) before
//!   anything else goes out, so the terminal does not read the next line
//!   as its parameters; the rest of it, when it comes, shows as text. And
//!   colours a source leaves switched on (SGR) are switched off (SGR 0)
//!   before someone else writes, and replayed when that source carries on
//!   or after its coloured tag. The replay remembers the last 64 bytes of
//!   SGR sequences since the source's last reset; anything else (cursor
//!   position, scroll regions, character sets, a UTF-8 character cut in
//!   two) is the source's own business. The mux adds no escape sequence
//!   of its own with colour off and capsules that send none.
//!
//! A capsule that writes a byte at a time would have its lines broken by
//! every other capsule's: [`Hold`] keeps each capsule's unfinished line
//! back while several share the console (its module docs give the rules).
//!
//! What a capsule wrote, untagged and as it came, is kept too: the last
//! [`RECENT_BYTES`] of it, for [`Mux::recent`], so the hypervisor can show
//! a capsule's recent output without giving it the focus.
//!
//! # Input
//!
//! [`Mux::input`] takes each byte typed at the terminal. Every byte goes
//! to the capsule with the focus, into a queue of [`INPUT_BYTES`] that
//! [`Mux::read`] drains (a full queue, or no capsule at all, drops the
//! byte and counts it: [`Mux::dropped_input`]). A capsule keeps what was
//! queued for it after it loses the focus.
//!
//! The first capsule added (the boot capsule) has the focus. While two or
//! more capsules are registered, [`FOCUS_KEY`], Ctrl-] (0x1d), moves it to
//! the next capsule in id order, wrapping, and is not delivered; pressing
//! it again moves on again, so there is no way to send a Ctrl-] to a
//! capsule then. With one capsule it is an ordinary byte and goes to that
//! capsule. If the capsule with the focus is removed, the focus goes back
//! to the earliest-added capsule still there. Each change yields a
//! [`Notice`] for the hypervisor to print, such as `[diosix] console input
//! goes to web (capsule 2); Ctrl-] switches`.
//!
//! Why Ctrl-]: QEMU's `-nographic` console takes Ctrl-A as its prefix
//! (`-echr` changes it) and passes Ctrl-] on, as do `screen`, `minicom`
//! and `picocom` (Ctrl-A too) and `tmux` (Ctrl-B). A Linux terminal gives
//! 0x1d no meaning (it is none of `stty`'s intr, quit, erase, kill, eof,
//! start, stop, susp, rprnt, werase, lnext, discard), and it is not a
//! shell's everyday key. It is what `telnet` uses to reach the program in
//! between, which many know. What it costs: inside a capsule, readline's
//! character-search, vim's jump to tag and emacs's abort-recursive-edit
//! are out of reach while two capsules run; and `telnet` and `virsh
//! console` keep Ctrl-] for themselves, so behind those it needs their
//! way of sending it on.
//!
//! Every method takes any input without panicking; unknown ids are
//! ignored (reads and recent output are empty).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod ansi;
mod hold;
mod input;
mod output;
mod ring;
mod tag;

use alloc::string::String;
use alloc::vec::Vec;

pub use hold::{HOLD_MAX, Hold};
pub use input::{FOCUS_KEY, FOCUS_KEY_NAME, Notice};
pub use tag::TAG_CHARS;

use ansi::Style;
use output::{Term, Writer};
use ring::Ring;

/// Bytes of each capsule's recent output kept for [`Mux::recent`].
pub const RECENT_BYTES: usize = 4096;
/// Bytes typed for a capsule that wait for it to read them.
pub const INPUT_BYTES: usize = 256;

/// Who is writing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The hypervisor's own messages: never tagged.
    Hypervisor,
    /// The capsule with this id.
    Capsule(u32),
}

struct Capsule {
    id: u32,
    /// Never reused, unlike ids: see `Writer::key`.
    key: u64,
    label: String,
    tag: Vec<u8>,
    style: Style,
    recent: Ring<RECENT_BYTES>,
    input: Ring<INPUT_BYTES>,
}

/// The console shared by the hypervisor and its capsules. See the crate
/// docs for the rules.
pub struct Mux {
    colour: bool,
    /// In the order they were added: the first is the boot capsule.
    capsules: Vec<Capsule>,
    next_key: u64,
    /// Some exactly when a capsule is registered.
    focus: Option<u32>,
    /// Where the focus key goes back to after [`Mux::give_focus`].
    back_to: Option<u32>,
    term: Term,
    hypervisor: Style,
    dropped: u64,
}

impl Mux {
    /// No capsules yet. `colour`: colour the tags. A `const fn`, so the
    /// hypervisor can keep its mux in a `static` behind a lock.
    pub const fn new(colour: bool) -> Mux {
        Mux {
            colour,
            capsules: Vec::new(),
            next_key: 1,
            focus: None,
            back_to: None,
            term: Term::new(),
            hypervisor: Style::new(),
            dropped: 0,
        }
    }

    /// Registers capsule `id`, its lines tagged with `tag` (see the crate
    /// docs for what of it is shown). It gets the focus if no one has it.
    /// False, changing nothing, if `id` is registered already.
    pub fn add(&mut self, id: u32, tag: &str) -> bool {
        if self.find(id).is_some() {
            return false;
        }
        let label = tag::label(id, tag);
        let tag = tag::render(id, &label, self.colour);
        let key = self.next_key;
        // 2^64 additions are out of reach; wrapping keeps this total.
        self.next_key = self.next_key.wrapping_add(1).max(1);
        self.capsules.push(Capsule {
            id,
            key,
            label,
            tag,
            style: Style::new(),
            recent: Ring::new(),
            input: Ring::new(),
        });
        self.focus.get_or_insert(id);
        true
    }

    /// Forgets capsule `id`, with its pending input and recent output. If
    /// it had the focus, the focus goes to the earliest-added capsule left,
    /// and the notice says where (or that no capsule is left).
    pub fn remove(&mut self, id: u32) -> Option<Notice> {
        let at = self.capsules.iter().position(|c| c.id == id)?;
        self.capsules.remove(at);
        if self.focus != Some(id) {
            return None;
        }
        self.focus = self.capsules.first().map(|c| c.id);
        Some(self.notice())
    }

    /// Sends `bytes` from `src` to the terminal through `out` (in one or
    /// more pieces), with the tags and line breaks the rules call for. A
    /// capsule not registered is ignored.
    pub fn write(&mut self, src: Source, bytes: &[u8], out: &mut dyn FnMut(&[u8])) {
        let tagged = self.capsules.len() > 1;
        let writer = match src {
            Source::Hypervisor => {
                Writer { key: 0, tag: None, tag_resets: false, guard: false, style: &mut self.hypervisor }
            }
            Source::Capsule(id) => {
                let Some(c) = self.capsules.iter_mut().find(|c| c.id == id) else { return };
                c.recent.push_overwrite(bytes);
                Writer {
                    key: c.key,
                    tag: tagged.then_some(&c.tag[..]),
                    tag_resets: self.colour,
                    guard: !tagged,
                    style: &mut c.style,
                }
            }
        };
        self.term.write(writer, bytes, out);
    }

    /// Capsule `id`'s recent output, oldest first, as it wrote it (no
    /// tags): up to [`RECENT_BYTES`]. Once older output has been dropped,
    /// it starts after the first LF, so as not to begin part way through a
    /// line, unless nothing would be left. Empty for an unknown id.
    pub fn recent(&self, id: u32) -> Vec<u8> {
        let Some(c) = self.find(id) else { return Vec::new() };
        let mut bytes: Vec<u8> = c.recent.iter().copied().collect();
        if c.recent.lost()
            && let Some(lf) = bytes.iter().position(|&b| b == b'\n')
            && lf + 1 < bytes.len()
        {
            bytes.drain(..=lf);
        }
        bytes
    }

    /// A byte typed at the terminal: queued for the capsule with the
    /// focus, or (while two or more capsules are registered) the
    /// [`FOCUS_KEY`], which moves the focus on and returns the notice.
    pub fn input(&mut self, byte: u8) -> Option<Notice> {
        if byte == FOCUS_KEY && self.capsules.len() > 1 {
            self.focus = match self.back_to.take().filter(|&b| self.find(b).is_some()) {
                Some(back) => Some(back),
                None => input::next(self.capsules.iter().map(|c| c.id), self.focus),
            };
            return Some(self.notice());
        }
        let focus = self.focus;
        let queued = self.capsules.iter_mut().find(|c| Some(c.id) == focus).is_some_and(|c| c.input.push(byte));
        if !queued {
            self.dropped = self.dropped.saturating_add(1);
        }
        None
    }

    /// Moves input queued for capsule `id` into `buf`, oldest first; how
    /// many bytes. 0 for an unknown id.
    pub fn read(&mut self, id: u32, buf: &mut [u8]) -> usize {
        self.capsules.iter_mut().find(|c| c.id == id).map_or(0, |c| c.input.pop_into(buf))
    }

    /// Whether input waits for capsule `id`.
    pub fn has_input(&self, id: u32) -> bool {
        self.find(id).is_some_and(|c| !c.input.is_empty())
    }

    /// Gives capsule `id` the focus (the boot capsule's manager asked);
    /// the next focus key brings it back to `back_to` instead of moving
    /// on. None (and nothing changed) if `id` is not registered.
    pub fn give_focus(&mut self, id: u32, back_to: u32) -> Option<Notice> {
        self.find(id)?;
        self.focus = Some(id);
        self.back_to = (back_to != id).then_some(back_to);
        Some(self.notice())
    }

    /// The capsule that input goes to.
    pub fn focus(&self) -> Option<u32> {
        self.focus
    }

    /// Where input goes now, for the hypervisor to say (when a second
    /// capsule starts, say).
    pub fn notice(&self) -> Notice {
        match self.focus.and_then(|id| self.find(id)) {
            Some(c) => Notice::Focus { id: c.id, tag: c.label.clone() },
            None => Notice::Nobody,
        }
    }

    /// Typed bytes dropped so far: their capsule's queue was full, or no
    /// capsule was registered.
    pub fn dropped_input(&self) -> u64 {
        self.dropped
    }

    fn find(&self, id: u32) -> Option<&Capsule> {
        self.capsules.iter().find(|c| c.id == id)
    }
}
