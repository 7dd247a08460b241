//! The autostart file: prompt commands (`start web ram=64M`, say) that
//! `/init` runs after the banner and before the first prompt.
//!
//! One command a line; blank lines and lines starting with `#` are
//! skipped, and so is the space around a command. Each command runs as if
//! typed at the prompt, after a line `autostart: <command>`, and whatever
//! it prints follows; a command that fails does not stop the rest.

use alloc::string::String;
use core::fmt::Write;

use ctl::text::clean;

use crate::commands;
use crate::errno::ENOENT;
use crate::fs;
use crate::os::{Os, Out};

pub const PATH: &str = "/etc/diosix/autostart";

/// The most of the file that is read.
const MAX_BYTES: usize = 16 * 1024;

/// The commands in an autostart file.
pub fn commands(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// Runs the commands in [`PATH`], if there is such a file.
pub fn run(os: &mut dyn Os) {
    let (mut bytes, whole) = match fs::read_up_to(os, PATH, MAX_BYTES) {
        Ok(read) => read,
        Err(ENOENT) => return,
        Err(e) => {
            writeln!(Out(os), "autostart: cannot read {PATH}: {e}").ok();
            return;
        }
    };
    if !whole {
        writeln!(
            Out(os),
            "autostart: {PATH} is over {} KiB; only the lines in its first {0} KiB are run",
            MAX_BYTES / 1024
        )
        .ok();
        // The last line read may be cut short.
        let end = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        bytes.truncate(end);
    }
    let text = String::from_utf8_lossy(&bytes);
    for line in commands(&text) {
        writeln!(Out(os), "autostart: {}", clean(line)).ok();
        commands::dispatch(os, line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::FakeOs;

    #[test]
    fn blank_lines_comments_and_spaces_are_skipped() {
        let text = "# capsules to start at boot\n\
                    \n\
                    start web ram=64M\r\n\
                    \x20  # an indented comment\n\
                    \t  echo  two words  \n\
                    \t\n\
                    echo last";
        let got: Vec<&str> = commands(text).collect();
        assert_eq!(got, ["start web ram=64M", "echo  two words", "echo last"]);
        assert_eq!(commands("").count(), 0);
        assert_eq!(commands("#\n# x\n\n").count(), 0);
    }

    #[test]
    fn each_command_is_echoed_then_run() {
        let mut os = FakeOs::new();
        os.file(PATH, "# hi\necho one\n\nbogus\necho two\n");
        run(&mut os);
        assert_eq!(
            os.output(),
            "autostart: echo one\none\n\
             autostart: bogus\nunknown command: bogus (type 'help')\n\
             autostart: echo two\ntwo\n"
        );
        assert_eq!(os.open_fds(), 0);
    }

    #[test]
    fn manager_commands_reach_the_hypervisor_and_failures_do_not_stop_the_rest() {
        use crate::fake_port::Answer;
        use ctl::{Reply, Request};

        let mut os = FakeOs::new();
        os.control_port().answers.extend([
            Answer::Reply(Reply::Started { id: 2 }),
            Answer::Silent,
            Answer::Reply(Reply::Done),
        ]);
        os.file(
            PATH,
            "start linux name=web ram=64M\ncapsules\nstart linux ram=64Q\nstop 2\n",
        );
        run(&mut os);
        assert_eq!(
            os.output(),
            "autostart: start linux name=web ram=64M\nstarted capsule 2 (web)\n\
             autostart: capsules\nThe hypervisor did not answer within 10 s.\n\
             autostart: start linux ram=64Q\nSizes are in M (MiB) or G (GiB), not \"Q\".\n\
             autostart: stop 2\nstopped capsule 2\n"
        );
        assert_eq!(
            os.hv().asked(),
            [
                Request::Start {
                    image: "linux".into(),
                    name: Some("web".into()),
                    ram_mib: Some(64),
                    vcores: None
                },
                Request::ListCapsules,
                Request::Stop { id: 2 },
            ]
        );
    }

    #[test]
    fn no_file_is_quiet_and_an_unreadable_one_says_so() {
        let mut os = FakeOs::new();
        run(&mut os);
        assert_eq!(os.output(), "");
        os.dir(PATH, &[]);
        run(&mut os);
        assert_eq!(
            os.output(),
            "autostart: cannot read /etc/diosix/autostart: is a directory\n"
        );
    }

    #[test]
    fn a_huge_file_runs_only_its_whole_lines() {
        let mut os = FakeOs::new();
        let mut text = "echo x\n".repeat(MAX_BYTES / 7);
        text.push_str("echo cut-off-here\n");
        os.file(PATH, &text);
        run(&mut os);
        let out = os.output();
        assert!(out.starts_with(
            "autostart: /etc/diosix/autostart is over 16 KiB; only the lines in its first 16 KiB are run\n"
        ));
        assert_eq!(out.matches("autostart: echo x\nx\n").count(), MAX_BYTES / 7);
        assert!(!out.contains("cut"), "{out}");
    }

    #[test]
    fn control_characters_are_not_echoed() {
        let mut os = FakeOs::new();
        os.file(PATH, "echo \x1b[2J\n");
        run(&mut os);
        assert!(os.output().starts_with("autostart: echo ?[2J\n"));
    }
}
