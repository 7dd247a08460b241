//! The boot capsule's `/init`.
//!
//! Built for a `riscv*-unknown-none-elf` target this is a static Linux
//! executable that talks to the kernel with raw `ecall`s: it mounts /proc,
//! /sys and /dev, prints a banner and runs a small command prompt on the
//! console, whose capsule manager commands talk to the hypervisor over its
//! control channel. Built for the host it is a stub, so that the portable
//! modules (line editing, the command table, /proc parsing, formatting, the
//! control channel) are compiled and unit-tested by `cargo test -p init`.
#![cfg_attr(target_os = "none", no_std, no_main)]
// On the host only the tests use the portable modules.
#![cfg_attr(not(target_os = "none"), allow(dead_code))]

extern crate alloc;

mod args;
mod autostart;
mod bench;
mod channel;
mod clock;
mod commands;
mod errno;
mod facts;
mod fs;
mod line;
mod manager;
mod os;
mod port;
mod procfs;
mod repl;
mod upload;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod fake_port;

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
