//! The FWFT extension (SBI v3.0) for one vcore.
//!
//! Only MISALIGNED_EXC_DELEG is implemented, and it is fixed at 1: the
//! hypervisor always delegates misaligned-access exceptions to the
//! capsule's kernel and has no emulation to take them back, so setting 0
//! is denied (the spec's rationale for SBI_ERR_DENIED is this case). The
//! other defined features need hardware or M-mode work diosix does not
//! offer its capsules (PTE_AD_HW_UPDATING needs Svadu, which the capsule's
//! ISA string leaves out) and are not supported.

use sbi_spec::binary::SbiRet;
use sbi_spec::fwft::{self, feature_type};

const LOCK: usize = 1 << 0;

/// A vcore's FWFT state: which features are locked (until the vcore is
/// started again, its "hart reset").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fwft {
    locked: u32,
}

enum Feature {
    /// Implemented: its (fixed) value.
    Fixed(usize),
    /// Defined by the spec, not offered here.
    Unsupported,
    /// Reserved, or platform-specific and not implemented.
    Unknown,
}

fn classify(feature: u32) -> Feature {
    match feature as usize {
        feature_type::MISALIGNED_EXC_DELEG => Feature::Fixed(1),
        feature_type::LANDING_PAD
        | feature_type::SHADOW_STACK
        | feature_type::DOUBLE_TRAP
        | feature_type::PTE_AD_HW_UPDATING
        | feature_type::POINTER_MASKING_PMLEN => Feature::Unsupported,
        _ => Feature::Unknown,
    }
}

impl Fwft {
    pub const fn new() -> Fwft {
        Fwft { locked: 0 }
    }

    /// One FWFT call: `feature` is a 32-bit parameter (upper bits of the
    /// register ignored), then value and flags for SET.
    pub fn call(&mut self, fid: usize, feature: usize, value: usize, flags: usize) -> SbiRet {
        let feature = feature as u32;
        match fid {
            fwft::SET => {
                if flags & !LOCK != 0 {
                    return SbiRet::invalid_param();
                }
                match classify(feature) {
                    Feature::Unknown => SbiRet::denied(),
                    Feature::Unsupported => SbiRet::not_supported(),
                    Feature::Fixed(_) if self.locked & (1 << feature) != 0 => SbiRet::denied_locked(),
                    Feature::Fixed(v) if value == v => {
                        if flags & LOCK != 0 {
                            self.locked |= 1 << feature;
                        }
                        SbiRet::success(0)
                    }
                    // Only 0 and 1 are values of MISALIGNED_EXC_DELEG.
                    Feature::Fixed(_) if value > 1 => SbiRet::invalid_param(),
                    Feature::Fixed(_) => SbiRet::denied(),
                }
            }
            fwft::GET => match classify(feature) {
                Feature::Fixed(v) => SbiRet::success(v),
                Feature::Unsupported => SbiRet::not_supported(),
                Feature::Unknown => SbiRet::denied(),
            },
            _ => SbiRet::not_supported(),
        }
    }
}
