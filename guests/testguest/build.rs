//! Links the test guest with `link.ld` at its link base: 0x84000000, or
//! `DIOSIX_TESTGUEST_BASE` (hex, a multiple of 4 MiB) for a copy that
//! runs beside others where the build cannot relocate (rv32, below).
//!
//! On rv64 it is also linked position-independent (`--pie`), so one file
//! runs wherever a capsule's RAM is: entry.rs applies its relative
//! relocations first thing. The rv32 target's prebuilt `core` uses
//! absolute (medlow) addressing, which a PIE link cannot carry; there the
//! guest must be loaded at its link base, and says so if it is not.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:rerun-if-env-changed=DIOSIX_TESTGUEST_BASE");
    let base = match std::env::var("DIOSIX_TESTGUEST_BASE").ok().filter(|b| !b.is_empty()) {
        None => 0x8400_0000,
        Some(b) => match u64::from_str_radix(b.trim_start_matches("0x"), 16) {
            Ok(v) if v % (4 << 20) == 0 && v <= 0xffc0_0000 => v,
            _ => {
                eprintln!("error: DIOSIX_TESTGUEST_BASE={b}: give a hex address below 4 GiB that is a multiple of 4 MiB");
                std::process::exit(1);
            }
        },
    };
    let out = std::env::var("OUT_DIR").unwrap();
    std::fs::write(format!("{out}/link_base.rs"), format!("const LINK_BASE: usize = {base:#x};\n")).unwrap();
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("none") {
        let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
        println!("cargo:rustc-link-arg-bins=-T{dir}/link.ld");
        println!("cargo:rustc-link-arg-bins=--defsym=__testguest_base={base:#x}");
        if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("riscv64") {
            // -z notext: read-only data (vtables, string tables) holds
            // addresses too; nothing write-protects it before they are fixed.
            for arg in ["--pie", "--no-dynamic-linker", "-znotext"] {
                println!("cargo:rustc-link-arg-bins={arg}");
            }
        }
    }
}
