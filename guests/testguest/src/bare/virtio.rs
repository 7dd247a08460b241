//! The emulated virtio-mmio console, driven directly (`diosix.test=virtio`):
//! as a driver brings it up and sends a line, then with the hostile
//! inputs a device must survive (buffers outside RAM, huge lengths,
//! descriptor loops, indexes out of range, indirect descriptors, an
//! avail index that jumps, a queue that does not exist, rings outside
//! RAM), each of which must stop the device and be undone by a reset,
//! and every width and alignment of its registers.

use core::arch::asm;
use core::sync::atomic::{Ordering, fence};

use super::trap::{SEEN, hart};

const BASE: usize = 0x1000_1000;
const DEVICE_FEATURES: usize = 0x010;
const DEVICE_FEATURES_SEL: usize = 0x014;
const DRIVER_FEATURES: usize = 0x020;
const DRIVER_FEATURES_SEL: usize = 0x024;
const QUEUE_SEL: usize = 0x030;
const QUEUE_NUM_MAX: usize = 0x034;
const QUEUE_NUM: usize = 0x038;
const QUEUE_READY: usize = 0x044;
const QUEUE_NOTIFY: usize = 0x050;
const STATUS: usize = 0x070;
const QUEUE_DESC: usize = 0x080;
const QUEUE_DRIVER: usize = 0x090;
const QUEUE_DEVICE: usize = 0x0a0;
const CONFIG_MAX_PORTS: usize = 0x104;
const NEEDS_RESET: usize = 0x40;
/// Port 0's transmit queue.
const TX: usize = 1;
const SIZE: usize = 4;

#[repr(C, align(16))]
struct Rings {
    desc: [[u8; 16]; SIZE],
    avail: [u16; 3 + SIZE],
    _pad: [u16; 1],
    used: [u32; 2 + 2 * SIZE],
}

static mut RINGS: Rings = Rings { desc: [[0; 16]; SIZE], avail: [0; 3 + SIZE], _pad: [0], used: [0; 2 + 2 * SIZE] };
static mut LINE: [u8; 64] = [0; 64];

fn check(name: &str, ok: bool, detail: core::fmt::Arguments) -> bool {
    if ok {
        say!("testguest: PASS {name}");
    } else {
        say!("testguest: FAIL {name}: {detail}");
    }
    ok
}

fn r(off: usize) -> u32 {
    let v: u32;
    // SAFETY: a 4-byte load from the device window, emulated or faulted.
    unsafe { asm!("lw {0}, 0({1})", out(reg) v, in(reg) BASE + off) };
    v
}
fn w(off: usize, v: usize) {
    // SAFETY: a 4-byte store to the device window.
    unsafe { asm!("sw {0}, 0({1})", in(reg) v, in(reg) BASE + off) };
}

fn rings() -> *mut Rings {
    &raw mut RINGS
}

/// Resets the device and brings it up with port 0's transmit queue at
/// `desc`/`avail`/`used` (our rings unless a test says otherwise);
/// returns the status read back.
fn bring_up(desc: usize, avail: usize, used: usize) -> u32 {
    w(STATUS, 0);
    // SAFETY: the rings are ours; the device reads them only on notify.
    unsafe { core::ptr::write_bytes(rings(), 0, 1) };
    w(STATUS, 1);
    w(STATUS, 3);
    w(DRIVER_FEATURES_SEL, 1);
    w(DRIVER_FEATURES, 1); // VERSION_1
    w(DRIVER_FEATURES_SEL, 0);
    w(DRIVER_FEATURES, 0);
    w(STATUS, 3 | 8);
    w(QUEUE_SEL, TX);
    w(QUEUE_NUM, SIZE);
    for (reg, addr) in [(QUEUE_DESC, desc), (QUEUE_DRIVER, avail), (QUEUE_DEVICE, used)] {
        w(reg, addr);
        w(reg + 4, ((addr as u64) >> 32) as usize);
    }
    w(QUEUE_READY, 1);
    w(STATUS, 3 | 8 | 4);
    r(STATUS)
}

fn ours() -> (usize, usize, usize) {
    let p = rings();
    // SAFETY: addresses of fields of our static, not dereferenced.
    unsafe { (&raw mut (*p).desc as usize, &raw mut (*p).avail as usize, &raw mut (*p).used as usize) }
}

/// Offers one descriptor (`addr`, `len`, `flags`, `next`) on TX, moving
/// avail.idx on by `step`, and notifies queue `queue`; returns the used
/// index afterwards.
fn offer(addr: usize, len: u32, flags: u16, next: u16, step: u16, queue: usize) -> u16 {
    let p = rings();
    // SAFETY: our own rings; the device reads them during the notify.
    unsafe {
        let d = &mut (*p).desc[0];
        d[0..8].copy_from_slice(&(addr as u64).to_le_bytes());
        d[8..12].copy_from_slice(&len.to_le_bytes());
        d[12..14].copy_from_slice(&flags.to_le_bytes());
        d[14..16].copy_from_slice(&next.to_le_bytes());
        let idx = (*p).avail[1];
        (*p).avail[2 + (idx as usize % SIZE)] = 0;
        fence(Ordering::SeqCst);
        (&raw mut (*p).avail[1]).write_volatile(idx.wrapping_add(step));
    }
    fence(Ordering::SeqCst);
    w(QUEUE_NOTIFY, queue);
    fence(Ordering::SeqCst);
    // SAFETY: the used index the device wrote in our RAM.
    unsafe { ((&raw const (*p).used) as *const u16).add(1).read_volatile() }
}

fn send(text: &[u8]) -> u16 {
    let line = &raw mut LINE;
    // SAFETY: our own buffer.
    let n = unsafe {
        let buf = &mut *line;
        let n = text.len().min(buf.len());
        buf[..n].copy_from_slice(&text[..n]);
        n
    };
    offer(line as usize, n as u32, 0, 0, 1, TX)
}

pub fn run(boot: bool, ram_end: usize) -> bool {
    let mut ok = check("virtio: a version 2 console device", r(0) == 0x7472_6976 && r(4) == 2 && r(8) == 3,
        format_args!("magic {:#x}, version {}, device {}", r(0), r(4), r(8)));
    w(DEVICE_FEATURES_SEL, 1);
    let high = r(DEVICE_FEATURES);
    w(DEVICE_FEATURES_SEL, 0);
    ok &= check("virtio: VERSION_1 and MULTIPORT offered", high & 1 == 1 && r(DEVICE_FEATURES) & 2 == 2,
        format_args!("{high:#x}"));
    let ports = r(CONFIG_MAX_PORTS);
    let want = if boot { 2 } else { 1 };
    ok &= check("virtio: the boot capsule alone has the control port", ports == want,
        format_args!("max_nr_ports {ports}, expected {want}"));
    if !boot {
        // Port 1's transmit queue: queue 5 exists only with two ports.
        w(QUEUE_SEL, 5);
        ok &= check("virtio: no queue for a control port here", r(QUEUE_NUM_MAX) == 0,
            format_args!("QueueNumMax {}", r(QUEUE_NUM_MAX)));
    }
    let (d, a, u) = ours();
    let status = bring_up(d, a, u);
    ok &= check("virtio: brought up (FEATURES_OK, DRIVER_OK)", status & 0x4c == 0x0c, format_args!("status {status:#x}"));
    ok &= check("virtio: a line sent on port 0 is used", send(b"testguest: hello through virtio\n") == 1,
        format_args!("status {:#x}", r(STATUS)));

    // Each hostile offer must stop the device, and a reset must bring it
    // back.
    let line = &raw mut LINE as usize;
    let cases: [(&str, &dyn Fn() -> u16); 7] = [
        ("a buffer outside RAM", &|| offer(0x1000, 8, 0, 0, 1, TX)),
        ("a huge length", &|| offer(line, u32::MAX, 0, 0, 1, TX)),
        ("a descriptor chained to itself", &|| offer(line, 8, 1, 0, 1, TX)),
        ("a next index beyond the queue", &|| offer(line, 8, 1, 7, 1, TX)),
        ("an indirect descriptor", &|| offer(line, 16, 4, 0, 1, TX)),
        ("an avail index that jumps", &|| offer(line, 8, 0, 0, 100, TX)),
        ("a notify of a queue that does not exist", &|| offer(line, 8, 0, 0, 1, 99)),
    ];
    let mut contained = 0;
    for (what, case) in cases {
        bring_up(d, a, u);
        case();
        let stopped = r(STATUS) as usize & NEEDS_RESET != 0;
        bring_up(d, a, u);
        let again = send(b"testguest: virtio works again\n") == 1;
        if stopped && again {
            contained += 1;
        } else {
            say!("testguest: FAIL virtio: {what}: stopped {stopped}, works after a reset {again}");
        }
    }
    ok &= check("virtio: every hostile queue stops the device, and a reset brings it back", contained == cases.len(),
        format_args!("{contained} of {}", cases.len()));
    let status = bring_up(ram_end + 0x1000, a, u);
    ok &= check("virtio: rings outside RAM stop it at QueueReady", status as usize & NEEDS_RESET != 0,
        format_args!("status {status:#x}"));
    w(STATUS, 0);
    ok &= sweep();
    say!("testguest: still running after the virtio tests");
    ok
}

/// Loads of every width at every offset: registers take aligned 4-byte
/// accesses, the 12-byte configuration naturally aligned 1, 2 and 4-byte
/// ones; everything else faults back with its address.
fn sweep() -> bool {
    let widths: &[u8] = if usize::BITS == 64 { &[1, 2, 4, 8] } else { &[1, 2, 4] };
    let (mut tried, mut wrong) = (0, 0);
    for off in 0..0x110usize {
        for &width in widths {
            let must_fault = if off < 0x100 {
                width != 4 || off % 4 != 0
            } else {
                width > 4 || off % width as usize != 0 || off + width as usize > 0x10c
            };
            let seen = &SEEN[hart() % 16];
            let before = seen.exceptions.load(Ordering::SeqCst);
            let addr = BASE + off;
            // SAFETY: loads from the device window; faults come back.
            unsafe {
                match width {
                    1 => asm!("lbu {0}, 0({1})", out(reg) _, in(reg) addr),
                    2 => asm!("lhu {0}, 0({1})", out(reg) _, in(reg) addr),
                    4 => asm!("lw {0}, 0({1})", out(reg) _, in(reg) addr),
                    #[cfg(target_arch = "riscv64")]
                    _ => asm!("ld {0}, 0({1})", out(reg) _, in(reg) addr),
                    #[cfg(target_arch = "riscv32")]
                    _ => {}
                }
            }
            let faults = seen.exceptions.load(Ordering::SeqCst) - before;
            let (cause, tval) = (seen.cause.load(Ordering::SeqCst), seen.tval.load(Ordering::SeqCst));
            tried += 1;
            let good = if must_fault {
                faults == 1 && (cause == 4 || cause == 5) && (addr..addr + width as usize).contains(&tval)
            } else {
                // A defined offset: emulated (no fault), or a register the
                // model does not have (a fault naming it).
                faults == 0 || (faults == 1 && tval == addr)
            };
            if !good {
                wrong += 1;
                if wrong <= 8 {
                    say!("testguest: FAIL virtio sweep: {width} bytes at +{off:#x}: {faults} faults, cause {cause}, tval {tval:#x}");
                }
            }
        }
    }
    check("virtio: every width and alignment of its registers is emulated or faults back", wrong == 0,
        format_args!("{wrong} of {tried} accesses went wrong"))
}
