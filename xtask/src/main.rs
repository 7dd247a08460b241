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

use qemu::Board;
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
    /// Build, then boot the hypervisor in a QEMU board (virt unless
    /// --machine says otherwise) on this terminal.
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
        /// Start paused, with QEMU's gdb stub on this port (1234 if none is
        /// given), and print the gdb-multiarch command that attaches.
        #[arg(long, value_name = "PORT", num_args = 0..=1, default_missing_value = "1234")]
        gdb: Option<u16>,
        /// QEMU board: virt, sifive_u (the HiFive Unleashed model, rv64;
        /// hart 0 is its E51 monitor core, the others U54s) or spike (a
        /// CLINT and an HTIF console, any target).
        #[arg(long, default_value = "virt")]
        machine: Board,
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
        /// Only this board's integration tests (virt: everything but the
        /// other boards' tests); default: every board's.
        #[arg(long)]
        machine: Option<Board>,
        /// Only integration tests whose names contain this.
        filter: Option<String>,
    },
    /// Run the same Linux under diosix and directly on QEMU's OpenSBI:
    /// boot, /init's bench workloads, the timer without Sstc, and the test
    /// guest's SBI call costs; prints a table of medians and ratios and
    /// writes target/bench/ (see docs/benchmarks.md).
    Bench {
        /// Targets to benchmark (default: riscv64gc).
        #[arg(long)]
        target: Vec<Target>,
        /// Boots of each kind per target (alternating).
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
        Cmd::Run { target, release, smp, memory, append, gdb, machine } => {
            machine.check(target)?;
            let smp = qemu::check_smp(smp)?;
            let memory_mib = qemu::parse_memory(&memory)?;
            deps::require(&[target.qemu_binary()])?;
            if gdb.is_some() {
                deps::require(&["gdb-multiarch"])?;
            }
            let exe = build(target, release)?;
            let mut m = qemu::Machine::new(target, &exe);
            m.smp = smp;
            m.memory_mib = memory_mib;
            m.append = append;
            m.gdb_port = gdb;
            m.board = machine;
            if let Some(port) = gdb {
                eprintln!("{}", qemu::gdb_instructions(&exe, port, &paths::supervisor(target.arch())));
            }
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
        Cmd::Test { target, no_host, machine, filter } => {
            let targets = test_targets(target, machine)?;
            let mut tools: Vec<&str> = targets.iter().map(|t| t.qemu_binary()).collect();
            tools.extend(["riscv64-linux-gnu-objdump", "riscv64-linux-gnu-objcopy"]);
            deps::require(&tools)?;
            if !no_host {
                host_tests()?;
            }
            suite::run(suite::all(&targets, machine), filter.as_deref())
        }
        Cmd::Bench { target, runs, smp, memory } => {
            let smp = qemu::check_smp(smp)?;
            let memory_mib = qemu::parse_memory(&memory)?;
            let targets = if target.is_empty() { vec![Target::Riscv64gc] } else { target };
            bench::run(&targets, runs, smp, memory_mib)
        }
    }
}

/// The targets `cargo xtask test` runs: those asked for (each one the
/// board, if one is asked for, supports), else every target the board
/// supports.
fn test_targets(asked: Vec<Target>, board: Option<Board>) -> Result<Vec<Target>> {
    let Some(board) = board else {
        return Ok(if asked.is_empty() { Target::ALL.to_vec() } else { asked });
    };
    if asked.is_empty() {
        return Ok(Target::ALL.into_iter().filter(|&t| board.supports(t)).collect());
    }
    for &t in &asked {
        board.check(t)?;
    }
    Ok(asked)
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
    cargo::Build { package: "hypervisor", target, release, target_dir: None, supervisor: chosen.as_deref(), keep: None }.run()
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
            Cmd::Run { target, smp, memory, release, append, gdb, machine } => {
                assert_eq!(target, Target::Riscv64gc);
                assert_eq!((smp, memory.as_str(), release, append, gdb), (4, "512M", false, None, None));
                assert_eq!(machine, Board::Virt);
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
    fn gdb_port_defaults_to_1234() {
        let gdb = |args: &[&str]| match parse(args).unwrap().command {
            Cmd::Run { gdb, .. } => gdb,
            _ => panic!("not run"),
        };
        assert_eq!(gdb(&["run", "--gdb"]), Some(1234));
        assert_eq!(gdb(&["run", "--gdb", "4321"]), Some(4321));
        assert_eq!(gdb(&["run"]), None);
        assert!(parse(&["run", "--gdb", "port"]).is_err());
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
        let e = parse(&["run", "--machine", "sifive-u"]).unwrap_err();
        assert!(e.contains("invalid value 'sifive-u'") && e.contains("sifive_u"), "{e}");
        let e = parse(&["test", "--machine", "hifive"]).unwrap_err();
        assert!(e.contains("invalid value 'hifive'") && e.contains("virt, sifive_u, spike"), "{e}");
    }

    #[test]
    fn run_takes_every_board() {
        for (name, board) in [("virt", Board::Virt), ("sifive_u", Board::SifiveU), ("spike", Board::Spike)] {
            match parse(&["run", "--machine", name, "--target", "riscv32imac"]).unwrap().command {
                Cmd::Run { machine, target, .. } => {
                    assert_eq!(machine, board);
                    // What `run` checks before building anything.
                    assert_eq!(machine.check(target).is_ok(), board != Board::SifiveU, "{name}");
                }
                _ => panic!("not run"),
            }
        }
    }

    #[test]
    fn test_takes_a_board_and_its_targets() {
        let test = |args: &[&str]| match parse(args).unwrap().command {
            Cmd::Test { target, machine, filter, .. } => (test_targets(target, machine), machine, filter),
            _ => panic!("not test"),
        };
        let (targets, machine, filter) = test(&["test"]);
        assert_eq!((targets.unwrap(), machine, filter), (Target::ALL.to_vec(), None, None));
        let (targets, machine, filter) = test(&["test", "--machine", "sifive_u", "timer"]);
        assert_eq!(targets.unwrap(), [Target::Riscv64gc, Target::Riscv64imac]);
        assert_eq!((machine, filter.as_deref()), (Some(Board::SifiveU), Some("timer")));
        let (targets, machine, _) = test(&["test", "--machine", "spike"]);
        assert_eq!((targets.unwrap(), machine), (Target::ALL.to_vec(), Some(Board::Spike)));
        let (targets, _, _) = test(&["test", "--machine", "spike", "--target", "riscv32imac"]);
        assert_eq!(targets.unwrap(), [Target::Riscv32imac]);
        let (targets, _, _) = test(&["test", "--machine", "sifive_u", "--target", "riscv64gc", "--target", "riscv32imac"]);
        let e = targets.unwrap_err().to_string();
        assert!(e.contains("sifive_u has 64-bit harts") && e.contains("not riscv32imac"), "{e}");
    }
}
}
