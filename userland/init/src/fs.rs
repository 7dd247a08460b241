//! `ls` and `cat`: directory listing and file copying through [`Os`];
//! and reading a small file whole.

use alloc::vec::Vec;
use core::fmt::Write;

use crate::errno::{ENOTDIR, Errno};
use crate::os::{Os, Out};

/// `d_type` values from `linux_dirent64`.
pub const DT_DIR: u8 = 4;
pub const DT_LNK: u8 = 10;

/// One directory entry.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    pub name: &'a [u8],
    pub kind: u8,
}

/// Walks the `linux_dirent64` records that `getdents64` fills a buffer with:
/// `u64 ino, i64 off, u16 reclen, u8 type, name, NUL, padding`.
pub struct Dirents<'a> {
    buf: &'a [u8],
}

impl<'a> Dirents<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }
}

const NAME_OFFSET: usize = 19;

impl<'a> Iterator for Dirents<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        let head = self.buf.get(..NAME_OFFSET)?;
        let reclen = usize::from(u16::from_le_bytes([head[16], head[17]]));
        let record = self.buf.get(..reclen).filter(|_| reclen > NAME_OFFSET)?;
        self.buf = &self.buf[reclen..];
        let name = &record[NAME_OFFSET..];
        let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        Some(Entry {
            name: &name[..end],
            kind: head[18],
        })
    }
}

/// Lists a directory, one name per line, directories with a trailing `/`
/// and symbolic links with a trailing `@`. A file is listed as itself.
pub fn ls(os: &mut dyn Os, path: &str) -> Result<(), Errno> {
    let fd = match os.open(path, true) {
        Ok(fd) => fd,
        Err(ENOTDIR) => {
            writeln!(Out(os), "{path}").ok();
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let mut buf = [0u8; 1024];
    let result = loop {
        let n = match os.getdents(fd, &mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) => break Err(e),
        };
        for entry in Dirents::new(&buf[..n]) {
            if entry.name == b"." || entry.name == b".." {
                continue;
            }
            os.write(entry.name);
            match entry.kind {
                DT_DIR => os.write(b"/\n"),
                DT_LNK => os.write(b"@\n"),
                _ => os.write(b"\n"),
            }
        }
    };
    os.close(fd);
    result
}

/// Copies a file to the console.
pub fn cat(os: &mut dyn Os, path: &str) -> Result<(), Errno> {
    let fd = os.open(path, false)?;
    let mut buf = [0u8; 512];
    let result = loop {
        match os.read(fd, &mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => os.write(&buf[..n]),
            Err(e) => break Err(e),
        }
    };
    os.close(fd);
    result
}

/// The first `max` bytes of the file at `path`, and whether that was all
/// of it.
pub fn read_up_to(os: &mut dyn Os, path: &str, max: usize) -> Result<(Vec<u8>, bool), Errno> {
    let fd = os.open(path, false)?;
    let mut data = Vec::new();
    let mut buf = [0u8; 512];
    let result = loop {
        // One byte past `max` says whether there is more.
        let want = (max + 1 - data.len()).min(buf.len());
        match os.read(fd, &mut buf[..want]) {
            Ok(0) => break Ok(true),
            Ok(n) => {
                data.extend_from_slice(&buf[..n]);
                if data.len() > max {
                    data.truncate(max);
                    break Ok(false);
                }
            }
            Err(e) => break Err(e),
        }
    };
    os.close(fd);
    result.map(|whole| (data, whole))
}

/// Encodes entries the way `getdents64` does (for the fake OS in tests).
#[cfg(test)]
pub fn encode_dirents(entries: &[(&str, u8)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, (name, kind)) in entries.iter().enumerate() {
        let reclen = (NAME_OFFSET + name.len() + 1).next_multiple_of(8);
        out.extend_from_slice(&(i as u64 + 100).to_le_bytes());
        out.extend_from_slice(&(i as i64 + 1).to_le_bytes());
        out.extend_from_slice(&(reclen as u16).to_le_bytes());
        out.push(*kind);
        out.extend_from_slice(name.as_bytes());
        out.resize(out.len() + reclen - NAME_OFFSET - name.len(), 0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errno::ENOENT;
    use crate::fake::FakeOs;

    #[test]
    fn parses_a_real_record_layout() {
        // One record for "bin", a directory: 8 ino, 8 off, 2 reclen, 1 type,
        // "bin\0", padded to 24 bytes.
        let mut rec = vec![0u8; 24];
        rec[0] = 7;
        rec[16] = 24;
        rec[18] = DT_DIR;
        rec[19..22].copy_from_slice(b"bin");
        let entries: Vec<_> = Dirents::new(&rec).collect();
        assert_eq!(
            entries,
            [Entry {
                name: b"bin",
                kind: DT_DIR
            }]
        );
    }

    #[test]
    fn round_trips_many_records_and_stops_at_garbage() {
        let buf = encode_dirents(&[(".", DT_DIR), ("a-long-file-name.txt", 8), ("x", DT_LNK)]);
        let names: Vec<_> = Dirents::new(&buf).map(|e| e.name.to_vec()).collect();
        assert_eq!(
            names,
            [
                b".".to_vec(),
                b"a-long-file-name.txt".to_vec(),
                b"x".to_vec()
            ]
        );
        // A truncated or zero-length record ends the walk rather than looping.
        assert_eq!(Dirents::new(&buf[..10]).count(), 0);
        assert_eq!(Dirents::new(&[0u8; 40]).count(), 0);
    }

    #[test]
    fn ls_marks_dirs_and_links_and_hides_dot_entries() {
        let mut os = FakeOs::new();
        os.dir(
            "/",
            &[
                (".", DT_DIR),
                ("..", DT_DIR),
                ("bin", DT_DIR),
                ("init", 8),
                ("sbin", DT_LNK),
            ],
        );
        ls(&mut os, "/").unwrap();
        assert_eq!(os.output(), "bin/\ninit\nsbin@\n");
        assert_eq!(os.open_fds(), 0);
    }

    #[test]
    fn ls_of_a_file_names_it_and_of_nothing_fails() {
        let mut os = FakeOs::new();
        os.file("/init", "");
        ls(&mut os, "/init").unwrap();
        assert_eq!(os.output(), "/init\n");
        assert_eq!(ls(&mut os, "/nope"), Err(ENOENT));
    }

    #[test]
    fn read_up_to_says_whether_it_read_everything() {
        let mut os = FakeOs::new();
        os.read_chunk = 7;
        os.file("/f", &"x".repeat(1000));
        assert_eq!(
            read_up_to(&mut os, "/f", 1000),
            Ok((vec![b'x'; 1000], true))
        );
        assert_eq!(read_up_to(&mut os, "/f", 999), Ok((vec![b'x'; 999], false)));
        assert_eq!(read_up_to(&mut os, "/f", 0), Ok((vec![], false)));
        assert_eq!(read_up_to(&mut os, "/none", 10), Err(ENOENT));
        assert_eq!(os.open_fds(), 0);
    }

    #[test]
    fn cat_copies_the_whole_file() {
        let mut os = FakeOs::new();
        let text = "line\n".repeat(300);
        os.file("/etc/motd", &text);
        cat(&mut os, "/etc/motd").unwrap();
        assert_eq!(os.output(), text);
        assert_eq!(cat(&mut os, "/etc/none"), Err(ENOENT));
        assert_eq!(os.open_fds(), 0);
    }
}
