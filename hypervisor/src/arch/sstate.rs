//! A vcore's S-mode state, kept in the hart's CSRs while the vcore runs
//! and in memory while it does not: what a switch between vcores saves
//! and restores, so that nothing of one capsule's supervisor state is
//! left for another's.

use crate::arch::csr;
use crate::arch::fpu::{self, FpRegs};
use crate::arch::hstate::{self, HState};
use crate::arch::machine;
use crate::arch::vector::{self, VecRegs};

/// The S-level interrupt-pending bits a vcore owns.
pub const S_PENDING: usize = csr::SSIP | csr::STIP | csr::SEIP;

/// A vcore's supervisor CSRs, FP and vector registers.
pub struct SState {
    pub sstatus: usize,
    pub sie: usize,
    /// Its pending S interrupts (SSIP, and STIP where the hart's timer
    /// interrupt does not follow `stimecmp`).
    pub sip: usize,
    pub stvec: usize,
    pub sscratch: usize,
    pub sepc: usize,
    pub scause: usize,
    pub stval: usize,
    pub satp: usize,
    pub scounteren: usize,
    pub senvcfg: usize,
    /// The privilege the vcore returns to: mstatus.MPP (S or U).
    pub mpp: usize,
    pub fp: FpRegs,
    /// Its vector registers, on harts with them.
    pub vec: VecRegs,
    /// Its H-extension CSRs, on harts with H.
    pub h: HState,
}

impl SState {
    /// A new vcore's: as [`SState::reset`] leaves it, with room for its
    /// vector registers where the harts have them.
    pub fn new() -> SState {
        SState { vec: VecRegs::sized(), ..SState::zero() }
    }

    /// A vcore at its start: everything zero, returning to S-mode, with
    /// user-mode counter access as firmware leaves it for Linux. The
    /// vector registers' buffer is kept (zeroed).
    pub fn reset(&mut self) {
        let mut vec = core::mem::replace(&mut self.vec, VecRegs::new());
        vec.clear();
        *self = SState { vec, ..SState::zero() };
    }

    const fn zero() -> SState {
        SState {
            sstatus: 0,
            sie: 0,
            sip: 0,
            stvec: 0,
            sscratch: 0,
            sepc: 0,
            scause: 0,
            stval: 0,
            satp: 0,
            scounteren: csr::COUNTERS,
            senvcfg: 0,
            mpp: csr::MPP_S,
            fp: FpRegs::ZERO,
            vec: VecRegs::new(),
            h: HState::ZERO,
        }
    }

    /// Saves the running vcore's state from this hart. `fp` says whether
    /// to copy the FP and vector registers too.
    pub fn save(&mut self, hart: usize, fp: bool) {
        self.sstatus = csr::sstatus::read();
        self.sie = csr::sie::read();
        self.sip = csr::mip::read() & S_PENDING;
        self.stvec = csr::stvec::read();
        self.sscratch = csr::sscratch::read();
        self.sepc = csr::sepc::read();
        self.scause = csr::scause::read();
        self.stval = csr::stval::read();
        self.satp = csr::satp::read();
        self.scounteren = csr::scounteren::read();
        if machine::has_envcfg(hart) {
            self.senvcfg = csr::senvcfg::read();
        }
        self.mpp = csr::mstatus::read() & csr::MPP_MASK;
        if csr::has_h() {
            self.h.save();
            if machine::has_htimedelta(hart) {
                self.h.htimedelta = hstate::save_timedelta();
            }
            if machine::has_envcfg(hart) {
                self.h.henvcfg = hstate::save_envcfg();
            }
        }
        if fp {
            fpu::save(machine::fpu(hart), &mut self.fp);
            vector::save(hart, &mut self.vec);
            // The copies turned FS and VS on for M-mode; the capsule's own
            // values go back.
            csr::sstatus::write(self.sstatus);
        }
    }

    /// Loads this state into the hart's CSRs (and FP and vector registers
    /// if `fp`).
    /// STIP is left to the caller on harts with Sstc, where it follows
    /// `stimecmp` and cannot be written.
    pub fn load(&mut self, hart: usize, fp: bool) {
        if fp {
            fpu::load(machine::fpu(hart), &self.fp);
            vector::load(hart, &mut self.vec);
        }
        csr::sstatus::write(self.sstatus);
        csr::sie::write(self.sie);
        let stip_writable = !machine::has_sstc(hart);
        let mask = if stip_writable { S_PENDING } else { S_PENDING & !csr::STIP };
        csr::mip::clear(mask & !self.sip);
        csr::mip::set(mask & self.sip);
        csr::stvec::write(self.stvec);
        csr::sscratch::write(self.sscratch);
        csr::sepc::write(self.sepc);
        csr::scause::write(self.scause);
        csr::stval::write(self.stval);
        csr::satp::write(self.satp);
        csr::scounteren::write(self.scounteren);
        if machine::has_envcfg(hart) {
            csr::senvcfg::write(self.senvcfg);
        }
        csr::mstatus::clear(csr::MPP_MASK);
        csr::mstatus::set(self.mpp);
        if csr::has_h() {
            self.h.load();
            if machine::has_htimedelta(hart) {
                hstate::load_timedelta(self.h.htimedelta);
            }
            if machine::has_envcfg(hart) {
                hstate::load_envcfg(self.h.henvcfg);
            }
            hstate::flush();
        }
    }
}
