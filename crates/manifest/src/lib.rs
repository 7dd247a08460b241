//! `boot/capsules.toml`: the capsule images the build bundles into the
//! hypervisor's one executable beside the boot capsule's kernel ("storage
//! memory"), and how each is to run. Read by `hypervisor/build.rs`, which
//! also checks each image as it checks the supervisor.
//!
//! ```toml
//! [[capsule]]
//! name = "hello"                          # letters, digits, - and _
//! image = "boot/capsules/{arch}/hello"    # from the repository's top, or absolute; {arch} = riscv64gc, ...
//! ram_mib = 64
//! vcores = 1
//! autostart = true                        # start right after the boot capsule
//! on_death = "restart"                    # or "stop" (the default)
//! restart_limit = 3                       # restarts before it stays stopped
//! bootargs = "console=hvc0 quiet"          # the kernel's command line (default: empty)
//! ```
//!
//! Built for a bare-metal target (as `cargo build --target
//! riscv64gc-unknown-none-elf` at the top of the checkout does, since the
//! crates are default members) it is empty: only build.rs, on the host,
//! uses it.
#![forbid(unsafe_code)]
#![cfg_attr(target_os = "none", no_std)]
#![cfg(not(target_os = "none"))]

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Most images one executable carries.
pub const MAX_IMAGES: usize = 16;
/// Longest capsule name, in bytes.
pub const MAX_NAME: usize = 32;
/// Longest capsule command line, in bytes.
pub const MAX_BOOTARGS: usize = 1024;

/// What to do when a capsule dies.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OnDeath {
    /// It stays stopped; its RAM is freed.
    #[default]
    Stop,
    /// It is started again, up to `restart_limit` times.
    Restart,
}

/// One bundled capsule image and how it runs.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub name: String,
    /// The image's path, relative to the repository's top or absolute;
    /// `{arch}` stands for the target's arch name.
    pub image: String,
    pub ram_mib: u32,
    #[serde(default = "one")]
    pub vcores: u32,
    #[serde(default)]
    pub autostart: bool,
    #[serde(default)]
    pub on_death: OnDeath,
    #[serde(default)]
    pub restart_limit: u32,
    /// The capsule kernel's command line (its device tree's
    /// `/chosen/bootargs`); empty when unset, and the hypervisor then
    /// chooses one. Printable ASCII, at most [`MAX_BOOTARGS`] bytes.
    #[serde(default)]
    pub bootargs: String,
}

fn one() -> u32 {
    1
}

impl Entry {
    /// The image path for `arch`.
    pub fn image_for(&self, arch: &str) -> String {
        self.image.replace("{arch}", arch)
    }

    /// Where the image for `arch` is: under `root` (the repository's top)
    /// unless the manifest gives an absolute path.
    pub fn image_path(&self, root: &Path, arch: &str) -> PathBuf {
        root.join(self.image_for(arch))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    capsule: Vec<Entry>,
}

/// Why a manifest is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// Not TOML, or not the manifest's shape (an unknown key, a missing
    /// or mistyped field): the parser's own message, with the line.
    Syntax(String),
    /// A name that is empty, too long or has other characters than
    /// letters, digits, `-` and `_`.
    BadName(String),
    Duplicate(String),
    /// A capsule with no RAM or no vcores, or more vcores than a capsule can have.
    BadSize { name: String, what: &'static str },
    /// A restart limit without `on_death = "restart"`.
    LimitWithoutRestart(String),
    /// A command line that is too long or holds a NUL or another byte
    /// that is not printable ASCII.
    BadBootargs { name: String, why: String },
    TooMany(usize),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Syntax(e) => write!(f, "{}", e.trim_end()),
            Error::BadName(n) => write!(
                f,
                "capsule name {n:?}: use 1 to {MAX_NAME} letters, digits, '-' or '_'"
            ),
            Error::Duplicate(n) => write!(f, "capsule name {n:?} is used twice"),
            Error::BadSize { name, what } => write!(f, "capsule {name:?}: {what}"),
            Error::LimitWithoutRestart(n) => {
                write!(f, "capsule {n:?}: restart_limit is set but on_death is not \"restart\"")
            }
            Error::BadBootargs { name, why } => write!(f, "capsule {name:?}: bootargs {why}"),
            Error::TooMany(n) => write!(f, "{n} capsules listed; at most {MAX_IMAGES} can be bundled"),
        }
    }
}

/// Most vcores one capsule may ask for (the hypervisor's hart table).
pub const MAX_VCORES: u32 = 16;

/// Reads and checks a manifest.
pub fn parse(text: &str) -> Result<Vec<Entry>, Error> {
    let file: File = toml::from_str(text).map_err(|e| Error::Syntax(e.to_string()))?;
    let entries = file.capsule;
    if entries.len() > MAX_IMAGES {
        return Err(Error::TooMany(entries.len()));
    }
    for (i, e) in entries.iter().enumerate() {
        let name_ok = !e.name.is_empty()
            && e.name.len() <= MAX_NAME
            && e.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !name_ok {
            return Err(Error::BadName(e.name.clone()));
        }
        if entries[..i].iter().any(|o| o.name == e.name) {
            return Err(Error::Duplicate(e.name.clone()));
        }
        let size = |what| Err(Error::BadSize { name: e.name.clone(), what });
        if e.ram_mib == 0 {
            return size("ram_mib must be at least 1");
        }
        if e.vcores == 0 {
            return size("vcores must be at least 1");
        }
        if e.vcores > MAX_VCORES {
            return size("vcores must be at most 16");
        }
        if e.restart_limit != 0 && e.on_death != OnDeath::Restart {
            return Err(Error::LimitWithoutRestart(e.name.clone()));
        }
        if let Some(why) = bootargs_problem(&e.bootargs) {
            return Err(Error::BadBootargs { name: e.name.clone(), why });
        }
    }
    Ok(entries)
}

/// What is wrong with a command line, if anything: it goes into a device
/// tree string (no NUL) and a generated Rust literal, and kernels expect
/// plain text.
fn bootargs_problem(args: &str) -> Option<String> {
    if args.len() > MAX_BOOTARGS {
        return Some(format!("is {} bytes long; at most {MAX_BOOTARGS} are allowed", args.len()));
    }
    let (at, c) = args.char_indices().find(|&(_, c)| !(' '..='~').contains(&c))?;
    Some(if c == '\0' {
        format!("holds a NUL at byte {at}")
    } else {
        format!("holds {c:?} at byte {at}; use printable ASCII only (no tabs or newlines)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
        [[capsule]]
        name = "hello"
        image = "boot/capsules/{arch}/hello"
        ram_mib = 64
        autostart = true
        on_death = "restart"
        restart_limit = 3

        [[capsule]]
        name = "db-2"
        image = "/abs/db"
        ram_mib = 128
        vcores = 2
        bootargs = "diosix.test=ticks:30 quiet"
    "#;

    #[test]
    fn reads_entries_with_defaults() {
        let e = parse(GOOD).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].image_for("riscv64gc"), "boot/capsules/riscv64gc/hello");
        assert_eq!((e[0].vcores, e[0].autostart, e[0].on_death, e[0].restart_limit), (1, true, OnDeath::Restart, 3));
        assert_eq!((e[1].vcores, e[1].autostart, e[1].on_death, e[1].restart_limit), (2, false, OnDeath::Stop, 0));
        assert_eq!((e[0].bootargs.as_str(), e[1].bootargs.as_str()), ("", "diosix.test=ticks:30 quiet"));
        assert_eq!(parse("").unwrap(), []);
    }

    #[test]
    fn image_paths_are_from_the_top_unless_absolute() {
        let e = parse(GOOD).unwrap();
        let root = Path::new("/src/diosix");
        assert_eq!(e[0].image_path(root, "riscv32imac"), Path::new("/src/diosix/boot/capsules/riscv32imac/hello"));
        assert_eq!(e[1].image_path(root, "riscv64gc"), Path::new("/abs/db"));
        let tmp = parse("[[capsule]]\nname = \"t\"\nimage = \"/tmp/x/{arch}/testguest\"\nram_mib = 16\n").unwrap();
        assert_eq!(tmp[0].image_path(root, "riscv64imac"), Path::new("/tmp/x/riscv64imac/testguest"));
    }

    #[test]
    fn bootargs_are_printable_ascii_of_bounded_length() {
        let with = |args: &str| format!("[[capsule]]\nname = \"k\"\nimage = \"x\"\nram_mib = 8\nbootargs = {args}\n");
        let longest = "a".repeat(MAX_BOOTARGS);
        assert_eq!(parse(&with(&format!("\"{longest}\""))).unwrap()[0].bootargs, longest);
        // Quotes and backslashes are printable: they must survive into the generated table.
        assert_eq!(parse(&with(r#"'root="/dev/vda" a\b ~'"#)).unwrap()[0].bootargs, r#"root="/dev/vda" a\b ~"#);
        assert_eq!(parse(&with("\"\"")).unwrap()[0].bootargs, "");
        for (args, says) in [
            (format!("\"{longest}b\""), "capsule \"k\": bootargs is 1025 bytes long; at most 1024 are allowed"),
            ("\"a\\u0000b\"".to_string(), "capsule \"k\": bootargs holds a NUL at byte 1"),
            ("\"a\\tb\"".to_string(), "capsule \"k\": bootargs holds '\\t' at byte 1; use printable ASCII only"),
            ("\"a\\nb\"".to_string(), "holds '\\n' at byte 1"),
            ("\"caf\u{e9}\"".to_string(), "holds '\u{e9}' at byte 3"),
            ("\"\\u007f\"".to_string(), "holds '\\u{7f}' at byte 0"),
        ] {
            let why = refused(&with(&args));
            assert!(why.contains(says), "{args}: {why}");
        }
        assert!(refused(&with("3")).contains("bootargs"), "{}", refused(&with("3")));
    }

    fn refused(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn refuses_what_it_cannot_run_with_a_reason() {
        let one = |extra: &str| format!("[[capsule]]\nname = \"a\"\nimage = \"x\"\nram_mib = 8\n{extra}\n");
        assert!(refused(&one("colour = 3")).contains("unknown field `colour`"), "{}", refused(&one("colour = 3")));
        assert!(refused("[[capsule]]\nname = \"a\"\nram_mib = 8\n").contains("missing field `image`"));
        assert!(refused(&one("vcores = \"two\"")).contains("vcores"));
        assert!(refused(&one("on_death = \"explode\"")).contains("explode"));
        assert!(refused(&one("vcores = 0")).contains("vcores must be at least 1"));
        assert!(refused(&one("vcores = 17")).contains("at most 16"));
        assert!(refused(&one("vcores = -1")).contains("vcores"));
        assert!(refused(&one("restart_limit = 2")).contains("on_death is not \"restart\""));
        assert!(refused("[[capsule]]\nname = \"a\"\nimage = \"x\"\nram_mib = 0\n").contains("ram_mib must be at least 1"));
        assert!(refused("[[capsule]]\nname = \"a b\"\nimage = \"x\"\nram_mib = 1\n").contains("letters, digits"));
        assert!(refused("[[capsule]]\nname = \"\"\nimage = \"x\"\nram_mib = 1\n").contains("letters, digits"));
        let twice = format!("{}{}", one(""), one(""));
        assert!(refused(&twice).contains("used twice"));
        assert!(refused("[[capsule]\n").contains("line 1"), "{}", refused("[[capsule]\n"));
        let many: String = (0..17).map(|i| format!("[[capsule]]\nname = \"c{i}\"\nimage = \"x\"\nram_mib = 1\n")).collect();
        assert!(refused(&many).contains("at most 16"));
    }
}
