//! Storage memory: the capsule images bundled into this executable from
//! the manifest (`boot/capsules.toml`), checked by build.rs as the
//! supervisor is. Listed in the boot report; those marked `autostart`
//! start right after the boot capsule (`capsule::autostart`).

/// What to do when a capsule dies (the manifest's `on_death`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(dead_code)] // a manifest need not use both
pub enum OnDeath {
    Stop,
    Restart,
}

/// One bundled image and how its capsule is to run.
pub struct Image {
    pub name: &'static str,
    pub bytes: &'static [u8],
    pub ram_mib: u32,
    pub vcores: u32,
    pub autostart: bool,
    pub on_death: OnDeath,
    pub restart_limit: u32,
    /// The kernel's command line from the manifest; empty when it gives
    /// none (the hypervisor then picks one, as for the boot capsule).
    pub bootargs: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/storage.rs"));
