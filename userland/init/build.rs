//! Link flags for the static Linux executable, and `INIT_ARCH` (the target
//! triple's first part, e.g. `riscv64gc`) for its banner; nothing for the
//! host stub.
//!
//! The none-elf targets already use the static relocation model and have no
//! libc, so all that is left is the entry point and an image base that is
//! above Linux's `mmap_min_addr`.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("none") {
        return;
    }
    // `cfg!(target_feature = "d")` is not visible on stable, so the banner
    // takes the ISA from the target's name.
    let target = std::env::var("TARGET").unwrap_or_default();
    let arch = target.split('-').next().unwrap_or("riscv");
    println!("cargo:rustc-env=INIT_ARCH={arch}");
    for arg in [
        "--entry=_start",
        "--image-base=0x10000",
        "-z",
        "noexecstack",
    ] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
}
