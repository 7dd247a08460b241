//! Delivering a trap that M-mode took to the capsule's own S-mode trap
//! handler, exactly as the hart would have if the trap had been delegated.
//!
//! On a hart with the H extension a capsule's kernel runs in HS-mode and
//! may itself run code in VS- or VU-mode. A trap M-mode takes from there
//! (mstatus.MPV set) goes to the kernel as a trap from a virtual mode:
//! hstatus.SPV and SPVP say where it came from, hstatus.GVA whether stval
//! is a guest virtual address, htval and htinst carry mtval2 and mtinst,
//! and M-mode returns to HS-mode with MPV clear. Without that the kernel
//! would run its handler in VS-mode, or learn nothing of where it was.

use crate::arch::csr;
use crate::arch::guest::Context;

/// Why a trap cannot be delivered to the capsule's kernel.
pub enum NoHandler {
    /// stvec is zero, or the trap happened at the handler itself (a loop).
    Missing,
}

/// Delivers the exception `cause` with `tval` to the capsule's S-mode
/// handler: sets scause, stval, sepc and the previous-mode bits, and makes
/// `ctx` resume at stvec in S-mode.
pub fn to_supervisor(ctx: &mut Context, cause: usize, tval: usize) -> Result<(), NoHandler> {
    let handler = csr::stvec::read() & !3;
    if handler == 0 || ctx.pc == handler {
        return Err(NoHandler::Missing);
    }
    let mstatus = csr::mstatus::read();
    // The nominal privilege the trap came from: S (or VS) sets SPP.
    let from_s = mstatus & csr::MPP_MASK == csr::MPP_S;
    let sie = mstatus & csr::SIE != 0;
    if csr::has_h() {
        let high = csr::mstatus_high();
        let virt = high & csr::MPV_HIGH != 0;
        // hstatus.SPV, SPVP and GVA as the hart sets them on a trap into
        // HS-mode; SPVP changes only for a trap from a virtual mode.
        let mut clear = csr::HSTATUS_SPV | csr::HSTATUS_GVA;
        let mut set = 0;
        if virt {
            set |= csr::HSTATUS_SPV;
            clear |= csr::HSTATUS_SPVP;
            if from_s {
                set |= csr::HSTATUS_SPVP;
            }
            if high & csr::GVA_HIGH != 0 {
                set |= csr::HSTATUS_GVA;
            }
        }
        csr::hstatus::clear(clear);
        csr::hstatus::set(set);
        csr::htval::write(if virt { csr::mtval2::read() } else { 0 });
        csr::htinst::write(if virt { csr::mtinst::read() } else { 0 });
        // Return to HS-mode, not to the virtual mode the trap came from.
        csr::mstatus_high_clear(csr::MPV_HIGH | csr::GVA_HIGH);
    }
    csr::scause::write(cause);
    csr::stval::write(tval);
    csr::sepc::write(ctx.pc);
    csr::mstatus::clear(csr::SPP | csr::SPIE | csr::SIE | csr::MPP_MASK);
    csr::mstatus::set(
        csr::MPP_S | if from_s { csr::SPP } else { 0 } | if sie { csr::SPIE } else { 0 },
    );
    ctx.pc = handler;
    Ok(())
}
