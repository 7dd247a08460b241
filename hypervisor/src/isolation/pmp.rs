//! Physical memory protection: the window of RAM a capsule may touch.
//!
//! Entry 0 is the window's lower bound (OFF), entry 1 allows read, write
//! and execute up to the upper bound (TOR). Every other entry is cleared,
//! and an S- or U-mode access that matches no entry fails, so everything
//! outside the window - hypervisor, other RAM, device MMIO - faults.
//! M-mode is not restricted (no entry of ours is locked).
//!
//! A hart may implement up to 64 entries; all of them are cleared and read
//! back, because any entry left on by an earlier boot stage could widen
//! the window. An entry such a stage *locked* cannot be cleared: if it
//! could let S/U-mode reach anything, or if it is one of the two entries
//! the window needs, the window cannot be guaranteed and the capsule is
//! not run.

use core::arch::asm;
use core::fmt;

use memrange::Range;

/// Entries the privileged spec allows.
pub const MAX_ENTRIES: usize = 64;
const TOR: u8 = 0x08;
const A_MASK: u8 = 0x18;
const RWX: u8 = 0x07;
const LOCKED: u8 = 0x80;

/// Why the window could not be set.
pub enum PmpError {
    /// One of the window's own entries is locked.
    WindowEntryLocked { entry: usize, cfg: u8 },
    /// A locked entry lets S/U-mode reach memory outside the window.
    LockedGrant { entry: usize, cfg: u8 },
    /// The hart kept other values than the ones written: no PMP, or
    /// fewer than two entries.
    NotApplied { entry: usize, cfg: u8, addr: usize },
}

impl fmt::Display for PmpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PmpError::WindowEntryLocked { entry, cfg } => write!(
                f,
                "PMP entry {entry} (cfg {cfg:#x}) was locked by an earlier boot stage, and the capsule's window needs it"
            ),
            PmpError::LockedGrant { entry, cfg } => write!(
                f,
                "PMP entry {entry} (cfg {cfg:#x}) was locked by an earlier boot stage and lets S/U-mode reach memory \
                 outside any capsule; isolation cannot be guaranteed"
            ),
            PmpError::NotApplied { entry, cfg, addr } => write!(
                f,
                "the hart's PMP did not take the capsule's window (entry {entry}: cfg {cfg:#x}, addr {addr:#x}): \
                 no PMP, or fewer than two entries"
            ),
        }
    }
}

/// Bytes of pmpcfg per register, and so entries per register.
const PER_REG: usize = core::mem::size_of::<usize>();

/// Reads or writes pmpcfg`n` / pmpaddr`n`: the CSR number must be an
/// immediate, so each register gets its own arm. A read is probed: the
/// privileged spec makes all 64 entries' CSRs accessible, but QEMU (10.0)
/// raises an illegal instruction for those past the entries it has, so a
/// read runs with machine::probe's trap vector, which skips a faulting
/// access, and says `None` for a register that is not there.
macro_rules! csr_table {
    ($read:ident, $write:ident, $base:literal, [$($n:literal),*]) => {
        fn $read(n: usize) -> Option<usize> {
            let (ok, v): (usize, usize);
            match n {
                $(
                    // SAFETY: reading a PMP CSR has no side effects; the
                    // probe vector catches the read if the CSR is missing,
                    // and mtvec, mepc and mstatus are restored after it.
                    $n => unsafe {
                        asm!(
                            "csrr {tvec}, mtvec",
                            "csrr {epc}, mepc",
                            "csrr {status}, mstatus",
                            "la t1, diosix_probe_vector",
                            "csrw mtvec, t1",
                            "li a0, 1",
                            "li a1, 0",
                            concat!("csrr a1, ", stringify!($base), " + ", stringify!($n)),
                            "csrw mtvec, {tvec}",
                            "csrw mepc, {epc}",
                            "csrw mstatus, {status}",
                            tvec = out(reg) _,
                            epc = out(reg) _,
                            status = out(reg) _,
                            out("t1") _,
                            out("t2") _,
                            out("a0") ok,
                            out("a1") v,
                        )
                    },
                )*
                _ => return None,
            }
            (ok != 0).then_some(v)
        }
        fn $write(n: usize, v: usize) {
            match n {
                $(
                    // SAFETY: PMP registers only restrict S/U-mode (no
                    // entry written here is locked); the caller programs
                    // the window for the capsule about to run, and writes
                    // only registers whose read succeeded.
                    $n => unsafe { asm!(concat!("csrw ", stringify!($base), " + ", stringify!($n), ", {0}"), in(reg) v) },
                )*
                _ => {}
            }
        }
    };
}

csr_table!(read_cfg_reg, write_cfg_reg, 0x3a0, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
csr_table!(read_addr, write_addr, 0x3b0, [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
    28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52,
    53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63
]);

/// The pmpcfg registers of this target: all 16 on rv32, the even ones on
/// rv64 (each holds eight entries); those the hart lacks read as `None`.
fn cfg_regs() -> impl Iterator<Item = usize> {
    (0..MAX_ENTRIES / 4).step_by(PER_REG / 4)
}

/// Entry `i`'s configuration byte; `None` if its register is missing.
fn cfg_of(i: usize) -> Option<u8> {
    let reg = i / PER_REG * (PER_REG / 4);
    read_cfg_reg(reg).map(|r| (r >> (8 * (i % PER_REG))) as u8)
}

/// The entries whose configuration register exists on this hart.
fn entries() -> impl Iterator<Item = (usize, u8)> {
    (0..MAX_ENTRIES).map_while(|i| cfg_of(i).map(|c| (i, c)))
}

/// Checks that no entry an earlier boot stage locked stands in the way of
/// a capsule's window on this hart: a locked entry 0 or 1 (the window's
/// own), or a locked entry that lets S/U-mode reach anything. Each hart
/// checks before it runs any vcore.
pub fn check_locks() -> Result<(), PmpError> {
    // Locked entries keep their values whatever is written.
    for (i, cfg) in entries() {
        if cfg & LOCKED == 0 {
            continue;
        }
        if i < 2 {
            return Err(PmpError::WindowEntryLocked { entry: i, cfg });
        }
        if cfg & A_MASK != 0 && cfg & RWX != 0 {
            return Err(PmpError::LockedGrant { entry: i, cfg });
        }
    }
    Ok(())
}

/// Confines S and U mode on this hart to `window`, and checks that the
/// hardware took it.
pub fn confine_to(window: &Range) -> Result<(), PmpError> {
    let lo = (window.start() >> 2) as usize;
    let hi = (window.end() >> 2) as usize;
    check_locks()?;
    // Every configuration register cleared (locked bytes ignore it), the
    // unused addresses too, then the window.
    for reg in cfg_regs().take_while(|&r| read_cfg_reg(r).is_some()) {
        write_cfg_reg(reg, 0);
    }
    for i in (2..MAX_ENTRIES).take_while(|&i| read_addr(i).is_some()) {
        write_addr(i, 0);
    }
    write_addr(0, lo);
    write_addr(1, hi);
    write_cfg_reg(0, usize::from(TOR | RWX) << 8);
    // SAFETY: drops translations cached under the previous setting.
    unsafe { asm!("sfence.vma") };
    // Read everything back: the window exactly, every other entry off or
    // a locked entry that grants nothing.
    let mut seen = 0;
    for (i, cfg) in entries() {
        seen += 1;
        let want = if i == 1 { TOR | RWX } else { 0 };
        let addr_ok = match i {
            0 => read_addr(0) == Some(lo),
            1 => read_addr(1) == Some(hi),
            _ => true,
        };
        let harmless_lock = i >= 2 && cfg & LOCKED != 0 && (cfg & A_MASK == 0 || cfg & RWX == 0);
        if (cfg != want || !addr_ok) && !harmless_lock {
            return Err(PmpError::NotApplied { entry: i, cfg, addr: read_addr(i).unwrap_or(0) });
        }
    }
    if seen < 2 {
        return Err(PmpError::NotApplied { entry: seen, cfg: 0, addr: 0 });
    }
    Ok(())
}

/// For the `diosix.selftest=pmp-lock` failure path: locks entry 8 as a
/// NAPOT region granting read and write on the 4 KiB at `base`, as an
/// earlier boot stage might have. M-mode keeps the same access there.
pub fn lock_entry_for_selftest(base: usize) {
    const NAPOT: u8 = 0x18;
    let entry = 8;
    write_addr(entry, (base >> 2) | 0x1ff);
    let reg = entry / PER_REG * (PER_REG / 4);
    let shift = 8 * (entry % PER_REG);
    let cfg = read_cfg_reg(reg).unwrap_or(0) | (usize::from(LOCKED | NAPOT | 0x3) << shift);
    write_cfg_reg(reg, cfg);
}
