//! The SBI (v2.0, plus FWFT from v3.0) that diosix implements for its
//! capsules' kernels: BASE, TIME, IPI, RFENCE, HSM, SRST, DBCN, PMU, SUSP,
//! STA, FWFT and the legacy (v0.1) calls. Not offered: CPPC, NACL, SSE,
//! DBTR, MPXY and the PMU's snapshot shared memory.
//!
//! This crate decodes an `ecall` from S-mode, checks its arguments, and
//! asks the hypervisor (through [`Host`]) to do the work; it never touches
//! hardware, so every call, good or hostile, is unit-tested on the host.
//!
//! Why not `rustsbi`: its 0.4 dispatcher has no legacy (v0.1) extensions,
//! which Linux's SBI console falls back to, and its traits would still
//! need all of the hart-mask and guest-memory checks done here.
//! Constants and `SbiRet` come from `sbi-spec`.
#![cfg_attr(not(test), no_std)]

mod dispatch;
pub mod fwft;
mod harts;
pub mod pmu;
pub mod sta;

pub use dispatch::{Action, Call, Fence, Host, ResetKind, Suspend, VcoreState, dispatch};
pub use harts::HartSet;
pub use sbi_spec::binary::SbiRet;

/// The SBI specification version we implement: 2.0.
pub const SPEC_VERSION: usize = 0x0200_0000;
