//! Where every hart starts: M-mode, `a0` = hart id, `a1` = device tree.
//!
//! Each hart gets its own stack. The first hart to arrive (a lottery, since
//! any hart may be first) clears `.bss` and boots the system; the others
//! wait for `.bss` to be ready and then check in. Harts whose id is too big
//! for our stack table park forever with interrupts off.

use core::arch::global_asm;

use crate::arch::layout::{MAX_HARTS, STACK_SIZE};

// Stacks are a power of two in size, so a shift places them (and no `mul`,
// which the assembler refuses for rv64gc in some builds).
const _: () = assert!(STACK_SIZE.is_power_of_two());

global_asm!(
    r#"
    .section .text.entry, "ax"
    .option push
    .option arch, +a
    .globl _start
_start:
    csrw    mie, zero
    csrw    mscratch, zero
    la      t0, {trap_vector}
    csrw    mtvec, t0
    csrr    t0, mhartid
    li      t1, {max_harts}
    bgeu    t0, t1, 9f

    addi    t1, t0, 1
    slli    t1, t1, {stack_shift}
    la      sp, __stacks_start
    add     sp, sp, t1

    la      t1, diosix_boot_lottery
    li      t2, 1
    amoswap.w.aq t2, t2, (t1)
    bnez    t2, 3f

    la      t1, __bss_start
    la      t2, __bss_end
1:  bgeu    t1, t2, 2f
    sb      zero, 0(t1)
    addi    t1, t1, 1
    j       1b
2:  la      t1, diosix_bss_ready
    li      t2, 1
    amoswap.w.rl zero, t2, (t1)
    mv      a0, t0
    call    {boot_main}
    j       9f

3:  la      t1, diosix_bss_ready
4:  lw      t2, 0(t1)
    beqz    t2, 4b
    fence   rw, rw
    mv      a0, t0
    call    {secondary_main}

9:  wfi
    j       9b
    .option pop

    .section .data.boot, "aw"
    .balign 4
diosix_boot_lottery: .word 0
diosix_bss_ready:    .word 0
    "#,
    trap_vector = sym crate::arch::trap::trap_vector,
    max_harts = const MAX_HARTS,
    stack_shift = const STACK_SIZE.trailing_zeros(),
    boot_main = sym crate::boot::boot_main,
    secondary_main = sym crate::boot::secondary_main,
);
