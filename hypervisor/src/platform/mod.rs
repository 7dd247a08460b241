//! The board's devices the hypervisor drives itself: the timers and
//! software interrupts, its console UARTs, HTIF, and power-off. The only
//! raw MMIO of real devices is here.

pub mod clint;
pub mod gpio_sifive;
pub mod htif;
pub mod power;
pub mod uart_ns16550;
pub mod uart_sifive;
