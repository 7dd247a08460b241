//! diosix: a bare-metal, type-1 hypervisor for RISC-V.
//!
//! Built for a `riscv*-unknown-none-elf` target this is the hypervisor
//! executable, with the boot capsule's kernel embedded. Built for the host
//! (as `cargo build --workspace` does) it is a stub that says how to build
//! the real thing, so that host builds and tests of the workspace work.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
extern crate alloc;

#[cfg(target_os = "none")]
mod bare {
    pub mod boot;
    pub mod capsule;
    pub mod clint;
    pub mod console;
    pub mod control;
    pub mod cpu;
    pub mod csr;
    pub mod emulate;
    pub mod entry;
    pub mod exits;
    pub mod fpu;
    pub mod guest;
    pub mod gpio_sifive;
    pub mod harts;
    pub mod heap;
    pub mod hstate;
    pub mod htif;
    pub mod layout;
    pub mod machine;
    pub mod mailbox;
    pub mod mmio;
    pub mod panic;
    pub mod phys;
    pub mod pmp;
    pub mod power;
    pub mod reflect;
    pub mod report;
    pub mod sbi_host;
    pub mod sbi_state;
    pub mod sched;
    pub mod settings;
    pub mod sstate;
    pub mod sta;
    pub mod storage;
    pub mod supervisor;
    pub mod timer;
    pub mod trap;
    pub mod uart_ns16550;
    pub mod uart_sifive;
    pub mod uploads;
    pub mod vcore;
    pub mod vdevs;
}

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("the diosix hypervisor runs on bare-metal RISC-V; build it with `cargo xtask build`");
    std::process::exit(1);
}
