//! Crossing between the hypervisor (M-mode) and a capsule (S/U-mode), and
//! the hypervisor's access to a capsule's RAM.
//!
//! Each vcore has a [`Context`]. While a vcore runs on a hart, `mscratch`
//! holds its context's address; while the hypervisor runs, `mscratch` is
//! zero. The trap vector uses that to tell a capsule's trap (save the
//! vcore's registers, switch to this hart's hypervisor stack, call
//! `exits::guest_trap`) from a fault in the hypervisor itself (fatal).
//! Only the general registers and the pc are saved here; the scheduler
//! switches the S-mode CSRs and FP registers when the hart changes vcore.

use core::arch::global_asm;

use memrange::Range;

/// A vcore's registers while the hypervisor handles its trap.
#[repr(C)]
pub struct Context {
    /// x0..x31 (x0 unused).
    pub regs: [usize; 32],
    /// Where the vcore resumes (mepc).
    pub pc: usize,
    /// Top of the hypervisor stack of the hart running it.
    pub hv_sp: usize,
}

impl Context {
    pub const A0: usize = 10;
    pub const A1: usize = 11;
    pub const A6: usize = 16;
    pub const A7: usize = 17;
}

// The trap vector's slot numbers.
const _: () = assert!(core::mem::offset_of!(Context, pc) == 32 * core::mem::size_of::<usize>());
const _: () = assert!(core::mem::offset_of!(Context, hv_sp) == 33 * core::mem::size_of::<usize>());

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
    guest_trap = sym crate::run::exits::guest_trap,
    fatal = sym crate::arch::trap::fatal_trap,
);

unsafe extern "C" {
    /// Loads `ctx` into the registers and `mret`s into the capsule.
    #[link_name = "diosix_enter_guest"]
    fn enter_guest_asm(ctx: *mut Context) -> !;
}

/// Enters the vcore whose context is `ctx` on this hart. The scheduler
/// has loaded its S-mode state, mstatus.MPP and the PMP window, and set
/// `hv_sp` to this hart's stack.
pub fn enter(ctx: &mut Context) -> ! {
    // SAFETY: ctx is the context of the vcore this hart owns, with a valid
    // pc and hv_sp; everything else the capsule needs is loaded.
    unsafe { enter_guest_asm(ctx) }
}

/// True if `addr..addr+len` lies inside `ram`.
fn inside(ram: Range, addr: u64, len: u64) -> bool {
    Range::new(addr, len.max(1)).is_ok_and(|r| ram.contains_range(&r))
}

/// Copies `buf.len()` bytes of a capsule's RAM (`ram`) at `addr` into
/// `buf`; false (and nothing read) unless they all lie in it.
pub fn read(ram: Range, addr: u64, buf: &mut [u8]) -> bool {
    if !inside(ram, addr, buf.len() as u64) {
        return false;
    }
    for (i, b) in buf.iter_mut().enumerate() {
        // SAFETY: the bytes lie inside the capsule's RAM (checked above),
        // which M-mode reaches at the same addresses. They are read one
        // volatile byte at a time, never through a reference, because the
        // capsule's vcores may write them meanwhile.
        *b = unsafe { ((addr as usize + i) as *const u8).read_volatile() };
    }
    true
}

/// Copies `data` into a capsule's RAM (`ram`) at `addr`; false (and
/// nothing written) unless it all lies in it.
pub fn write(ram: Range, addr: u64, data: &[u8]) -> bool {
    if !inside(ram, addr, data.len() as u64) {
        return false;
    }
    for (i, b) in data.iter().enumerate() {
        // SAFETY: as in `read`.
        unsafe { ((addr as usize + i) as *mut u8).write_volatile(*b) };
    }
    true
}

/// A capsule's RAM as the page-table walker (`insn::walk`) and the
/// virtio devices (`vdev::virtio`) read and write it: every access is
/// bounds-checked by [`read`] and [`write`].
#[derive(Clone, Copy)]
pub struct CapsuleRam(pub Range);

impl insn::walk::GuestMemory for CapsuleRam {
    fn read_u64(&self, addr: u64) -> Option<u64> {
        let mut b = [0u8; 8];
        read(self.0, addr, &mut b).then(|| u64::from_le_bytes(b))
    }
    fn read_u32(&self, addr: u64) -> Option<u32> {
        let mut b = [0u8; 4];
        read(self.0, addr, &mut b).then(|| u32::from_le_bytes(b))
    }
}

impl vdev::virtio::GuestRam for CapsuleRam {
    fn read(&self, addr: u64, buf: &mut [u8]) -> bool {
        read(self.0, addr, buf)
    }
    fn write(&self, addr: u64, data: &[u8]) -> bool {
        write(self.0, addr, data)
    }
}
