//! Line editing for a serial console in raw mode.
//!
//! Bytes go in one at a time; the editor keeps the line, says what to echo,
//! and reports when the line is submitted or abandoned. Only printable ASCII
//! is kept, so a finished line is always valid UTF-8. Terminal escape
//! sequences (arrow keys and the like) are swallowed whole.

/// The longest line the editor keeps.
pub const LINE_MAX: usize = 256;

const BELL: u8 = 0x07;
const BACKSPACE: u8 = 0x08;
const CTRL_C: u8 = 0x03;
const CTRL_U: u8 = 0x15;
const CTRL_W: u8 = 0x17;
const ESC: u8 = 0x1b;
const DEL: u8 = 0x7f;

/// Erases the character left of the cursor on a dumb terminal.
pub const RUBOUT: &[u8] = b"\x08 \x08";

/// Where the editor sends its echo.
pub trait Echo {
    fn echo(&mut self, bytes: &[u8]);
}

/// What a byte did to the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Still editing.
    Pending,
    /// The line is complete: read it with [`LineEditor::line`].
    Submit,
    /// The line was longer than [`LINE_MAX`] and has been dropped.
    TooLong,
    /// Ctrl-C: the line was abandoned.
    Cancel,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Escape {
    None,
    /// After ESC.
    Start,
    /// Inside `ESC [ ...`, until a final byte.
    Csi,
    /// After `ESC O`: one more byte.
    Ss3,
}

pub struct LineEditor {
    buf: [u8; LINE_MAX],
    len: usize,
    overflow: bool,
    /// The last byte was CR, so an LF right after it is part of the same Enter.
    after_cr: bool,
    /// The previous event finished the line; the next byte starts a new one.
    finished: bool,
    escape: Escape,
}

impl Default for LineEditor {
    fn default() -> Self {
        Self::new()
    }
}

impl LineEditor {
    pub const fn new() -> Self {
        Self {
            buf: [0; LINE_MAX],
            len: 0,
            overflow: false,
            after_cr: false,
            finished: false,
            escape: Escape::None,
        }
    }

    /// The line so far (or the submitted line, after [`Event::Submit`]).
    pub fn line(&self) -> &str {
        // Only bytes 0x20..=0x7e are ever stored, so this cannot fail.
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }

    /// Takes one input byte, echoing through `echo`.
    pub fn feed(&mut self, byte: u8, echo: &mut dyn Echo) -> Event {
        if self.finished {
            self.finished = false;
            self.len = 0;
            self.overflow = false;
        }
        if self.swallow_escape(byte) {
            return Event::Pending;
        }
        let after_cr = core::mem::replace(&mut self.after_cr, byte == b'\r');
        match byte {
            b'\n' if after_cr => Event::Pending,
            b'\r' | b'\n' => {
                echo.echo(b"\r\n");
                self.finished = true;
                if self.overflow {
                    Event::TooLong
                } else {
                    Event::Submit
                }
            }
            CTRL_C => {
                echo.echo(b"^C\r\n");
                self.finished = true;
                Event::Cancel
            }
            DEL | BACKSPACE => {
                self.erase(1, echo);
                Event::Pending
            }
            CTRL_U => {
                self.erase(self.len, echo);
                self.overflow = false;
                Event::Pending
            }
            CTRL_W => {
                let line = &self.buf[..self.len];
                let kept = line.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
                let word = line[..kept]
                    .iter()
                    .rposition(|&b| b == b' ')
                    .map_or(0, |i| i + 1);
                self.erase(self.len - word, echo);
                Event::Pending
            }
            ESC => {
                self.escape = Escape::Start;
                Event::Pending
            }
            0x20..=0x7e => {
                if self.len < LINE_MAX {
                    self.buf[self.len] = byte;
                    self.len += 1;
                    echo.echo(&[byte]);
                } else {
                    self.overflow = true;
                    echo.echo(&[BELL]);
                }
                Event::Pending
            }
            _ => Event::Pending,
        }
    }

    fn erase(&mut self, n: usize, echo: &mut dyn Echo) {
        for _ in 0..n.min(self.len) {
            self.len -= 1;
            echo.echo(RUBOUT);
        }
    }

    /// Consumes the bytes of an escape sequence; true if `byte` was one.
    fn swallow_escape(&mut self, byte: u8) -> bool {
        self.escape = match (self.escape, byte) {
            (Escape::None, _) => return false,
            (Escape::Start, b'[') => Escape::Csi,
            (Escape::Start, b'O') => Escape::Ss3,
            (Escape::Csi, 0x20..=0x3f) => Escape::Csi,
            _ => Escape::None,
        };
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Screen(Vec<u8>);

    impl Echo for Screen {
        fn echo(&mut self, bytes: &[u8]) {
            self.0.extend_from_slice(bytes);
        }
    }

    /// Feeds `input`, returning the non-pending events and the echo.
    fn run(ed: &mut LineEditor, input: &[u8]) -> (Vec<Event>, Vec<u8>) {
        let mut screen = Screen::default();
        let events = input
            .iter()
            .map(|&b| ed.feed(b, &mut screen))
            .filter(|e| *e != Event::Pending)
            .collect();
        (events, screen.0)
    }

    #[test]
    fn typing_and_enter_gives_the_line_and_echoes_it() {
        let mut ed = LineEditor::new();
        let (events, echo) = run(&mut ed, b"ls /proc\r");
        assert_eq!(events, [Event::Submit]);
        assert_eq!(ed.line(), "ls /proc");
        assert_eq!(echo, b"ls /proc\r\n");
    }

    #[test]
    fn lf_also_submits_and_crlf_is_one_enter() {
        let mut ed = LineEditor::new();
        let (events, _) = run(&mut ed, b"a\nb\r\nc\n");
        assert_eq!(events, [Event::Submit; 3]);
        assert_eq!(ed.line(), "c");

        let mut ed = LineEditor::new();
        let (events, echo) = run(&mut ed, b"\r\n\r\n");
        assert_eq!(events, [Event::Submit, Event::Submit]);
        assert_eq!(ed.line(), "");
        assert_eq!(echo, b"\r\n\r\n");
    }

    #[test]
    fn the_next_line_starts_empty() {
        let mut ed = LineEditor::new();
        run(&mut ed, b"first\n");
        let (_, echo) = run(&mut ed, b"2nd\n");
        assert_eq!(ed.line(), "2nd");
        assert_eq!(echo, b"2nd\r\n");
    }

    #[test]
    fn backspace_and_delete_erase_one_char() {
        let mut ed = LineEditor::new();
        let (_, echo) = run(&mut ed, b"helo\x7f\x7flp\x08p");
        assert_eq!(ed.line(), "help");
        assert_eq!(echo, b"helo\x08 \x08\x08 \x08lp\x08 \x08p");
    }

    #[test]
    fn backspace_at_start_of_line_does_nothing() {
        let mut ed = LineEditor::new();
        let (events, echo) = run(&mut ed, b"\x7f\x08\x7fx");
        assert!(events.is_empty());
        assert_eq!(ed.line(), "x");
        assert_eq!(echo, b"x");
    }

    #[test]
    fn ctrl_u_clears_the_line() {
        let mut ed = LineEditor::new();
        let (events, echo) = run(&mut ed, b"abc\x15ok\n");
        assert_eq!(events, [Event::Submit]);
        assert_eq!(ed.line(), "ok");
        assert_eq!(echo, b"abc\x08 \x08\x08 \x08\x08 \x08ok\r\n");
    }

    #[test]
    fn ctrl_w_erases_the_last_word() {
        let mut ed = LineEditor::new();
        let (_, echo) = run(&mut ed, b"cat ab \x17");
        assert_eq!(ed.line(), "cat ");
        assert_eq!(echo, b"cat ab \x08 \x08\x08 \x08\x08 \x08");
        run(&mut ed, b"\x17");
        assert_eq!(ed.line(), "");
    }

    #[test]
    fn ctrl_c_abandons_the_line() {
        let mut ed = LineEditor::new();
        let (events, echo) = run(&mut ed, b"rebo\x03");
        assert_eq!(events, [Event::Cancel]);
        assert_eq!(echo, b"rebo^C\r\n");
        let (events, _) = run(&mut ed, b"help\n");
        assert_eq!(events, [Event::Submit]);
        assert_eq!(ed.line(), "help");
    }

    #[test]
    fn other_control_bytes_and_high_bytes_are_ignored() {
        let mut ed = LineEditor::new();
        let (_, echo) = run(&mut ed, b"a\x01\x04\t\x00\xc3\xa9b\n");
        assert_eq!(ed.line(), "ab");
        assert_eq!(echo, b"ab\r\n");
    }

    #[test]
    fn escape_sequences_are_swallowed() {
        let mut ed = LineEditor::new();
        // Up arrow, Right arrow (SS3 form), Delete key (CSI 3 ~), lone ESC+x.
        let (_, echo) = run(&mut ed, b"a\x1b[A\x1bOCb\x1b[3~\x1bxc\n");
        assert_eq!(ed.line(), "abc");
        assert_eq!(echo, b"abc\r\n");
    }

    #[test]
    fn overlong_lines_ring_the_bell_and_are_dropped() {
        let mut ed = LineEditor::new();
        let mut input = vec![b'x'; LINE_MAX + 2];
        input.push(b'\n');
        let (events, echo) = run(&mut ed, &input);
        assert_eq!(events, [Event::TooLong]);
        assert_eq!(echo.iter().filter(|&&b| b == b'x').count(), LINE_MAX);
        assert_eq!(&echo[LINE_MAX..], b"\x07\x07\r\n");
        // The next line is fine again.
        let (events, _) = run(&mut ed, b"info\n");
        assert_eq!(events, [Event::Submit]);
        assert_eq!(ed.line(), "info");
    }

    #[test]
    fn a_line_of_exactly_the_maximum_is_kept() {
        let mut ed = LineEditor::new();
        let mut input = vec![b'y'; LINE_MAX];
        input.push(b'\r');
        let (events, _) = run(&mut ed, &input);
        assert_eq!(events, [Event::Submit]);
        assert_eq!(ed.line().len(), LINE_MAX);
    }

    #[test]
    fn erasing_an_overlong_line_with_ctrl_u_recovers() {
        let mut ed = LineEditor::new();
        let mut input = vec![b'z'; LINE_MAX + 1];
        input.extend_from_slice(b"\x15echo\n");
        let (events, _) = run(&mut ed, &input);
        assert_eq!(events, [Event::Submit]);
        assert_eq!(ed.line(), "echo");
    }
}
