//! A scripted hypervisor behind a fake control port, for the unit tests:
//! it reads the request frames written to the port and answers each as
//! the test says.

use std::collections::VecDeque;

use ctl::{Decoder, Frame, Reply, Request};

use crate::errno::{EAGAIN, Errno};
use crate::os::Ready;

/// Where the fake port's device is, and its name's directory in sysfs.
pub const DEVICE: &str = "/dev/vport0p1";
pub const SYS_NAME: &str = "/sys/class/virtio-ports/vport0p1/name";

/// How the fake hypervisor answers one request.
#[derive(Clone, Debug)]
pub enum Answer {
    Reply(Reply),
    /// Garbage and a reply to some other request first, then this.
    AfterNoise(Reply),
    /// This reply (which must have a payload) with a payload byte changed
    /// on the way.
    Damaged(Reply),
    /// A frame of this kind and payload, with the request's id.
    Frame {
        kind: u8,
        payload: Vec<u8>,
    },
    /// Nothing, ever.
    Silent,
    /// Its end of the port closes.
    Hangup,
}

/// An upload as it arrived.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Arrived {
    pub name: String,
    pub size: u64,
    /// The chunks' data, in order; each chunk's offset was checked to be
    /// the bytes before it.
    pub data: Vec<u8>,
    pub chunks: usize,
    pub ended: bool,
}

pub struct FakePort {
    /// The answer to every `Hello`.
    pub welcome: Answer,
    /// The answers to the other requests, in order; then silence.
    pub answers: VecDeque<Answer>,
    /// Every request read, `Hello`s included.
    pub requests: Vec<Request>,
    /// Every upload begun.
    pub uploads: Vec<Arrived>,
    pub is_open: bool,
    pub opens: usize,
    /// Most bytes one write takes.
    pub write_chunk: usize,
    to_init: Vec<u8>,
    decoder: Decoder,
    hung_up: bool,
}

impl FakePort {
    pub fn new() -> Self {
        Self {
            welcome: Answer::Reply(Reply::Welcome {
                version: ctl::VERSION,
                max_payload: ctl::MAX_PAYLOAD as u32,
            }),
            answers: VecDeque::new(),
            requests: Vec::new(),
            uploads: Vec::new(),
            is_open: false,
            opens: 0,
            write_chunk: usize::MAX,
            to_init: Vec::new(),
            decoder: Decoder::new(),
            hung_up: false,
        }
    }

    /// The requests other than `Hello`.
    pub fn asked(&self) -> Vec<Request> {
        self.requests
            .iter()
            .filter(|r| !matches!(r, Request::Hello { .. }))
            .cloned()
            .collect()
    }

    pub fn open(&mut self) {
        self.is_open = true;
        self.opens += 1;
    }

    /// Like Linux: what was not read is dropped, and so is a frame the
    /// hypervisor was part way through reading.
    pub fn close(&mut self) {
        self.is_open = false;
        self.to_init.clear();
        self.decoder = Decoder::new();
    }

    pub fn write(&mut self, bytes: &[u8]) -> usize {
        let n = bytes.len().min(self.write_chunk);
        let mut input = &bytes[..n];
        while !input.is_empty() {
            let taken = self.decoder.push(input);
            input = &input[taken..];
            while let Some(found) = self.decoder.next() {
                let frame = found.expect("init sends sound frames");
                let request = frame.request().expect("init sends requests");
                let answer = match request {
                    Request::Hello { .. } => self.welcome.clone(),
                    _ => self.answers.pop_front().unwrap_or(Answer::Silent),
                };
                self.arrive(&request);
                self.requests.push(request);
                self.answer(frame.id, answer);
            }
        }
        n
    }

    /// Keeps what an upload request carries, checking it as the
    /// hypervisor does.
    fn arrive(&mut self, request: &Request) {
        match request {
            Request::UploadBegin { name, size } => self.uploads.push(Arrived {
                name: name.clone(),
                size: *size,
                ..Arrived::default()
            }),
            Request::UploadChunk { offset, data } => {
                let up = self.uploads.last_mut().expect("a chunk before any begin");
                assert!(!up.ended, "a chunk after the end");
                assert_eq!(*offset, up.data.len() as u64, "a chunk at the wrong offset");
                assert!(!data.is_empty() && data.len() <= ctl::MAX_CHUNK);
                up.data.extend_from_slice(data);
                up.chunks += 1;
                assert!(up.data.len() as u64 <= up.size, "more than the size");
            }
            Request::UploadEnd => {
                let up = self.uploads.last_mut().expect("an end before any begin");
                up.ended = true;
            }
            _ => {}
        }
    }

    fn answer(&mut self, id: u32, answer: Answer) {
        let reply = |id, r: &Reply| ctl::encode_reply(id, r).unwrap();
        match answer {
            Answer::Reply(r) => self.to_init.extend(reply(id, &r)),
            Answer::AfterNoise(r) => {
                self.to_init.extend(b"DXC noise \0\x01");
                self.to_init
                    .extend(reply(id.wrapping_add(1000), &Reply::Done));
                self.to_init.extend(reply(id, &r));
            }
            Answer::Damaged(r) => {
                let mut bytes = reply(id, &r);
                assert!(bytes.len() > ctl::HEADER_LEN, "no payload to damage");
                *bytes.last_mut().unwrap() ^= 0x55;
                self.to_init.extend(bytes);
            }
            Answer::Frame { kind, payload } => {
                self.to_init
                    .extend(Frame { kind, id, payload }.encode().unwrap());
            }
            Answer::Silent => {}
            Answer::Hangup => self.hung_up = true,
        }
    }

    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        if self.to_init.is_empty() {
            return if self.hung_up { Ok(0) } else { Err(EAGAIN) };
        }
        let n = buf.len().min(self.to_init.len());
        buf[..n].copy_from_slice(&self.to_init[..n]);
        self.to_init.drain(..n);
        Ok(n)
    }

    /// What the port is ready for now; `None` if the wait would time out.
    pub fn ready(&self, write: bool) -> Option<Ready> {
        let ready = Ready {
            read: !self.to_init.is_empty(),
            write: !self.hung_up,
            hangup: self.hung_up,
        };
        let now = if write { ready.write } else { ready.read };
        (now || ready.hangup).then_some(ready)
    }
}
