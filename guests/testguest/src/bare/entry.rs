//! Entry: relocate if loaded away from the link base, take a stack, call
//! guest_main (or secondary_main for HSM starts).
//!
//! Relocation: the guest may run in any capsule's RAM, not only at its link
//! base. An rv64 build is a PIE whose `.rela.dyn` holds only
//! `R_RISCV_RELATIVE` entries (an address in the image); each word they
//! name gets its link-time value plus the load offset before any Rust code
//! runs. An rv32 build has none
//! (build.rs says why): loaded elsewhere it prints why it cannot run and
//! shuts down with a failure.

use core::arch::global_asm;

include!(concat!(env!("OUT_DIR"), "/link_base.rs"));

global_asm!(
    r#"
    .section .text.entry, "ax"
    .globl _start
_start:
    mv      s0, a0
    mv      s1, a1
    // t2 = where we run - where we were linked to run.
    lla     t0, _start
    li      t1, {base}
    sub     t2, t0, t1
    lla     t3, __rela_start
    lla     t4, __rela_end
    bne     t3, t4, 1f
    beqz    t2, 3f
    j       9f
    // Each entry: offset, info, addend (XLEN bytes each). They are applied
    // even at the link base: the linker leaves the words they fill as 0.
1:  bgeu    t3, t4, 3f
    .if {xlenb} == 8
    ld      t5, 8(t3)
    .else
    lw      t5, 4(t3)
    .endif
    li      t6, 3                   // R_RISCV_RELATIVE, symbol 0
    bne     t5, t6, 9f
    .if {xlenb} == 8
    ld      t5, 0(t3)
    ld      t6, 16(t3)
    .else
    lw      t5, 0(t3)
    lw      t6, 8(t3)
    .endif
    add     t5, t5, t2
    add     t6, t6, t2
    .if {xlenb} == 8
    sd      t6, 0(t5)
    .else
    sw      t6, 0(t5)
    .endif
    addi    t3, t3, 3 * {xlenb}
    j       1b

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

    // Cannot run here: say so through the legacy console, then SRST
    // shutdown with reason "system failure".
9:  lla     t3, 8f
7:  lbu     a0, 0(t3)
    beqz    a0, 6f
    li      a7, 1
    ecall
    addi    t3, t3, 1
    j       7b
6:  li      a7, 0x53525354
    li      a6, 0
    li      a0, 0
    li      a1, 1
    ecall
    j       4b

    .pushsection .rodata
8:  .asciz  "testguest: FAIL relocation: loaded away from its link base, and this build cannot relocate\r\n"
    .popsection
    "#,
    base = const LINK_BASE,
    xlenb = const core::mem::size_of::<usize>(),
);
