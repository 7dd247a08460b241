//! What the build put into the executable: the settings read from the
//! environment at compile time, the boot capsule's kernel and the
//! capsule images bundled from the manifest. Plain data that every layer
//! may read; it depends on none of them.

pub mod settings;
pub mod storage;
pub mod supervisor;
