//! Embeds the boot capsule's kernel in the hypervisor, after checking it.
//!
//! The kernel is `boot/binaries/<arch>/supervisor`, or the file named by the
//! `DIOSIX_SUPERVISOR` environment variable, an absolute path (the test
//! suite uses that to embed its own test guest). A kernel that is missing,
//! unreadable, not an ELF, or built for the wrong class or machine stops the
//! build here, before any executable is linked, with a message that says how
//! to get one.
//!
//! Then the capsule images of the manifest (`boot/capsules.toml`, or the
//! file `DIOSIX_CAPSULES` names, an absolute path) are checked the same way
//! and bundled (an image path in it is from the repository's top, or
//! absolute): a manifest that does not parse, or an image that is
//! missing, unreadable, not a kernel or of the wrong width, stops the build
//! with the image's name and path.

use std::path::{Path, PathBuf};
use std::process::exit;

use payload::{Kernel, Xlen};

fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    println!("cargo:rerun-if-env-changed=DIOSIX_SUPERVISOR");
    println!("cargo:rerun-if-changed=build.rs");
    if target_os != "none" {
        // The host build is a stub that explains how to build for real.
        return;
    }
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let linker_script = manifest.join("link.ld");
    println!("cargo:rerun-if-changed={}", linker_script.display());
    println!("cargo:rustc-link-arg-bins=-T{}", linker_script.display());

    let Some((arch, xlen)) = arch_of(&target) else {
        fail(&target, None, &format!("diosix does not support the target `{target}`"));
    };
    let root = manifest.parent().unwrap();
    // Empty counts as unset. A relative path is refused rather than taken
    // from hypervisor/, where cargo runs this script, which nobody means.
    let path = match std::env::var_os("DIOSIX_SUPERVISOR").filter(|p| !p.is_empty()) {
        Some(p) if Path::new(&p).is_absolute() => PathBuf::from(p),
        Some(p) => fail(
            arch,
            None,
            &format!(
                "DIOSIX_SUPERVISOR={} is a relative path; give an absolute one, e.g. DIOSIX_SUPERVISOR=\"$PWD/{}\"",
                Path::new(&p).display(),
                Path::new(&p).display()
            ),
        ),
        None => root.join("boot/binaries").join(arch).join("supervisor"),
    };
    println!("cargo:rerun-if-changed={}", path.display());

    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fail(arch, Some(&path), "the file does not exist")
        }
        Err(e) => fail(arch, Some(&path), &format!("it cannot be read: {e}")),
    };
    if let Err(e) = Kernel::parse(&bytes, xlen) {
        fail(arch, Some(&path), &format!("{e}"));
    }
    println!("cargo:rustc-env=DIOSIX_SUPERVISOR_PATH={}", path.display());
    println!("cargo:rustc-env=DIOSIX_ARCH={arch}");
    bundle_images(root, arch, xlen);
}

/// Checks the manifest's images and writes `$OUT_DIR/storage.rs`, the
/// table `storage.rs` includes.
fn bundle_images(root: &Path, arch: &str, xlen: Xlen) {
    println!("cargo:rerun-if-env-changed=DIOSIX_CAPSULES");
    let (manifest, required) = match std::env::var_os("DIOSIX_CAPSULES").filter(|p| !p.is_empty()) {
        Some(p) if Path::new(&p).is_absolute() => (PathBuf::from(p), true),
        Some(p) => refuse(&format!(
            "DIOSIX_CAPSULES={} is a relative path; give an absolute one",
            Path::new(&p).display()
        )),
        None => (root.join("boot/capsules.toml"), false),
    };
    println!("cargo:rerun-if-changed={}", manifest.display());
    let text = match std::fs::read_to_string(&manifest) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => String::new(),
        Err(e) => refuse(&format!("cannot read the capsule manifest {}: {e}", manifest.display())),
    };
    let entries = manifest::parse(&text)
        .unwrap_or_else(|e| refuse(&format!("the capsule manifest {} is refused: {e}", manifest.display())));
    let mut table = String::from("pub static IMAGES: &[Image] = &[\n");
    for e in &entries {
        let image = e.image_path(root, arch);
        println!("cargo:rerun-if-changed={}", image.display());
        let why = match std::fs::read(&image) {
            Ok(bytes) => Kernel::parse(&bytes, xlen).err().map(|k| k.to_string()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Some("the file does not exist".into()),
            Err(err) => Some(format!("it cannot be read: {err}")),
        };
        if let Some(why) = why {
            refuse(&format!(
                "unusable image for capsule {:?} at {} (listed in {})\n  what is wrong: {why}",
                e.name,
                image.display(),
                manifest.display()
            ));
        }
        table.push_str(&format!(
            "    Image {{ name: {:?}, bytes: include_bytes!({:?}), ram_mib: {}, vcores: {}, autostart: {}, on_death: OnDeath::{:?}, restart_limit: {}, bootargs: {:?} }},\n",
            e.name,
            image.display().to_string(),
            e.ram_mib,
            e.vcores,
            e.autostart,
            e.on_death,
            e.restart_limit,
            // Printable ASCII (the manifest checks it): Debug is a valid literal.
            e.bootargs
        ));
    }
    table.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    if let Err(e) = std::fs::write(out.join("storage.rs"), table) {
        refuse(&format!("cannot write the image table: {e}"));
    }
}

fn refuse(why: &str) -> ! {
    remove_stale_executable();
    eprintln!("\nerror: {why}\n");
    exit(1);
}

/// The seed's architecture name and register width for a target triple.
fn arch_of(target: &str) -> Option<(&'static str, Xlen)> {
    match target {
        "riscv64gc-unknown-none-elf" => Some(("riscv64gc", Xlen::Rv64)),
        "riscv64imac-unknown-none-elf" => Some(("riscv64imac", Xlen::Rv64)),
        "riscv32imac-unknown-none-elf" => Some(("riscv32imac", Xlen::Rv32)),
        _ => None,
    }
}

fn fail(arch: &str, path: Option<&Path>, why: &str) -> ! {
    remove_stale_executable();
    eprintln!();
    match path {
        Some(p) => eprintln!("error: unusable boot capsule kernel (supervisor) at {}", p.display()),
        None => eprintln!("error: {why}"),
    }
    if path.is_some() {
        eprintln!("  what is wrong: {why}");
        eprintln!("  how to get one:");
        eprintln!("    - build it offline:  cargo xtask supervisor --arch {arch}");
        eprintln!("    - or with Buildroot: copy boot/buildroot/{arch}.config to Buildroot's .config,");
        eprintln!("      run make, and copy output/images/vmlinux to boot/binaries/{arch}/supervisor");
        eprintln!("    - or point DIOSIX_SUPERVISOR (an absolute path) at a RISC-V Linux vmlinux of the right width");
    }
    eprintln!();
    exit(1);
}

/// A refused build must not leave the executable of an earlier build behind
/// to be mistaken for this one. OUT_DIR is `<target>/<triple>/<profile>/build/
/// hypervisor-<hash>/out`, so the executable is three levels up.
fn remove_stale_executable() {
    if let Some(out) = std::env::var_os("OUT_DIR") {
        let exe = Path::new(&out).join("../../../hypervisor");
        let _ = std::fs::remove_file(exe);
    }
}
