//! Linux from Debian's `linux-source-6.12`, configured from our fragments
//! and built out of tree, one build directory per configuration.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::hash::InputHash;
use super::Flavour;
use super::kconfig::{Config, Value};
use super::step::{Runner, step};
use crate::paths;
use crate::target::Target;

const PACKAGE: &str = "linux-source-6.12";
const TARBALL: &str = "/usr/src/linux-source-6.12.tar.xz";
/// The directory the tarball unpacks to.
const TOP: &str = "linux-source-6.12";
const CROSS_COMPILE: &str = "riscv64-linux-gnu-";

/// An unpacked kernel source tree.
pub struct Source {
    pub dir: PathBuf,
    /// The Debian package version, e.g. `6.12.117-1~deb12u1`.
    pub version: String,
}

/// A configured build directory.
pub struct Configured {
    pub dir: PathBuf,
    /// Hash of everything that decides the kernel's compiled code.
    pub key: String,
}

pub fn package_version() -> Result<String> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", PACKAGE])
        .output()
        .context("cannot run dpkg-query")?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || version.is_empty() || !Path::new(TARBALL).exists() {
        bail!("{PACKAGE} is not installed ({TARBALL} is missing); run `cargo xtask deps`");
    }
    Ok(version)
}

/// Unpacks the kernel source into the cache once per package version.
pub fn source(cache: &Path) -> Result<Source> {
    let version = package_version()?;
    let root = cache.join("src").join(format!("linux-{version}"));
    let dir = root.join(TOP);
    if root.join(".complete").exists() {
        return Ok(Source { dir, version });
    }
    let tmp = cache.join("src").join(format!(".unpacking-linux-{}", std::process::id()));
    step(&format!("unpacking Linux {version}"), &cache.join("logs/linux-unpack.log"), |r| {
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp)?;
        r.run(Command::new("tar").arg("xf").arg(TARBALL).arg("-C").arg(&tmp))?;
        std::fs::File::create(tmp.join(".complete"))?;
        let _ = std::fs::remove_dir_all(&root);
        std::fs::rename(&tmp, &root).context("cannot move the unpacked source into place")
    })?;
    Ok(Source { dir, version })
}

/// Our fragments for `target` and `flavour`, in the order they apply.
pub fn fragments(target: Target, flavour: Flavour) -> Result<Config> {
    let dir = paths::root().join("boot/linux");
    let mut wanted = Config::default();
    let mut names = vec!["common.config".to_string(), format!("{}.config", target.arch())];
    if let Some(extra) = flavour.fragment() {
        names.push(extra.to_string());
    }
    for name in names {
        let path = dir.join(&name);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read kernel fragment {}", path.display()))?;
        wanted.merge(&Config::parse(&format!("boot/linux/{name}"), &text)?);
    }
    Ok(wanted)
}

fn make(src: &Source, out: &Path) -> Command {
    let mut cmd = Command::new("make");
    cmd.arg("-C").arg(&src.dir);
    cmd.arg(format!("O={}", out.display()));
    cmd.args(["ARCH=riscv", &format!("CROSS_COMPILE={CROSS_COMPILE}")]);
    // Stable identification strings, so rebuilds are reproducible.
    cmd.env("KBUILD_BUILD_USER", "diosix")
        .env("KBUILD_BUILD_HOST", "xtask")
        .env("KBUILD_BUILD_TIMESTAMP", "2026-01-01");
    cmd
}

/// The initramfs list the configuration points at, inside the build dir.
pub fn initramfs_list(build: &Path) -> PathBuf {
    build.join("diosix-initramfs.list")
}

/// `make allnoconfig`, our fragments on top, `make olddefconfig`, then a
/// check that every option we asked for kept its value.
pub fn configure(target: Target, flavour: Flavour, src: &Source, cache: &Path) -> Result<Configured> {
    let mut wanted = fragments(target, flavour)?;
    let key = InputHash::new("linux-config")
        .text("source", &src.version)
        .text("arch", target.arch())
        .text("fragments", &wanted.render())
        .finish();
    let dir = cache.join("build").join(format!("linux-{}-{key}", target.arch()));
    let stamp = dir.join(".diosix-configured");
    if stamp.exists() {
        return Ok(Configured { dir, key });
    }
    let list = initramfs_list(&dir);
    wanted.set("CONFIG_INITRAMFS_SOURCE", Value::Set(format!("\"{}\"", list.display())));
    let log = cache.join(format!("logs/linux-{}{}-config.log", target.arch(), flavour.suffix()));
    step(&format!("configuring Linux for {}", target.arch()), &log, |r: &Runner| {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(&list, "")?;
        r.run(make(src, &dir).arg("allnoconfig"))?;
        let config_path = dir.join(".config");
        let mut config = Config::parse("allnoconfig", &std::fs::read_to_string(&config_path)?)?;
        config.merge(&wanted);
        std::fs::write(&config_path, config.render())?;
        r.run(make(src, &dir).arg("olddefconfig"))?;
        let result = Config::parse(".config", &std::fs::read_to_string(&config_path)?)?;
        let wrong = result.mismatches(&wanted);
        if !wrong.is_empty() {
            bail!(
                "kconfig did not keep these options from boot/linux/ (a dependency is missing?):\n  {}",
                wrong.join("\n  ")
            );
        }
        std::fs::File::create(&stamp)?;
        Ok(())
    })?;
    Ok(Configured { dir, key })
}

/// Builds `vmlinux` and `Image` with `list` as the initramfs. Make redoes
/// only what changed: a new userland regenerates the initramfs and relinks.
pub fn build(target: Target, flavour: Flavour, src: &Source, conf: &Configured, list: &str, cache: &Path) -> Result<(PathBuf, PathBuf)> {
    let list_path = initramfs_list(&conf.dir);
    if std::fs::read_to_string(&list_path).ok().as_deref() != Some(list) {
        std::fs::write(&list_path, list)?;
    }
    let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let log = cache.join(format!("logs/linux-{}{}-build.log", target.arch(), flavour.suffix()));
    step(&format!("building Linux {} for {}", src.version, target.arch()), &log, |r| {
        r.run(make(src, &conf.dir).arg(format!("-j{jobs}")).args(["vmlinux", "Image"]))
    })?;
    Ok((conf.dir.join("vmlinux"), conf.dir.join("arch/riscv/boot/Image")))
}
