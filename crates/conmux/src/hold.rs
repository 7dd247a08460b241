//! Capsules' unfinished lines, held back while several capsules share the
//! console, so that one writing a byte at a time (the SBI debug console's
//! `write_byte`, an emulated UART's transmit register) still shows whole
//! lines instead of every other capsule breaking its lines into pieces.
//!
//! A capsule's bytes go out up to its last line end as soon as it writes
//! one; the rest is held until:
//! - its line ends,
//! - [`HOLD_MAX`] bytes are held (all of them go),
//! - the hypervisor releases it ([`Hold::release`]): the capsule polls
//!   for input, or waits for an interrupt (a prompt, the echo of a key),
//!   or ends,
//! - or a whole tick passed without it growing ([`Hold::tick`]): a
//!   capsule that stopped writing midway, or never polls. A line cut
//!   short only because the capsule lost its hart midway on a loaded
//!   machine keeps growing, and is not sent in halves.
//!
//! The caller decides when a capsule's bytes go to a [`Hold`] (the mux
//! tags lines only while several capsules are registered) and sends what
//! it hands back through [`crate::Mux::write`]. Each capsule's bytes keep
//! their order.

use alloc::vec::Vec;

/// Bytes held for one capsule before they go out anyway.
pub const HOLD_MAX: usize = 256;

/// The held partial lines, one per capsule that has one.
#[derive(Debug, Default)]
pub struct Hold {
    lines: Vec<Line>,
}

#[derive(Debug)]
struct Line {
    id: u32,
    bytes: Vec<u8>,
    /// It grew since the last tick.
    fresh: bool,
}

impl Hold {
    pub const fn new() -> Hold {
        Hold { lines: Vec::new() }
    }

    /// No capsule has bytes held.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Capsule `id` wrote `bytes`: `out` gets what may go now, if any
    /// (in one call); the rest is held.
    pub fn write(&mut self, id: u32, bytes: &[u8], out: impl FnOnce(&[u8])) {
        let at = match self.lines.iter().position(|l| l.id == id) {
            Some(at) => at,
            None => {
                self.lines.push(Line { id, bytes: Vec::new(), fresh: true });
                self.lines.len() - 1
            }
        };
        let line = &mut self.lines[at];
        line.bytes.extend_from_slice(bytes);
        line.fresh = true;
        let cut = if line.bytes.len() >= HOLD_MAX {
            line.bytes.len()
        } else {
            line.bytes.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1)
        };
        if cut == line.bytes.len() {
            let line = self.lines.swap_remove(at);
            out(&line.bytes);
        } else if cut > 0 {
            let done: Vec<u8> = line.bytes.drain(..cut).collect();
            out(&done);
        }
    }

    /// Capsule `id`'s held bytes go out now, if it has any.
    pub fn release(&mut self, id: u32, out: impl FnOnce(&[u8])) {
        if let Some(at) = self.lines.iter().position(|l| l.id == id) {
            let line = self.lines.swap_remove(at);
            out(&line.bytes);
        }
    }

    /// The hypervisor's tick: the lines that did not grow since the
    /// previous tick go out (`out` gets each capsule's id and bytes); the
    /// others wait for the next.
    pub fn tick(&mut self, mut out: impl FnMut(u32, &[u8])) {
        self.lines.retain_mut(|l| {
            if core::mem::take(&mut l.fresh) {
                return true;
            }
            out(l.id, &l.bytes);
            false
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use alloc::vec;

    /// What went out, as (capsule, text) pieces in order.
    #[derive(Default)]
    struct Sent(Vec<(u32, String)>);

    impl Sent {
        fn write(&mut self, hold: &mut Hold, id: u32, text: &str) {
            hold.write(id, text.as_bytes(), |b| self.0.push((id, String::from_utf8_lossy(b).into())));
        }
        fn release(&mut self, hold: &mut Hold, id: u32) {
            hold.release(id, |b| self.0.push((id, String::from_utf8_lossy(b).into())));
        }
        fn tick(&mut self, hold: &mut Hold) {
            hold.tick(|id, b| self.0.push((id, String::from_utf8_lossy(b).into())));
        }
        fn take(&mut self) -> Vec<(u32, String)> {
            core::mem::take(&mut self.0)
        }
    }

    fn s(id: u32, t: &str) -> (u32, String) {
        (id, t.into())
    }

    #[test]
    fn whole_lines_go_at_once_and_the_rest_waits() {
        let (mut h, mut sent) = (Hold::new(), Sent::default());
        sent.write(&mut h, 1, "one\r\ntw");
        assert_eq!(sent.take(), vec![s(1, "one\r\n")]);
        assert!(!h.is_empty());
        sent.write(&mut h, 1, "o\r\n");
        assert_eq!(sent.take(), vec![s(1, "two\r\n")]);
        assert!(h.is_empty());
    }

    #[test]
    fn bytes_written_one_at_a_time_come_out_as_one_line() {
        let (mut h, mut sent) = (Hold::new(), Sent::default());
        for (a, b) in "testguest: PASS ticks 100\r\n".bytes().zip("testguest: ticks 40\r\n".bytes().chain(core::iter::repeat(b'x'))) {
            sent.write(&mut h, 1, core::str::from_utf8(&[a]).unwrap());
            sent.write(&mut h, 2, core::str::from_utf8(&[b]).unwrap());
        }
        let out = sent.take();
        assert_eq!(out, vec![s(2, "testguest: ticks 40\r\n"), s(1, "testguest: PASS ticks 100\r\n")]);
        assert!(!h.is_empty(), "capsule 2's x's are still held");
    }

    #[test]
    fn a_long_line_goes_whole_at_the_limit() {
        let (mut h, mut sent) = (Hold::new(), Sent::default());
        let long = "y".repeat(HOLD_MAX - 1);
        sent.write(&mut h, 3, &long);
        assert!(sent.take().is_empty());
        sent.write(&mut h, 3, "z");
        assert_eq!(sent.take(), vec![(3, long + "z")]);
        assert!(h.is_empty());
    }

    #[test]
    fn release_sends_only_that_capsules_bytes() {
        let (mut h, mut sent) = (Hold::new(), Sent::default());
        sent.write(&mut h, 1, "~ # ");
        sent.write(&mut h, 2, "half");
        sent.release(&mut h, 1);
        assert_eq!(sent.take(), vec![s(1, "~ # ")]);
        sent.release(&mut h, 1);
        assert!(sent.take().is_empty(), "nothing is sent twice");
        sent.write(&mut h, 2, " done\n");
        assert_eq!(sent.take(), vec![s(2, "half done\n")]);
    }

    #[test]
    fn a_tick_sends_only_lines_that_stopped_growing() {
        let (mut h, mut sent) = (Hold::new(), Sent::default());
        sent.write(&mut h, 1, "prompt> ");
        sent.write(&mut h, 2, "busy");
        sent.tick(&mut h);
        assert!(sent.take().is_empty(), "both grew since the last tick");
        sent.write(&mut h, 2, " still");
        sent.tick(&mut h);
        assert_eq!(sent.take(), vec![s(1, "prompt> ")]);
        sent.tick(&mut h);
        assert_eq!(sent.take(), vec![s(2, "busy still")]);
        assert!(h.is_empty());
    }

    #[test]
    fn what_a_line_end_leaves_is_fresh_for_the_tick() {
        let (mut h, mut sent) = (Hold::new(), Sent::default());
        sent.write(&mut h, 1, "a\nb");
        sent.tick(&mut h);
        assert_eq!(sent.take(), vec![s(1, "a\n")]);
        sent.tick(&mut h);
        assert_eq!(sent.take(), vec![s(1, "b")]);
    }
}
