//! Test doubles: a capsule's RAM, and the driver's side of a split
//! virtqueue laid out in it the way Linux's `virtio_ring.c` does.

use std::cell::RefCell;
use std::collections::HashMap;

use super::GuestRam;

/// Where the fake RAM starts, as on QEMU virt.
pub const BASE: u64 = 0x8000_0000;

/// A capsule's RAM: `SIZE` bytes at `BASE`. Reads outside are refused;
/// a write outside is a bug in the model (it must check first), so it
/// panics and fails the test.
pub struct FakeRam {
    bytes: RefCell<Vec<u8>>,
}

impl FakeRam {
    pub const SIZE: u64 = 0x10_0000;

    pub fn new() -> Self {
        FakeRam { bytes: RefCell::new(vec![0; Self::SIZE as usize]) }
    }

    fn range(addr: u64, len: usize) -> Option<core::ops::Range<usize>> {
        let start = addr.checked_sub(BASE)?;
        let end = start.checked_add(len as u64)?;
        (end <= Self::SIZE).then_some(start as usize..end as usize)
    }

    pub fn poke(&self, addr: u64, data: &[u8]) {
        let r = Self::range(addr, data.len()).expect("test pokes inside RAM");
        self.bytes.borrow_mut()[r].copy_from_slice(data);
    }

    pub fn peek(&self, addr: u64, len: usize) -> Vec<u8> {
        let r = Self::range(addr, len).expect("test peeks inside RAM");
        self.bytes.borrow()[r].to_vec()
    }

    pub fn write_u16(&self, addr: u64, v: u16) {
        self.poke(addr, &v.to_le_bytes());
    }

    pub fn read_u16(&self, addr: u64) -> u16 {
        let b = self.peek(addr, 2);
        u16::from_le_bytes([b[0], b[1]])
    }

    pub fn read_u32(&self, addr: u64) -> u32 {
        let b = self.peek(addr, 4);
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }
}

impl GuestRam for FakeRam {
    fn read(&self, addr: u64, buf: &mut [u8]) -> bool {
        match Self::range(addr, buf.len()) {
            Some(r) => {
                buf.copy_from_slice(&self.bytes.borrow()[r]);
                true
            }
            None => false,
        }
    }

    fn write(&self, addr: u64, data: &[u8]) -> bool {
        let Some(r) = Self::range(addr, data.len()) else {
            panic!("the model wrote {} bytes at {addr:#x}, outside RAM", data.len());
        };
        self.bytes.borrow_mut()[r].copy_from_slice(data);
        true
    }
}

/// A buffer as the driver offers it: address, length, device-writable.
pub type Buf = (u64, u32, bool);
/// A raw descriptor: address, length, flags, next.
pub type RawDesc = (u64, u32, u16, u16);

/// Where one queue's three areas are.
#[derive(Clone, Copy, Debug)]
pub struct RingLayout {
    pub size: u16,
    pub desc: u64,
    pub avail: u64,
    pub used: u64,
}

impl RingLayout {
    /// The three areas a page apart from `base` (room for 256 entries).
    pub fn at(base: u64, size: u16) -> Self {
        RingLayout { size, desc: base, avail: base + 0x1000, used: base + 0x2000 }
    }

    pub fn set_desc(&self, ram: &FakeRam, i: u16, addr: u64, len: u32, flags: u16, next: u16) {
        let mut d = [0u8; 16];
        d[..8].copy_from_slice(&addr.to_le_bytes());
        d[8..12].copy_from_slice(&len.to_le_bytes());
        d[12..14].copy_from_slice(&flags.to_le_bytes());
        d[14..].copy_from_slice(&next.to_le_bytes());
        ram.poke(self.desc + 16 * u64::from(i), &d);
    }

    /// Puts `head` in the slot for available index `idx`, then publishes
    /// `idx + 1`.
    pub fn make_available(&self, ram: &FakeRam, idx: u16, head: u16) {
        ram.write_u16(self.avail + 4 + 2 * u64::from(idx % self.size), head);
        ram.write_u16(self.avail + 2, idx.wrapping_add(1));
    }

    pub fn used_idx(&self, ram: &FakeRam) -> u16 {
        ram.read_u16(self.used + 2)
    }

    pub fn used_elem(&self, ram: &FakeRam, idx: u16) -> (u32, u32) {
        let at = self.used + 4 + 8 * u64::from(idx % self.size);
        (ram.read_u32(at), ram.read_u32(at + 4))
    }
}

/// The driver's bookkeeping for one queue: free descriptors, the chains
/// outstanding, the next available index, the used entries already seen.
pub struct DriverQueue {
    pub layout: RingLayout,
    free: Vec<u16>,
    /// Per outstanding head: its buffers and the descriptors it holds.
    chains: HashMap<u16, (Vec<Buf>, Vec<u16>)>,
    avail_idx: u16,
    last_used: u16,
}

impl DriverQueue {
    pub fn new(layout: RingLayout) -> Self {
        DriverQueue { layout, free: (0..layout.size).rev().collect(), chains: HashMap::new(), avail_idx: 0, last_used: 0 }
    }

    /// Makes a chain of `(addr, len, device-writable)` buffers available;
    /// its head, or `None` if the queue is full.
    pub fn add(&mut self, ram: &FakeRam, bufs: &[Buf]) -> Option<u16> {
        if bufs.is_empty() || self.free.len() < bufs.len() {
            return None;
        }
        let ids: Vec<u16> = (0..bufs.len()).map(|_| self.free.pop().unwrap()).collect();
        for (i, (addr, len, writable)) in bufs.iter().enumerate() {
            let last = i + 1 == bufs.len();
            let flags = if *writable { 2 } else { 0 } | if last { 0 } else { 1 };
            let next = if last { 0 } else { ids[i + 1] };
            self.layout.set_desc(ram, ids[i], *addr, *len, flags, next);
        }
        self.layout.make_available(ram, self.avail_idx, ids[0]);
        self.avail_idx = self.avail_idx.wrapping_add(1);
        self.chains.insert(ids[0], (bufs.to_vec(), ids.clone()));
        Some(ids[0])
    }

    /// The next used chain: its buffers and the length the device wrote.
    pub fn take_used(&mut self, ram: &FakeRam) -> Option<(Vec<Buf>, u32)> {
        if self.layout.used_idx(ram) == self.last_used {
            return None;
        }
        let (id, len) = self.layout.used_elem(ram, self.last_used);
        self.last_used = self.last_used.wrapping_add(1);
        let head = u16::try_from(id).expect("used id is a head");
        let (bufs, ids) = self.chains.remove(&head).expect("used id is an outstanding head");
        self.free.extend(ids);
        Some((bufs, len))
    }
}

/// Register offsets, as the spec numbers them.
pub mod reg {
    pub const MAGIC: u64 = 0x000;
    pub const VERSION: u64 = 0x004;
    pub const DEVICE_ID: u64 = 0x008;
    pub const VENDOR_ID: u64 = 0x00c;
    pub const DEVICE_FEATURES: u64 = 0x010;
    pub const DEVICE_FEATURES_SEL: u64 = 0x014;
    pub const DRIVER_FEATURES: u64 = 0x020;
    pub const DRIVER_FEATURES_SEL: u64 = 0x024;
    pub const QUEUE_SEL: u64 = 0x030;
    pub const QUEUE_NUM_MAX: u64 = 0x034;
    pub const QUEUE_NUM: u64 = 0x038;
    pub const QUEUE_READY: u64 = 0x044;
    pub const QUEUE_NOTIFY: u64 = 0x050;
    pub const INTERRUPT_STATUS: u64 = 0x060;
    pub const INTERRUPT_ACK: u64 = 0x064;
    pub const STATUS: u64 = 0x070;
    pub const QUEUE_DESC_LOW: u64 = 0x080;
    pub const QUEUE_DESC_HIGH: u64 = 0x084;
    pub const QUEUE_DRIVER_LOW: u64 = 0x090;
    pub const QUEUE_DRIVER_HIGH: u64 = 0x094;
    pub const QUEUE_DEVICE_LOW: u64 = 0x0a0;
    pub const QUEUE_DEVICE_HIGH: u64 = 0x0a4;
    pub const SHM: [u64; 5] = [0x0ac, 0x0b0, 0x0b4, 0x0b8, 0x0bc];
    pub const CONFIG_GENERATION: u64 = 0x0fc;
    pub const CONFIG: u64 = 0x100;
    /// Every register offset below the config space.
    pub const ALL: [u64; 28] = [
        0x000, 0x004, 0x008, 0x00c, 0x010, 0x014, 0x020, 0x024, 0x030, 0x034, 0x038, 0x044, 0x050, 0x060,
        0x064, 0x070, 0x080, 0x084, 0x090, 0x094, 0x0a0, 0x0a4, 0x0ac, 0x0b0, 0x0b4, 0x0b8, 0x0bc, 0x0fc,
    ];
}

use super::console::{self, Console, PortSpec, VirtioConsole};
use super::{STATUS_ACKNOWLEDGE, STATUS_DRIVER, STATUS_DRIVER_OK, STATUS_FEATURES_OK};

/// The queue size the fake driver picks (smaller than the maximum, as
/// the driver may).
pub const QSIZE: u16 = 16;
const BUFS: u64 = BASE + 0x8_0000;
const BUF_LEN: u32 = 4096;

/// A control message: id, event, value and what follows.
pub type Msg = (u32, u16, u16, Vec<u8>);

/// A capsule's RAM and a console device, and the guest's side of it
/// driven the way Linux's virtio_mmio and virtio_console drivers do.
pub struct Guest {
    pub ram: FakeRam,
    pub dev: VirtioConsole,
    pub queues: Vec<Option<DriverQueue>>,
    next_buf: u64,
}

impl Guest {
    pub fn new(names: &[Option<&str>]) -> Self {
        let specs: Vec<PortSpec> = names.iter().map(|n| PortSpec { name: *n }).collect();
        let dev = VirtioConsole::new(Console::new(&specs).unwrap());
        Guest { ram: FakeRam::new(), dev, queues: Vec::new(), next_buf: BUFS }
    }

    pub fn rd(&mut self, off: u64) -> u32 {
        self.dev.read(off, 4).unwrap() as u32
    }

    pub fn wr(&mut self, off: u64, v: u32) {
        self.dev.write(&self.ram, off, 4, u64::from(v)).unwrap()
    }

    /// A page-sized buffer; the arena wraps, tests use few at a time.
    pub fn alloc(&mut self) -> u64 {
        if self.next_buf + u64::from(BUF_LEN) > BASE + FakeRam::SIZE {
            self.next_buf = BUFS;
        }
        let a = self.next_buf;
        self.next_buf += u64::from(BUF_LEN);
        a
    }

    /// virtio_dev_probe up to FEATURES_OK, accepting what is offered of
    /// `accept`; whether the device took them.
    pub fn negotiate(&mut self, accept: u64) -> bool {
        self.wr(reg::STATUS, 0);
        self.wr(reg::STATUS, STATUS_ACKNOWLEDGE);
        self.wr(reg::STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        self.wr(reg::DEVICE_FEATURES_SEL, 1);
        let high = u64::from(self.rd(reg::DEVICE_FEATURES));
        self.wr(reg::DEVICE_FEATURES_SEL, 0);
        let offered = (high << 32) | u64::from(self.rd(reg::DEVICE_FEATURES));
        let f = offered & accept;
        self.wr(reg::DRIVER_FEATURES_SEL, 1);
        self.wr(reg::DRIVER_FEATURES, (f >> 32) as u32);
        self.wr(reg::DRIVER_FEATURES_SEL, 0);
        self.wr(reg::DRIVER_FEATURES, f as u32);
        self.wr(reg::STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
        self.rd(reg::STATUS) & STATUS_FEATURES_OK != 0
    }

    /// vm_setup_vq for queue `q`.
    pub fn setup_queue(&mut self, q: u16) {
        self.wr(reg::QUEUE_SEL, u32::from(q));
        assert_eq!(self.rd(reg::QUEUE_READY), 0, "not set up yet");
        assert!(self.rd(reg::QUEUE_NUM_MAX) >= u32::from(QSIZE));
        self.wr(reg::QUEUE_NUM, u32::from(QSIZE));
        let l = RingLayout::at(BASE + 0x4000 * u64::from(q), QSIZE);
        // A fresh ring is zeroed, as the driver allocates it.
        self.ram.poke(l.desc, &[0; 0x3000]);
        for (reg, addr) in [(reg::QUEUE_DESC_LOW, l.desc), (reg::QUEUE_DRIVER_LOW, l.avail), (reg::QUEUE_DEVICE_LOW, l.used)] {
            self.wr(reg, addr as u32);
            self.wr(reg + 4, (addr >> 32) as u32);
        }
        self.wr(reg::QUEUE_READY, 1);
        let i = usize::from(q);
        if self.queues.len() <= i {
            self.queues.resize_with(i + 1, || None);
        }
        self.queues[i] = Some(DriverQueue::new(l));
    }

    pub fn driver_ok(&mut self) {
        self.wr(reg::STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
    }

    pub fn queue(&mut self, q: u16) -> &mut DriverQueue {
        dq(&mut self.queues, q)
    }

    /// Adds a chain of buffers holding `parts` (device-readable), kicks.
    pub fn send(&mut self, q: u16, parts: &[&[u8]]) {
        let bufs: Vec<_> = parts
            .iter()
            .map(|p| {
                let a = self.alloc();
                self.ram.poke(a, p);
                (a, p.len() as u32, false)
            })
            .collect();
        dq(&mut self.queues, q).add(&self.ram, &bufs).expect("room in the queue");
        self.wr(reg::QUEUE_NOTIFY, u32::from(q));
    }

    /// Posts `n` device-writable page buffers on `q` (fill_queue), kicks.
    pub fn post(&mut self, q: u16, n: usize) {
        for _ in 0..n {
            let a = self.alloc();
            dq(&mut self.queues, q).add(&self.ram, &[(a, BUF_LEN, true)]).expect("room in the queue");
        }
        self.wr(reg::QUEUE_NOTIFY, u32::from(q));
    }

    /// What the device wrote into the buffers it gave back on `q`.
    pub fn received(&mut self, q: u16) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some((bufs, len)) = dq(&mut self.queues, q).take_used(&self.ram) {
            assert!(len <= bufs.iter().filter(|b| b.2).map(|b| b.1).sum::<u32>(), "no more than fits");
            out.push(self.ram.peek(bufs[0].0, len as usize));
        }
        out
    }

    /// __send_control_msg: the buffer is back by the time the kick returns.
    pub fn control(&mut self, id: u32, event: u16, value: u16) {
        let mut m = id.to_le_bytes().to_vec();
        m.extend_from_slice(&event.to_le_bytes());
        m.extend_from_slice(&value.to_le_bytes());
        self.send(console::CONTROL_TX, &[&m]);
        let (_, len) = dq(&mut self.queues, console::CONTROL_TX).take_used(&self.ram).expect("used at once");
        assert_eq!(len, 0, "the device writes nothing into a transmit buffer");
    }

    /// control_work_handler: the messages received, each buffer re-posted.
    pub fn control_msgs(&mut self) -> Vec<Msg> {
        let got = self.received(console::CONTROL_RX);
        if !got.is_empty() {
            self.post(console::CONTROL_RX, got.len());
        }
        got.into_iter()
            .map(|m| {
                assert!(m.len() >= 8, "a whole header");
                let id = u32::from_le_bytes([m[0], m[1], m[2], m[3]]);
                (id, u16::from_le_bytes([m[4], m[5]]), u16::from_le_bytes([m[6], m[7]]), m[8..].to_vec())
            })
            .collect()
    }

    /// virtcons_probe with MULTIPORT: negotiate, init_vqs, DRIVER_OK,
    /// fill the control receiveq, DEVICE_READY.
    pub fn probe(&mut self) {
        assert!(self.negotiate(super::F_VERSION_1 | console::F_SIZE | console::F_MULTIPORT));
        let ports = self.dev.read(reg::CONFIG + 4, 4).unwrap() as u16;
        for q in 0..2 * (ports + 1) {
            self.setup_queue(q);
        }
        self.driver_ok();
        self.post(console::CONTROL_RX, 8);
        self.control(u32::MAX, console::DEVICE_READY, 1);
    }

    /// The control conversation until it settles, as Linux answers:
    /// PORT_ADD → fill the port's receiveq and PORT_READY; CONSOLE_PORT →
    /// hvc attached, PORT_OPEN. Every message the device sent, in order.
    pub fn settle(&mut self) -> Vec<Msg> {
        let mut all = Vec::new();
        loop {
            let msgs = self.control_msgs();
            if msgs.is_empty() {
                return all;
            }
            for (id, event, value, extra) in msgs {
                match event {
                    console::PORT_ADD => {
                        self.post(console::receive_queue(id as usize), 4);
                        self.control(id, console::PORT_READY, 1);
                    }
                    console::CONSOLE_PORT if value == 1 => self.control(id, console::PORT_OPEN, 1),
                    _ => {}
                }
                all.push((id, event, value, extra));
            }
        }
    }
}

fn dq(queues: &mut [Option<DriverQueue>], q: u16) -> &mut DriverQueue {
    queues[usize::from(q)].as_mut().expect("queue set up")
}
