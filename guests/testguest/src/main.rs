//! The test guest: a minimal S-mode kernel used in place of Linux by the
//! test suite. For now it only has to be a valid kernel image to embed;
//! the SBI and isolation scenarios arrive with the boot capsule.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
mod bare {
    use core::arch::global_asm;

    global_asm!(
        r#"
        .section .text.entry, "ax"
        .globl _start
    _start:
        wfi
        j _start
        "#
    );

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo) -> ! {
        loop {}
    }
}

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("the test guest runs inside a diosix capsule; `cargo xtask test` builds it");
    std::process::exit(1);
}
