//! `cargo xtask`: diosix's host tool.
//!
//! Built for a bare-metal target (as `cargo build --target
//! riscv64gc-unknown-none-elf` at the top of the checkout does, since xtask
//! is a default member) it is an empty stub with no dependencies.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}

/// Everything below is the host tool.
macro_rules! host {
    ($($item:item)*) => { $( #[cfg(not(target_os = "none"))] $item )* };
}

host! {
mod bench;
mod cargo;
mod deps;
mod paths;
mod qemu;
mod suite;
mod supervisor;
mod target;

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use target::Target;

#[derive(Parser, Debug)]
#[command(name = "cargo xtask", about = "Build, run and test the diosix hypervisor")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Install the Debian packages and rustup targets the project needs.
    Deps,
    /// Build the hypervisor executable with its supervisor embedded.
    Build {
        /// Target triple or arch name.
        #[arg(long, default_value = "riscv64gc-unknown-none-elf")]
        target: Target,
        #[arg(long)]
        release: bool,
    },
    /// Build, then boot the hypervisor in QEMU's virt board on this terminal.
    Run {
        #[arg(long, default_value = "riscv64gc-unknown-none-elf")]
        target: Target,
        #[arg(long)]
        release: bool,
        /// Number of harts.
        #[arg(long, default_value_t = qemu::DEFAULT_SMP)]
        smp: u32,
        /// RAM size, e.g. 512M or 1G.
        #[arg(long, default_value = qemu::DEFAULT_MEMORY)]
        memory: String,
        /// Hypervisor command line (QEMU's -append), e.g. diosix.selftest=panic;
        /// after ` -- `, the boot capsule's (so it may start with `--`).
        #[arg(long, allow_hyphen_values = true)]
        append: Option<String>,
    },
    /// Build the boot capsule's Linux kernel offline and install it at
    /// boot/binaries/<arch>/supervisor.
    Supervisor {
        /// riscv64gc, riscv64imac, riscv32imac, or all.
        #[arg(long, default_value = "riscv64gc")]
        arch: Archs,
        /// Replace a supervisor that xtask did not build.
        #[arg(long)]
        force: bool,
    },
    /// Run every host test, then the QEMU integration tests.
    Test {
        /// Only these targets' integration tests (default: all three).
        #[arg(long)]
        target: Vec<Target>,
        /// Skip `cargo test --workspace`.
        #[arg(long)]
        no_host: bool,
        /// Only integration tests whose names contain this.
        filter: Option<String>,
    },
    /// Time booting the supervisor to its prompt under diosix and directly
    /// on QEMU's OpenSBI; prints each run, the medians and their ratio.
    Bench {
        /// Targets to benchmark (default: riscv64gc).
        #[arg(long)]
        target: Vec<Target>,
        /// Boots of each kind per target.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
        runs: u32,
        /// Number of harts.
        #[arg(long, default_value_t = qemu::DEFAULT_SMP)]
        smp: u32,
        /// RAM size, e.g. 512M or 1G.
        #[arg(long, default_value = qemu::DEFAULT_MEMORY)]
        memory: String,
    },
}

/// `--arch`: one architecture, or `all`.
#[derive(Clone, Debug, PartialEq)]
enum Archs {
    All,
    One(Target),
}

impl std::str::FromStr for Archs {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Archs> {
        if s == "all" { Ok(Archs::All) } else { Ok(Archs::One(s.parse()?)) }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Cmd::Deps => deps::run(),
        Cmd::Build { target, release } => {
            let exe = build(target, release)?;
            println!("{}", exe.display());
            Ok(())
        }
        Cmd::Run { target, release, smp, memory, append } => {
            let smp = qemu::check_smp(smp)?;
            let memory_mib = qemu::parse_memory(&memory)?;
            deps::require(&[target.qemu_binary()])?;
            let exe = build(target, release)?;
            let mut m = qemu::Machine::new(target, &exe);
            m.smp = smp;
            m.memory_mib = memory_mib;
            m.append = append;
            let status = m.run_interactive()?;
            if !status.success() {
                bail!("QEMU exited with {status}");
            }
            Ok(())
        }
        Cmd::Supervisor { arch, force } => {
            let targets = match arch {
                Archs::All => Target::ALL.to_vec(),
                Archs::One(t) => vec![t],
            };
            supervisor::command(&targets, force)
        }
        Cmd::Test { target, no_host, filter } => {
            let targets = if target.is_empty() { Target::ALL.to_vec() } else { target };
            let mut tools: Vec<&str> = targets.iter().map(|t| t.qemu_binary()).collect();
            tools.push("riscv64-linux-gnu-objdump");
            deps::require(&tools)?;
            if !no_host {
                host_tests()?;
            }
            let mut cases = suite::all(&targets);
            cases.extend(targets.iter().flat_map(|&t| build_routes::cases(t)));
            suite::run(cases, filter.as_deref())
        }
        Cmd::Bench { target, runs, smp, memory } => {
            let smp = qemu::check_smp(smp)?;
            let memory_mib = qemu::parse_memory(&memory)?;
            let targets = if target.is_empty() { vec![Target::Riscv64gc] } else { target };
            bench::run(&targets, runs, smp, memory_mib)
        }
    }
}

/// Builds the hypervisor with the supervisor `DIOSIX_SUPERVISOR` names,
/// as it is; without that variable, with `boot/binaries/<arch>/supervisor`,
/// first building it if it is missing.
fn build(target: Target, release: bool) -> Result<PathBuf> {
    let chosen = supervisor_from_env(std::env::var_os("DIOSIX_SUPERVISOR"))?;
    match &chosen {
        Some(p) => eprintln!("==> using DIOSIX_SUPERVISOR={}", p.display()),
        None => supervisor::ensure(target)?,
    }
    cargo::Build { package: "hypervisor", target, release, target_dir: None, supervisor: chosen.as_deref() }.run()
}

/// The supervisor `DIOSIX_SUPERVISOR` names: an absolute path to a file.
/// Unset or empty: none.
fn supervisor_from_env(value: Option<std::ffi::OsString>) -> Result<Option<PathBuf>> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let path = PathBuf::from(value);
    if !path.is_absolute() {
        bail!(
            "DIOSIX_SUPERVISOR={} is a relative path; give an absolute one, e.g. DIOSIX_SUPERVISOR=\"$PWD/{}\"",
            path.display(),
            path.display()
        );
    }
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => Ok(Some(path)),
        Ok(_) => bail!("DIOSIX_SUPERVISOR={} is not a file", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("DIOSIX_SUPERVISOR={} does not exist", path.display())
        }
        Err(e) => bail!("DIOSIX_SUPERVISOR={} cannot be read: {e}", path.display()),
    }
}

fn host_tests() -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["test", "--workspace"])
        .current_dir(paths::root())
        .status()
        .context("cannot run cargo test")?;
    if !status.success() {
        bail!("host tests failed");
    }
    Ok(())
}

/// Integration cases for the documented ways to build: the seed's own
/// cargo command, and `DIOSIX_SUPERVISOR` through `cargo xtask`.
mod build_routes {
    use std::path::Path;
    use std::process::{Command, Stdio};
    use std::time::Duration;

    use anyhow::{Context, Result, bail, ensure};
    use wait_timeout::ChildExt;

    use crate::qemu::Machine;
    use crate::suite::{Case, case, expect_all, fixture};
    use crate::target::Target;
    use crate::paths;

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
        let supervisor = paths::supervisor("riscv64gc");
        ensure!(
            supervisor.is_file(),
            "this test embeds {}; build it first with `cargo xtask supervisor`",
            supervisor.display()
        );
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, String> {
        Cli::try_parse_from(std::iter::once("xtask").chain(args.iter().copied()))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        match parse(&["run"]).unwrap().command {
            Cmd::Run { target, smp, memory, release, append } => {
                assert_eq!(target, Target::Riscv64gc);
                assert_eq!((smp, memory.as_str(), release, append), (4, "512M", false, None));
            }
            _ => panic!("not run"),
        }
        match parse(&["supervisor"]).unwrap().command {
            Cmd::Supervisor { arch, force } => assert_eq!((arch, force), (Archs::One(Target::Riscv64gc), false)),
            _ => panic!("not supervisor"),
        }
        match parse(&["supervisor", "--arch", "all"]).unwrap().command {
            Cmd::Supervisor { arch, .. } => assert_eq!(arch, Archs::All),
            _ => panic!("not supervisor"),
        }
    }

    #[test]
    fn diosix_supervisor_must_name_an_existing_file_by_absolute_path() {
        assert_eq!(supervisor_from_env(None).unwrap(), None);
        assert_eq!(supervisor_from_env(Some("".into())).unwrap(), None);
        let exe = std::env::current_exe().unwrap();
        assert_eq!(supervisor_from_env(Some(exe.clone().into())).unwrap(), Some(exe));
        let e = supervisor_from_env(Some("boot/vmlinux".into())).unwrap_err().to_string();
        assert!(e.contains("DIOSIX_SUPERVISOR=boot/vmlinux is a relative path"), "{e}");
        let e = supervisor_from_env(Some("/no/such/vmlinux".into())).unwrap_err().to_string();
        assert!(e.contains("DIOSIX_SUPERVISOR=/no/such/vmlinux does not exist"), "{e}");
        let e = supervisor_from_env(Some("/".into())).unwrap_err().to_string();
        assert!(e.contains("is not a file"), "{e}");
    }

    #[test]
    fn append_takes_a_capsule_command_line_as_documented() {
        match parse(&["run", "--append", "-- quiet", "--smp", "2"]).unwrap().command {
            Cmd::Run { append, smp, .. } => assert_eq!((append.as_deref(), smp), (Some("-- quiet"), 2)),
            _ => panic!("not run"),
        }
    }

    #[test]
    fn typos_get_clear_errors() {
        let e = parse(&["run", "--target", "riscv64"]).unwrap_err();
        assert!(e.contains("unknown target `riscv64`") && e.contains("riscv64gc-unknown-none-elf"), "{e}");
        let e = parse(&["supervisor", "--arch", "rv32"]).unwrap_err();
        assert!(e.contains("unknown target `rv32`"), "{e}");
        let e = parse(&["buidl"]).unwrap_err();
        assert!(e.contains("unrecognized subcommand 'buidl'") && e.contains("build"), "{e}");
        let e = parse(&["run", "--smp", "four"]).unwrap_err();
        assert!(e.contains("invalid value 'four'"), "{e}");
        assert!(parse(&["run", "--bogus"]).is_err());
    }
}
}
