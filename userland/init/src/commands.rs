//! The prompt's commands: one table entry each.
//!
//! To add a command, write a handler and add a [`Command`] to [`COMMANDS`].

use core::fmt::Write;

use crate::args;
use crate::facts;
use crate::fs;
use crate::manager;
use crate::os::{Exit, Os, Out, Power};

/// The most words a command line is split into; the rest are dropped.
pub const MAX_WORDS: usize = 32;

/// Where `sh` looks for a shell.
pub const SHELL: &str = "/bin/sh";

pub struct Command {
    pub name: &'static str,
    /// Arguments, as shown by `help`.
    pub args: &'static str,
    pub help: &'static str,
    pub run: fn(&mut dyn Os, &[&str]),
}

pub const COMMANDS: &[Command] = &[
    Command {
        name: "help",
        args: "",
        help: "list the commands",
        run: help,
    },
    Command {
        name: "info",
        args: "",
        help: "CPUs, memory, uptime and load",
        run: info,
    },
    Command {
        name: "ls",
        args: "[path]",
        help: "list a directory",
        run: ls,
    },
    Command {
        name: "cat",
        args: "<file>...",
        help: "print files",
        run: cat,
    },
    Command {
        name: "echo",
        args: "[words]",
        help: "print the words",
        run: echo,
    },
    Command {
        name: "clock",
        args: "",
        help: "read the clocks from user space, sleep and time it, on each CPU",
        run: crate::clock::run,
    },
    Command {
        name: "bench",
        args: "[name]...",
        help: "time cpu, mem, syscall, timer, ipi and fence workloads (cargo xtask bench)",
        run: crate::bench::run,
    },
    Command {
        name: "images",
        args: "",
        help: "list the images capsules can be started from",
        run: manager::images,
    },
    Command {
        name: "capsules",
        args: "",
        help: "list the capsules and what they use",
        run: manager::capsules,
    },
    Command {
        name: "start",
        args: args::START_ARGS,
        help: "run a new capsule from an image (sizes like 128M or 1G)",
        run: manager::start,
    },
    Command {
        name: "stop",
        args: "<id>",
        help: "stop a capsule",
        run: manager::stop,
    },
    Command {
        name: "restart",
        args: "<id>",
        help: "stop a capsule and start it again from its image",
        run: manager::restart,
    },
    Command {
        name: "console",
        args: "<id>",
        help: "give the console to a capsule (Ctrl-] brings it back)",
        run: manager::console,
    },
    Command {
        name: "output",
        args: "<id>",
        help: "show what a capsule last wrote to its console",
        run: manager::output,
    },
    Command {
        name: "upload",
        args: args::UPLOAD_ARGS,
        help: "send a kernel image file to the hypervisor, to start by name",
        run: crate::upload::upload,
    },
    Command {
        name: "remove",
        args: "<image>",
        help: "remove an uploaded image (its RAM is freed once no capsule uses it)",
        run: manager::remove,
    },
    Command {
        name: "sh",
        args: "",
        help: "run /bin/sh, if installed",
        run: sh,
    },
    Command {
        name: "poweroff",
        args: "",
        help: "sync and power off",
        run: poweroff,
    },
    Command {
        name: "reboot",
        args: "",
        help: "sync and restart",
        run: reboot,
    },
    Command {
        name: "crash",
        args: "",
        help: "end /init so the kernel panics (tests how a dead capsule is handled)",
        run: crash,
    },
];

/// Runs one command line. Blank lines do nothing.
pub fn dispatch(os: &mut dyn Os, line: &str) {
    let mut words = [""; MAX_WORDS];
    let mut n = 0;
    for word in line.split_ascii_whitespace().take(MAX_WORDS) {
        words[n] = word;
        n += 1;
    }
    let Some((&name, args)) = words[..n].split_first() else {
        return;
    };
    match COMMANDS.iter().find(|c| c.name == name) {
        Some(command) => (command.run)(os, args),
        None => {
            writeln!(Out(os), "unknown command: {name} (type 'help')").ok();
        }
    }
}

fn help(os: &mut dyn Os, _: &[&str]) {
    const WIDTH: usize = 18;
    let mut out = Out(os);
    writeln!(out, "commands:").ok();
    for c in COMMANDS {
        let sep = if c.args.is_empty() { "" } else { " " };
        let used = c.name.len() + sep.len() + c.args.len();
        if used < WIDTH {
            let pad = WIDTH - used;
            writeln!(out, "  {}{sep}{}{:pad$}{}", c.name, c.args, "", c.help).ok();
        } else {
            // Long arguments get a line of their own.
            writeln!(out, "  {}{sep}{}", c.name, c.args).ok();
            writeln!(out, "  {:WIDTH$}{}", "", c.help).ok();
        }
    }
}

fn info(os: &mut dyn Os, _: &[&str]) {
    let f = facts::gather(os);
    facts::write_info(&mut Out(os), &f).ok();
}

fn ls(os: &mut dyn Os, args: &[&str]) {
    let paths: &[&str] = if args.is_empty() { &["."] } else { args };
    for (i, path) in paths.iter().enumerate() {
        if paths.len() > 1 {
            let gap = if i > 0 { "\n" } else { "" };
            writeln!(Out(os), "{gap}{path}:").ok();
        }
        if let Err(e) = fs::ls(os, path) {
            writeln!(Out(os), "ls: {path}: {e}").ok();
        }
    }
}

fn cat(os: &mut dyn Os, args: &[&str]) {
    if args.is_empty() {
        writeln!(Out(os), "usage: cat <file>...").ok();
    }
    for path in args {
        if let Err(e) = fs::cat(os, path) {
            writeln!(Out(os), "cat: {path}: {e}").ok();
        }
    }
}

fn echo(os: &mut dyn Os, args: &[&str]) {
    for (i, word) in args.iter().enumerate() {
        if i > 0 {
            os.write(b" ");
        }
        os.write(word.as_bytes());
    }
    os.write(b"\n");
}

fn sh(os: &mut dyn Os, _: &[&str]) {
    if !os.executable(SHELL) {
        writeln!(Out(os), "sh: no shell is installed ({SHELL} not found)").ok();
        return;
    }
    let result = os.run(SHELL, &["sh"]);
    let mut out = Out(os);
    match result {
        Ok(Exit::Code(0)) => Ok(()),
        Ok(Exit::Code(c)) => writeln!(out, "sh: exited with status {c}"),
        Ok(Exit::Signal(s)) => writeln!(out, "sh: killed by signal {s}"),
        Err(e) => writeln!(out, "sh: cannot run {SHELL}: {e}"),
    }
    .ok();
}

fn poweroff(os: &mut dyn Os, _: &[&str]) {
    let e = os.power(Power::Off);
    writeln!(Out(os), "poweroff: {e}").ok();
}

fn reboot(os: &mut dyn Os, _: &[&str]) {
    let e = os.power(Power::Restart);
    writeln!(Out(os), "reboot: {e}").ok();
}

fn crash(os: &mut dyn Os, _: &[&str]) {
    let e = os.end_init();
    writeln!(Out(os), "crash: {e}").ok();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errno::{EPERM, Errno};
    use crate::fake::FakeOs;

    fn run(os: &mut FakeOs, line: &str) -> String {
        os.run(line)
    }

    #[test]
    fn unknown_commands_say_so() {
        let mut os = FakeOs::new();
        assert_eq!(
            run(&mut os, "bogus 1 2"),
            "unknown command: bogus (type 'help')\n"
        );
        assert_eq!(
            run(&mut os, "  HELP"),
            "unknown command: HELP (type 'help')\n"
        );
    }

    #[test]
    fn blank_lines_do_nothing() {
        let mut os = FakeOs::new();
        assert_eq!(run(&mut os, ""), "");
        assert_eq!(run(&mut os, "   \t "), "");
    }

    #[test]
    fn help_lists_every_command_once() {
        let mut os = FakeOs::new();
        let text = run(&mut os, "help");
        assert!(text.starts_with("commands:\n"));
        for c in COMMANDS {
            let lines = text
                .lines()
                .filter(|l| l.split_whitespace().next() == Some(c.name));
            assert_eq!(lines.count(), 1, "{}", c.name);
        }
        assert!(
            text.contains("  ls [path]         list a directory\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "  start <image> [name=<name>] [ram=<size>] [vcores=<n>]\n\
                 \x20                   run a new capsule from an image (sizes like 128M or 1G)\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn command_names_are_unique() {
        for (i, c) in COMMANDS.iter().enumerate() {
            assert!(
                COMMANDS[i + 1..].iter().all(|d| d.name != c.name),
                "{}",
                c.name
            );
        }
    }

    #[test]
    fn echo_joins_words_with_single_spaces() {
        let mut os = FakeOs::new();
        assert_eq!(run(&mut os, "echo  hi   there "), "hi there\n");
        assert_eq!(run(&mut os, "echo"), "\n");
    }

    #[test]
    fn info_has_the_parseable_lines() {
        let mut os = FakeOs::new();
        os.file(
            "/proc/cpuinfo",
            "processor : 0\nprocessor : 1\nprocessor : 2\n",
        );
        os.file("/proc/meminfo", "MemTotal: 1049599 kB\nMemFree: 2048 kB\n");
        let text = run(&mut os, "info");
        assert!(
            text.starts_with("cpus: 3\nmemory: 1024 MiB\nfree: 2 MiB\n"),
            "{text}"
        );
    }

    #[test]
    fn cat_and_ls_report_errors_per_path() {
        let mut os = FakeOs::new();
        os.file("/a", "A\n");
        assert_eq!(
            run(&mut os, "cat /a /b /a"),
            "A\ncat: /b: no such file or directory\nA\n"
        );
        assert_eq!(run(&mut os, "cat"), "usage: cat <file>...\n");
        assert_eq!(run(&mut os, "ls /b"), "ls: /b: no such file or directory\n");
    }

    #[test]
    fn ls_defaults_to_the_current_directory_and_titles_several() {
        let mut os = FakeOs::new();
        os.dir(".", &[("x", 8)]);
        os.dir("/d", &[("y", 8)]);
        assert_eq!(run(&mut os, "ls"), "x\n");
        assert_eq!(run(&mut os, "ls . /d"), ".:\nx\n\n/d:\ny\n");
    }

    #[test]
    fn sh_without_a_shell_says_so() {
        let mut os = FakeOs::new();
        assert_eq!(
            run(&mut os, "sh"),
            "sh: no shell is installed (/bin/sh not found)\n"
        );
        assert!(os.ran.is_empty());
    }

    #[test]
    fn sh_runs_the_shell_and_reports_how_it_ended() {
        let mut os = FakeOs::new();
        os.executables.push("/bin/sh".into());
        assert_eq!(run(&mut os, "sh"), "");
        assert_eq!(os.ran, ["/bin/sh sh"]);
        os.exit = Ok(Exit::Code(2));
        assert_eq!(run(&mut os, "sh"), "sh: exited with status 2\n");
        os.exit = Ok(Exit::Signal(9));
        assert_eq!(run(&mut os, "sh"), "sh: killed by signal 9\n");
        os.exit = Err(Errno(8));
        assert_eq!(
            run(&mut os, "sh"),
            "sh: cannot run /bin/sh: exec format error\n"
        );
    }

    #[test]
    fn power_commands_ask_for_the_right_thing_and_report_failure() {
        let mut os = FakeOs::new();
        os.power_error = EPERM;
        assert_eq!(
            run(&mut os, "poweroff"),
            "poweroff: operation not permitted\n"
        );
        assert_eq!(run(&mut os, "reboot"), "reboot: operation not permitted\n");
        assert_eq!(os.power_requests, [Power::Off, Power::Restart]);
    }

    #[test]
    fn crash_ends_init_and_reports_a_refusal() {
        let mut os = FakeOs::new();
        os.power_error = crate::errno::EPERM;
        let out = run(&mut os, "crash");
        assert!(os.ended);
        assert!(out.starts_with("crash: "), "{out}");
    }
}
