//! `boot/capsules.toml`: the capsule images the build bundles into the
//! hypervisor's one executable beside the boot capsule's kernel ("storage
//! memory"), and how each is to run. Read by `hypervisor/build.rs`, which
//! also checks each image as it checks the supervisor.
//!
//! ```toml
//! [[capsule]]
//! name = "hello"                          # letters, digits, - and _
//! image = "boot/capsules/{arch}/hello"    # from the repository's top; {arch} = riscv64gc, ...
//! ram_mib = 64
//! vcores = 1
//! autostart = true                        # start right after the boot capsule
//! on_death = "restart"                    # or "stop" (the default)
//! restart_limit = 3                       # restarts before it stays stopped
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

use serde::Deserialize;

/// Most images one executable carries.
pub const MAX_IMAGES: usize = 16;
/// Longest capsule name, in bytes.
pub const MAX_NAME: usize = 32;

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
    /// The image's path, relative to the repository's top; `{arch}` stands
    /// for the target's arch name.
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
}

fn one() -> u32 {
    1
}

impl Entry {
    /// The image path for `arch`.
    pub fn image_for(&self, arch: &str) -> String {
        self.image.replace("{arch}", arch)
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
    }
    Ok(entries)
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
    "#;

    #[test]
    fn reads_entries_with_defaults() {
        let e = parse(GOOD).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].image_for("riscv64gc"), "boot/capsules/riscv64gc/hello");
        assert_eq!((e[0].vcores, e[0].autostart, e[0].on_death, e[0].restart_limit), (1, true, OnDeath::Restart, 3));
        assert_eq!((e[1].vcores, e[1].autostart, e[1].on_death, e[1].restart_limit), (2, false, OnDeath::Stop, 0));
        assert_eq!(parse("").unwrap(), []);
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
