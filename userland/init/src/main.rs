//! The boot capsule's `/init`.
//!
//! Built for a `riscv*-unknown-none-elf` target this is a static Linux
//! executable that talks to the kernel with raw `ecall`s: it mounts /proc,
//! /sys and /dev, prints a banner and runs a small command prompt on the
//! console. Built for the host it is a stub, so that the portable modules
//! (line editing, the command table, /proc parsing, formatting) are compiled
//! and unit-tested by `cargo test -p init`.
#![cfg_attr(target_os = "none", no_std, no_main)]
// On the host only the tests use the portable modules.
#![cfg_attr(not(target_os = "none"), allow(dead_code))]

mod bench;
mod clock;
mod commands;
mod errno;
mod facts;
mod fs;
mod line;
mod os;
mod procfs;
mod repl;

#[cfg(test)]
mod fake;

#[cfg(target_os = "none")]
mod bare;

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!(
        "init is the boot capsule's /init for RISC-V Linux; build it with \
         `cargo build -p init --release --target riscv64gc-unknown-none-elf`"
    );
    std::process::exit(1);
}
