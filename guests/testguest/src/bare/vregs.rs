//! The hart's vector registers, as a capsule reaches them when its hart
//! has V (or a Zve* subset) although its ISA string leaves V out: by
//! turning `sstatus.VS` on itself. `keep` uses them to check that the
//! hypervisor keeps each capsule's vector registers its own.

use core::arch::{asm, global_asm};

/// sstatus.VS.
const VS_MASK: usize = 3 << 9;
/// VS = Initial.
const VS_INITIAL: usize = 1 << 9;

/// The longest registers the checks handle: 512 bits (64 bytes) each.
pub const MAX_VLENB: usize = 64;
/// v0..v31 at up to [`MAX_VLENB`].
pub type Regs = [u8; 32 * MAX_VLENB];

// a0 = v0..v31 back to back, a1 = 8 * vlenb. Assembled with V whatever
// this build's target; called only where VS could be turned on.
global_asm!(
    r#"
    .section .text
    .option push
    .option arch, +v
    // The four groups of eight registers, one after the other.
    .macro V_GROUPS name, op
    .balign 4
    .globl \name
\name:
    .irp group, 0, 8, 16, 24
    \op    v\group, (a0)
    add     a0, a0, a1
    .endr
    ret
    .endm

    V_GROUPS testguest_v_store, vs8r.v
    V_GROUPS testguest_v_load, vl8re8.v
    .option pop
    "#
);

unsafe extern "C" {
    fn testguest_v_store(to: *mut u8, group: usize);
    fn testguest_v_load(from: *const u8, group: usize);
}

/// Turns the vector unit on (VS = Initial); `Some(vlenb)` if the hart has
/// one (VS is WARL and stays zero where there is none).
pub fn enable() -> Option<usize> {
    // SAFETY: sets the capsule's own sstatus.VS.
    unsafe { asm!("csrs sstatus, {0}", in(reg) VS_INITIAL) };
    let sstatus: usize;
    // SAFETY: reads the capsule's own sstatus.
    unsafe { asm!("csrr {0}, sstatus", out(reg) sstatus) };
    if sstatus & VS_MASK == 0 {
        return None;
    }
    let vlenb: usize;
    // SAFETY: vlenb exists where VS could be turned on.
    unsafe { asm!("csrr {0}, 0xc22", out(reg) vlenb) };
    Some(vlenb)
}

/// Copies v0..v31 into the first `32 * vlenb` bytes of `to`.
pub fn store(vlenb: usize, to: &mut Regs) {
    assert!(vlenb <= MAX_VLENB);
    // SAFETY: VS is on ([`enable`]), vstart is zero (nothing here leaves
    // it otherwise) and `to` has room for 32 * vlenb bytes.
    unsafe { testguest_v_store(to.as_mut_ptr(), 8 * vlenb) }
}

/// Loads v0..v31 from the first `32 * vlenb` bytes of `from`.
pub fn load(vlenb: usize, from: &Regs) {
    assert!(vlenb <= MAX_VLENB);
    // SAFETY: as in `store`, reading `from`.
    unsafe { testguest_v_load(from.as_ptr(), 8 * vlenb) }
}

/// Sets vtype to e32, m1 (and tail/mask agnostic) with AVL `avl`, and
/// `vxrm` to `rm` (0..=3); returns the vl granted.
pub fn configure(avl: usize, rm: usize) -> usize {
    let vl: usize;
    // SAFETY: the capsule's own vector configuration.
    unsafe {
        asm!(".option push", ".option arch, +v", "vsetvli {0}, {1}, e32, m1, ta, ma", ".option pop",
             out(reg) vl, in(reg) avl);
        asm!("csrw 0x00a, {0}", in(reg) rm & 3);
    }
    vl
}

/// (vl, vtype, vxrm) now.
pub fn config() -> (usize, usize, usize) {
    let (vl, vtype, vxrm): (usize, usize, usize);
    // SAFETY: reads the capsule's own vector CSRs.
    unsafe {
        asm!("csrr {0}, 0xc20", out(reg) vl);
        asm!("csrr {0}, 0xc21", out(reg) vtype);
        asm!("csrr {0}, 0x00a", out(reg) vxrm);
    }
    (vl, vtype, vxrm)
}
