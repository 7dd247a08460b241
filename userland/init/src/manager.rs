//! The capsule manager's commands: ask the hypervisor, over the control
//! channel, to list, start, stop and show capsules.
//!
//! Arguments are checked first ([`crate::args`]): a mistake is explained
//! and nothing is sent. Whatever goes wrong after that, the hypervisor's
//! refusals included, is one sentence, and the prompt goes on.

use alloc::string::String;
use core::fmt::Write;

use ctl::text::{clean, format_capsules, format_images};
use ctl::{Reply, Request};

use crate::args::{self, ArgError};
use crate::channel::{self, ChannelError};
use crate::os::{Os, Out};

/// How much of a capsule's recent output `output` asks for.
pub const OUTPUT_MAX: u32 = 4096;

pub fn images(os: &mut dyn Os, a: &[&str]) {
    if checked(os, args::none("images", a)).is_none() {
        return;
    }
    if let Some(Reply::Images(list)) = ask(os, &Request::ListImages) {
        os.write(format_images(&list).as_bytes());
    }
}

pub fn capsules(os: &mut dyn Os, a: &[&str]) {
    if checked(os, args::none("capsules", a)).is_none() {
        return;
    }
    if let Some(Reply::Capsules(list)) = ask(os, &Request::ListCapsules) {
        os.write(format_capsules(&list).as_bytes());
    }
}

pub fn start(os: &mut dyn Os, a: &[&str]) {
    let Some(start) = checked(os, args::start(a)) else {
        return;
    };
    if let Some(Reply::Started { id }) = ask(os, &start.request()) {
        writeln!(Out(os), "started capsule {id} ({})", clean(start.name())).ok();
    }
}

pub fn stop(os: &mut dyn Os, a: &[&str]) {
    on_done(
        os,
        "stop",
        a,
        |id| Request::Stop { id },
        "stopped capsule {}",
    );
}

pub fn restart(os: &mut dyn Os, a: &[&str]) {
    on_done(
        os,
        "restart",
        a,
        |id| Request::Restart { id },
        "restarted capsule {}",
    );
}

/// `remove <image>`: an uploaded image goes; its RAM comes back once no
/// capsule started from it is left.
pub fn remove(os: &mut dyn Os, a: &[&str]) {
    let Some(name) = checked(os, args::image("remove", a)) else {
        return;
    };
    if let Some(Reply::Done) = ask(os, &Request::RemoveImage { name: name.clone() }) {
        writeln!(Out(os), "removed image {}", clean(&name)).ok();
    }
}

pub fn console(os: &mut dyn Os, a: &[&str]) {
    on_done(
        os,
        "console",
        a,
        |id| Request::Focus { id },
        "capsule {} has the console; Ctrl-] brings it back here",
    );
}

pub fn output(os: &mut dyn Os, a: &[&str]) {
    let Some(id) = checked(os, args::id("output", a)) else {
        return;
    };
    if let Some(Reply::Output(bytes)) = ask(
        os,
        &Request::Output {
            id,
            max: OUTPUT_MAX,
        },
    ) {
        if bytes.is_empty() {
            writeln!(Out(os), "capsule {id} has no output yet").ok();
            return;
        }
        let text = harmless(&bytes);
        os.write(text.as_bytes());
        if !text.ends_with('\n') {
            os.write(b"\n");
        }
    }
}

/// A command on one capsule that the hypervisor answers with `Done`: on
/// that, prints `said` with the `{}` replaced by the capsule's id.
fn on_done(
    os: &mut dyn Os,
    command: &'static str,
    a: &[&str],
    request: fn(u32) -> Request,
    said: &str,
) {
    let Some(id) = checked(os, args::id(command, a)) else {
        return;
    };
    if let Some(Reply::Done) = ask(os, &request(id)) {
        let (before, after) = said.split_once("{}").unwrap_or((said, ""));
        writeln!(Out(os), "{before}{id}{after}").ok();
    }
}

/// `bytes` as text that cannot steer the terminal: control characters
/// other than newline, tab and carriage return (escape sequences start
/// with one) shown as `?`, and bytes that are not UTF-8 as U+FFFD.
pub fn harmless(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| match c {
            '\n' | '\t' | '\r' => c,
            c if c.is_control() => '?',
            c => c,
        })
        .collect()
}

/// The arguments, or `None` once their mistake is shown.
pub fn checked<T>(os: &mut dyn Os, parsed: Result<T, ArgError>) -> Option<T> {
    parsed
        .map_err(|e| {
            writeln!(Out(os), "{e}").ok();
        })
        .ok()
}

/// The reply that answers `request`, or `None` once what went wrong is
/// shown.
fn ask(os: &mut dyn Os, request: &Request) -> Option<Reply> {
    channel::ask(os, request)
        .map_err(|e: ChannelError| {
            writeln!(Out(os), "{e}").ok();
        })
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::FakeOs;
    use crate::fake_port::Answer;
    use ctl::{CapsuleInfo, CapsuleState, CtlError, ImageInfo, ImageKind, Origin};

    fn run(os: &mut FakeOs, line: &str) -> String {
        os.run(line)
    }

    /// A fake OS whose hypervisor answers the requests after `Hello` so.
    fn answering(replies: impl IntoIterator<Item = Reply>) -> FakeOs {
        let mut os = FakeOs::new();
        os.control_port()
            .answers
            .extend(replies.into_iter().map(Answer::Reply));
        os
    }

    fn capsule(id: u32, name: &str, state: CapsuleState) -> CapsuleInfo {
        CapsuleInfo {
            id,
            name: name.into(),
            state,
            vcores: 2,
            ram_bytes: 256 << 20,
            uptime_ms: 61_000,
            cpu_ms: 1_500,
            restarts: 1,
        }
    }

    #[test]
    fn images_lists_the_images() {
        let images = vec![
            ImageInfo {
                name: "hello".into(),
                kind: ImageKind::Elf,
                size: 9000,
                origin: Origin::Bundled,
            },
            ImageInfo {
                name: "linux".into(),
                kind: ImageKind::Image,
                size: 20 << 20,
                origin: Origin::Uploaded,
            },
        ];
        let mut os = answering([Reply::Images(images), Reply::Images(vec![])]);
        assert_eq!(
            run(&mut os, "images"),
            "NAME   KIND      SIZE  ORIGIN\n\
             hello  ELF    8.7 KiB  bundled\n\
             linux  Image   20 MiB  uploaded\n"
        );
        assert_eq!(run(&mut os, "images"), "No images.\n");
        let hv = os.hv();
        assert_eq!(hv.asked(), [Request::ListImages, Request::ListImages]);
        assert_eq!(
            hv.requests[0],
            Request::Hello {
                version: ctl::VERSION
            }
        );
        assert_eq!((hv.opens, hv.is_open), (2, false));
    }

    #[test]
    fn capsules_lists_the_capsules() {
        let mut os = answering([
            Reply::Capsules(vec![
                capsule(1, "boot", CapsuleState::Running),
                capsule(12, "web", CapsuleState::Stopped),
            ]),
            Reply::Capsules(vec![]),
        ]);
        assert_eq!(
            run(&mut os, "capsules"),
            "ID  NAME  STATE    VCORES      RAM  UPTIME   CPU  RESTARTS\n\
             \x201  boot  running       2  256 MiB   1m01s  1.5s         1\n\
             12  web   stopped       2  256 MiB   1m01s  1.5s         1\n"
        );
        assert_eq!(run(&mut os, "capsules"), "No capsules.\n");
        assert_eq!(
            os.hv().asked(),
            [Request::ListCapsules, Request::ListCapsules]
        );
    }

    #[test]
    fn start_sends_what_was_typed_and_names_the_new_capsule() {
        let mut os = answering([Reply::Started { id: 2 }, Reply::Started { id: 3 }]);
        assert_eq!(
            run(&mut os, "start linux name=web ram=1.5G vcores=2"),
            "started capsule 2 (web)\n"
        );
        assert_eq!(run(&mut os, "start hello"), "started capsule 3 (hello)\n");
        assert_eq!(
            os.hv().asked(),
            [
                Request::Start {
                    image: "linux".into(),
                    name: Some("web".into()),
                    ram_mib: Some(1536),
                    vcores: Some(2),
                },
                Request::Start {
                    image: "hello".into(),
                    name: None,
                    ram_mib: None,
                    vcores: None,
                },
            ]
        );
    }

    #[test]
    fn stop_restart_and_console_say_what_was_done() {
        let mut os = answering([Reply::Done, Reply::Done, Reply::Done]);
        assert_eq!(run(&mut os, "stop 3"), "stopped capsule 3\n");
        assert_eq!(run(&mut os, "restart 4"), "restarted capsule 4\n");
        assert_eq!(
            run(&mut os, "console 5"),
            "capsule 5 has the console; Ctrl-] brings it back here\n"
        );
        assert_eq!(
            os.hv().asked(),
            [
                Request::Stop { id: 3 },
                Request::Restart { id: 4 },
                Request::Focus { id: 5 },
            ]
        );
    }

    #[test]
    fn remove_names_the_image_and_says_it_went() {
        let mut os = answering([Reply::Done]);
        assert_eq!(run(&mut os, "remove up"), "removed image up\n");
        assert_eq!(
            os.hv().asked(),
            [Request::RemoveImage { name: "up".into() }]
        );
    }

    #[test]
    fn output_shows_the_bytes_harmlessly() {
        let mut os = answering([
            Reply::Output(b"login: \x1b[2Jroot\r\n\tok\x07\xff\n".to_vec()),
            Reply::Output(b"no newline".to_vec()),
            Reply::Output(vec![]),
        ]);
        assert_eq!(
            run(&mut os, "output 2"),
            "login: ?[2Jroot\r\n\tok?\u{fffd}\n"
        );
        assert_eq!(run(&mut os, "output 2"), "no newline\n");
        assert_eq!(run(&mut os, "output 7"), "capsule 7 has no output yet\n");
        assert_eq!(
            os.hv().asked()[0],
            Request::Output {
                id: 2,
                max: OUTPUT_MAX
            }
        );
        assert_eq!(OUTPUT_MAX, 4096);
        // C1 controls (U+009B is a one-character CSI) too.
        assert_eq!(harmless("a\u{9b}31mb".as_bytes()), "a?31mb");
    }

    fn every_ctl_error() -> Vec<CtlError> {
        vec![
            CtlError::VersionMismatch { ours: 1, theirs: 2 },
            CtlError::BadRequest {
                why: "no upload begun".into(),
            },
            CtlError::Busy,
            CtlError::UnknownImage {
                name: "nope".into(),
            },
            CtlError::BadImage {
                name: "x".into(),
                why: "not RISC-V".into(),
            },
            CtlError::NoRoom {
                asked: 1 << 30,
                free: 1 << 29,
                largest: 1 << 28,
            },
            CtlError::TooManyCapsules { max: 8 },
            CtlError::NoSuchCapsule { id: 77 },
            CtlError::UploadTooBig {
                size: 1 << 40,
                max: 1 << 28,
            },
            CtlError::Refused {
                why: "the boot capsule cannot be stopped".into(),
            },
        ]
    }

    #[test]
    fn every_refusal_reaches_the_user_as_its_sentence() {
        let commands = [
            "images",
            "capsules",
            "start linux",
            "stop 1",
            "restart 1",
            "console 1",
            "output 1",
            "remove up",
        ];
        for e in every_ctl_error() {
            let sentence = format!("{e}\n");
            assert!(sentence.starts_with(char::is_uppercase) && sentence.ends_with(".\n"));
            for command in commands {
                let mut os = answering([Reply::Error(e.clone())]);
                assert_eq!(run(&mut os, command), sentence, "{command}");
            }
        }
        let mut os = answering([Reply::Error(CtlError::NoSuchCapsule { id: 9 })]);
        assert_eq!(run(&mut os, "stop 9"), "There is no capsule 9.\n");
    }

    #[test]
    fn bad_arguments_send_nothing() {
        let cases = [
            (
                "start",
                "usage: start <image> [name=<name>] [ram=<size>] [vcores=<n>]\n",
            ),
            (
                "start linux colour=red",
                "There is no setting \"colour\"; start takes name=, ram= and vcores=.\n",
            ),
            (
                "start linux ram=lots",
                "The size \"lots\" is not a number; write one like 128, 128M or 1G.\n",
            ),
            (
                "start linux vcores=-1",
                "The vcore count \"-1\" is not a whole number from 1 up.\n",
            ),
            ("stop", "usage: stop <id>\n"),
            ("stop web", "The capsule id \"web\" is not a number.\n"),
            ("restart 1 2", "usage: restart <id>\n"),
            ("console #1", "The capsule id \"#1\" is not a number.\n"),
            ("output 0x10", "The capsule id \"0x10\" is not a number.\n"),
            ("images all", "usage: images\n"),
            ("capsules -l", "usage: capsules\n"),
            ("remove", "usage: remove <image>\n"),
            ("remove a b", "usage: remove <image>\n"),
        ];
        let mut os = FakeOs::new();
        os.control_port();
        for (line, said) in cases {
            assert_eq!(run(&mut os, line), said, "{line}");
        }
        assert_eq!(os.hv().opens, 0);
        assert!(os.hv().requests.is_empty());
    }

    #[test]
    fn without_the_port_every_command_says_what_the_kernel_needs() {
        const NEEDS: &str = "This kernel has no diosix control channel: no virtio console \
             port is named diosix.ctl. The boot capsule's kernel needs CONFIG_VIRTIO_MMIO and \
             CONFIG_VIRTIO_CONSOLE.\n";
        let mut os = FakeOs::new();
        for line in [
            "images",
            "capsules",
            "start linux",
            "stop 1",
            "restart 1",
            "console 1",
            "output 1",
            "remove up",
        ] {
            assert_eq!(run(&mut os, line), NEEDS, "{line}");
        }
        // The prompt goes on.
        assert_eq!(run(&mut os, "echo still here"), "still here\n");
    }

    #[test]
    fn a_silent_hypervisor_times_out_and_the_prompt_goes_on() {
        let mut os = FakeOs::new();
        os.control_port().answers.push_back(Answer::Silent);
        let before = os.now_ns;
        assert_eq!(
            run(&mut os, "capsules"),
            "The hypervisor did not answer within 10 s.\n"
        );
        assert!(os.now_ns - before >= 10_000_000_000);
        assert!(os.now_ns - before < 11_000_000_000);
        assert!(!os.hv().is_open);
        // The next conversation is a new one.
        os.hv().answers.push_back(Answer::Reply(Reply::Done));
        assert_eq!(run(&mut os, "stop 2"), "stopped capsule 2\n");
    }
}
