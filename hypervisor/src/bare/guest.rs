//! Crossing between the hypervisor (M-mode) and a capsule (S/U-mode).
//!
//! Each hart has a [`Context`]. While a capsule runs on the hart,
//! `mscratch` holds the context's address; while the hypervisor runs,
//! `mscratch` is zero. The trap vector uses that to tell a capsule's trap
//! (save the capsule's registers, switch to this hart's hypervisor stack,
//! call [`super::vcore::guest_trap`]) from a fault in the hypervisor itself
//! (fatal). Only the general registers and the pc are saved: the capsule's
//! S-mode CSRs and FP registers stay in the hart, untouched, because each
//! vcore is pinned to one hart.

use core::arch::global_asm;
use core::cell::UnsafeCell;

use super::layout::{self, MAX_HARTS};

/// A capsule's registers while the hypervisor handles its trap.
#[repr(C)]
pub struct Context {
    /// x0..x31 (x0 unused).
    pub regs: [usize; 32],
    /// Where the capsule resumes (mepc).
    pub pc: usize,
    /// Top of this hart's hypervisor stack.
    pub hv_sp: usize,
}

impl Context {
    pub const A0: usize = 10;
    pub const A1: usize = 11;
    pub const A6: usize = 16;
    pub const A7: usize = 17;
}

struct Contexts(UnsafeCell<[Context; MAX_HARTS]>);

// SAFETY: each hart only ever touches its own slot (indexed by its own
// hart id), so there is no sharing between harts.
unsafe impl Sync for Contexts {}

static CONTEXTS: Contexts = Contexts(UnsafeCell::new(
    [const { Context { regs: [0; 32], pc: 0, hv_sp: 0 } }; MAX_HARTS],
));

/// The calling hart's context.
///
/// # Safety
/// `hart` must be the calling hart's id, and the caller must not hold
/// another reference to it (the trap path hands out one at a time).
pub unsafe fn context(hart: usize) -> &'static mut Context {
    // SAFETY: per the contract, only this hart uses this slot, once at a time.
    unsafe { &mut (*CONTEXTS.0.get())[hart] }
}

global_asm!(
    r#"
    .equ XLENB, {xlenb}
    .macro SAVE_X n
    .if XLENB == 8
        sd x\n, (\n * 8)(sp)
    .else
        sw x\n, (\n * 4)(sp)
    .endif
    .endm
    .macro LOAD_X n
    .if XLENB == 8
        ld x\n, (\n * 8)(sp)
    .else
        lw x\n, (\n * 4)(sp)
    .endif
    .endm
    .macro SAVE_T0 slot
    .if XLENB == 8
        sd t0, (\slot * 8)(sp)
    .else
        sw t0, (\slot * 4)(sp)
    .endif
    .endm
    .macro LOAD_T0 slot
    .if XLENB == 8
        ld t0, (\slot * 8)(sp)
    .else
        lw t0, (\slot * 4)(sp)
    .endif
    .endm

    .section .text
    .balign 4
    .globl diosix_trap_vector
diosix_trap_vector:
    csrrw   sp, mscratch, sp
    beqz    sp, 1f
    SAVE_X 1
    .irp n, 3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    SAVE_X \n
    .endr
    csrr    t0, mscratch
    SAVE_T0 2
    csrr    t0, mepc
    SAVE_T0 32
    csrw    mscratch, zero
    mv      a0, sp
    LOAD_T0 33
    mv      sp, t0
    call    {guest_trap}
    j       diosix_enter_guest

1:  csrrw   sp, mscratch, sp
    csrr    a0, mcause
    csrr    a1, mepc
    csrr    a2, mtval
    call    {fatal}
2:  j       2b

    .globl diosix_enter_guest
diosix_enter_guest:
    mv      sp, a0
    LOAD_T0 32
    csrw    mepc, t0
    csrw    mscratch, sp
    LOAD_X 1
    .irp n, 3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    LOAD_X \n
    .endr
    LOAD_X 2
    mret
    "#,
    xlenb = const core::mem::size_of::<usize>(),
    guest_trap = sym super::vcore::guest_trap,
    fatal = sym super::trap::fatal_trap,
);

unsafe extern "C" {
    /// Loads `ctx` into the registers and `mret`s into the capsule.
    #[link_name = "diosix_enter_guest"]
    fn enter_guest_asm(ctx: *mut Context) -> !;
}

/// Resumes (or first starts) the capsule on this hart from `ctx`. The
/// privilege it returns to is mstatus.MPP, which the caller has set.
pub fn enter(hart: usize, ctx: &'static mut Context) -> ! {
    ctx.hv_sp = layout::stack_top(hart);
    // SAFETY: ctx is this hart's context with a valid pc; mstatus.MPP and
    // the PMP window were set up by the caller for the capsule.
    unsafe { enter_guest_asm(ctx) }
}
