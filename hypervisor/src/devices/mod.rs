//! Each capsule's emulated devices: trapping its loads and stores to
//! their windows (`mmio`), and the glue between the device models of
//! `crates/vdev` and the harts, the console and the control channel.

pub mod glue;
pub mod mmio;
