//! `upload <file> [name=<name>]`: sends a kernel image from the boot
//! capsule's filesystem to the hypervisor, which checks it, lists it in
//! `images` and starts it by name.
//!
//! The file goes in one conversation: `Hello`, `UploadBegin` with its
//! size, `UploadChunk`s of at most [`ctl::MAX_CHUNK`] bytes read one at a
//! time (an image may be many MiB; the heap has 4), `UploadEnd`. The first
//! thing that goes wrong is said in one sentence, and nothing more is
//! sent.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write};

use ctl::text::{Size, clean};
use ctl::{MAX_CHUNK, Request};

use crate::args;
use crate::channel::{Channel, ChannelError};
use crate::errno::{EINTR, ENOENT, Errno};
use crate::manager::checked;
use crate::os::{Fd, Os, Out};

pub fn upload(os: &mut dyn Os, a: &[&str]) {
    let Some(up) = checked(os, args::upload(a)) else {
        return;
    };
    let name = clean(&up.name);
    match send(os, &up) {
        Ok(size) => writeln!(
            Out(os),
            "uploaded {name} ({}); start it with: start {name}",
            Size(size)
        ),
        Err(e) => writeln!(Out(os), "{e}"),
    }
    .ok();
}

/// Why an upload stopped. Each shows as a sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
enum UploadError {
    NoFile(String),
    Unreadable(String, Errno),
    NotAFile(String),
    Empty(String),
    /// Fewer or more bytes than its size said at the start.
    Changed(String),
    Channel(ChannelError),
}

impl From<ChannelError> for UploadError {
    fn from(e: ChannelError) -> Self {
        UploadError::Channel(e)
    }
}

impl fmt::Display for UploadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UploadError::NoFile(path) => write!(f, "There is no file {}.", clean(path)),
            UploadError::Unreadable(path, e) => {
                write!(f, "The file {} cannot be read: {e}.", clean(path))
            }
            UploadError::NotAFile(path) => write!(
                f,
                "The path {} is a directory or a device, not a file.",
                clean(path)
            ),
            UploadError::Empty(path) => write!(f, "The file {} is empty.", clean(path)),
            UploadError::Changed(path) => write!(
                f,
                "The file {} changed size while it was being read.",
                clean(path)
            ),
            UploadError::Channel(e) => write!(f, "{e}"),
        }
    }
}

/// Sends the file; its size.
fn send(os: &mut dyn Os, up: &args::Upload) -> Result<u64, UploadError> {
    let path = &up.path;
    let fd = os.open(path, false).map_err(|e| match e {
        ENOENT => UploadError::NoFile(path.clone()),
        e => UploadError::Unreadable(path.clone(), e),
    })?;
    let result = send_open(os, fd, up);
    os.close(fd);
    result
}

fn send_open(os: &mut dyn Os, fd: Fd, up: &args::Upload) -> Result<u64, UploadError> {
    let path = &up.path;
    let size = match os.file_size(fd) {
        Ok(Some(0)) => return Err(UploadError::Empty(path.clone())),
        Ok(Some(size)) => size,
        Ok(None) => return Err(UploadError::NotAFile(path.clone())),
        Err(e) => return Err(UploadError::Unreadable(path.clone(), e)),
    };
    let mut channel = Channel::open(os)?;
    let result = send_chunks(os, &mut channel, fd, up, size);
    channel.close(os);
    result.map(|()| size)
}

fn send_chunks(
    os: &mut dyn Os,
    channel: &mut Channel,
    fd: Fd,
    up: &args::Upload,
    size: u64,
) -> Result<(), UploadError> {
    let changed = || UploadError::Changed(up.path.clone());
    let begin = Request::UploadBegin {
        name: up.name.clone(),
        size,
    };
    channel.call(os, &begin)?;
    let mut data = Vec::new();
    let mut offset = 0;
    while offset < size {
        let want = (size - offset).min(MAX_CHUNK as u64) as usize;
        data.resize(want, 0);
        if fill(os, fd, &mut data, &up.path)? < want {
            return Err(changed());
        }
        let chunk = Request::UploadChunk { offset, data };
        let reply = channel.call(os, &chunk);
        // The buffer is used again for the next chunk.
        let Request::UploadChunk { data: buffer, .. } = chunk else {
            unreachable!()
        };
        data = buffer;
        reply?;
        offset += want as u64;
    }
    // One byte more means the file grew.
    if fill(os, fd, &mut [0], &up.path)? != 0 {
        return Err(changed());
    }
    channel.call(os, &Request::UploadEnd)?;
    Ok(())
}

/// Reads into `buf` until it is full or the file ends; how much was read.
fn fill(os: &mut dyn Os, fd: Fd, buf: &mut [u8], path: &str) -> Result<usize, UploadError> {
    let mut got = 0;
    while got < buf.len() {
        match os.read(fd, &mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(EINTR) => {}
            Err(e) => return Err(UploadError::Unreadable(path.into(), e)),
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::FakeOs;
    use crate::fake_port::Answer;
    use ctl::{CtlError, Reply};

    fn run(os: &mut FakeOs, line: &str) -> String {
        os.run(line)
    }

    /// Bytes that show where each came from.
    fn image(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    /// A fake OS with `file` at `path` and a hypervisor that answers
    /// `Done` to the first `dones` requests after `Hello`, then `then`.
    fn with_file(path: &str, file: &[u8], dones: usize, then: Option<Reply>) -> FakeOs {
        let mut os = FakeOs::new();
        os.file_bytes(path, file);
        let hv = os.control_port();
        hv.answers
            .extend(std::iter::repeat_n(Answer::Reply(Reply::Done), dones));
        hv.answers.extend(then.map(Answer::Reply));
        os
    }

    /// The offsets of the chunks sent.
    fn offsets(os: &mut FakeOs) -> Vec<u64> {
        os.hv()
            .asked()
            .iter()
            .filter_map(|r| match r {
                Request::UploadChunk { offset, .. } => Some(*offset),
                _ => None,
            })
            .collect()
    }

    fn all_closed(os: &mut FakeOs) -> bool {
        os.open_fds() == 0 && !os.hv().is_open
    }

    #[test]
    fn a_file_of_many_chunks_arrives_whole_and_in_order() {
        let len = 2 * MAX_CHUNK + 1000;
        let file = image(len);
        let mut os = with_file("/boot/linux", &file, 5, None);
        assert_eq!(
            run(&mut os, "upload /boot/linux"),
            "uploaded linux (128.9 KiB); start it with: start linux\n"
        );
        assert_eq!(
            offsets(&mut os),
            [0, MAX_CHUNK as u64, 2 * MAX_CHUNK as u64]
        );
        let hv = os.hv();
        let asked = hv.asked();
        assert_eq!(
            asked[0],
            Request::UploadBegin {
                name: "linux".into(),
                size: len as u64
            }
        );
        assert_eq!(asked.last(), Some(&Request::UploadEnd));
        assert_eq!(asked.len(), 5);
        // One conversation: one open, one hello.
        assert_eq!(hv.opens, 1);
        assert_eq!(hv.requests.len(), 6);
        let arrived = &hv.uploads[0];
        assert_eq!((arrived.chunks, arrived.ended), (3, true));
        assert!(arrived.data == file);
        assert!(all_closed(&mut os));
    }

    #[test]
    fn a_big_image_goes_by_the_name_given() {
        let len = 5 * 1024 * 1024 + 800 * 1024;
        let mut os = with_file("/Image", &image(len), 2 + len.div_ceil(MAX_CHUNK), None);
        os.read_chunk = 4096;
        assert_eq!(
            run(&mut os, "upload /Image name=web"),
            "uploaded web (5.7 MiB); start it with: start web\n"
        );
        let hv = os.hv();
        assert_eq!(
            (hv.uploads[0].name.as_str(), hv.uploads[0].ended),
            ("web", true)
        );
        assert_eq!(hv.uploads[0].data.len(), len);
    }

    #[test]
    fn a_refusal_is_said_and_nothing_more_is_sent() {
        let file = image(3 * MAX_CHUNK);
        let too_big = CtlError::UploadTooBig {
            size: 200 << 20,
            max: 96 << 20,
        };
        let bad = CtlError::BadImage {
            name: "linux".into(),
            why: "not a RISC-V kernel".into(),
        };
        // (requests answered Done, the error, the chunks sent before it)
        let cases = [
            (
                0,
                too_big,
                0,
                "The upload is 200 MiB, more than the 96 MiB the hypervisor takes.\n",
            ),
            (
                2,
                bad.clone(),
                2,
                "The image \"linux\" cannot be started: not a RISC-V kernel.\n",
            ),
            (
                4,
                bad,
                3,
                "The image \"linux\" cannot be started: not a RISC-V kernel.\n",
            ),
        ];
        for (dones, error, chunks, said) in cases {
            let mut os = with_file("/boot/linux", &file, dones, Some(Reply::Error(error)));
            assert_eq!(run(&mut os, "upload /boot/linux"), said, "{dones}");
            let hv = os.hv();
            // The request that was refused was the last one.
            assert_eq!(hv.asked().len(), dones + 1, "{dones}");
            assert_eq!(hv.uploads[0].chunks, chunks);
            assert!(all_closed(&mut os));
        }
    }

    #[test]
    fn a_silent_hypervisor_stops_the_upload() {
        let mut os = with_file("/k", &image(2 * MAX_CHUNK), 1, None);
        assert_eq!(
            run(&mut os, "upload /k"),
            "The hypervisor did not answer within 10 s.\n"
        );
        assert_eq!(offsets(&mut os), [0]);
        assert!(all_closed(&mut os));
    }

    #[test]
    fn a_missing_empty_or_unreadable_file_is_said() {
        let mut os = FakeOs::new();
        os.control_port();
        os.file("/boot/empty", "");
        assert_eq!(
            run(&mut os, "upload /boot/nope"),
            "There is no file /boot/nope.\n"
        );
        assert_eq!(
            run(&mut os, "upload /boot/empty name=x"),
            "The file /boot/empty is empty.\n"
        );
        os.dir("/boot", &[]);
        assert_eq!(
            run(&mut os, "upload /boot"),
            "The file /boot cannot be read: is a directory.\n"
        );
        // Nothing was sent for any of them.
        assert_eq!(os.hv().opens, 0);
        assert!(all_closed(&mut os));

        let mut os = with_file("/k", &image(3 * MAX_CHUNK), 9, None);
        os.read_error = Some((MAX_CHUNK + 5, Errno(5)));
        assert_eq!(
            run(&mut os, "upload /k"),
            "The file /k cannot be read: input/output error.\n"
        );
        assert_eq!(offsets(&mut os), [0]);
        assert!(!os.hv().uploads[0].ended);
        assert!(all_closed(&mut os));
    }

    #[test]
    fn a_file_that_changes_size_is_not_ended() {
        let len = MAX_CHUNK + 10;
        // Shorter than it said, then longer.
        for (stated, chunks) in [(len + 1, 1), (len - 1, 2)] {
            let mut os = with_file("/k", &image(len), 9, None);
            os.stated_size = Some(stated as u64);
            assert_eq!(
                run(&mut os, "upload /k"),
                "The file /k changed size while it was being read.\n"
            );
            let hv = os.hv();
            assert_eq!((hv.uploads[0].chunks, hv.uploads[0].ended), (chunks, false));
            assert!(all_closed(&mut os));
        }
    }

    #[test]
    fn bad_arguments_send_nothing() {
        let cases = [
            ("upload", "usage: upload <file> [name=<name>]\n"),
            ("upload name=web", "usage: upload <file> [name=<name>]\n"),
            (
                "upload /k /j",
                "\"/j\" is one word too many: upload takes one file, then name=<name> if you like.\n",
            ),
            (
                "upload /k ram=1G",
                "There is no setting \"ram\"; upload takes only name=.\n",
            ),
            ("upload /k name=", "The image's name must not be empty.\n"),
        ];
        let mut os = with_file("/k", &image(10), 9, None);
        for (line, said) in cases {
            assert_eq!(run(&mut os, line), said, "{line}");
        }
        assert_eq!(os.hv().opens, 0);
        assert_eq!(os.open_fds(), 0);
    }

    #[test]
    fn without_the_port_the_file_is_not_sent() {
        let mut os = FakeOs::new();
        os.file("/k", "kernel");
        let said = run(&mut os, "upload /k");
        assert!(
            said.starts_with("This kernel has no diosix control channel"),
            "{said}"
        );
        assert_eq!(os.open_fds(), 0);
    }
}
