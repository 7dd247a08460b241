//! Capsule management for the boot capsule: the control channel's
//! server and the images its manager uploads.

pub mod control;
pub mod uploads;
