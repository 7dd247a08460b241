//! The terminal as the sources' bytes leave it: whose line is open, and
//! what must go in between when someone else writes. See the crate docs
//! for the rules.

use crate::ansi::{CAN, Done, Parser, SGR_RESET, Style};
use crate::tag::HV_PREFIX;

/// What ends another source's unfinished line. The console is a raw
/// serial line: LF alone would not return the cursor.
pub(crate) const BREAK: &[u8] = b"\r\n";
/// What goes in front of an untagged capsule line that starts like the
/// hypervisor's own.
pub(crate) const CAPSULE_MARK: &[u8] = b"[capsule] ";

/// One write's source, as the terminal sees it.
pub(crate) struct Writer<'a> {
    /// Unique for as long as the mux lives (0: the hypervisor; a capsule
    /// removed and added again under the same id gets a new one).
    pub key: u64,
    /// The tag for the source's lines, if they are tagged.
    pub tag: Option<&'a [u8]>,
    /// The tag switches SGR attributes off after itself.
    pub tag_resets: bool,
    /// Hold back a line start that looks like the hypervisor's.
    pub guard: bool,
    pub style: &'a mut Style,
}

pub(crate) struct Term {
    /// Who wrote last: the terminal's state below is theirs.
    last: u64,
    /// The current line has something other than CR from `last` (and
    /// must be ended before anyone else writes).
    open: bool,
    /// The next printing byte from `last` begins a line on screen (after
    /// LF, after CR, or after someone else's line): a tag goes first.
    start: bool,
    /// Bytes of [`HV_PREFIX`] matched at a line start and not yet sent.
    held: usize,
    /// The terminal shows `last`'s colours (not the default).
    styled: bool,
    parser: Parser,
}

type Out<'o> = &'o mut dyn FnMut(&[u8]);

fn send(out: Out, bytes: &[u8]) {
    if !bytes.is_empty() {
        out(bytes);
    }
}

impl Term {
    pub(crate) const fn new() -> Term {
        Term { last: 0, open: false, start: true, held: 0, styled: false, parser: Parser::new() }
    }

    pub(crate) fn write(&mut self, w: Writer, bytes: &[u8], out: Out) {
        if bytes.is_empty() {
            return;
        }
        self.take(w.key, out);
        // `run` starts the bytes passed on as they are but not yet sent.
        let mut run = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let newline = b == b'\r' || b == b'\n';
            if self.start && self.parser.ground() {
                if let Some(tag) = w.tag {
                    // The tag goes before the line's first byte that is
                    // not CR or LF (and before bytes held while untagged).
                    if !newline || self.held > 0 {
                        send(out, &bytes[run..i]);
                        run = i;
                        out(tag);
                        self.styled &= !w.tag_resets;
                        self.release_held(w.style, out);
                        self.start = false;
                    }
                } else if w.guard {
                    // Untagged: hold back what matches `[diosix`; mark the
                    // line if all of it does, else let it go.
                    if b == HV_PREFIX[self.held] {
                        send(out, &bytes[run..i]);
                        run = i + 1;
                        self.held += 1;
                        self.parser.feed(b);
                        self.open = true;
                        if self.held == HV_PREFIX.len() {
                            self.restore(w.style, out);
                            out(CAPSULE_MARK);
                            self.release_held(w.style, out);
                            self.start = false;
                        }
                        continue;
                    }
                    send(out, &bytes[run..i]);
                    run = i;
                    self.release_held(w.style, out);
                    self.start = false;
                }
            }
            // Only something of ours (a tag, a break) starts a new run
            // mid-write, and it may have switched the colours off.
            if run == i {
                self.restore(w.style, out);
            }
            match self.parser.feed(b) {
                Done::Sgr => {
                    w.style.sgr(self.parser.params());
                    self.styled = w.style.set();
                }
                Done::FullReset => {
                    w.style.full_reset();
                    self.styled = false;
                }
                Done::Nothing => {}
            }
            if newline {
                self.start = true;
                self.open &= b == b'\r';
            } else {
                self.open = true;
            }
        }
        send(out, &bytes[run..]);
    }

    /// Readies the terminal for `key`'s bytes: if someone else wrote
    /// last, their held bytes go out, their half-sent escape sequence is
    /// cancelled, their colours switched off and their line ended.
    fn take(&mut self, key: u64, out: Out) {
        if key == self.last {
            return;
        }
        if self.held > 0 {
            out(&HV_PREFIX[..self.held]);
            self.held = 0;
        }
        if !self.parser.ground() {
            out(&[CAN]);
            self.parser.cancel();
        }
        if self.styled {
            out(SGR_RESET);
            self.styled = false;
        }
        if self.open {
            out(BREAK);
            self.open = false;
        }
        self.start = true;
        self.last = key;
    }

    /// Puts the writer's colours back if something of ours switched
    /// them off.
    fn restore(&mut self, style: &Style, out: Out) {
        if !self.styled && style.set() {
            out(style.replay());
            self.styled = true;
        }
    }

    fn release_held(&mut self, style: &Style, out: Out) {
        if self.held > 0 {
            self.restore(style, out);
            out(&HV_PREFIX[..self.held]);
            self.held = 0;
        }
    }
}
