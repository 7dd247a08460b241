//! `cargo xtask supervisor`: the boot capsule's kernel, built offline.
//!
//! Linux comes from Debian's `linux-source-6.12`, the compiler from
//! Debian's `gcc-riscv64-linux-gnu`, the userland from this workspace
//! (`userland/init`) and, on riscv64gc, Debian's busybox source. Every long
//! step is cached by a hash of its inputs under the cache directory
//! (`paths::cache_dir`), outside the clone.

mod busybox;
mod hash;
mod initramfs;
mod install;
mod kconfig;
mod linux;
mod step;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use payload::{Kernel, Xlen};

use crate::cargo::Build;
use crate::paths;
use crate::target::Target;

pub use install::Owner;

/// A file added to the supervisor's initramfs (for tests: an autostart
/// list, an image to upload), with the directories above it.
#[derive(Clone, Debug)]
pub struct Extra {
    /// Absolute path inside the initramfs.
    pub path: String,
    pub source: PathBuf,
}

/// A built supervisor in the cache.
#[derive(Clone, Debug)]
pub struct Built {
    /// The ELF kernel with its initramfs, what diosix embeds.
    pub vmlinux: PathBuf,
    /// The same kernel in the RISC-V `Image` format, for QEMU's own loader.
    pub image: PathBuf,
    pub linux_version: String,
}

/// Builds the userland `/init` for `target`.
fn build_init(target: Target) -> Result<PathBuf> {
    Build { package: "init", target, release: true, target_dir: None, supervisor: None, keep: None }.run()
}

/// Which kernel configuration a supervisor is built with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// Ours (`boot/linux/common.config` and the arch's fragment): the SBI
    /// console, with `console=hvc0` built in.
    Standard,
    /// Only the console drivers riscv `defconfig` has (the 8250 UART with
    /// of_serial, virtio console), no SBI console and no built-in command
    /// line: a stand-in for a user's stock kernel in the tests.
    StockConsole,
}

impl Flavour {
    /// The extra fragment in `boot/linux/`, if any.
    pub fn fragment(self) -> Option<&'static str> {
        match self {
            Flavour::Standard => None,
            Flavour::StockConsole => Some("stock-console.config"),
        }
    }

    /// Added to log and output names.
    pub fn suffix(self) -> &'static str {
        match self {
            Flavour::Standard => "",
            Flavour::StockConsole => "-stock-console",
        }
    }
}

/// Builds (or finds in the cache) the supervisor for `target`.
pub fn build(target: Target) -> Result<Built> {
    build_flavour(target, Flavour::Standard)
}

/// Builds (or finds in the cache) the supervisor for `target` with the
/// kernel configured as `flavour` says.
pub fn build_flavour(target: Target, flavour: Flavour) -> Result<Built> {
    build_with(target, flavour, &[])
}

/// [`build_flavour`] with `extra` files in the initramfs. The kernel
/// build is shared; only the initramfs and the link differ, and the
/// result is cached under its own key.
pub fn build_with(target: Target, flavour: Flavour, extra: &[Extra]) -> Result<Built> {
    crate::deps::require(&["make", "gcc", "riscv64-linux-gnu-gcc", "bc", "bison", "flex", "cpio", "xz"])?;
    crate::deps::require_files(&["/usr/include/libelf.h", "/usr/include/openssl/ssl.h"])?;
    if target == Target::Riscv64gc {
        crate::deps::require(&["dpkg-source"])?;
        crate::deps::require_files(&["/usr/riscv64-linux-gnu/include/stdio.h"])?;
    }
    let cache = paths::cache_dir();
    std::fs::create_dir_all(&cache)
        .with_context(|| format!("cannot create the cache directory {}", cache.display()))?;
    // One build at a time per cache: two xtasks (say, a test run and a
    // `cargo xtask run` in another clone) must not run make in the same
    // build tree. The lock is released when the file is dropped.
    let lock = std::fs::File::create(cache.join(".lock"))
        .with_context(|| format!("cannot create {}", cache.join(".lock").display()))?;
    if lock.try_lock().is_err() {
        eprintln!("==> waiting for another supervisor build using {}", cache.display());
        lock.lock().context("cannot lock the supervisor cache")?;
    }
    let init = build_init(target)?;
    let busybox = match target {
        Target::Riscv64gc => Some(busybox::build(&cache)?),
        _ => None,
    };
    let mut entries = initramfs::layout(&init, busybox.as_ref().map(|(b, a)| (b.as_path(), a.as_slice())));
    initramfs::add_files(&mut entries, extra.iter().map(|e| (e.path.as_str(), e.source.as_path())));
    let list = initramfs::render(&entries)?;

    let src = linux::source(&cache)?;
    let conf = linux::configure(target, flavour, &src, &cache)?;
    let key = initramfs_key(&conf.key, &list, &entries)?;
    let out = cache.join("out").join(format!("{}{}-{}", target.arch(), flavour.suffix(), key.finish()));
    let built = Built {
        vmlinux: out.join("vmlinux"),
        image: out.join("Image"),
        linux_version: src.version.clone(),
    };
    if out.join(".complete").exists() {
        eprintln!("==> supervisor for {} is cached: {}", target.arch(), out.display());
        return Ok(built);
    }
    let (vmlinux, image) = linux::build(target, flavour, &src, &conf, &list, &cache)?;
    check_kernel(target, &vmlinux)?;
    let tmp = cache.join("out").join(format!(".partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)?;
    std::fs::copy(&vmlinux, tmp.join("vmlinux"))?;
    std::fs::copy(&image, tmp.join("Image"))?;
    std::fs::File::create(tmp.join(".complete"))?;
    let _ = std::fs::remove_dir_all(&out);
    std::fs::rename(&tmp, &out).context("cannot move the built supervisor into the cache")?;
    Ok(built)
}

/// The output key: the kernel's configuration plus the initramfs list and
/// the contents of every file it pulls in.
fn initramfs_key(kernel_key: &str, list: &str, entries: &[initramfs::Entry]) -> Result<hash::InputHash> {
    let mut h = hash::InputHash::new("supervisor");
    h.text("kernel", kernel_key).text("list", list);
    for src in initramfs::sources(entries) {
        h.file(&src.display().to_string(), src)?;
    }
    Ok(h)
}

/// The same check the hypervisor build makes, so a bad kernel is caught here.
fn check_kernel(target: Target, vmlinux: &Path) -> Result<()> {
    let bytes = std::fs::read(vmlinux)?;
    let xlen = if target.is_64bit() { Xlen::Rv64 } else { Xlen::Rv32 };
    Kernel::parse(&bytes, xlen)
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("the kernel built at {} is unusable: {e}", vmlinux.display()))
}

/// `cargo xtask supervisor`: build and install at `boot/binaries/<arch>/`.
pub fn command(targets: &[Target], force: bool) -> Result<()> {
    crate::deps::run()?;
    for &t in targets {
        let dest = paths::supervisor(t.arch());
        if install::owner(&dest) == Owner::User && !force {
            bail!(
                "{} was not built by `cargo xtask supervisor` (it is yours, or was changed); \
                 leaving it alone. Move it away, or pass --force to replace it",
                dest.display()
            );
        }
        let built = build(t)?;
        install::install(&built.vmlinux, &dest)?;
        let size = std::fs::metadata(&dest)?.len();
        println!(
            "supervisor: {} (Linux {}, {:.1} MiB)",
            dest.display(),
            built.linux_version,
            size as f64 / (1024.0 * 1024.0)
        );
    }
    Ok(())
}

/// For `run` and `build`: make sure `boot/binaries/<arch>/supervisor`
/// exists, building it if missing or ours and out of date; a user's own
/// supervisor is used as it is.
pub fn ensure(target: Target) -> Result<()> {
    let dest = paths::supervisor(target.arch());
    match install::owner(&dest) {
        Owner::User => {
            eprintln!("==> using your supervisor at {}", dest.display());
            Ok(())
        }
        Owner::Absent | Owner::Xtask => {
            let built = build(target)?;
            if hash::file_sha256(&built.vmlinux)? != hash::file_sha256(&dest).unwrap_or_default() {
                install::install(&built.vmlinux, &dest)?;
                eprintln!("==> installed {}", dest.display());
            }
            Ok(())
        }
    }
}
