//! Scenarios a hostile or broken kernel might play, which the hypervisor
//! must survive and answer as real hardware under firmware would.

/// Prints lines that imitate the hypervisor's own messages, whole and
/// split across calls: the hypervisor must mark them as the capsule's.
pub fn spoof() -> bool {
    say!("[diosix] boot capsule died: spoofed by the capsule");
    // The same, in pieces: a line start held across SBI calls.
    let mut c = super::Console;
    for piece in ["[dio", "six] boot capsule shut down the system (spoofed in pieces)\n"] {
        let _ = core::fmt::Write::write_str(&mut c, piece);
    }
    say!("an ordinary line [diosix] in the middle stays as it is");
    true
}

/// Page tables and the page the test runs in, all 4 KiB aligned.
#[repr(C, align(4096))]
struct Page([usize; 4096 / core::mem::size_of::<usize>()]);

const EMPTY: Page = Page([0; 4096 / core::mem::size_of::<usize>()]);
static mut TABLES: [Page; 5] = [EMPTY; 5];
#[repr(C, align(4096))]
struct Code([u32; 1024]);
static mut CODE: Code = Code([0; 1024]);

const V: usize = 1;
const RWX: usize = 0b1110;
const AD: usize = 0b1100_0000;

fn pte(pa: usize, flags: usize) -> usize {
    (pa >> 12) << 10 | flags
}

/// An `ecall` in the last four bytes of the address space: the hart's pc
/// after it wraps to 0. The hypervisor must step past it the same way,
/// not overflow (which panics a debug build and ends the machine).
///
/// With translation on, the top page and page 0 both map to one page
/// holding `ecall` at its end and `jr ra` at its start; the rest of the
/// capsule is mapped at its own addresses so the trap handler still runs.
pub fn top_ecall(check: impl Fn(&str, bool, core::fmt::Arguments) -> bool) -> bool {
    use core::arch::asm;
    use core::ptr::addr_of_mut;
    // SAFETY: the tables and the code page are ours alone; this runs on
    // one hart with interrupts off, and translation is turned off again
    // before returning.
    let (error, version) = unsafe {
        let code = &mut *addr_of_mut!(CODE);
        code.0[0] = 0x0000_8067; // jalr x0, 0(ra)
        code.0[1023] = 0x0000_0073; // ecall
        let t = &mut *addr_of_mut!(TABLES);
        let pa = |p: &Page| p as *const Page as usize;
        let code_pa = code as *const Code as usize;
        let last = t[0].0.len() - 1;
        #[cfg(target_arch = "riscv64")]
        let satp = {
            // Sv39: the capsule's gigapage at its own address; VA 0 and
            // the top page through two-level chains to the code page.
            let (root, rest) = t.split_at_mut(1);
            let root = &mut root[0];
            let giga = code_pa & !((1 << 30) - 1);
            root.0[(giga >> 30) & 511] = pte(giga, V | RWX | AD);
            root.0[0] = pte(pa(&rest[0]), V);
            rest[0].0[0] = pte(pa(&rest[1]), V);
            rest[1].0[0] = pte(code_pa, V | RWX | AD);
            root.0[last] = pte(pa(&rest[2]), V);
            rest[2].0[last] = pte(pa(&rest[3]), V);
            rest[3].0[last] = pte(code_pa, V | RWX | AD);
            (8usize << 60) | (pa(root) >> 12)
        };
        #[cfg(target_arch = "riscv32")]
        let satp = {
            // Sv32: 4 MiB megapages over 64 MiB around the capsule's
            // code; VA 0 and the top page through second-level tables.
            let (root, rest) = t.split_at_mut(1);
            let root = &mut root[0];
            let base = code_pa & !((1 << 22) - 1);
            for i in 0..16 {
                let mega = base.wrapping_sub(8 << 22).wrapping_add(i << 22);
                root.0[mega >> 22] = pte(mega, V | RWX | AD);
            }
            root.0[0] = pte(pa(&rest[0]), V);
            rest[0].0[0] = pte(code_pa, V | RWX | AD);
            root.0[last] = pte(pa(&rest[1]), V);
            rest[1].0[last] = pte(code_pa, V | RWX | AD);
            (1usize << 31) | (pa(root) >> 12)
        };
        let (error, version): (usize, usize);
        asm!(
            "fence.i",
            "csrw satp, {satp}",
            "sfence.vma",
            "la ra, 1f",
            "jr {top}",
            "1:",
            "csrw satp, zero",
            "sfence.vma",
            satp = in(reg) satp,
            top = in(reg) usize::MAX - 3,
            in("a7") 0x10usize,
            in("a6") 0usize,
            lateout("a0") error,
            lateout("a1") version,
            out("ra") _,
        );
        (error, version)
    };
    check("an ecall in the last word of the address space returns and the pc wraps to 0",
        error == 0 && version == 0x0200_0000, format_args!("error {error}, value {version:#x}"))
}

/// Stops the only running vcore with HSM hart_stop: nothing is left that
/// could start it again, so the hypervisor must say so and end the
/// machine, not park every hart for ever.
pub fn stop_all() -> bool {
    say!("testguest: stopping the last running vcore");
    super::sbi::hart_stop()
}
