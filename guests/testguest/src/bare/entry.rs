//! Entry: take a stack, call guest_main (or secondary_main for HSM starts).

use core::arch::global_asm;

global_asm!(
    r#"
    .section .text.entry, "ax"
    .globl _start
_start:
    mv      s0, a0
    mv      s1, a1
3:  fence.i
    mv      a0, s0
    mv      a1, s1
    lla     t0, guest_main
    j       5f

    // Harts started through HSM: a0 = hart id, a1 = opaque.
    .globl testguest_secondary
testguest_secondary:
    lla     t0, secondary_main
5:  mv      tp, a0
    lla     sp, __stacks
    addi    t1, a0, 1
    slli    t1, t1, 16
    add     sp, sp, t1
    jalr    t0
4:  wfi
    j       4b
    "#,
);
