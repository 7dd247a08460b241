//! Small helpers around this hart's control registers.

/// This hart's id.
pub fn hart_id() -> usize {
    riscv::register::mhartid::read()
}

/// The privileged spec's name for an mcause code.
pub fn exception_name(interrupt: bool, code: usize) -> &'static str {
    if interrupt {
        return match code {
            1 => "supervisor software interrupt",
            3 => "machine software interrupt",
            5 => "supervisor timer interrupt",
            7 => "machine timer interrupt",
            9 => "supervisor external interrupt",
            11 => "machine external interrupt",
            _ => "unknown interrupt",
        };
    }
    match code {
        0 => "instruction address misaligned",
        1 => "instruction access fault",
        2 => "illegal instruction",
        3 => "breakpoint",
        4 => "load address misaligned",
        5 => "load access fault",
        6 => "store/AMO address misaligned",
        7 => "store/AMO access fault",
        8 => "environment call from U-mode",
        9 => "environment call from S-mode",
        10 => "environment call from VS-mode",
        11 => "environment call from M-mode",
        12 => "instruction page fault",
        13 => "load page fault",
        15 => "store/AMO page fault",
        20 => "instruction guest-page fault",
        21 => "load guest-page fault",
        22 => "virtual instruction",
        23 => "store/AMO guest-page fault",
        _ => "unknown exception",
    }
}

/// Wait for an interrupt, forever.
pub fn park() -> ! {
    loop {
        riscv::asm::wfi();
    }
}
