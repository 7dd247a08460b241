//! Where things live: the workspace, its build outputs and the build cache.

use std::path::{Path, PathBuf};

/// The workspace root (the parent of this crate's directory).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// Where a user's (or our own) supervisor for `arch` goes.
pub fn supervisor(arch: &str) -> PathBuf {
    root().join("boot/binaries").join(arch).join("supervisor")
}

/// Cargo's target directory for normal builds.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => std::path::absolute(d).unwrap_or_else(|_| root().join("target")),
        None => root().join("target"),
    }
}

/// A separate target directory for test builds, so embedding the test guest
/// never replaces the executable a user built.
pub fn test_target_dir() -> PathBuf {
    target_dir().join("xtask-tests")
}

/// The build cache for long builds (kernels), outside the clone so that
/// fresh clones on the same machine reuse it: `$DIOSIX_CACHE`, else
/// `$XDG_CACHE_HOME/diosix`, else `~/.cache/diosix`.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("DIOSIX_CACHE") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("diosix");
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into());
    PathBuf::from(home).join(".cache/diosix")
}
