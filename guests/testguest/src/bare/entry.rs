//! Entry: relocate ourselves, take a stack, call guest_main.

use core::arch::global_asm;

global_asm!(
    r#"
    .equ XLENB, {xlenb}
    .section .text.entry, "ax"
    .globl _start
_start:
    mv      s0, a0
    mv      s1, a1
    lla     t0, __image_base
    lla     t1, __rela_start
    lla     t2, __rela_end
1:  bgeu    t1, t2, 3f
    .if XLENB == 8
    ld      t3, 8(t1)
    .else
    lw      t3, 4(t1)
    .endif
    andi    t3, t3, 0xff
    li      t4, 3
    bne     t3, t4, 2f
    .if XLENB == 8
    ld      t3, 0(t1)
    ld      t4, 16(t1)
    .else
    lw      t3, 0(t1)
    lw      t4, 8(t1)
    .endif
    add     t3, t3, t0
    add     t4, t4, t0
    .if XLENB == 8
    sd      t4, 0(t3)
    .else
    sw      t4, 0(t3)
    .endif
2:  addi    t1, t1, 3 * XLENB
    j       1b
3:  fence.i
    lla     sp, __stacks
    addi    t0, s0, 1
    slli    t0, t0, 14
    add     sp, sp, t0
    mv      a0, s0
    mv      a1, s1
    call    guest_main
4:  wfi
    j       4b
    "#,
    xlenb = const core::mem::size_of::<usize>(),
);
