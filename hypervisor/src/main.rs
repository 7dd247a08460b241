//! diosix: a bare-metal, type-1 hypervisor for RISC-V.
//!
//! Built for a `riscv*-unknown-none-elf` target this is the hypervisor
//! executable, with the boot capsule's kernel embedded. Built for the host
//! (as `cargo build --workspace` does) it is a stub that says how to build
//! the real thing, so that host builds and tests of the workspace work.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
extern crate alloc;

// The layers, from the hart up (docs/capsules.md has the tour).
#[cfg(target_os = "none")]
mod built;
#[cfg(target_os = "none")]
mod arch;
#[cfg(target_os = "none")]
mod platform;
#[cfg(target_os = "none")]
mod isolation;
#[cfg(target_os = "none")]
mod run;
#[cfg(target_os = "none")]
mod devices;
#[cfg(target_os = "none")]
mod manage;
#[cfg(target_os = "none")]
mod boot;

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("the diosix hypervisor runs on bare-metal RISC-V; build it with `cargo xtask build`");
    std::process::exit(1);
}
