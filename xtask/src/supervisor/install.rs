//! Putting a built supervisor at `boot/binaries/<arch>/supervisor` without
//! ever leaving half a file there, and without replacing one a user placed.
//!
//! A supervisor we install gets a marker beside it holding its SHA-256; a
//! file there without a matching marker is the user's.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::hash::file_sha256;

/// Who the file at the supervisor path belongs to.
#[derive(Debug, PartialEq, Eq)]
pub enum Owner {
    Absent,
    /// Installed by xtask and unchanged since.
    Xtask,
    /// Placed (or changed) by the user.
    User,
}

pub fn marker_path(supervisor: &Path) -> PathBuf {
    supervisor.with_file_name(".supervisor.built-by-xtask")
}

pub fn owner(supervisor: &Path) -> Owner {
    if !supervisor.exists() {
        return Owner::Absent;
    }
    let recorded = std::fs::read_to_string(marker_path(supervisor)).unwrap_or_default();
    match file_sha256(supervisor) {
        Ok(hash) if hash == recorded.trim() => Owner::Xtask,
        _ => Owner::User,
    }
}

/// Copies `built` to `dest` atomically (a temporary file in the same
/// directory, then a rename), then records it as ours.
pub fn install(built: &Path, dest: &Path) -> Result<()> {
    let dir = dest.parent().context("supervisor path has no directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = dir.join(format!(".supervisor.tmp-{}", std::process::id()));
    let result = (|| {
        std::fs::copy(built, &tmp)
            .with_context(|| format!("cannot copy {} to {}", built.display(), tmp.display()))?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, dest)
            .with_context(|| format!("cannot move {} into place", tmp.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result?;
    std::fs::write(marker_path(dest), file_sha256(dest)? + "\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ownership_follows_the_marker() {
        let dir = std::env::temp_dir().join(format!("xtask-install-{}", std::process::id()));
        let dest = dir.join("riscv64gc/supervisor");
        let built = dir.join("vmlinux");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&built, "kernel v1").unwrap();

        assert_eq!(owner(&dest), Owner::Absent);
        install(&built, &dest).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"kernel v1");
        assert_eq!(owner(&dest), Owner::Xtask);
        let leftovers: Vec<_> = std::fs::read_dir(dest.parent().unwrap())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("tmp"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left behind");

        // The user replaces it: now it is theirs.
        std::fs::write(&dest, "my own kernel").unwrap();
        assert_eq!(owner(&dest), Owner::User);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_failed_copy_leaves_the_old_file_alone() {
        let dir = std::env::temp_dir().join(format!("xtask-install-fail-{}", std::process::id()));
        let dest = dir.join("supervisor");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&dest, "old").unwrap();
        assert!(install(&dir.join("does-not-exist"), &dest).is_err());
        assert_eq!(std::fs::read(&dest).unwrap(), b"old");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
