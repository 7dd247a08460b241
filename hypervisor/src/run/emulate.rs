//! Instructions a capsule expects that its hart lacks, done by the
//! hypervisor: reading the `time` CSR on a hart without it, from the
//! CLINT's `mtime`, as firmware such as OpenSBI does for Linux.
//!
//! Illegal-instruction exceptions stay in M-mode on every hart (a
//! capsule's `wfi` arrives as one, `exits.rs`). On a hart without `time`
//! its reads are answered here; anything else, and every read on a hart
//! that has the CSR (where it traps only because the capsule's kernel
//! closed `scounteren.TM` to its user space), goes on to the capsule's
//! kernel exactly as if it had been delegated.

use crate::arch::guest::Context;
use crate::run::reflect::{self, NoHandler};
use crate::{arch::csr, platform::clint};

const ILLEGAL_INSTRUCTION: usize = 2;

/// Handles an illegal-instruction exception from the capsule (S or U mode).
/// The instruction comes from `mtval`, where the hart puts it; a hart that
/// leaves `mtval` zero gets every such trap passed on.
pub fn illegal_instruction(ctx: &mut Context, hart: usize) -> Result<(), NoHandler> {
    let tval = csr::mtval::read();
    let emulated = !crate::arch::machine::has_time_csr(hart);
    match insn::time_read(tval as u32, usize::BITS == 32).filter(|_| emulated) {
        Some(read) => {
            let now = clint::mtime();
            let value = if read.high { (now >> 32) as usize } else { now as usize };
            if read.rd != 0 {
                ctx.regs[read.rd] = value;
            }
            ctx.pc = ctx.pc.wrapping_add(4);
            Ok(())
        }
        None => reflect::to_supervisor(ctx, ILLEGAL_INSTRUCTION, tval),
    }
}
