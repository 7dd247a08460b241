//! Storage memory: capsule images bundled from a manifest
//! (`DIOSIX_CAPSULES` names one here, instead of `boot/capsules.toml`).
//! The build checks each image as it checks the supervisor and refuses a
//! bad one, or a bad manifest, with the capsule's name and the path; the
//! boot report lists what was bundled.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail, ensure};

use super::{Case, case, expect_all, fixture, testguest};
use crate::cargo::{Build, Outcome};
use crate::paths;
use crate::qemu::Machine;
use crate::target::Target;

/// On riscv64gc and riscv32imac (one of each width): each needs a build of
/// its own, and nothing here differs between the two 64-bit targets.
pub fn cases(t: Target) -> Vec<Case> {
    if t == Target::Riscv64imac {
        return Vec::new();
    }
    let a = t.arch();
    vec![
        case(format!("{a}: storage: images listed in a capsule manifest are bundled and named in the boot report"), move || bundled(t)),
        case(
            format!("{a}: storage: the build refuses a manifest it cannot read and images that are missing, not kernels or of the wrong width"),
            move || refused(t),
        ),
    ]
}

fn scratch(t: Target) -> Result<PathBuf> {
    let dir = paths::test_target_dir().join("storage").join(t.arch());
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A manifest at `scratch/name` with `text`.
fn manifest(t: Target, name: &str, text: &str) -> Result<PathBuf> {
    let path = scratch(t)?.join(name);
    std::fs::write(&path, text)?;
    Ok(path)
}

fn build(t: Target, manifest: &Path) -> Result<Outcome> {
    let guest = fixture::guest(t)?;
    let dir = paths::test_target_dir();
    Build { package: "hypervisor", target: t, release: false, target_dir: Some(&dir), supervisor: Some(&guest), keep: Some("storage") }
        .try_run_with_env(&[("DIOSIX_CAPSULES", &manifest.display().to_string())])
}

fn bundled(t: Target) -> Result<()> {
    let guest = fixture::guest(t)?;
    let size = std::fs::metadata(&guest)?.len();
    // The rv32 test guest cannot move from where it is linked (the boot
    // capsule's RAM), so there alpha does not start.
    let text = format!(
        "[[capsule]]\nname = \"alpha\"\nimage = \"{g}\"\nram_mib = 32\nautostart = {start}\non_death = \"restart\"\nrestart_limit = 3\n\
         bootargs = \"diosix.test=hello\"\n\n\
         [[capsule]]\nname = \"beta_2\"\nimage = \"{g}\"\nram_mib = 16\nvcores = 2\n",
        g = guest.display(),
        start = t.is_64bit(),
    );
    let exe = match build(t, &manifest(t, "two.toml", &text)?)? {
        Outcome::Built(exe) => exe,
        Outcome::Failed { stderr } => bail!("the build refused a good manifest\n{stderr}"),
    };
    // The executable carries both images.
    ensure!(
        std::fs::metadata(&exe)?.len() > 2 * size,
        "the executable is smaller than the two images it should carry"
    );
    let mut m = Machine::new(t, &exe);
    m.smp = 2;
    m.memory_mib = 256;
    let out = testguest::run_machine(m, "hello", None)?;
    let width = if t.is_64bit() { "64-bit" } else { "32-bit" };
    expect_all(&out, &[
        &format!("storage: image alpha: {width} RISC-V ELF, "),
        if t.is_64bit() { "; capsule of 32 MiB, 1 vcore, starts at boot, restarts up to 3 times" } else { "; capsule of 32 MiB, 1 vcore, restarts up to 3 times" },
        &format!("storage: image beta_2: {width} RISC-V ELF, "),
        "; capsule of 16 MiB, 2 vcores, stays stopped when it dies",
    ])?;
    if t.is_64bit() {
        expect_all(&out, &["[diosix] capsule 2 (alpha) started: ram "])?;
    }
    ensure!(!out.contains("(beta_2) started"), "beta_2 started although it is not marked to\n{out}");
    Ok(())
}

fn refused(t: Target) -> Result<()> {
    let scratch = scratch(t)?;
    let not_kernel = scratch.join("notes.txt");
    std::fs::write(&not_kernel, "not a kernel\n")?;
    let other = fixture::guest(if t.is_64bit() { Target::Riscv32imac } else { Target::Riscv64gc })?;
    let missing = scratch.join("no-such-image");
    let entry = |name: &str, image: &Path| format!("[[capsule]]\nname = \"{name}\"\nimage = \"{}\"\nram_mib = 8\n", image.display());
    let width = if t.is_64bit() { "this target needs a 64-bit (ELF64) kernel" } else { "this target needs a 32-bit (ELF32) kernel" };
    let bad_key = format!("{}colour = \"red\"\n", entry("odd", &missing));
    for (file, text, needles) in [
        ("missing.toml", entry("gone", &missing), vec![format!("unusable image for capsule \"gone\" at {}", missing.display()), "the file does not exist".into()]),
        ("text.toml", entry("words", &not_kernel), vec![format!("unusable image for capsule \"words\" at {}", not_kernel.display()), "not an ELF file".into()]),
        ("width.toml", entry("wide", &other), vec![format!("unusable image for capsule \"wide\" at {}", other.display()), width.into()]),
        ("key.toml", bad_key, vec!["is refused".into(), "unknown field `colour`".into()]),
        ("zero.toml", entry("none", &other).replace("ram_mib = 8", "ram_mib = 0"), vec!["capsule \"none\": ram_mib must be at least 1".into()]),
        ("novcores.toml", format!("{}vcores = 0\n", entry("idle", &other)), vec!["capsule \"idle\": vcores must be at least 1".into()]),
    ] {
        let path = manifest(t, file, &text)?;
        match build(t, &path)? {
            Outcome::Built(exe) => bail!("the build accepted {file} and wrote {}", exe.display()),
            Outcome::Failed { stderr } => {
                let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
                expect_all(&stderr, &needles)?;
            }
        }
    }
    Ok(())
}
