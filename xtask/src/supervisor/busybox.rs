//! Busybox for the riscv64gc userland: Debian's busybox source, built
//! statically against Debian's riscv64 cross glibc (lp64d, so rv64gc only).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::hash::InputHash;
use super::kconfig::{Config, Value};
use super::step::step;

const CROSS_COMPILE: &str = "riscv64-linux-gnu-";

/// What we change in busybox's defconfig.
fn tweaks() -> Config {
    let mut c = Config::default();
    c.set("CONFIG_STATIC", Value::Set("y".into()));
    c.set("CONFIG_CROSS_COMPILER_PREFIX", Value::Set(format!("\"{CROSS_COMPILE}\"")));
    // tc needs kernel headers busybox 1.35 predates; not needed in a capsule.
    c.set("CONFIG_TC", Value::Unset);
    c
}

/// Downloads (once) and unpacks Debian's busybox source; returns the tree
/// and its upstream version.
fn source(cache: &Path) -> Result<(PathBuf, String)> {
    let dl = cache.join("src/busybox-download");
    let orig = || -> Option<PathBuf> {
        std::fs::read_dir(&dl).ok()?.filter_map(|e| e.ok()).map(|e| e.path()).find(|p| {
            p.file_name().is_some_and(|n| {
                let n = n.to_string_lossy();
                n.starts_with("busybox_") && n.contains(".orig.tar")
            })
        })
    };
    if orig().is_none() {
        step("downloading Debian's busybox source", &cache.join("logs/busybox-download.log"), |r| {
            std::fs::create_dir_all(&dl)?;
            r.run(Command::new("apt-get").args(["source", "--download-only", "busybox"]).current_dir(&dl))
        })
        .context("`apt-get source busybox` needs deb-src entries: run `cargo xtask deps` as root")?;
    }
    let tarball = orig().context("no busybox orig tarball after download")?;
    let name = tarball.file_name().unwrap().to_string_lossy().into_owned();
    let version = name
        .trim_start_matches("busybox_")
        .split(".orig.tar")
        .next()
        .unwrap_or("unknown")
        .to_string();
    let root = cache.join("src").join(format!("busybox-{version}"));
    let dir = root.join(format!("busybox-{version}"));
    if !root.join(".complete").exists() {
        let tmp = cache.join("src").join(format!(".unpacking-busybox-{}", std::process::id()));
        step(&format!("unpacking busybox {version}"), &cache.join("logs/busybox-unpack.log"), |r| {
            let _ = std::fs::remove_dir_all(&tmp);
            std::fs::create_dir_all(&tmp)?;
            r.run(Command::new("tar").arg("xf").arg(&tarball).arg("-C").arg(&tmp))?;
            std::fs::File::create(tmp.join(".complete"))?;
            let _ = std::fs::remove_dir_all(&root);
            std::fs::rename(&tmp, &root).context("cannot move busybox source into place")
        })?;
    }
    if !dir.is_dir() {
        bail!("busybox source did not unpack to {}", dir.display());
    }
    Ok((dir, version))
}

/// The static busybox binary and the applet paths it provides.
pub fn build(cache: &Path) -> Result<(PathBuf, Vec<String>)> {
    let (src, version) = source(cache)?;
    let key = InputHash::new("busybox").text("version", &version).text("tweaks", &tweaks().render()).finish();
    let out = cache.join("build").join(format!("busybox-{key}"));
    let (bin, links) = (out.join("busybox"), out.join("busybox.links"));
    if !(out.join(".complete").exists() && bin.exists() && links.exists()) {
        step(&format!("building busybox {version} (static, riscv64gc)"), &cache.join("logs/busybox-build.log"), |r| {
            let _ = std::fs::remove_dir_all(&out);
            std::fs::create_dir_all(&out)?;
            let make = || {
                let mut c = Command::new("make");
                c.arg("-C").arg(&src).arg(format!("O={}", out.display()));
                c
            };
            r.run(make().arg("defconfig"))?;
            let path = out.join(".config");
            let mut config = Config::parse("busybox .config", &std::fs::read_to_string(&path)?)?;
            config.merge(&tweaks());
            std::fs::write(&path, config.render())?;
            r.run(Command::new("sh").arg("-c").arg(format!(
                "yes '' | make -C '{}' O='{}' oldconfig",
                src.display(),
                out.display()
            )))?;
            let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
            r.run(make().arg(format!("-j{jobs}")).arg("busybox"))?;
            r.run(make().arg("busybox.links"))?;
            std::fs::File::create(out.join(".complete"))?;
            Ok(())
        })?;
    }
    let applets = std::fs::read_to_string(&links)?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    Ok((bin, applets))
}
