//! A virtio console (device ID 3, virtio 1.x section 5.3) with
//! VIRTIO_CONSOLE_F_MULTIPORT: several ports, each a byte stream in each
//! direction, as Linux's `virtio_console` driver presents them: port 0
//! as the `hvc0` console, the others as `/dev/vportNpM` with their names
//! in sysfs (and udev's `/dev/virtio-ports/<name>` links).
//!
//! Queues: 0 and 1 are port 0's receiveq and transmitq, 2 and 3 the
//! control receiveq and transmitq, then port n (n >= 1) has receiveq
//! 2(n+1) and transmitq 2(n+1)+1 (Linux's `init_vqs`). Config space:
//! cols (u16), rows (u16), max_nr_ports (u32) = the number of ports,
//! emerg_wr (u32). Only MULTIPORT is offered: not SIZE (cols and rows
//! read 0) nor EMERG_WRITE (stores to the config space are ignored).
//!
//! Control messages are 8 bytes, `id` (u32, a port), `event` (u16),
//! `value` (u16), a port name following PORT_NAME's. The conversation:
//! the driver sends DEVICE_READY (1); the device sends PORT_ADD for each
//! port; the driver fills the port's receiveq and answers PORT_READY (1);
//! the device then sends CONSOLE_PORT (1) for port 0, PORT_NAME for a
//! named port and PORT_OPEN (1) for every port, the host side always
//! being connected (Linux blocks writes to a port whose host side is
//! not). The driver sends PORT_OPEN (1) when the port is opened (for the
//! console port, when it attaches hvc) and PORT_OPEN (0) when closed.
//! Each device message goes in its own control receive buffer, in order;
//! each is sent once per device reset, so their number stays bounded.
//!
//! Output a port's transmitq carries is kept for the hypervisor, up to
//! [`OUTPUT_LIMIT`] bytes untaken (beyond, it is dropped and counted).
//! Input the hypervisor pushes waits, up to [`INPUT_LIMIT`] bytes a port,
//! until the port is open in the guest and has receive buffers posted;
//! Linux discards data arriving on a port nobody has open
//! (`in_intr`), so nothing is delivered before, and what waits when the
//! guest closes the port is dropped, as the guest drops its own.
//! A driver that did not accept MULTIPORT gets port 0 alone, open from
//! DRIVER_OK, as Linux's `add_port` makes it a console at once.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use super::mmio::{Backend, Transport};
use super::queue::{Chain, Rings, MAX_SIZE};
use super::{Broken, Fault, GuestRam};

pub const DEVICE_ID: u32 = 3;

/// Feature bits.
pub const F_SIZE: u64 = 1 << 0;
pub const F_MULTIPORT: u64 = 1 << 1;
pub const F_EMERG_WRITE: u64 = 1 << 2;

/// Control events.
pub const DEVICE_READY: u16 = 0;
pub const PORT_ADD: u16 = 1;
pub const PORT_REMOVE: u16 = 2;
pub const PORT_READY: u16 = 3;
pub const CONSOLE_PORT: u16 = 4;
pub const RESIZE: u16 = 5;
pub const PORT_OPEN: u16 = 6;
pub const PORT_NAME: u16 = 7;

pub const CONTROL_RX: u16 = 2;
pub const CONTROL_TX: u16 = 3;

/// The most ports a console takes.
pub const MAX_PORTS: usize = 32;
/// Input bytes a port holds until the guest takes them.
pub const INPUT_LIMIT: usize = 4096;
/// Output bytes a port holds until the hypervisor takes them.
pub const OUTPUT_LIMIT: usize = 64 * 1024;

const CONTROL_LEN: usize = 8;
const CONFIG_LEN: u64 = 12;

/// A port as the hypervisor asks for it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortSpec<'a> {
    /// The name the guest sees (`/sys/class/virtio-ports/vportNpM/name`).
    pub name: Option<&'a str>,
}

#[derive(Debug)]
struct Port {
    name: Option<String>,
    /// PORT_READY answered since the last reset.
    configured: bool,
    guest_open: bool,
    input: VecDeque<u8>,
    output: Vec<u8>,
    dropped: u64,
}

/// The console's own state; the transport around it is
/// [`VirtioConsole`].
#[derive(Debug)]
pub struct Console {
    ports: Vec<Port>,
    multiport: bool,
    device_ready: bool,
    /// Messages for the driver waiting for control receive buffers.
    control: VecDeque<Vec<u8>>,
}

/// A console behind its register window: what the hypervisor holds.
pub type VirtioConsole = Transport<Console>;

/// Port `port`'s receiveq (its transmitq is the next one).
pub fn receive_queue(port: usize) -> u16 {
    if port == 0 {
        0
    } else {
        (2 * (port + 1)) as u16
    }
}

/// The port a data queue belongs to, and whether it is its transmitq.
fn port_of(q: u16) -> Option<(usize, bool)> {
    match q {
        0 | 1 => Some((0, q == 1)),
        CONTROL_RX | CONTROL_TX => None,
        _ => Some((usize::from(q / 2) - 1, q % 2 == 1)),
    }
}

impl Console {
    /// A console with `ports`, port 0 the console port; `None` if there
    /// are none or more than [`MAX_PORTS`].
    pub fn new(ports: &[PortSpec<'_>]) -> Option<Self> {
        if ports.is_empty() || ports.len() > MAX_PORTS {
            return None;
        }
        let ports = ports
            .iter()
            .map(|p| Port {
                name: p.name.map(String::from),
                configured: false,
                guest_open: false,
                input: VecDeque::new(),
                output: Vec::new(),
                dropped: 0,
            })
            .collect();
        Some(Console { ports, multiport: false, device_ready: false, control: VecDeque::new() })
    }

    pub fn port_count(&self) -> usize {
        self.ports.len()
    }

    /// Whether a program in the guest has the port open (for port 0, the
    /// guest's hvc console is attached).
    pub fn guest_open(&self, port: usize) -> bool {
        self.ports.get(port).is_some_and(|p| p.guest_open)
    }

    /// The bytes the guest sent on `port` since the last call.
    pub fn take_output(&mut self, port: usize) -> Vec<u8> {
        self.ports.get_mut(port).map(|p| core::mem::take(&mut p.output)).unwrap_or_default()
    }

    /// Output bytes dropped on `port` because it was not taken in time.
    pub fn dropped_output(&self, port: usize) -> u64 {
        self.ports.get(port).map_or(0, |p| p.dropped)
    }

    /// Input waiting on `port` for the guest.
    pub fn pending_input(&self, port: usize) -> usize {
        self.ports.get(port).map_or(0, |p| p.input.len())
    }

    /// Takes as much of `bytes` as `port` has room for.
    fn accept_input(&mut self, port: usize, bytes: &[u8]) -> usize {
        let Some(p) = self.ports.get_mut(port) else {
            return 0;
        };
        let n = bytes.len().min(INPUT_LIMIT - p.input.len());
        p.input.extend(&bytes[..n]);
        n
    }

    fn send(&mut self, id: usize, event: u16, value: u16, extra: &[u8]) {
        let mut msg = Vec::with_capacity(CONTROL_LEN + extra.len());
        msg.extend_from_slice(&(id as u32).to_le_bytes());
        msg.extend_from_slice(&event.to_le_bytes());
        msg.extend_from_slice(&value.to_le_bytes());
        msg.extend_from_slice(extra);
        self.control.push_back(msg);
    }

    /// A control message from the driver.
    fn handle(&mut self, rings: &mut Rings<'_>, id: u32, event: u16, value: u16) -> Result<(), Broken> {
        if event == DEVICE_READY {
            if value == 1 && !self.device_ready {
                self.device_ready = true;
                (0..self.ports.len()).for_each(|i| self.send(i, PORT_ADD, 0, &[]));
            }
            return Ok(());
        }
        let i = id as usize;
        let Some(port) = self.ports.get_mut(i) else {
            return Ok(());
        };
        match event {
            PORT_READY if value == 1 && !port.configured => {
                port.configured = true;
                let name = port.name.clone();
                if i == 0 {
                    self.send(0, CONSOLE_PORT, 1, &[]);
                }
                if let Some(name) = name {
                    self.send(i, PORT_NAME, 0, name.as_bytes());
                }
                self.send(i, PORT_OPEN, 1, &[]);
            }
            PORT_OPEN => {
                port.guest_open = value != 0;
                if port.guest_open {
                    return self.deliver(i, rings);
                }
                port.input.clear();
            }
            _ => {}
        }
        Ok(())
    }

    /// Device messages into control receive buffers.
    fn flush_control(&mut self, rings: &mut Rings<'_>) -> Result<(), Broken> {
        while let Some(msg) = self.control.front() {
            let Some(chain) = rings.pop(CONTROL_RX)? else {
                break;
            };
            only(&chain, true)?;
            let n = chain.write(rings.mem(), msg).map_err(|f| Rings::fault(CONTROL_RX, f))?;
            rings.push_used(&chain, n)?;
            self.control.pop_front();
        }
        Ok(())
    }

    /// Control messages from the driver.
    fn control_tx(&mut self, rings: &mut Rings<'_>) -> Result<(), Broken> {
        for _ in 0..MAX_SIZE {
            let Some(chain) = rings.pop(CONTROL_TX)? else {
                break;
            };
            only(&chain, false)?;
            let mut msg = [0u8; CONTROL_LEN];
            let mut got = 0;
            chain
                .read(rings.mem(), &mut |b| {
                    let n = b.len().min(CONTROL_LEN - got);
                    msg[got..got + n].copy_from_slice(&b[..n]);
                    got += n;
                })
                .map_err(|f| Rings::fault(CONTROL_TX, f))?;
            rings.push_used(&chain, 0)?;
            // A short message is no message.
            if got == CONTROL_LEN {
                let id = u32::from_le_bytes([msg[0], msg[1], msg[2], msg[3]]);
                let event = u16::from_le_bytes([msg[4], msg[5]]);
                let value = u16::from_le_bytes([msg[6], msg[7]]);
                self.handle(rings, id, event, value)?;
            }
        }
        Ok(())
    }

    /// What a port's transmitq carries, into its output.
    fn transmit(&mut self, port: usize, rings: &mut Rings<'_>) -> Result<(), Broken> {
        let q = receive_queue(port) + 1;
        let Some(p) = self.ports.get_mut(port) else {
            return Ok(());
        };
        for _ in 0..MAX_SIZE {
            let Some(chain) = rings.pop(q)? else {
                break;
            };
            only(&chain, false)?;
            chain
                .read(rings.mem(), &mut |b| {
                    let n = b.len().min(OUTPUT_LIMIT - p.output.len());
                    p.output.extend_from_slice(&b[..n]);
                    p.dropped += (b.len() - n) as u64;
                })
                .map_err(|f| Rings::fault(q, f))?;
            rings.push_used(&chain, 0)?;
        }
        Ok(())
    }

    /// Waiting input into a port's receive buffers, if it is open.
    fn deliver(&mut self, port: usize, rings: &mut Rings<'_>) -> Result<(), Broken> {
        let q = receive_queue(port);
        let Some(p) = self.ports.get_mut(port) else {
            return Ok(());
        };
        for _ in 0..MAX_SIZE {
            if !p.guest_open || p.input.is_empty() {
                break;
            }
            let Some(chain) = rings.pop(q)? else {
                break;
            };
            only(&chain, true)?;
            let n = chain.write(rings.mem(), p.input.make_contiguous()).map_err(|f| Rings::fault(q, f))?;
            p.input.drain(..n as usize);
            rings.push_used(&chain, n)?;
        }
        Ok(())
    }
}

/// The chain's buffers are all device-writable (`writable`) or all
/// device-readable.
fn only(chain: &Chain, writable: bool) -> Result<(), Broken> {
    match chain.buffers().iter().find(|b| b.writable != writable) {
        None => Ok(()),
        Some(_) if writable => Err(Rings::fault(chain.queue(), Fault::UnexpectedReadable)),
        Some(_) => Err(Rings::fault(chain.queue(), Fault::UnexpectedWritable)),
    }
}

impl Backend for Console {
    fn device_id(&self) -> u32 {
        DEVICE_ID
    }

    fn features(&self) -> u64 {
        F_MULTIPORT
    }

    fn queue_count(&self) -> u16 {
        (2 * (self.ports.len() + 1)) as u16
    }

    fn config_byte(&self, index: u64) -> Option<u8> {
        // cols and rows 0, then max_nr_ports, then emerg_wr reading 0.
        let ports = (self.ports.len() as u32).to_le_bytes();
        match index {
            4..=7 => Some(ports[index as usize - 4]),
            _ if index < CONFIG_LEN => Some(0),
            _ => None,
        }
    }

    fn reset(&mut self) {
        for p in &mut self.ports {
            p.configured = false;
            p.guest_open = false;
            p.input.clear();
        }
        self.multiport = false;
        self.device_ready = false;
        self.control.clear();
    }

    fn activate(&mut self, features: u64, _rings: &mut Rings<'_>) -> Result<(), Broken> {
        self.multiport = features & F_MULTIPORT != 0;
        if !self.multiport {
            self.ports[0].guest_open = true;
        }
        Ok(())
    }

    fn notify(&mut self, q: u16, rings: &mut Rings<'_>) -> Result<(), Broken> {
        match port_of(q) {
            Some((port, _)) if port > 0 && !self.multiport => Ok(()),
            Some((port, true)) => self.transmit(port, rings),
            Some((port, false)) => self.deliver(port, rings),
            None if !self.multiport => Ok(()),
            None if q == CONTROL_TX => {
                self.control_tx(rings)?;
                self.flush_control(rings)
            }
            None => self.flush_control(rings),
        }
    }
}

impl Transport<Console> {
    /// Input for the guest on `port`: as much as the port has room for
    /// is taken (the count returned), and delivered at once if the port
    /// is open and has receive buffers, else when it has.
    pub fn push_input(&mut self, mem: &dyn GuestRam, port: usize, bytes: &[u8]) -> usize {
        let n = self.device_mut().accept_input(port, bytes);
        if n > 0 {
            self.run(mem, |c, r| c.deliver(port, r));
        }
        n
    }

    /// See [`Console::take_output`].
    pub fn take_output(&mut self, port: usize) -> Vec<u8> {
        self.device_mut().take_output(port)
    }

    /// How many more bytes of input `port` takes now (0 for no port).
    pub fn input_room(&self, port: usize) -> usize {
        if port >= self.device().port_count() {
            return 0;
        }
        INPUT_LIMIT - self.device().pending_input(port)
    }

    /// See [`Console::guest_open`].
    pub fn guest_open(&self, port: usize) -> bool {
        self.device().guest_open(port)
    }
}
