//! The prompt loop: read console bytes, edit lines, run commands.

use core::fmt::Write;

use crate::commands;
use crate::errno::{EINTR, Errno};
use crate::line::{Echo, Event, LINE_MAX, LineEditor};
use crate::os::{Os, Out};

pub const PROMPT: &str = "diosix> ";

/// Why the loop stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The console's input ended (`read` returned 0).
    Eof,
    /// Reading the console failed.
    Error(Errno),
}

/// Sends the editor's echo to the console, if it is a terminal.
struct ConsoleEcho<'a>(&'a mut dyn Os);

impl Echo for ConsoleEcho<'_> {
    fn echo(&mut self, bytes: &[u8]) {
        if self.0.echo() {
            self.0.write(bytes);
        }
    }
}

/// Runs the prompt until the console's input ends.
pub fn run(os: &mut dyn Os) -> End {
    let mut editor = LineEditor::new();
    let mut chunk = [0u8; 64];
    prompt(os);
    loop {
        let n = match os.read_input(&mut chunk) {
            Ok(0) => return End::Eof,
            Ok(n) => n,
            Err(EINTR) => continue,
            Err(e) => return End::Error(e),
        };
        for &byte in &chunk[..n] {
            match editor.feed(byte, &mut ConsoleEcho(os)) {
                Event::Pending => continue,
                Event::Submit => commands::dispatch(os, editor.line()),
                Event::TooLong => {
                    writeln!(Out(os), "line too long (at most {LINE_MAX} characters)").ok();
                }
                Event::Cancel => {}
            }
            prompt(os);
        }
    }
}

fn prompt(os: &mut dyn Os) {
    os.reap();
    os.write(PROMPT.as_bytes());
    os.flush();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errno::EPERM;
    use crate::fake::FakeOs;

    #[test]
    fn a_piped_session_runs_each_line_without_echo() {
        let mut os = FakeOs::new();
        os.input(b"echo hi there\n\nbogus\n");
        assert_eq!(run(&mut os), End::Eof);
        assert_eq!(
            os.output(),
            "diosix> hi there\ndiosix> diosix> unknown command: bogus (type 'help')\ndiosix> "
        );
    }

    #[test]
    fn a_terminal_session_echoes_and_edits() {
        let mut os = FakeOs::new();
        os.tty = true;
        os.input(b"ech\x7fho x\r\n\x03");
        assert_eq!(run(&mut os), End::Eof);
        assert_eq!(
            os.output(),
            "diosix> ech\x08 \x08ho x\r\nx\ndiosix> ^C\r\ndiosix> "
        );
    }

    #[test]
    fn input_split_across_reads_still_makes_lines() {
        let mut os = FakeOs::new();
        os.read_chunk = 1;
        os.input(b"echo a\necho b\n");
        run(&mut os);
        assert_eq!(os.output(), "diosix> a\ndiosix> b\ndiosix> ");
    }

    #[test]
    fn overlong_lines_are_refused() {
        let mut os = FakeOs::new();
        let mut input = b"echo ".to_vec();
        input.resize(LINE_MAX + 10, b'a');
        input.push(b'\n');
        os.input(&input);
        run(&mut os);
        assert_eq!(
            os.output(),
            "diosix> line too long (at most 256 characters)\ndiosix> "
        );
    }

    #[test]
    fn read_errors_end_the_loop_but_interrupts_do_not() {
        let mut os = FakeOs::new();
        os.input_error = Some(EINTR);
        os.input(b"echo ok\n");
        assert_eq!(run(&mut os), End::Eof);
        assert!(os.output().contains("ok\n"));

        let mut os = FakeOs::new();
        os.input_error = Some(EPERM);
        assert_eq!(run(&mut os), End::Error(EPERM));
    }

    #[test]
    fn zombies_are_reaped_at_every_prompt() {
        let mut os = FakeOs::new();
        os.input(b"\n\n");
        run(&mut os);
        assert_eq!(os.reaps, 3);
    }
}
