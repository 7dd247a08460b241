//! The test guest: a minimal S-mode kernel used in place of Linux by the
//! test suite. It boots like Linux (a0 = hart id, a1 = device tree) and
//! reports through the SBI console, then shuts down through SRST.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod bare;

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("the test guest runs inside a diosix capsule; `cargo xtask test` builds it");
    std::process::exit(1);
}
