//! What SBI calls from a capsule's vcore do on this hypervisor.

use core::sync::atomic::Ordering;

use sbi::pmu::HwOp;
use sbi::{Fence, HartSet, Host, SbiRet, VcoreState};

use crate::run::capsule::{self, VcoreRef};
use crate::arch::csr;
use crate::arch::layout::MAX_HARTS;
use crate::run::vcore::{self, RUNNING};
use crate::run::{console, mailbox, sbi_state, sched, timer};

/// The vcore running on this hart that made the call. SBI calls name
/// vcores by their ids in the capsule, whatever harts run them.
pub struct VcoreHost<'a> {
    pub hart: usize,
    pub vcore: &'a VcoreRef,
}

impl Host for VcoreHost<'_> {
    fn harts(&self) -> HartSet {
        self.vcore.capsule.harts
    }

    fn set_timer(&mut self, deadline: u64) {
        timer::set_guest_deadline(self.hart, self.vcore, deadline);
    }

    fn send_ipi(&mut self, id: usize) {
        if id == self.vcore.id {
            csr::mip::set(csr::SSIP);
            return;
        }
        let Some(target) = self.vcore.capsule.vcore(id) else { return };
        target.pending.fetch_or(vcore::IPI, Ordering::SeqCst);
        sched::notify(&target);
    }

    fn clear_ipi(&mut self) {
        csr::mip::clear(csr::SSIP);
    }

    fn remote_fence(&mut self, vcores: HartSet, _fence: Fence) {
        // Each target vcore flushes before it next runs; those running now
        // are asked to at once, all first and waited for after, so they
        // fence at the same time. (Both fences run: more than asked is
        // always correct.)
        let me = self.hart;
        let mut tickets = [0; MAX_HARTS];
        let mut asked = HartSet::default();
        for id in vcores.iter() {
            if id == self.vcore.id {
                csr::sfence_vma();
                csr::fence_i();
                continue;
            }
            let Some(target) = self.vcore.capsule.vcore(id) else { continue };
            target.pending.fetch_or(vcore::FENCE, Ordering::SeqCst);
            let hart = target.on_hart.load(Ordering::SeqCst);
            if target.is(RUNNING) && hart < MAX_HARTS && hart != me && !asked.contains(hart) {
                tickets[hart] = mailbox::ask_fences(hart);
                asked.insert(hart);
            }
        }
        for hart in asked.iter() {
            // Serve our own mailbox while waiting, so two harts fencing
            // each other cannot deadlock.
            mailbox::wait_for_fences(hart, tickets[hart], || sched::serve_mailbox(me));
        }
    }

    fn hart_start(&mut self, id: usize, addr: usize, opaque: usize) -> SbiRet {
        let Some(target) = self.vcore.capsule.vcore(id) else { return SbiRet::invalid_param() };
        if capsule::start_vcore(&target, addr, opaque) { SbiRet::success(0) } else { SbiRet::already_available() }
    }

    fn hart_status(&self, id: usize) -> usize {
        self.vcore.capsule.vcores.get(id).map_or(vcore::STOPPED, |v| v.hsm.load(Ordering::SeqCst))
    }

    fn this_hart(&self) -> usize {
        self.vcore.id
    }

    fn vcore_state<R>(&mut self, f: impl FnOnce(&mut VcoreState) -> R) -> R {
        f(&mut self.vcore.sbi.lock())
    }

    fn counter_op(&mut self, op: HwOp) {
        sbi_state::counter_op(op);
    }

    fn console_write(&mut self, bytes: &[u8]) {
        console::capsule_write(&self.vcore.capsule, bytes);
    }

    fn console_read(&mut self, buf: &mut [u8]) -> usize {
        self.vcore.capsule.console_polled();
        console::capsule_read(&self.vcore.capsule, buf)
    }

    fn owns(&self, addr: u64, len: u64) -> bool {
        self.vcore.capsule.owns(addr, len)
    }

    fn read_guest(&mut self, addr: u64, buf: &mut [u8]) -> bool {
        crate::arch::guest::read(self.vcore.capsule.ram, addr, buf)
    }

    fn write_guest(&mut self, addr: u64, data: &[u8]) -> bool {
        crate::arch::guest::write(self.vcore.capsule.ram, addr, data)
    }

    fn machine_ids(&self) -> [usize; 3] {
        [csr::mvendorid::read(), csr::marchid::read(), csr::mimpid::read()]
    }

    fn impl_version(&self) -> usize {
        let major: usize = env!("CARGO_PKG_VERSION_MAJOR").parse().unwrap_or(0);
        let minor: usize = env!("CARGO_PKG_VERSION_MINOR").parse().unwrap_or(0);
        (major << 16) | minor
    }
}
