//! Linux error numbers and their messages.

use core::fmt;

/// A positive Linux errno value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

pub const EPERM: Errno = Errno(1);
pub const ENOENT: Errno = Errno(2);
pub const EINTR: Errno = Errno(4);
#[cfg(test)]
pub const EBADF: Errno = Errno(9);
pub const EAGAIN: Errno = Errno(11);
#[cfg(test)]
pub const ENOMEM: Errno = Errno(12);
pub const EBUSY: Errno = Errno(16);
pub const EEXIST: Errno = Errno(17);
pub const ENOTDIR: Errno = Errno(20);
pub const EINVAL: Errno = Errno(22);
pub const ENAMETOOLONG: Errno = Errno(36);
pub const ETIMEDOUT: Errno = Errno(110);

impl Errno {
    pub fn message(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "operation not permitted",
            2 => "no such file or directory",
            3 => "no such process",
            4 => "interrupted system call",
            5 => "input/output error",
            8 => "exec format error",
            9 => "bad file descriptor",
            10 => "no child processes",
            11 => "resource temporarily unavailable",
            12 => "out of memory",
            13 => "permission denied",
            14 => "bad address",
            16 => "device or resource busy",
            17 => "file exists",
            19 => "no such device",
            20 => "not a directory",
            21 => "is a directory",
            22 => "invalid argument",
            24 => "too many open files",
            25 => "not a terminal",
            28 => "no space left on device",
            30 => "read-only file system",
            32 => "broken pipe",
            36 => "file name too long",
            38 => "function not implemented",
            40 => "too many levels of symbolic links",
            110 => "connection timed out",
            _ => return None,
        })
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.message() {
            Some(m) => f.write_str(m),
            None => write!(f, "error {}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_errors_print() {
        assert_eq!(ENOENT.to_string(), "no such file or directory");
        assert_eq!(Errno(4000).to_string(), "error 4000");
    }
}
