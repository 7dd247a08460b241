//! Just enough of a terminal's escape-sequence parser (ECMA-48, as DEC's
//! VT500 state machine reads it) to know two things about what a source
//! has sent: whether it stopped in the middle of a sequence, and which
//! colours and attributes (SGR, `ESC [ ... m`) it has left switched on.
//!
//! The first lets the mux cancel a half-sent sequence (with CAN, which
//! aborts any sequence) before it writes anything of its own, so that a
//! tag or another capsule's line is never swallowed as parameters. The
//! second lets it switch a capsule's colours off while someone else
//! writes, and back on when the capsule carries on.

use alloc::vec::Vec;

pub(crate) const ESC: u8 = 0x1b;
/// Cancel: ends any escape sequence, shows nothing.
pub(crate) const CAN: u8 = 0x18;
const SUB: u8 = 0x1a;
const BEL: u8 = 0x07;
/// SGR 0: every colour and attribute back to the default.
pub(crate) const SGR_RESET: &[u8] = b"\x1b[0m";

/// Parameter and intermediate bytes of one control sequence kept; a
/// longer one is still parsed, but not remembered.
const CSI_BYTES: usize = 32;
/// Bytes of SGR sequences a [`Style`] remembers for replay.
const STYLE_BYTES: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Ground,
    /// After ESC.
    Escape,
    /// After ESC and intermediate bytes (`ESC ( B`).
    EscapeInter,
    /// After `ESC [`.
    Csi,
    /// Inside a string (OSC, DCS, SOS, PM, APC), until BEL or ST.
    Str,
    /// ESC inside a string: `\` ends it (ST).
    StrEscape,
}

/// What a byte completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Done {
    Nothing,
    /// An SGR sequence; its parameters are [`Parser::params`], or it was
    /// too long to keep ([`Parser::params`] is `None`).
    Sgr,
    /// `ESC c`: the terminal resets itself.
    FullReset,
}

pub(crate) struct Parser {
    state: State,
    buf: [u8; CSI_BYTES],
    len: usize,
    /// The sequence has intermediate bytes: not an SGR.
    inter: bool,
    /// The sequence is longer than `buf`: not kept.
    long: bool,
}

impl Parser {
    pub(crate) const fn new() -> Parser {
        Parser { state: State::Ground, buf: [0; CSI_BYTES], len: 0, inter: false, long: false }
    }

    /// Not inside a sequence: what comes next is text or a control.
    pub(crate) fn ground(&self) -> bool {
        self.state == State::Ground
    }

    /// The terminal was sent CAN.
    pub(crate) fn cancel(&mut self) {
        self.state = State::Ground;
    }

    /// The parameters of the SGR just completed, if kept.
    pub(crate) fn params(&self) -> Option<&[u8]> {
        (!self.long).then_some(&self.buf[..self.len])
    }

    pub(crate) fn feed(&mut self, b: u8) -> Done {
        use State::*;
        // Anywhere: CAN and SUB abort, ESC starts afresh (in a string it
        // may be the start of ST).
        match (b, self.state) {
            (CAN | SUB, _) => {
                self.state = Ground;
                return Done::Nothing;
            }
            (ESC, Str) => {
                self.state = StrEscape;
                return Done::Nothing;
            }
            (ESC, _) => {
                self.state = Escape;
                return Done::Nothing;
            }
            _ => {}
        }
        match self.state {
            Ground => {}
            Str => {
                if b == BEL {
                    self.state = Ground;
                }
            }
            StrEscape if b == b'\\' => self.state = Ground,
            Escape | StrEscape => return self.escape(b),
            EscapeInter => match b {
                0x20..=0x2f | 0x00..=0x1f | 0x7f => {}
                _ => self.state = Ground,
            },
            Csi => return self.csi(b),
        }
        Done::Nothing
    }

    fn escape(&mut self, b: u8) -> Done {
        self.state = match b {
            b'[' => {
                self.len = 0;
                self.inter = false;
                self.long = false;
                State::Csi
            }
            b']' | b'P' | b'X' | b'^' | b'_' => State::Str,
            0x20..=0x2f => State::EscapeInter,
            // C0 controls are carried out without leaving the sequence.
            0x00..=0x1f | 0x7f => State::Escape,
            b'c' => {
                self.state = State::Ground;
                return Done::FullReset;
            }
            _ => State::Ground,
        };
        Done::Nothing
    }

    fn csi(&mut self, b: u8) -> Done {
        match b {
            0x20..=0x3f => {
                if b < 0x30 {
                    self.inter = true;
                } else if self.len == CSI_BYTES {
                    self.long = true;
                } else {
                    self.buf[self.len] = b;
                    self.len += 1;
                }
            }
            0x00..=0x1f | 0x7f => {}
            0x40..=0x7e => {
                self.state = State::Ground;
                let private = matches!(self.buf[..self.len].first(), Some(b'<'..=b'?'));
                if b == b'm' && !private && !self.inter {
                    return Done::Sgr;
                }
            }
            _ => self.state = State::Ground,
        }
        Done::Nothing
    }
}

/// The SGR state one source has left the terminal in, as the sequences
/// since its last reset (bounded: the oldest are forgotten first).
pub(crate) struct Style {
    seqs: Vec<u8>,
    /// The terminal may show this source's colours: it sent an SGR other
    /// than a plain reset since its last reset.
    set: bool,
}

impl Style {
    pub(crate) const fn new() -> Style {
        Style { seqs: Vec::new(), set: false }
    }

    /// Not the terminal's default.
    pub(crate) fn set(&self) -> bool {
        self.set
    }

    /// Sequences that put the style back after an SGR reset.
    pub(crate) fn replay(&self) -> &[u8] {
        &self.seqs
    }

    pub(crate) fn full_reset(&mut self) {
        self.seqs.clear();
        self.set = false;
    }

    /// The source sent an SGR with `params` (`None`: too long to keep).
    pub(crate) fn sgr(&mut self, params: Option<&[u8]>) {
        let Some(params) = params else {
            self.set = true;
            return;
        };
        let first = params.split(|&c| c == b';' || c == b':').next().unwrap_or_default();
        if first.iter().all(|&c| c == b'0') {
            self.seqs.clear();
        }
        if params.iter().all(|&c| c == b'0' || c == b';') {
            self.set = false;
            return;
        }
        self.set = true;
        let len = params.len() + 3;
        if len > STYLE_BYTES {
            return;
        }
        while self.seqs.len() + len > STYLE_BYTES {
            // Forget the oldest sequence: up to the next ESC.
            let next = self.seqs[1..].iter().position(|&c| c == ESC).map_or(self.seqs.len(), |p| p + 1);
            self.seqs.drain(..next);
        }
        self.seqs.extend_from_slice(b"\x1b[");
        self.seqs.extend_from_slice(params);
        self.seqs.push(b'm');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(p: &mut Parser, s: &mut Style, bytes: &[u8]) {
        for &b in bytes {
            match p.feed(b) {
                Done::Sgr => s.sgr(p.params()),
                Done::FullReset => s.full_reset(),
                Done::Nothing => {}
            }
        }
    }

    fn run(bytes: &[u8]) -> (Parser, Style) {
        let (mut p, mut s) = (Parser::new(), Style::new());
        feed(&mut p, &mut s, bytes);
        (p, s)
    }

    #[test]
    fn text_and_controls_stay_in_ground() {
        assert!(run(b"hello\r\n\x07\x08\t").0.ground());
    }

    #[test]
    fn half_sequences_are_not_ground() {
        for half in [&b"\x1b"[..], b"\x1b[", b"\x1b[31", b"\x1b[1;", b"\x1b(", b"\x1b]0;title", b"\x1b]0;t\x1b"] {
            assert!(!run(half).0.ground(), "{half:?}");
        }
    }

    #[test]
    fn whole_sequences_end_in_ground() {
        for whole in [
            &b"\x1b[31m"[..],
            b"\x1b[2J",
            b"\x1b[?25l",
            b"\x1b(B",
            b"\x1b]0;title\x07",
            b"\x1b]0;title\x1b\\",
            b"\x1bPdata\x1b\\",
            b"\x1b7",
            b"\x1b[3\x1b[m",
            b"\x1b[31\x18",
            b"\x1b]0;t\x1a",
        ] {
            assert!(run(whole).0.ground(), "{whole:?}");
        }
    }

    #[test]
    fn controls_inside_a_sequence_do_not_end_it() {
        assert!(!run(b"\x1b[3\n").0.ground());
        assert!(run(b"\x1b[3\n1m").0.ground());
    }

    #[test]
    fn cancel_returns_to_ground() {
        let (mut p, _) = run(b"\x1b[31");
        p.cancel();
        assert!(p.ground());
    }

    #[test]
    fn sgr_is_remembered_until_reset() {
        let (_, s) = run(b"\x1b[1m\x1b[31m");
        assert!(s.set());
        assert_eq!(s.replay(), b"\x1b[1m\x1b[31m");
        for reset in [&b"\x1b[m"[..], b"\x1b[0m", b"\x1b[00m", b"\x1b[0;0m", b"\x1bc"] {
            let (_, s) = run(&[&b"\x1b[1;31m"[..], reset].concat());
            assert!(!s.set(), "{reset:?}");
            assert_eq!(s.replay(), b"", "{reset:?}");
        }
    }

    #[test]
    fn an_sgr_starting_with_reset_replaces_what_was_before() {
        let (_, s) = run(b"\x1b[1m\x1b[0;32m");
        assert_eq!(s.replay(), b"\x1b[0;32m");
    }

    #[test]
    fn other_sequences_are_not_sgr() {
        let (_, s) = run(b"\x1b[2J\x1b[>4;1m\x1b[?1m\x1b[1 m");
        assert!(!s.set());
        assert_eq!(s.replay(), b"");
    }

    #[test]
    fn an_sgr_too_long_to_keep_still_counts_as_set() {
        let long = [&b"\x1b["[..], &[b'1'; 40], b"m"].concat();
        let (p, s) = run(&long);
        assert!(p.ground());
        assert!(s.set());
        assert_eq!(s.replay(), b"");
    }

    #[test]
    fn style_memory_is_bounded_and_forgets_the_oldest() {
        let mut bytes = Vec::new();
        for i in 0..50u8 {
            bytes.extend_from_slice(b"\x1b[3");
            bytes.push(b'0' + i % 8);
            bytes.push(b'm');
        }
        let (_, s) = run(&bytes);
        assert!(s.replay().len() <= STYLE_BYTES);
        assert!(s.replay().ends_with(b"\x1b[31m"));
        assert!(s.replay().starts_with(b"\x1b["));
    }
}
