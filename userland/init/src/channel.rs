//! The control channel: conversations with the hypervisor over its port,
//! in the `ctl` protocol's frames.
//!
//! Each manager command is a conversation of its own ([`ask`]): find and
//! open the port, `Hello` (the hypervisor must say `Welcome` in our
//! version), the request, its reply, close. Linux drops what arrives on a
//! port nobody has open, and request ids count up across conversations,
//! so a late reply to a conversation that gave up is never taken for
//! another's. Nothing waits for ever: the port is non-blocking, and each
//! request and its reply must be through within [`TIMEOUT_S`] seconds.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering};

use ctl::{CtlError, DecodeError, Decoder, EncodeError, Reply, Request, VERSION};

use crate::errno::{EAGAIN, EINTR, Errno};
use crate::os::{Fd, Os};
use crate::port;

/// How long a request and its reply may take.
pub const TIMEOUT_S: u64 = 10;
const TIMEOUT_NS: u64 = TIMEOUT_S * 1_000_000_000;

/// The next request's id (shared by every conversation).
static NEXT_ID: AtomicU32 = AtomicU32::new(1);

/// Why a request got no useful reply. Each shows as a sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChannelError {
    /// No virtio console port is named [`ctl::PORT`].
    NoPort,
    /// The port's device would not open.
    Open { path: String, errno: Errno },
    /// Reading, writing or waiting on the port failed.
    Io(Errno),
    /// The request was not taken, or not answered, in time.
    Timeout,
    /// The hypervisor's end of the port is closed.
    Closed,
    /// The hypervisor could not do what was asked.
    Hypervisor(CtlError),
    /// The reply could not be read.
    Malformed(DecodeError),
    /// A reply that does not answer the request.
    Unexpected {
        asked: &'static str,
        got: &'static str,
    },
    /// `Welcome` in another protocol version.
    Version { theirs: u8 },
    /// The request does not fit in a frame.
    TooBig(EncodeError),
}

impl fmt::Display for ChannelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelError::NoPort => write!(
                f,
                "This kernel has no diosix control channel: no virtio console port is named {}. \
                 The boot capsule's kernel needs CONFIG_VIRTIO_MMIO and CONFIG_VIRTIO_CONSOLE.",
                ctl::PORT
            ),
            ChannelError::Open { path, errno } => {
                write!(f, "The control channel {path} cannot be opened: {errno}.")
            }
            ChannelError::Io(errno) => write!(f, "The control channel failed: {errno}."),
            ChannelError::Timeout => {
                write!(f, "The hypervisor did not answer within {TIMEOUT_S} s.")
            }
            ChannelError::Closed => f.write_str("The hypervisor closed the control channel."),
            ChannelError::Hypervisor(e) => write!(f, "{e}"),
            ChannelError::Malformed(e) => {
                write!(f, "The hypervisor's answer could not be read. {e}")
            }
            ChannelError::Unexpected { asked, got } => write!(
                f,
                "The hypervisor answered a {asked} request with {got}, which does not fit."
            ),
            ChannelError::Version { theirs } => write!(
                f,
                "The hypervisor speaks control protocol version {theirs}, but this /init speaks version {VERSION}."
            ),
            ChannelError::TooBig(e) => write!(f, "The request is too big to send. {e}"),
        }
    }
}

/// Asks the hypervisor one thing, in a conversation of its own. The reply
/// is one that answers `request`: `Error` replies, and replies of the
/// wrong kind, are errors.
pub fn ask(os: &mut dyn Os, request: &Request) -> Result<Reply, ChannelError> {
    let mut channel = Channel::open(os)?;
    let reply = channel.call(os, request);
    channel.close(os);
    reply
}

/// An open port that has said `Welcome`.
pub struct Channel {
    fd: Fd,
    decoder: Decoder,
    /// Bytes read that the decoder has not taken yet.
    unread: Vec<u8>,
}

impl Channel {
    /// Finds and opens the port, and says hello.
    pub fn open(os: &mut dyn Os) -> Result<Channel, ChannelError> {
        // Whatever was printed shows before we may wait.
        os.flush();
        let path = port::find(os, ctl::PORT).ok_or(ChannelError::NoPort)?;
        let fd = os
            .open_device(&path)
            .map_err(|errno| ChannelError::Open { path, errno })?;
        let mut channel = Channel {
            fd,
            decoder: Decoder::new(),
            unread: Vec::new(),
        };
        let e = match channel.call(os, &Request::Hello { version: VERSION }) {
            Ok(Reply::Welcome { version, .. }) if version == VERSION => return Ok(channel),
            Ok(Reply::Welcome { version, .. }) => ChannelError::Version { theirs: version },
            Ok(other) => ChannelError::Unexpected {
                asked: "hello",
                got: reply_name(&other),
            },
            Err(e) => e,
        };
        channel.close(os);
        Err(e)
    }

    pub fn close(self, os: &mut dyn Os) {
        os.close(self.fd);
    }

    /// Sends `request` and waits for its reply.
    pub fn call(&mut self, os: &mut dyn Os, request: &Request) -> Result<Reply, ChannelError> {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let frame = ctl::encode_request(id, request).map_err(ChannelError::TooBig)?;
        let deadline = os
            .monotonic_ns()
            .map_err(ChannelError::Io)?
            .saturating_add(TIMEOUT_NS);
        self.send(os, &frame, deadline)?;
        match self.receive(os, id, deadline)? {
            Reply::Error(e) => Err(ChannelError::Hypervisor(e)),
            reply if answers(request, &reply) => Ok(reply),
            reply => Err(ChannelError::Unexpected {
                asked: request_name(request),
                got: reply_name(&reply),
            }),
        }
    }

    fn send(
        &mut self,
        os: &mut dyn Os,
        mut frame: &[u8],
        deadline: u64,
    ) -> Result<(), ChannelError> {
        while !frame.is_empty() {
            match os.write_fd(self.fd, frame) {
                Ok(n @ 1..) => frame = &frame[n.min(frame.len())..],
                Ok(0) | Err(EAGAIN) => self.wait(os, true, deadline)?,
                Err(EINTR) => {}
                Err(e) => return Err(ChannelError::Io(e)),
            }
        }
        Ok(())
    }

    /// The reply with id `id`, passing over anything else: garbage, and
    /// replies to requests of conversations that gave up.
    fn receive(&mut self, os: &mut dyn Os, id: u32, deadline: u64) -> Result<Reply, ChannelError> {
        let mut chunk = [0u8; 512];
        loop {
            loop {
                let taken = self.decoder.push(&self.unread);
                self.unread.drain(..taken);
                for found in self.decoder.by_ref() {
                    match found {
                        Ok(frame) if frame.id == id => {
                            return frame.reply().map_err(ChannelError::Malformed);
                        }
                        Err(DecodeError::Version { theirs, id: of }) if of == id => {
                            return Err(ChannelError::Version { theirs });
                        }
                        Err(e) if e.id() == Some(id) => return Err(ChannelError::Malformed(e)),
                        _ => {}
                    }
                }
                // With its frames taken out, the decoder has room again.
                if self.unread.is_empty() {
                    break;
                }
            }
            match os.read(self.fd, &mut chunk) {
                Ok(0) => return Err(ChannelError::Closed),
                Ok(n) => self.unread.extend_from_slice(&chunk[..n]),
                Err(EAGAIN) => self.wait(os, false, deadline)?,
                Err(EINTR) => {}
                Err(e) => return Err(ChannelError::Io(e)),
            }
        }
    }

    /// Waits until the port can be read (or written) or `deadline`.
    fn wait(&mut self, os: &mut dyn Os, write: bool, deadline: u64) -> Result<(), ChannelError> {
        loop {
            let now = os.monotonic_ns().map_err(ChannelError::Io)?;
            let left = deadline.saturating_sub(now);
            if left == 0 {
                return Err(ChannelError::Timeout);
            }
            match os.wait(self.fd, write, left) {
                // What was sent before a hang-up is still read.
                Ok(ready) if (write && ready.write) || (!write && ready.read) => return Ok(()),
                Ok(ready) if ready.hangup => return Err(ChannelError::Closed),
                Ok(_) | Err(EINTR) => {}
                Err(e) => return Err(ChannelError::Io(e)),
            }
        }
    }
}

/// Whether `reply` (not an `Error`) is of the kind that answers `request`.
fn answers(request: &Request, reply: &Reply) -> bool {
    matches!(
        (request, reply),
        (Request::Hello { .. }, Reply::Welcome { .. })
            | (Request::ListImages, Reply::Images(_))
            | (Request::Start { .. }, Reply::Started { .. })
            | (Request::ListCapsules, Reply::Capsules(_))
            | (Request::Output { .. }, Reply::Output(_))
            | (
                Request::Stop { .. }
                    | Request::Restart { .. }
                    | Request::Focus { .. }
                    | Request::UploadBegin { .. }
                    | Request::UploadChunk { .. }
                    | Request::UploadEnd
                    | Request::RemoveImage { .. },
                Reply::Done
            )
    )
}

fn request_name(request: &Request) -> &'static str {
    match request {
        Request::Hello { .. } => "hello",
        Request::ListImages => "list-images",
        Request::Start { .. } => "start",
        Request::ListCapsules => "list-capsules",
        Request::Stop { .. } => "stop",
        Request::Restart { .. } => "restart",
        Request::Focus { .. } => "console",
        Request::Output { .. } => "output",
        Request::UploadBegin { .. } | Request::UploadChunk { .. } | Request::UploadEnd => "upload",
        Request::RemoveImage { .. } => "remove",
    }
}

fn reply_name(reply: &Reply) -> &'static str {
    match reply {
        Reply::Welcome { .. } => "a welcome",
        Reply::Images(_) => "a list of images",
        Reply::Started { .. } => "a new capsule's id",
        Reply::Capsules(_) => "a list of capsules",
        Reply::Done => "a plain done",
        Reply::Output(_) => "a capsule's output",
        Reply::Error(_) => "an error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::FakeOs;
    use crate::fake_port::Answer;
    use alloc::string::ToString;

    fn ask_with(os: &mut FakeOs, answer: Answer, request: Request) -> Result<Reply, String> {
        os.hv().answers.push_back(answer);
        let result = ask(os, &request).map_err(|e| e.to_string());
        assert!(!os.hv().is_open, "the port was left open");
        result
    }

    fn port() -> FakeOs {
        let mut os = FakeOs::new();
        os.control_port();
        os
    }

    #[test]
    fn hello_comes_first_then_the_request() {
        let mut os = port();
        let got = ask_with(&mut os, Answer::Reply(Reply::Done), Request::Stop { id: 1 });
        assert_eq!(got, Ok(Reply::Done));
        assert_eq!(
            os.hv().requests,
            [Request::Hello { version: VERSION }, Request::Stop { id: 1 }]
        );
    }

    #[test]
    fn garbage_and_other_replies_are_passed_over_in_any_pieces() {
        let mut os = port();
        os.read_chunk = 1;
        os.hv().write_chunk = 5;
        let images = Reply::Images(vec![]);
        let got = ask_with(
            &mut os,
            Answer::AfterNoise(images.clone()),
            Request::ListImages,
        );
        assert_eq!(got, Ok(images));
    }

    #[test]
    fn a_reply_that_cannot_be_read_says_why() {
        let mut os = port();
        let truncated = Answer::Frame {
            kind: 0x82,
            payload: vec![1, 0],
        };
        assert_eq!(
            ask_with(&mut os, truncated, Request::ListImages),
            Err("The hypervisor's answer could not be read. \
                 The message ends in the middle of a field."
                .into())
        );
        let output = Request::Output { id: 1, max: 9 };
        let damaged = ask_with(
            &mut os,
            Answer::Damaged(Reply::Output(b"xyz".to_vec())),
            output,
        );
        let damaged = damaged.unwrap_err();
        assert!(
            damaged.starts_with("The hypervisor's answer could not be read. Frame ")
                && damaged.ends_with(" was damaged on the way: its checksum does not match."),
            "{damaged}"
        );
    }

    #[test]
    fn a_reply_of_the_wrong_kind_is_refused() {
        let mut os = port();
        assert_eq!(
            ask_with(&mut os, Answer::Reply(Reply::Done), Request::ListImages),
            Err(
                "The hypervisor answered a list-images request with a plain done, \
                 which does not fit."
                    .into()
            )
        );
        assert_eq!(
            ask_with(
                &mut os,
                Answer::Reply(Reply::Started { id: 1 }),
                Request::Stop { id: 1 }
            ),
            Err(
                "The hypervisor answered a stop request with a new capsule's id, \
                 which does not fit."
                    .into()
            )
        );
        os.hv().welcome = Answer::Reply(Reply::Done);
        assert_eq!(
            ask_with(&mut os, Answer::Silent, Request::ListImages),
            Err(
                "The hypervisor answered a hello request with a plain done, which does not fit."
                    .into()
            )
        );
    }

    #[test]
    fn another_protocol_version_is_named() {
        let mut os = port();
        os.hv().welcome = Answer::Reply(Reply::Welcome {
            version: 2,
            max_payload: 4096,
        });
        assert_eq!(
            ask_with(&mut os, Answer::Silent, Request::ListImages),
            Err("The hypervisor speaks control protocol version 2, \
                 but this /init speaks version 1."
                .into())
        );
        os.hv().welcome = Answer::Reply(Reply::Error(CtlError::VersionMismatch {
            ours: 2,
            theirs: 1,
        }));
        assert_eq!(
            ask_with(&mut os, Answer::Silent, Request::ListImages),
            Err("The hypervisor speaks control protocol version 2, \
                 but the request was in version 1."
                .into())
        );
        // Only the hellos were sent.
        assert!(os.hv().asked().is_empty());
    }

    #[test]
    fn silence_times_out_at_hello_too() {
        let mut os = port();
        os.hv().welcome = Answer::Silent;
        assert_eq!(
            ask_with(&mut os, Answer::Reply(Reply::Done), Request::Stop { id: 1 }),
            Err("The hypervisor did not answer within 10 s.".into())
        );
        assert!(os.hv().asked().is_empty());
    }

    #[test]
    fn a_closed_end_is_said_at_once() {
        let mut os = port();
        let before = os.now_ns;
        assert_eq!(
            ask_with(&mut os, Answer::Hangup, Request::ListCapsules),
            Err("The hypervisor closed the control channel.".into())
        );
        // Writing to a closed end fails too, rather than waiting.
        assert_eq!(
            ask_with(&mut os, Answer::Silent, Request::ListCapsules),
            Err("The hypervisor closed the control channel.".into())
        );
        assert!(os.now_ns - before < 1_000_000_000);
    }

    #[test]
    fn a_port_without_its_device_says_so() {
        let mut os = port();
        os.port = None;
        assert_eq!(
            ask(&mut os, &Request::ListImages).map_err(|e| e.to_string()),
            Err("The control channel /dev/vport0p1 cannot be opened: \
                 no such file or directory."
                .into())
        );
    }

    #[test]
    fn every_channel_error_is_a_sentence() {
        let errors = [
            ChannelError::NoPort,
            ChannelError::Open {
                path: "/dev/vport0p1".into(),
                errno: Errno(13),
            },
            ChannelError::Io(Errno(5)),
            ChannelError::Timeout,
            ChannelError::Closed,
            ChannelError::Hypervisor(CtlError::Busy),
            ChannelError::Malformed(DecodeError::Truncated),
            ChannelError::Unexpected {
                asked: "stop",
                got: "an error",
            },
            ChannelError::Version { theirs: 9 },
            ChannelError::TooBig(EncodeError::StringTooLong { len: 70_000 }),
        ];
        for e in errors {
            let s = e.to_string();
            assert!(
                s.starts_with(char::is_uppercase) && s.ends_with('.') && !s.ends_with(".."),
                "{s}"
            );
        }
        assert_eq!(
            ChannelError::Io(Errno(5)).to_string(),
            "The control channel failed: input/output error."
        );
    }

    #[test]
    fn replies_answer_their_requests() {
        let done = [
            Request::Stop { id: 1 },
            Request::Restart { id: 1 },
            Request::Focus { id: 1 },
            Request::UploadEnd,
            Request::RemoveImage { name: "up".into() },
        ];
        for r in done {
            assert!(answers(&r, &Reply::Done));
            assert!(!answers(&r, &Reply::Output(vec![])));
        }
        assert!(answers(&Request::ListImages, &Reply::Images(vec![])));
        assert!(!answers(&Request::ListImages, &Reply::Capsules(vec![])));
        assert!(answers(
            &Request::Output { id: 1, max: 1 },
            &Reply::Output(vec![])
        ));
        assert!(!answers(&Request::Hello { version: 1 }, &Reply::Done));
    }
}
