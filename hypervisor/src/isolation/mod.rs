//! Fencing a capsule into its own RAM. Today's backend is PMP; the H
//! extension's G-stage translation would be a second one beside it.

pub mod pmp;
