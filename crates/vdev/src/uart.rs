//! A 16550A-compatible UART, the serial port every RISC-V Linux build
//! drives (`CONFIG_SERIAL_8250` with `CONFIG_SERIAL_OF_PLATFORM`, both in
//! riscv `defconfig`), named by the capsule's `/chosen/stdout-path`.
//!
//! The registers are the 16550's eight, one byte apart; each is accessed
//! one byte at a time (the device tree says `reg-io-width` 1). The model
//! transmits at once: a byte written to THR is ready for the console
//! before the store returns, so THR is always empty and LSR always says
//! so. Received bytes wait in a 16-byte FIFO that the hypervisor fills from
//! the console when the capsule has the input focus.
//!
//! What the driver relies on is modelled: the divisor latch behind
//! LCR.DLAB, the interrupt identification priorities (received data
//! before THR empty) and the THR-empty interrupt's rules (raised when
//! THR empties or the interrupt is enabled while it is empty, cleared by
//! reading IIR or writing THR), FIFO enable and clear through FCR, and
//! MCR's loopback mode with MSR following MCR, which the driver's probe
//! may use. Line errors, breaks and modem-status changes never happen.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::{AccessError, Device};

/// Register offsets.
const RBR_THR_DLL: u64 = 0;
const IER_DLM: u64 = 1;
const IIR_FCR: u64 = 2;
const LCR: u64 = 3;
const MCR: u64 = 4;
const LSR: u64 = 5;
const MSR: u64 = 6;
const SCR: u64 = 7;

const IER_RDI: u8 = 1 << 0;
const IER_THRI: u8 = 1 << 1;
const IER_MASK: u8 = 0x0f;

const IIR_NONE: u8 = 0x01;
const IIR_THRI: u8 = 0x02;
const IIR_RDI: u8 = 0x04;
const IIR_FIFO: u8 = 0xc0;

const FCR_ENABLE: u8 = 1 << 0;
const FCR_CLEAR_RX: u8 = 1 << 1;

const LCR_DLAB: u8 = 1 << 7;

const MCR_LOOP: u8 = 1 << 4;
const MCR_MASK: u8 = 0x1f;

const LSR_DR: u8 = 1 << 0;
const LSR_THRE: u8 = 1 << 5;
const LSR_TEMT: u8 = 1 << 6;

/// MSR with no loopback: carrier, data set ready and clear to send, as a
/// connected terminal would show.
const MSR_CONNECTED: u8 = 0xb0;

/// The receive FIFO's depth.
pub const RX_FIFO: usize = 16;
/// Bytes transmitted but not yet taken by [`Uart16550::take_output`];
/// past this the oldest are kept and newer ones dropped (the hypervisor
/// takes them after every store, so this never fills in practice).
const TX_LIMIT: usize = 4096;

/// One UART's state.
#[derive(Debug)]
pub struct Uart16550 {
    ier: u8,
    lcr: u8,
    mcr: u8,
    scr: u8,
    dll: u8,
    dlm: u8,
    fifo_enabled: bool,
    /// The THR-empty interrupt is pending.
    thr_pending: bool,
    rx: VecDeque<u8>,
    tx: Vec<u8>,
}

impl Default for Uart16550 {
    fn default() -> Self {
        Self::new()
    }
}

impl Uart16550 {
    /// A UART as after reset: interrupts off, 8N1 with divisor 0, FIFOs
    /// off.
    pub fn new() -> Self {
        Uart16550 {
            ier: 0,
            lcr: 0x03,
            mcr: 0,
            scr: 0,
            dll: 0,
            dlm: 0,
            fifo_enabled: false,
            thr_pending: false,
            rx: VecDeque::with_capacity(RX_FIFO),
            tx: Vec::new(),
        }
    }

    /// Room in the receive FIFO.
    pub fn rx_room(&self) -> usize {
        RX_FIFO - self.rx.len()
    }

    /// A byte arrives from the console; false (and the byte not taken)
    /// if the FIFO is full or the UART is looped back on itself.
    pub fn receive(&mut self, byte: u8) -> bool {
        if self.mcr & MCR_LOOP != 0 || self.rx.len() >= RX_FIFO {
            return false;
        }
        self.rx.push_back(byte);
        true
    }

    /// The bytes the capsule has transmitted since the last call.
    pub fn take_output(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.tx)
    }

    /// The driver asked for an interrupt when data arrives (IER's
    /// received-data bit): it waits for input instead of polling.
    pub fn rx_interrupt_enabled(&self) -> bool {
        self.ier & IER_RDI != 0
    }

    /// The interrupt line: some enabled condition is pending.
    pub fn interrupt(&self) -> bool {
        self.iir_source() != IIR_NONE
    }

    fn iir_source(&self) -> u8 {
        if self.ier & IER_RDI != 0 && !self.rx.is_empty() {
            IIR_RDI
        } else if self.ier & IER_THRI != 0 && self.thr_pending {
            IIR_THRI
        } else {
            IIR_NONE
        }
    }

    fn transmit(&mut self, byte: u8) {
        if self.mcr & MCR_LOOP != 0 {
            if self.rx.len() < RX_FIFO {
                self.rx.push_back(byte);
            }
        } else if self.tx.len() < TX_LIMIT {
            self.tx.push(byte);
        }
        // Sent at once: THR is empty again.
        self.thr_pending = true;
    }

    fn msr(&self) -> u8 {
        if self.mcr & MCR_LOOP == 0 {
            return MSR_CONNECTED;
        }
        // Loopback: RTS drives CTS, DTR drives DSR, OUT1 drives RI and
        // OUT2 drives DCD.
        let m = self.mcr;
        ((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x04) << 4) | ((m & 0x08) << 4)
    }

    fn read_byte(&mut self, offset: u64) -> u8 {
        let dlab = self.lcr & LCR_DLAB != 0;
        match offset {
            RBR_THR_DLL if dlab => self.dll,
            RBR_THR_DLL => self.rx.pop_front().unwrap_or(0),
            IER_DLM if dlab => self.dlm,
            IER_DLM => self.ier,
            IIR_FCR => {
                let source = self.iir_source();
                if source == IIR_THRI {
                    // Reading IIR while it names THR empty clears it.
                    self.thr_pending = false;
                }
                source | if self.fifo_enabled { IIR_FIFO } else { 0 }
            }
            LCR => self.lcr,
            MCR => self.mcr,
            LSR => LSR_THRE | LSR_TEMT | if self.rx.is_empty() { 0 } else { LSR_DR },
            MSR => self.msr(),
            _ => self.scr,
        }
    }

    fn write_byte(&mut self, offset: u64, v: u8) {
        let dlab = self.lcr & LCR_DLAB != 0;
        match offset {
            RBR_THR_DLL if dlab => self.dll = v,
            RBR_THR_DLL => self.transmit(v),
            IER_DLM if dlab => self.dlm = v,
            IER_DLM => {
                let v = v & IER_MASK;
                if v & IER_THRI != 0 && self.ier & IER_THRI == 0 {
                    // Enabling the THR-empty interrupt while THR is empty
                    // (it always is here) raises it.
                    self.thr_pending = true;
                }
                self.ier = v;
            }
            IIR_FCR => {
                self.fifo_enabled = v & FCR_ENABLE != 0;
                if v & FCR_CLEAR_RX != 0 || !self.fifo_enabled {
                    self.rx.clear();
                }
            }
            LCR => self.lcr = v,
            MCR => self.mcr = v & MCR_MASK,
            // LSR and MSR are read-only; writes are ignored, as the
            // 16550's are outside factory test.
            LSR | MSR => {}
            _ => self.scr = v,
        }
    }
}

impl Device for Uart16550 {
    fn read(&mut self, offset: u64, width: u8) -> Result<u64, AccessError> {
        check(offset, width)?;
        Ok(u64::from(self.read_byte(offset)))
    }

    fn write(&mut self, offset: u64, width: u8, value: u64) -> Result<(), AccessError> {
        check(offset, width)?;
        self.write_byte(offset, value as u8);
        Ok(())
    }
}

/// Byte accesses to the eight registers only.
fn check(offset: u64, width: u8) -> Result<(), AccessError> {
    if width != 1 {
        return Err(AccessError::Width);
    }
    if offset > SCR {
        return Err(AccessError::NoRegister);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rd(u: &mut Uart16550, off: u64) -> u8 {
        u.read(off, 1).unwrap() as u8
    }
    fn wr(u: &mut Uart16550, off: u64, v: u8) {
        u.write(off, 1, u64::from(v)).unwrap()
    }

    #[test]
    fn transmits_what_thr_is_given() {
        let mut u = Uart16550::new();
        for b in b"hi\n" {
            assert_ne!(rd(&mut u, LSR) & LSR_THRE, 0);
            wr(&mut u, RBR_THR_DLL, *b);
        }
        assert_eq!(u.take_output(), b"hi\n");
        assert!(u.take_output().is_empty(), "taken once");
    }

    #[test]
    fn receives_through_rbr_with_lsr_data_ready() {
        let mut u = Uart16550::new();
        assert_eq!(rd(&mut u, LSR) & LSR_DR, 0);
        assert!(u.receive(b'a') && u.receive(b'b'));
        assert_ne!(rd(&mut u, LSR) & LSR_DR, 0);
        assert_eq!(rd(&mut u, RBR_THR_DLL), b'a');
        assert_eq!(rd(&mut u, RBR_THR_DLL), b'b');
        assert_eq!(rd(&mut u, LSR) & LSR_DR, 0);
        assert_eq!(rd(&mut u, RBR_THR_DLL), 0, "an empty FIFO reads 0");
    }

    #[test]
    fn the_fifo_holds_sixteen() {
        let mut u = Uart16550::new();
        for i in 0..RX_FIFO {
            assert!(u.receive(i as u8));
        }
        assert_eq!(u.rx_room(), 0);
        assert!(!u.receive(99), "a full FIFO refuses");
        wr(&mut u, IIR_FCR, FCR_ENABLE | FCR_CLEAR_RX);
        assert_eq!(u.rx_room(), RX_FIFO, "FCR clears it");
    }

    #[test]
    fn divisor_latch_hides_behind_dlab() {
        let mut u = Uart16550::new();
        wr(&mut u, LCR, 0x83);
        wr(&mut u, RBR_THR_DLL, 0x12);
        wr(&mut u, IER_DLM, 0x34);
        assert_eq!((rd(&mut u, RBR_THR_DLL), rd(&mut u, IER_DLM)), (0x12, 0x34));
        wr(&mut u, LCR, 0x03);
        assert_eq!(rd(&mut u, IER_DLM), 0, "IER untouched");
        assert!(u.take_output().is_empty(), "DLL is not THR");
        wr(&mut u, LCR, 0x83);
        assert_eq!(rd(&mut u, RBR_THR_DLL), 0x12, "kept");
    }

    #[test]
    fn interrupt_priorities_and_thr_empty_rules() {
        let mut u = Uart16550::new();
        assert_eq!(rd(&mut u, IIR_FCR), IIR_NONE);
        wr(&mut u, IER_DLM, IER_THRI);
        assert!(u.interrupt(), "enabling THRI while THR is empty raises it");
        assert_eq!(rd(&mut u, IIR_FCR), IIR_THRI);
        assert_eq!(rd(&mut u, IIR_FCR), IIR_NONE, "reading IIR cleared it");
        assert!(!u.interrupt());
        wr(&mut u, RBR_THR_DLL, b'x');
        assert!(u.interrupt(), "THR emptied again after the byte went");
        wr(&mut u, IER_DLM, IER_THRI | IER_RDI);
        u.receive(b'y');
        assert_eq!(rd(&mut u, IIR_FCR), IIR_RDI, "received data comes first");
        assert_eq!(rd(&mut u, RBR_THR_DLL), b'y');
        assert_eq!(rd(&mut u, IIR_FCR), IIR_THRI, "then THR empty, still pending");
        wr(&mut u, IER_DLM, 0);
        assert!(!u.interrupt(), "nothing enabled, nothing raised");
    }

    #[test]
    fn fifo_bits_in_iir() {
        let mut u = Uart16550::new();
        wr(&mut u, IIR_FCR, FCR_ENABLE);
        assert_eq!(rd(&mut u, IIR_FCR), IIR_NONE | IIR_FIFO);
    }

    #[test]
    fn loopback_turns_output_into_input_and_mcr_into_msr() {
        let mut u = Uart16550::new();
        assert_eq!(rd(&mut u, MSR), MSR_CONNECTED);
        wr(&mut u, MCR, MCR_LOOP | 0x0a); // RTS and OUT2
        assert_eq!(rd(&mut u, MSR) & 0xf0, 0x90, "CTS and DCD");
        wr(&mut u, RBR_THR_DLL, b'L');
        assert!(u.take_output().is_empty(), "nothing leaves in loopback");
        assert_eq!(rd(&mut u, RBR_THR_DLL), b'L');
        assert!(!u.receive(b'z'), "the line is cut while looped back");
    }

    #[test]
    fn scratch_register_keeps_a_byte() {
        let mut u = Uart16550::new();
        wr(&mut u, SCR, 0x5a);
        assert_eq!(rd(&mut u, SCR), 0x5a);
    }

    #[test]
    fn wrong_widths_and_offsets_are_refused() {
        let mut u = Uart16550::new();
        for w in [2, 4, 8] {
            assert_eq!(u.read(0, w), Err(AccessError::Width));
            assert_eq!(u.write(4, w, 0), Err(AccessError::Width));
        }
        assert_eq!(u.read(8, 1), Err(AccessError::NoRegister));
        assert_eq!(u.write(0xff, 1, 0), Err(AccessError::NoRegister));
        assert!(u.take_output().is_empty(), "a refused store sends nothing");
    }

    proptest! {
        /// Whatever a driver does, the model never panics, output stays
        /// bounded and LSR always says THR is empty.
        #[test]
        fn any_access_sequence_is_safe(ops in proptest::collection::vec((0u64..0x100, 0u8..9, any::<u8>(), any::<bool>()), 0..300)) {
            let mut u = Uart16550::new();
            for (off, w, v, store) in ops {
                let r = if store { u.write(off, w, u64::from(v)).map(|_| 0) } else { u.read(off, w) };
                if w == 1 && off <= SCR {
                    prop_assert!(r.is_ok());
                    prop_assert!(r.unwrap() <= 0xff);
                } else {
                    prop_assert!(r.is_err());
                }
                let _ = u.receive(v);
                prop_assert!(u.rx_room() <= RX_FIFO);
            }
            prop_assert!(u.take_output().len() <= TX_LIMIT);
            prop_assert_ne!(u.read(LSR, 1).unwrap() as u8 & LSR_THRE, 0);
        }
    }
}
