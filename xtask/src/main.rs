//! `cargo xtask`: diosix's host tool.

mod cargo;
mod deps;
mod paths;
mod qemu;
mod suite;
mod supervisor;
mod target;

use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use target::Target;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Build, run and test the diosix hypervisor")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
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
        /// Hypervisor command line (QEMU's -append), e.g. diosix.selftest=panic.
        #[arg(long)]
        append: Option<String>,
    },
    /// Build the boot capsule's Linux kernel offline and install it at
    /// boot/binaries/<arch>/supervisor.
    Supervisor {
        /// riscv64gc, riscv64imac, riscv32imac, or all.
        #[arg(long, default_value = "riscv64gc")]
        arch: String,
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
            let targets = if arch == "all" { Target::ALL.to_vec() } else { vec![arch.parse()?] };
            supervisor::command(&targets, force)
        }
        Cmd::Test { target, no_host, filter } => {
            if !no_host {
                host_tests()?;
            }
            let targets = if target.is_empty() { Target::ALL.to_vec() } else { target };
            suite::run(suite::all(&targets), filter.as_deref())
        }
    }
}

/// Builds the hypervisor, first building the supervisor if it is missing.
fn build(target: Target, release: bool) -> Result<std::path::PathBuf> {
    supervisor::ensure(target)?;
    cargo::Build { package: "hypervisor", target, release, target_dir: None, supervisor: None }.run()
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
