//! Integration cases for the documented ways to build: the seed's own
//! cargo command, and `DIOSIX_SUPERVISOR` through `cargo xtask`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use wait_timeout::ChildExt;

use super::{Case, case, expect_all, fixture};
use crate::qemu::Machine;
use crate::target::Target;
use crate::{paths, supervisor};

/// Long enough for a release build of the hypervisor on a busy host.
const BUILD_TIMEOUT: Duration = Duration::from_secs(900);

pub fn cases(t: Target) -> Vec<Case> {
    let mut cases = Vec::new();
    if t == Target::Riscv64gc {
        cases.push(case(
            "riscv64gc: the seed's command `cargo build --release --target riscv64gc-unknown-none-elf` \
             at the top of the checkout builds target/riscv64gc-unknown-none-elf/release/hypervisor",
            seed_command,
        ));
    }
    cases.push(case(
        format!(
            "{}: DIOSIX_SUPERVISOR=<absolute path> cargo xtask build and run embed that file and build no Linux; \
             relative and missing paths are refused",
            t.arch()
        ),
        move || supervisor_variable(t),
    ));
    cases
}

/// Runs `cmd` with output captured, killed after `timeout`; returns
/// (success, stdout, stderr).
fn capture(mut cmd: Command, timeout: Duration) -> Result<(bool, String, String)> {
    let what = crate::qemu::describe(&cmd);
    let out = tempfile(&what, "out")?;
    let err = tempfile(&what, "err")?;
    cmd.stdin(Stdio::null())
        .stdout(std::fs::File::create(&out)?)
        .stderr(std::fs::File::create(&err)?);
    let mut child = cmd.spawn().with_context(|| format!("cannot run {what}"))?;
    let status = child.wait_timeout(timeout)?;
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let stdout = std::fs::read_to_string(&out).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    let Some(status) = status else {
        bail!("{what} did not finish within {timeout:?}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}");
    };
    Ok((status.success(), stdout, stderr))
}

fn tempfile(what: &str, kind: &str) -> Result<std::path::PathBuf> {
    let dir = paths::test_target_dir().join("build-routes");
    std::fs::create_dir_all(&dir)?;
    let name: String = what.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).take(60).collect();
    Ok(dir.join(format!("{name}.{}.{kind}", std::process::id())))
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// The seed's `cargo build --release --target riscv64gc-unknown-none-elf`,
/// typed at the top of the checkout, with its own target directory so a
/// user's build is not replaced.
fn seed_command() -> Result<()> {
    // The command embeds boot/binaries/riscv64gc/supervisor, which a
    // fresh clone does not have until something builds it.
    supervisor::ensure(Target::Riscv64gc)?;
    let supervisor = paths::supervisor("riscv64gc");
    let dir = paths::test_target_dir().join("seed-command");
    let exe = dir.join("riscv64gc-unknown-none-elf/release/hypervisor");
    let _ = std::fs::remove_file(&exe);
    let mut cmd = cargo();
    cmd.args(["build", "--release", "--target", "riscv64gc-unknown-none-elf"])
        .current_dir(paths::root())
        .env("CARGO_TARGET_DIR", &dir)
        .env_remove("DIOSIX_SUPERVISOR");
    let (ok, _, stderr) = capture(cmd, BUILD_TIMEOUT)?;
    ensure!(ok, "the build failed\n{stderr}");
    ensure!(exe.is_file(), "the build succeeded but left no {}\n{stderr}", exe.display());
    let bytes = std::fs::read(&exe)?;
    let header = elf::ElfBytes::<elf::endian::AnyEndian>::minimal_parse(&bytes)
        .with_context(|| format!("{} is not an ELF", exe.display()))?
        .ehdr;
    ensure!(
        header.class == elf::file::Class::ELF64 && header.e_machine == elf::abi::EM_RISCV && header.e_entry == 0x8000_0000,
        "{} is not a 64-bit RISC-V executable entered at 0x80000000: class {:?}, machine {}, entry {:#x}",
        exe.display(),
        header.class,
        header.e_machine,
        header.e_entry
    );
    let kernel = std::fs::read(&supervisor)?;
    ensure!(contains(&bytes, &kernel), "{} does not embed {}", exe.display(), supervisor.display());
    Ok(())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let head = &needle[..needle.len().min(64)];
    haystack
        .windows(head.len())
        .enumerate()
        .filter(|(_, w)| *w == head)
        .any(|(at, _)| haystack.get(at..at + needle.len()) == Some(needle))
}

/// `cargo xtask <args>` with `DIOSIX_SUPERVISOR=value`, into the test
/// target directory and with a build cache that cannot be created, so
/// that a Linux build (which must not happen) fails at once instead of
/// finding a cached kernel or taking minutes.
fn xtask(t: Target, args: &[&str], value: &str) -> Result<Command> {
    let blocker = paths::test_target_dir().join("build-routes/not-a-directory");
    std::fs::create_dir_all(blocker.parent().unwrap())?;
    std::fs::write(&blocker, "the supervisor cache cannot be created under this file\n")?;
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args(args)
        .args(["--target", t.triple()])
        .current_dir(paths::root())
        .env("DIOSIX_SUPERVISOR", value)
        .env("CARGO_TARGET_DIR", paths::test_target_dir())
        .env("DIOSIX_CACHE", blocker.join("cache"));
    Ok(cmd)
}

fn supervisor_variable(t: Target) -> Result<()> {
    let guest = fixture::get(t)?.guest;
    let guest_str = guest.to_str().context("the test guest's path is not UTF-8")?;
    let linux_marker = paths::supervisor(t.arch());
    let before = std::fs::metadata(&linux_marker).and_then(|m| m.modified()).ok();

    let (ok, stdout, stderr) = capture(xtask(t, &["build"], guest_str)?, BUILD_TIMEOUT)?;
    ensure!(ok, "cargo xtask build failed\n{stderr}");
    let exe = Path::new(stdout.trim());
    ensure!(exe.is_file(), "cargo xtask build printed {stdout:?}, not an executable\n{stderr}");
    expect_all(&stderr, &[&format!("==> using DIOSIX_SUPERVISOR={guest_str}")])?;
    // Every `==> ` line but that one comes from making sure of a Linux supervisor.
    let others: Vec<&str> = stderr.lines().filter(|l| l.starts_with("==> ") && !l.contains("DIOSIX_SUPERVISOR")).collect();
    ensure!(others.is_empty(), "cargo xtask build looked for a Linux supervisor: {others:?}\n{stderr}");
    ensure!(std::fs::metadata(&linux_marker).and_then(|m| m.modified()).ok() == before,
        "{} changed", linux_marker.display());

    // What it built boots the test guest.
    let mut m = Machine::new(t, exe);
    m.smp = 2;
    m.append = Some("-- diosix.test=sbi".into());
    let out = m.run_captured(Duration::from_secs(60))?;
    let size = std::fs::metadata(&guest)?.len();
    expect_all(&out.output, &[
        &format!(", {size} bytes, "),
        ", scenario sbi",
        "testguest: PASS spec version is 2.0",
        "testguest: all passed",
    ])?;
    ensure!(out.exit_code == Some(0), "QEMU exited with {:?}\n{}", out.exit_code, out.output);

    // And so does `cargo xtask run`, on this terminal's place.
    let cmd = xtask(t, &["run", "--smp", "2", "--append", "-- diosix.test=sbi"], guest_str)?;
    let (ok, stdout, stderr) = capture(cmd, BUILD_TIMEOUT)?;
    ensure!(ok, "cargo xtask run failed\n{stdout}\n{stderr}");
    expect_all(&stdout, &[", scenario sbi", "testguest: all passed"])?;
    expect_all(&stderr, &[&format!("==> using DIOSIX_SUPERVISOR={guest_str}")])?;

    // A relative path and a missing file are refused, by xtask and by
    // the seed's cargo command.
    for (value, why) in [
        ("guests/testguest/vmlinux", "DIOSIX_SUPERVISOR=guests/testguest/vmlinux is a relative path"),
        ("/no/such/vmlinux", "DIOSIX_SUPERVISOR=/no/such/vmlinux does not exist"),
    ] {
        let (ok, _, stderr) = capture(xtask(t, &["build"], value)?, Duration::from_secs(120))?;
        ensure!(!ok, "cargo xtask build accepted DIOSIX_SUPERVISOR={value}\n{stderr}");
        expect_all(&stderr, &[why])?;
    }
    let mut cmd = cargo();
    cmd.args(["build", "-p", "hypervisor", "--target", t.triple()])
        .current_dir(paths::root())
        .env("CARGO_TARGET_DIR", paths::test_target_dir())
        .env("DIOSIX_SUPERVISOR", "guests/testguest/vmlinux");
    let (ok, _, stderr) = capture(cmd, BUILD_TIMEOUT)?;
    ensure!(!ok, "cargo build accepted a relative DIOSIX_SUPERVISOR\n{stderr}");
    expect_all(&stderr, &["error: DIOSIX_SUPERVISOR=guests/testguest/vmlinux is a relative path; give an absolute one"])
}
