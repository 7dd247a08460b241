//! `cargo xtask deps`: install what the project needs, when it is missing.
//!
//! Debian packages are installed with apt when running as root; otherwise
//! the exact command is printed. The rustup targets are added with rustup
//! (these machines set RUSTUP_AUTO_INSTALL=0, so rust-toolchain.toml alone
//! does not fetch them).

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::target::Target;

/// Debian packages, and why each is needed.
pub const PACKAGES: &[(&str, &str)] = &[
    ("qemu-system-riscv", "QEMU's RISC-V system emulators (virt board)"),
    ("binutils-riscv64-linux-gnu", "RISC-V objdump/objcopy for kernels and checks"),
    ("gcc-riscv64-linux-gnu", "cross compiler for the supervisor's Linux kernel"),
    ("linux-source-6.12", "Linux source for the offline supervisor build"),
    ("build-essential", "host compiler and make for kernel builds"),
    ("bc", "kernel build"),
    ("bison", "kernel build"),
    ("flex", "kernel build"),
    ("libssl-dev", "kernel build (host tools)"),
    ("libelf-dev", "kernel build (host tools)"),
    ("cpio", "initramfs tooling"),
    ("xz-utils", "unpacking linux-source"),
    ("dpkg-dev", "`apt-get source busybox` for the riscv64gc userland"),
    ("libc6-dev-riscv64-cross", "riscv64 glibc headers and static libc for busybox's cross build"),
    ("gdb-multiarch", "debugging the hypervisor and its capsules (`cargo xtask run --gdb`)"),
];

/// Packages whose newer versions come from bookworm-backports on Debian 12,
/// named by source package: every binary package built from them (QEMU's
/// emulators, its data, the OpenSBI it boots by default) is pinned there,
/// and nothing else is. `apt-get install -t bookworm-backports` would
/// instead take *every* package it installs from backports where a newer
/// one exists (say libelf1 0.192), and bookworm's `libelf-dev`, which wants
/// its own libelf1 exactly, could then no longer be installed.
const BACKPORTED_SOURCES: &[&str] = &["qemu", "opensbi"];

/// The commands xtask runs, and the Debian package that provides each, so
/// that a missing one stops the work at once with the package to install.
pub const TOOLS: &[(&str, &str)] = &[
    ("qemu-system-riscv64", "qemu-system-riscv"),
    ("qemu-system-riscv32", "qemu-system-riscv"),
    ("riscv64-linux-gnu-gcc", "gcc-riscv64-linux-gnu"),
    ("riscv64-linux-gnu-objdump", "binutils-riscv64-linux-gnu"),
    ("riscv64-linux-gnu-objcopy", "binutils-riscv64-linux-gnu"),
    ("make", "build-essential"),
    ("gcc", "build-essential"),
    ("bc", "bc"),
    ("bison", "bison"),
    ("flex", "flex"),
    ("cpio", "cpio"),
    ("xz", "xz-utils"),
    ("dpkg-source", "dpkg-dev"),
    ("gdb-multiarch", "gdb-multiarch"),
];

/// Files (not commands) the builds need, and their packages.
const FILES: &[(&str, &str)] = &[
    ("/usr/riscv64-linux-gnu/include/stdio.h", "libc6-dev-riscv64-cross"),
    ("/usr/include/libelf.h", "libelf-dev"),
    ("/usr/include/openssl/ssl.h", "libssl-dev"),
];

/// Debian 12 ships QEMU 7.2 in main; the RISC-V emulators we test with
/// (QEMU 10) come from bookworm-backports there.
const BACKPORTS_FILE: &str = "/etc/apt/sources.list.d/diosix-backports.sources";
const BACKPORTS_SOURCE: &str = "Types: deb deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
";
const PIN_FILE: &str = "/etc/apt/preferences.d/diosix-backports";

/// The apt preferences that take [`BACKPORTED_SOURCES`] from backports.
fn pin_preferences() -> String {
    let packages: Vec<String> = BACKPORTED_SOURCES.iter().map(|s| format!("src:{s}")).collect();
    format!("Package: {}\nPin: release n=bookworm-backports\nPin-Priority: 990\n", packages.join(" "))
}
/// Source packages (busybox) need deb-src entries for the main suites too.
const SOURCES_FILE: &str = "/etc/apt/sources.list.d/diosix-sources.sources";
const SOURCES_SOURCE: &str = "Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
";

pub fn run() -> Result<()> {
    apt_packages()?;
    rustup_targets()?;
    println!("deps: everything is installed");
    Ok(())
}

fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${db:Status-Status}", package])
        .output()
        .is_ok_and(|o| o.stdout == b"installed")
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

fn codename() -> String {
    std::fs::read_to_string("/etc/os-release")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VERSION_CODENAME=").map(str::to_string))
        .unwrap_or_default()
}

fn apt(args: &[&str]) -> Result<()> {
    println!("deps: apt-get {}", args.join(" "));
    let status = Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("cannot run apt-get")?;
    if !status.success() {
        bail!("apt-get {} failed", args.join(" "));
    }
    Ok(())
}

fn apt_packages() -> Result<()> {
    if which("dpkg-query").is_none() {
        println!("deps: not a Debian-like system; install QEMU (riscv32/riscv64 system emulators),");
        println!("      a riscv64-linux-gnu cross gcc and binutils, and Linux 6.12 sources by hand");
        return Ok(());
    }
    let missing: Vec<&str> =
        PACKAGES.iter().map(|(p, _)| *p).filter(|p| !is_installed(p)).collect();
    let sources_missing = [SOURCES_FILE, BACKPORTS_FILE, PIN_FILE]
        .iter()
        .any(|f| !std::path::Path::new(f).exists());
    let bookworm = codename() == "bookworm";
    if missing.is_empty() && !(bookworm && sources_missing) {
        return Ok(());
    }
    if !is_root() {
        println!("deps: these Debian packages are missing: {}", missing.join(" "));
        println!("deps: as root, run `cargo xtask deps` again, or:");
        if bookworm {
            println!("  printf '{}' > {BACKPORTS_FILE}", BACKPORTS_SOURCE.replace('\n', "\\n"));
            println!("  printf '{}' > {SOURCES_FILE}", SOURCES_SOURCE.replace('\n', "\\n"));
            println!("  printf '{}' > {PIN_FILE}", pin_preferences().replace('\n', "\\n"));
        }
        println!("  apt-get update && apt-get install -y {}", missing.join(" "));
        bail!("missing Debian packages");
    }
    if bookworm {
        std::fs::write(BACKPORTS_FILE, BACKPORTS_SOURCE)
            .with_context(|| format!("cannot write {BACKPORTS_FILE}"))?;
        std::fs::write(SOURCES_FILE, SOURCES_SOURCE)
            .with_context(|| format!("cannot write {SOURCES_FILE}"))?;
        std::fs::write(PIN_FILE, pin_preferences())
            .with_context(|| format!("cannot write {PIN_FILE}"))?;
    }
    apt(&["update", "-q"])?;
    if missing.is_empty() {
        return Ok(());
    }
    // One transaction: with the pin above, QEMU and OpenSBI come from
    // backports and every other package (and dependency) from bookworm.
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend(&missing);
    apt(&args)?;
    Ok(())
}

fn rustup_targets() -> Result<()> {
    if which("rustup").is_none() {
        println!("deps: rustup not found; make sure the targets {} are installed",
            Target::ALL.map(|t| t.triple()).join(", "));
        return Ok(());
    }
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(crate::paths::root())
        .output()
        .context("cannot run rustup")?;
    let installed = String::from_utf8_lossy(&out.stdout);
    let missing: Vec<&str> = Target::ALL
        .iter()
        .map(|t| t.triple())
        .filter(|t| !installed.lines().any(|l| l.trim() == *t))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    println!("deps: rustup target add {}", missing.join(" "));
    let status = Command::new("rustup")
        .args(["target", "add"])
        .args(&missing)
        .current_dir(crate::paths::root())
        .status()
        .context("cannot run rustup")?;
    if !status.success() {
        bail!("rustup target add {} failed", missing.join(" "));
    }
    Ok(())
}

/// Stops with the Debian package to install when a command xtask is about
/// to use is not on PATH.
pub fn require(tools: &[&str]) -> Result<()> {
    match missing_tools(tools, |t| which(t).is_some()) {
        Some(why) => bail!("{why}"),
        None => Ok(()),
    }
}

/// Like [`require`], for the header and library files of the builds.
pub fn require_files(files: &[&str]) -> Result<()> {
    match missing_files(files, |f| std::path::Path::new(f).exists()) {
        Some(why) => bail!("{why}"),
        None => Ok(()),
    }
}

/// The sentence for the tools `found` says are missing, if any.
fn missing_tools(tools: &[&str], found: impl Fn(&str) -> bool) -> Option<String> {
    let missing: Vec<String> = tools
        .iter()
        .filter(|t| !found(t))
        .map(|tool| {
            let package = TOOLS.iter().find(|(t, _)| t == tool).map_or("?", |(_, p)| *p);
            format!("`{tool}` (Debian package {package})")
        })
        .collect();
    (!missing.is_empty())
        .then(|| format!("{} not found: run `cargo xtask deps` (as root), or install it by hand", missing.join(", ")))
}

/// The sentence for the first file `found` says is missing, if any.
fn missing_files(files: &[&str], found: impl Fn(&str) -> bool) -> Option<String> {
    let file = files.iter().find(|f| !found(f))?;
    let package = FILES.iter().find(|(f, _)| f == file).map_or("?", |(_, p)| *p);
    Some(format!("{file} is missing (Debian package {package}): run `cargo xtask deps` (as root)"))
}

/// The full path of `program` on PATH.
pub fn which(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(program)).find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_tool_names_its_package() {
        let why = missing_tools(&["make", "qemu-system-riscv32", "bc"], |t| t == "make").unwrap();
        assert!(why.contains("`qemu-system-riscv32` (Debian package qemu-system-riscv)"), "{why}");
        assert!(why.contains("`bc` (Debian package bc)"), "{why}");
        assert!(!why.contains("`make`"), "{why}");
        assert!(why.contains("cargo xtask deps"), "{why}");
        assert_eq!(missing_tools(&["make"], |_| true), None);
    }

    #[test]
    fn a_missing_header_names_its_package() {
        let why = missing_files(&["/usr/riscv64-linux-gnu/include/stdio.h"], |_| false).unwrap();
        assert!(why.contains("(Debian package libc6-dev-riscv64-cross)"), "{why}");
        assert_eq!(missing_files(&["/usr/include/libelf.h"], |_| true), None);
    }

    #[test]
    fn every_required_tool_and_file_is_installed_by_deps() {
        let packages: Vec<&str> = PACKAGES.iter().map(|(p, _)| *p).collect();
        for (what, package) in TOOLS.iter().chain(FILES) {
            assert!(packages.contains(package), "{what} comes from {package}, which deps does not install");
        }
    }

    #[test]
    fn only_qemu_and_opensbi_come_from_backports() {
        let pin = pin_preferences();
        assert!(pin.starts_with("Package: src:qemu src:opensbi\n"), "{pin}");
        assert!(pin.contains("Pin: release n=bookworm-backports"), "{pin}");
    }
}
