//! What SBI calls from a capsule's vcore do on this hypervisor.

use core::sync::atomic::Ordering;

use sbi::{Fence, HartSet, Host, SbiRet};

use super::capsule::Capsule;
use super::csr;
use super::{console, mailbox, timer, vcore};

/// The vcore (pinned to this hart) that made the call.
pub struct VcoreHost {
    pub hart: usize,
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

    fn send_ipi(&mut self, hart: usize) {
        if hart == self.hart {
            csr::mip::set(csr::SSIP);
        } else {
            mailbox::post(hart, mailbox::IPI);
        }
    }

    fn clear_ipi(&mut self) {
        csr::mip::clear(csr::SSIP);
    }

    fn remote_fence(&mut self, hart: usize, fence: Fence) {
        let bit = fence_bit(fence);
        if hart == self.hart {
            vcore::run_fences(bit);
        } else if vcore::state(hart) == vcore::STARTED {
            // Serve our own mailbox while waiting, so two harts fencing
            // each other cannot deadlock.
            let me = self.hart;
            mailbox::fence_and_wait(hart, || vcore::serve_mailbox(me));
        }
        // A stopped hart holds no translations for the capsule: nothing to do.
    }

    fn hart_start(&mut self, hart: usize, addr: usize, opaque: usize) -> SbiRet {
        if !vcore::claim_for_start(hart) {
            return SbiRet::already_available();
        }
        let mb = mailbox::of(hart);
        mb.start_addr.store(addr, Ordering::SeqCst);
        mb.start_opaque.store(opaque, Ordering::SeqCst);
        mailbox::post(hart, mailbox::START);
        SbiRet::success(0)
    }

    fn hart_status(&self, hart: usize) -> usize {
        vcore::state(hart)
    }

    fn suspend(&mut self) {
        riscv::asm::wfi();
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

    fn guest_memory(&mut self, addr: u64, len: usize) -> Option<&mut [u8]> {
        if !self.capsule.owns(addr, len as u64) {
            return None;
        }
        // SAFETY: the range lies inside the capsule's RAM (checked above),
        // which the hypervisor reaches 1:1 in M-mode; the capsule's vcore
        // that asked is stopped in this trap while we use it.
        Some(unsafe { core::slice::from_raw_parts_mut(addr as usize as *mut u8, len) })
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
