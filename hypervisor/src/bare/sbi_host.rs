//! What SBI calls from a capsule's vcore do on this hypervisor.

use sbi::pmu::HwOp;
use sbi::{Fence, HartSet, Host, SbiRet, VcoreState};

use super::capsule::Capsule;
use super::csr;
use super::layout::MAX_HARTS;
use super::{console, mailbox, sbi_state, timer, vcore};

/// The vcore (pinned to this hart) that made the call. SBI calls name
/// vcores by their ids in the capsule; each is mapped to the physical hart
/// that runs it here.
pub struct VcoreHost {
    pub hart: usize,
    pub vcore: usize,
    pub capsule: &'static Capsule,
}

fn fence_bit(fence: Fence) -> usize {
    match fence {
        Fence::I => mailbox::FENCE_I,
        Fence::Vma { .. } => mailbox::SFENCE_VMA,
    }
}

impl Host for VcoreHost {
    fn harts(&self) -> HartSet {
        self.capsule.harts
    }

    fn set_timer(&mut self, deadline: u64) {
        timer::set_guest_deadline(self.hart, deadline);
    }

    fn send_ipi(&mut self, vcore: usize) {
        let Some(hart) = self.capsule.hart_of(vcore) else { return };
        if hart == self.hart {
            csr::mip::set(csr::SSIP);
        } else {
            mailbox::post(hart, mailbox::IPI);
        }
    }

    fn clear_ipi(&mut self) {
        csr::mip::clear(csr::SSIP);
    }

    fn remote_fence(&mut self, vcores: HartSet, fence: Fence) {
        // Every other hart is asked first and waited for after, so they
        // fence at the same time; a stopped hart holds no translations
        // for the capsule and is left alone.
        let me = self.hart;
        let mut tickets = [0; MAX_HARTS];
        let mut asked = HartSet::default();
        let mut here = false;
        for hart in vcores.iter().filter_map(|v| self.capsule.hart_of(v)) {
            if hart == me {
                here = true;
            } else if vcore::holds_translations(hart) {
                tickets[hart] = mailbox::ask_fences(hart);
                asked.insert(hart);
            }
        }
        if here {
            vcore::run_fences(fence_bit(fence));
        }
        for hart in asked.iter() {
            // Serve our own mailbox while waiting, so two harts fencing
            // each other cannot deadlock. (A suspended vcore serves its
            // mailbox while it waits.)
            mailbox::wait_for_fences(hart, tickets[hart], || vcore::serve_mailbox(me));
        }
    }

    fn hart_start(&mut self, vcore: usize, addr: usize, opaque: usize) -> SbiRet {
        let Some(hart) = self.capsule.hart_of(vcore) else { return SbiRet::invalid_param() };
        if vcore::start_on(hart, addr, opaque) { SbiRet::success(0) } else { SbiRet::already_available() }
    }

    fn hart_status(&self, vcore: usize) -> usize {
        self.capsule.hart_of(vcore).map_or(vcore::STOPPED, vcore::state)
    }

    fn this_hart(&self) -> usize {
        self.vcore
    }

    fn vcore_state<R>(&mut self, f: impl FnOnce(&mut VcoreState) -> R) -> R {
        sbi_state::with(self.hart, f)
    }

    fn counter_op(&mut self, op: HwOp) {
        sbi_state::counter_op(op);
    }

    fn console_write(&mut self, bytes: &[u8]) {
        console::write_bytes(bytes);
    }

    fn console_read(&mut self, buf: &mut [u8]) -> usize {
        timer::console_polled();
        let mut n = 0;
        while n < buf.len() {
            match console::read_byte() {
                Some(b) => {
                    buf[n] = b;
                    n += 1;
                }
                None => break,
            }
        }
        n
    }

    fn owns(&self, addr: u64, len: u64) -> bool {
        self.capsule.owns(addr, len)
    }

    fn read_guest(&mut self, addr: u64, buf: &mut [u8]) -> bool {
        if !self.capsule.owns(addr, buf.len() as u64) {
            return false;
        }
        for (i, b) in buf.iter_mut().enumerate() {
            // SAFETY: the bytes lie inside the capsule's RAM (checked
            // above), which M-mode reaches at the same addresses. They are
            // read one volatile byte at a time, never through a reference,
            // because the capsule's other vcores may write them meanwhile.
            *b = unsafe { ((addr as usize + i) as *const u8).read_volatile() };
        }
        true
    }

    fn write_guest(&mut self, addr: u64, data: &[u8]) -> bool {
        if !self.capsule.owns(addr, data.len() as u64) {
            return false;
        }
        for (i, b) in data.iter().enumerate() {
            // SAFETY: as in read_guest.
            unsafe { ((addr as usize + i) as *mut u8).write_volatile(*b) };
        }
        true
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
