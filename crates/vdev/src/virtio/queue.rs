//! A split virtqueue (virtio 1.x, section 2.7), the device's side.
//!
//! The driver lays out three areas in its RAM and tells the device where
//! (QueueDesc, QueueDriver, QueueDevice):
//!
//! - the descriptor table, `size` entries of 16 bytes: buffer address
//!   (u64), length (u32), flags (u16: NEXT, WRITE, INDIRECT) and the
//!   index of the next descriptor (u16);
//! - the available ring: flags (u16), idx (u16), `size` heads (u16), and
//!   a used-event field the device ignores (EVENT_IDX is not offered);
//! - the used ring: flags (u16), idx (u16), `size` entries of head (u32)
//!   and bytes written (u32), then an avail-event field never written.
//!
//! The indexes are free-running u16 counters. The device takes available
//! heads from its own `last_avail` up to the driver's idx, walks each
//! chain and gives it back through the used ring. The driver may ask for
//! no interrupts (available ring flags bit 0); the device honours that.
//! All fields are little-endian.
//!
//! What is checked: the queue size (a power of two up to [`MAX_SIZE`]),
//! ring alignment and that each ring lies in RAM, before the queue is
//! enabled; then, on each chain, every index, the chain length (at most
//! `size` descriptors, so a loop ends), no INDIRECT flag, readable
//! buffers before writable ones, no address overflow, a bounded total
//! length, and that each buffer's first and last byte are RAM. Each
//! actual access goes through [`GuestRam`] again. Any failure is a
//! [`Fault`], and the transport stops the whole device.

use alloc::vec::Vec;

use super::{Broken, Fault, GuestRam};

/// The largest queue the device offers (QueueNumMax).
pub const MAX_SIZE: u16 = 256;
/// The most bytes one chain's buffers may add up to. Linux's console
/// driver sends at most 32 KiB per write (`port_fops_write`), a splice a
/// pipe's worth (64 KiB by default), and receives into pages.
pub const MAX_CHAIN_BYTES: u32 = 256 * 1024;

const DESC_SIZE: u64 = 16;
const DESC_F_NEXT: u16 = 1;
const DESC_F_WRITE: u16 = 2;
const DESC_F_INDIRECT: u16 = 4;
const AVAIL_F_NO_INTERRUPT: u16 = 1;

/// Bytes a chain's data is copied through, on the stack.
const CHUNK: usize = 256;

/// One queue's registers and the device's position in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queue {
    /// QueueNum as written, checked when the queue is enabled.
    pub(super) size: u32,
    pub(super) ready: bool,
    pub(super) desc: u64,
    pub(super) avail: u64,
    pub(super) used: u64,
    last_avail: u16,
    next_used: u16,
}

impl Default for Queue {
    fn default() -> Self {
        Self::new()
    }
}

/// One buffer of a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Buffer {
    pub addr: u64,
    pub len: u32,
    pub writable: bool,
}

/// A descriptor chain taken from a queue, to be given back with
/// [`Rings::push_used`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    queue: u16,
    head: u16,
    bufs: Vec<Buffer>,
}

impl Queue {
    /// A queue as after reset: not ready, addresses 0, size the maximum.
    pub fn new() -> Self {
        Queue { size: u32::from(MAX_SIZE), ready: false, desc: 0, avail: 0, used: 0, last_avail: 0, next_used: 0 }
    }

    pub fn is_ready(&self) -> bool {
        self.ready
    }

    /// QueueReady written 1: check the size and rings, then start from
    /// index 0 (a freshly laid-out ring).
    pub fn enable(&mut self, mem: &dyn GuestRam) -> Result<(), Fault> {
        let size = self.size;
        if size == 0 || size > u32::from(MAX_SIZE) || !size.is_power_of_two() {
            return Err(Fault::QueueSize);
        }
        let n = u64::from(size);
        if !self.desc.is_multiple_of(16) || !self.avail.is_multiple_of(2) || !self.used.is_multiple_of(4) {
            return Err(Fault::RingMisaligned);
        }
        for (addr, len) in [(self.desc, DESC_SIZE * n), (self.avail, 6 + 2 * n), (self.used, 6 + 8 * n)] {
            if !in_ram(mem, addr, len) {
                return Err(Fault::RingOutsideRam);
            }
        }
        self.ready = true;
        self.last_avail = 0;
        self.next_used = 0;
        Ok(())
    }

    /// The next available chain, if the driver has made one available.
    pub fn pop(&mut self, mem: &dyn GuestRam) -> Result<Option<(u16, Vec<Buffer>)>, Fault> {
        if !self.ready {
            return Ok(None);
        }
        let size = self.size as u16;
        let avail_idx = read_u16(mem, self.avail + 2).ok_or(Fault::RingOutsideRam)?;
        let pending = avail_idx.wrapping_sub(self.last_avail);
        if pending == 0 {
            return Ok(None);
        }
        if pending > size {
            return Err(Fault::AvailJump);
        }
        let slot = u64::from(self.last_avail % size);
        let head = read_u16(mem, self.avail + 4 + 2 * slot).ok_or(Fault::RingOutsideRam)?;
        let bufs = self.walk(mem, head)?;
        self.last_avail = self.last_avail.wrapping_add(1);
        Ok(Some((head, bufs)))
    }

    fn walk(&self, mem: &dyn GuestRam, head: u16) -> Result<Vec<Buffer>, Fault> {
        let size = self.size as u16;
        let mut bufs = Vec::new();
        let mut total: u32 = 0;
        let mut index = head;
        loop {
            if index >= size {
                return Err(Fault::DescIndex);
            }
            if bufs.len() >= usize::from(size) {
                return Err(Fault::ChainLoop);
            }
            let mut raw = [0u8; DESC_SIZE as usize];
            if !mem.read(self.desc + DESC_SIZE * u64::from(index), &mut raw) {
                return Err(Fault::RingOutsideRam);
            }
            let addr = u64::from_le_bytes([raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7]]);
            let len = u32::from_le_bytes([raw[8], raw[9], raw[10], raw[11]]);
            let flags = u16::from_le_bytes([raw[12], raw[13]]);
            let next = u16::from_le_bytes([raw[14], raw[15]]);
            if flags & DESC_F_INDIRECT != 0 {
                return Err(Fault::Indirect);
            }
            if addr.checked_add(u64::from(len)).is_none() {
                return Err(Fault::LengthOverflow);
            }
            total = total.checked_add(len).filter(|t| *t <= MAX_CHAIN_BYTES).ok_or(Fault::ChainTooBig)?;
            if !in_ram(mem, addr, u64::from(len)) {
                return Err(Fault::BufferOutsideRam);
            }
            let writable = flags & DESC_F_WRITE != 0;
            if !writable && bufs.last().is_some_and(|b: &Buffer| b.writable) {
                return Err(Fault::ReadableAfterWritable);
            }
            bufs.push(Buffer { addr, len, writable });
            if flags & DESC_F_NEXT == 0 {
                return Ok(bufs);
            }
            index = next;
        }
    }

    /// Gives a chain back with the bytes written into it; true if the
    /// driver wants an interrupt for it.
    pub fn push_used(&mut self, mem: &dyn GuestRam, head: u16, written: u32) -> Result<bool, Fault> {
        if !self.ready {
            // Disabled since the chain was taken: nothing to give back to.
            return Ok(false);
        }
        let slot = u64::from(self.next_used % self.size as u16);
        let mut elem = [0u8; 8];
        elem[..4].copy_from_slice(&u32::from(head).to_le_bytes());
        elem[4..].copy_from_slice(&written.to_le_bytes());
        if !mem.write(self.used + 4 + 8 * slot, &elem) {
            return Err(Fault::RingOutsideRam);
        }
        self.next_used = self.next_used.wrapping_add(1);
        if !mem.write(self.used + 2, &self.next_used.to_le_bytes()) {
            return Err(Fault::RingOutsideRam);
        }
        let flags = read_u16(mem, self.avail).ok_or(Fault::RingOutsideRam)?;
        Ok(flags & AVAIL_F_NO_INTERRUPT == 0)
    }
}

impl Chain {
    /// The queue it was taken from.
    pub fn queue(&self) -> u16 {
        self.queue
    }

    pub fn buffers(&self) -> &[Buffer] {
        &self.bufs
    }

    pub fn readable_len(&self) -> u32 {
        self.bufs.iter().filter(|b| !b.writable).map(|b| b.len).sum()
    }

    pub fn writable_len(&self) -> u32 {
        self.bufs.iter().filter(|b| b.writable).map(|b| b.len).sum()
    }

    /// Every device-readable byte, in order, a chunk at a time.
    pub fn read(&self, mem: &dyn GuestRam, sink: &mut dyn FnMut(&[u8])) -> Result<(), Fault> {
        let mut chunk = [0u8; CHUNK];
        for b in self.bufs.iter().filter(|b| !b.writable) {
            let mut done: u32 = 0;
            while done < b.len {
                let n = (b.len - done).min(CHUNK as u32);
                let part = &mut chunk[..n as usize];
                if !mem.read(b.addr + u64::from(done), part) {
                    return Err(Fault::BufferOutsideRam);
                }
                sink(part);
                done += n;
            }
        }
        Ok(())
    }

    /// Writes `data` into the device-writable buffers in order, as much
    /// as fits; the bytes written.
    pub fn write(&self, mem: &dyn GuestRam, data: &[u8]) -> Result<u32, Fault> {
        let mut rest = data;
        let mut written: u32 = 0;
        for b in self.bufs.iter().filter(|b| b.writable) {
            if rest.is_empty() {
                break;
            }
            let n = rest.len().min(b.len as usize);
            if !mem.write(b.addr, &rest[..n]) {
                return Err(Fault::BufferOutsideRam);
            }
            rest = &rest[n..];
            written += n as u32;
        }
        Ok(written)
    }
}

/// The queues during one piece of device work, with the RAM they live
/// in. Collects whether an interrupt is due.
pub struct Rings<'a> {
    mem: &'a dyn GuestRam,
    queues: &'a mut [Queue],
    interrupt: bool,
}

impl<'a> Rings<'a> {
    pub(super) fn new(mem: &'a dyn GuestRam, queues: &'a mut [Queue]) -> Self {
        Rings { mem, queues, interrupt: false }
    }

    pub fn mem(&self) -> &'a dyn GuestRam {
        self.mem
    }

    /// Whether a used buffer asked for an interrupt.
    pub(super) fn interrupt(&self) -> bool {
        self.interrupt
    }

    /// The next available chain of queue `q`; `None` if there is none,
    /// the queue is not ready or does not exist.
    pub fn pop(&mut self, q: u16) -> Result<Option<Chain>, Broken> {
        let Some(queue) = self.queues.get_mut(usize::from(q)) else {
            return Ok(None);
        };
        let fault = |fault| Broken { queue: u32::from(q), fault };
        Ok(queue.pop(self.mem).map_err(fault)?.map(|(head, bufs)| Chain { queue: q, head, bufs }))
    }

    /// Gives `chain` back to its queue with the bytes written into it.
    pub fn push_used(&mut self, chain: &Chain, written: u32) -> Result<(), Broken> {
        let q = chain.queue;
        let Some(queue) = self.queues.get_mut(usize::from(q)) else {
            return Ok(());
        };
        let wants = queue.push_used(self.mem, chain.head, written).map_err(|fault| Broken { queue: u32::from(q), fault })?;
        self.interrupt |= wants;
        Ok(())
    }

    /// A fault about queue `q`, for a device's own checks.
    pub fn fault(q: u16, fault: Fault) -> Broken {
        Broken { queue: u32::from(q), fault }
    }
}

fn read_u16(mem: &dyn GuestRam, addr: u64) -> Option<u16> {
    let mut b = [0u8; 2];
    mem.read(addr, &mut b).then_some(u16::from_le_bytes(b))
}

/// The first and last byte of `addr..addr+len` are RAM (nothing to check
/// for an empty range beyond the address not wrapping).
fn in_ram(mem: &dyn GuestRam, addr: u64, len: u64) -> bool {
    let Some(end) = addr.checked_add(len) else {
        return false;
    };
    let mut b = [0u8; 1];
    len == 0 || (mem.read(addr, &mut b) && mem.read(end - 1, &mut b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::virtio::fake::{FakeRam, RawDesc, RingLayout, BASE};
    use proptest::prelude::*;

    fn queue(ram: &FakeRam, size: u16) -> (Queue, RingLayout) {
        let l = RingLayout::at(BASE, size);
        let mut q = Queue::new();
        q.size = u32::from(size);
        (q.desc, q.avail, q.used) = (l.desc, l.avail, l.used);
        q.enable(ram).unwrap();
        (q, l)
    }

    #[test]
    fn pops_a_chain_and_gives_it_back() {
        let ram = FakeRam::new();
        let (mut q, l) = queue(&ram, 8);
        assert_eq!(q.pop(&ram), Ok(None), "nothing available yet");
        l.set_desc(&ram, 3, BASE + 0x8000, 5, DESC_F_NEXT, 6);
        l.set_desc(&ram, 6, BASE + 0x9000, 10, DESC_F_WRITE, 0);
        l.make_available(&ram, 0, 3);
        let (head, bufs) = q.pop(&ram).unwrap().unwrap();
        assert_eq!(head, 3);
        assert_eq!(
            bufs,
            [
                Buffer { addr: BASE + 0x8000, len: 5, writable: false },
                Buffer { addr: BASE + 0x9000, len: 10, writable: true }
            ]
        );
        assert_eq!(q.pop(&ram), Ok(None), "taken once");
        assert_eq!(q.push_used(&ram, head, 7), Ok(true));
        assert_eq!(l.used_idx(&ram), 1);
        assert_eq!(l.used_elem(&ram, 0), (3, 7));
        ram.write_u16(l.avail, AVAIL_F_NO_INTERRUPT);
        assert_eq!(q.push_used(&ram, head, 0), Ok(false), "the driver asked for no interrupt");
    }

    #[test]
    fn indexes_wrap_around_u16() {
        let ram = FakeRam::new();
        let (mut q, l) = queue(&ram, 2);
        l.set_desc(&ram, 0, BASE + 0x8000, 1, 0, 0);
        for i in 0..70_000u32 {
            l.make_available(&ram, i as u16, 0);
            let (head, _) = q.pop(&ram).unwrap().unwrap();
            q.push_used(&ram, head, 0).unwrap();
        }
        assert_eq!(l.used_idx(&ram), 70_000u32 as u16);
    }

    #[test]
    fn enable_checks_size_alignment_and_ram() {
        let ram = FakeRam::new();
        let l = RingLayout::at(BASE, 16);
        for (size, fault) in [(0, Fault::QueueSize), (3, Fault::QueueSize), (512, Fault::QueueSize)] {
            let mut q = Queue::new();
            q.size = size;
            (q.desc, q.avail, q.used) = (l.desc, l.avail, l.used);
            assert_eq!(q.enable(&ram), Err(fault), "size {size}");
            assert!(!q.is_ready());
        }
        let cases = [
            ((l.desc + 8, l.avail, l.used), Fault::RingMisaligned),
            ((l.desc, l.avail + 1, l.used), Fault::RingMisaligned),
            ((l.desc, l.avail, l.used + 2), Fault::RingMisaligned),
            ((0, 0, 0), Fault::RingOutsideRam),
            ((l.desc, l.avail, BASE + FakeRam::SIZE - 16), Fault::RingOutsideRam),
            ((u64::MAX - 15, l.avail, l.used), Fault::RingOutsideRam),
        ];
        for (addrs, fault) in cases {
            let mut q = Queue::new();
            q.size = 16;
            (q.desc, q.avail, q.used) = addrs;
            assert_eq!(q.enable(&ram), Err(fault), "{addrs:x?}");
        }
    }

    #[test]
    fn hostile_chains_are_faults() {
        let end = BASE + FakeRam::SIZE;
        let cases: [(&[RawDesc], Fault); 9] = [
            (&[(end - 4, 8, 0, 0)], Fault::BufferOutsideRam),
            (&[(0x1000, 8, 0, 0)], Fault::BufferOutsideRam),
            (&[(u64::MAX - 2, 8, 0, 0)], Fault::LengthOverflow),
            (&[(BASE, u32::MAX, 0, 0)], Fault::ChainTooBig),
            (&[(BASE + 0x8000, 8, DESC_F_NEXT, 1), (BASE + 0x8000, 8, DESC_F_NEXT, 0)], Fault::ChainLoop),
            (&[(BASE + 0x8000, 8, DESC_F_NEXT, 9)], Fault::DescIndex),
            (&[(BASE + 0x8000, 16, DESC_F_INDIRECT, 0)], Fault::Indirect),
            (&[(BASE + 0x8000, 8, DESC_F_WRITE | DESC_F_NEXT, 1), (BASE + 0x9000, 8, 0, 0)], Fault::ReadableAfterWritable),
            (
                &[(BASE + 0x8000, MAX_CHAIN_BYTES, DESC_F_NEXT, 1), (BASE + 0x8000, 1, 0, 0)],
                Fault::ChainTooBig,
            ),
        ];
        for (descs, fault) in cases {
            let ram = FakeRam::new();
            let (mut q, l) = queue(&ram, 8);
            for (i, (addr, len, flags, next)) in descs.iter().enumerate() {
                l.set_desc(&ram, i as u16, *addr, *len, *flags, *next);
            }
            l.make_available(&ram, 0, 0);
            assert_eq!(q.pop(&ram), Err(fault), "{descs:x?}");
        }
    }

    #[test]
    fn head_out_of_range_and_avail_jump_are_faults() {
        let ram = FakeRam::new();
        let (mut q, l) = queue(&ram, 8);
        l.make_available(&ram, 0, 8);
        assert_eq!(q.pop(&ram), Err(Fault::DescIndex));
        let (mut q, l) = queue(&ram, 8);
        ram.write_u16(l.avail + 2, 9);
        assert_eq!(q.pop(&ram), Err(Fault::AvailJump));
        ram.write_u16(l.avail + 2, 0xffff);
        assert_eq!(q.pop(&ram), Err(Fault::AvailJump), "behind counts as far ahead");
    }

    #[test]
    fn chain_data_goes_in_and_out_in_order() {
        let ram = FakeRam::new();
        ram.poke(BASE + 0x8000, b"hello ");
        ram.poke(BASE + 0x9000, b"world");
        let chain = Chain {
            queue: 0,
            head: 0,
            bufs: alloc::vec![
                Buffer { addr: BASE + 0x8000, len: 6, writable: false },
                Buffer { addr: BASE + 0x9000, len: 5, writable: false },
                Buffer { addr: BASE + 0xa000, len: 3, writable: true },
                Buffer { addr: BASE + 0xb000, len: 400, writable: true },
            ],
        };
        let mut got = Vec::new();
        chain.read(&ram, &mut |b| got.extend_from_slice(b)).unwrap();
        assert_eq!(got, b"hello world");
        assert_eq!((chain.readable_len(), chain.writable_len()), (11, 403));
        let data: Vec<u8> = (0..=255).cycle().take(500).collect();
        assert_eq!(chain.write(&ram, &data), Ok(403));
        assert_eq!(ram.peek(BASE + 0xa000, 3), &data[..3]);
        assert_eq!(ram.peek(BASE + 0xb000, 400), &data[3..403]);
    }

    proptest! {
        /// Whatever the table and ring hold, each pop ends, and a chain
        /// it accepts has at most `size` buffers, all in RAM, readable
        /// ones first, within the byte limit.
        #[test]
        fn any_ring_content_pops_safely(
            descs in proptest::collection::vec(
                (prop_oneof![(0u64..FakeRam::SIZE).prop_map(|o| BASE + o), any::<u64>()], 0u32..0x3000, 0u16..8, 0u16..10),
                8,
            ),
            ring in proptest::collection::vec(0u16..10, 8),
            idx in any::<u16>(),
        ) {
            let ram = FakeRam::new();
            let (mut q, l) = queue(&ram, 8);
            for (i, (a, len, f, n)) in descs.into_iter().enumerate() {
                l.set_desc(&ram, i as u16, a, len, f, n);
            }
            for (i, h) in ring.into_iter().enumerate() {
                ram.write_u16(l.avail + 4 + 2 * i as u64, h);
            }
            ram.write_u16(l.avail + 2, idx);
            for _ in 0..20 {
                match q.pop(&ram) {
                    Ok(Some((head, bufs))) => {
                        prop_assert!(head < 8 && !bufs.is_empty() && bufs.len() <= 8);
                        prop_assert!(bufs.iter().map(|b| u64::from(b.len)).sum::<u64>() <= u64::from(MAX_CHAIN_BYTES));
                        prop_assert!(bufs.windows(2).all(|w| !w[0].writable || w[1].writable));
                        for b in &bufs {
                            prop_assert!(b.len == 0 || (b.addr >= BASE && b.addr + u64::from(b.len) <= BASE + FakeRam::SIZE));
                        }
                        q.push_used(&ram, head, 0).unwrap();
                    }
                    Ok(None) | Err(_) => break,
                }
            }
        }
    }
}
