//! Hashing build inputs, so a build whose inputs have not changed is found
//! in the cache instead of being run again.

use std::path::Path;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

/// Accumulates labelled inputs; the label keeps `("a", "bc")` and
/// `("ab", "c")` apart.
pub struct InputHash(Sha256);

impl InputHash {
    pub fn new(purpose: &str) -> InputHash {
        let mut h = InputHash(Sha256::new());
        h.text("purpose", purpose);
        h
    }

    pub fn bytes(&mut self, label: &str, data: &[u8]) -> &mut Self {
        for part in [label.as_bytes(), data] {
            self.0.update((part.len() as u64).to_le_bytes());
            self.0.update(part);
        }
        self
    }

    pub fn text(&mut self, label: &str, s: &str) -> &mut Self {
        self.bytes(label, s.as_bytes())
    }

    /// A file's contents (not its name or time stamps).
    pub fn file(&mut self, label: &str, path: &Path) -> Result<&mut Self> {
        let data = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        Ok(self.bytes(label, &data))
    }

    /// The first 16 hex digits: plenty to tell builds apart.
    pub fn finish(&self) -> String {
        let digest = self.0.clone().finalize();
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }
}

/// The full SHA-256 of a file, in hex.
pub fn file_sha256(path: &Path) -> Result<String> {
    let data = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Sha256::digest(&data).iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_inputs_same_hash_and_any_change_shows() {
        let h = |a: &str, b: &str| InputHash::new("t").text("a", a).text("b", b).finish();
        assert_eq!(h("x", "y"), h("x", "y"));
        assert_ne!(h("x", "y"), h("x", "z"));
        assert_ne!(h("ab", "c"), h("a", "bc"), "boundaries between inputs count");
        assert_ne!(InputHash::new("t").finish(), InputHash::new("u").finish());
        assert_eq!(h("x", "y").len(), 16);
    }

    #[test]
    fn file_contents_are_hashed() {
        let dir = std::env::temp_dir().join(format!("xtask-hash-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("f");
        std::fs::write(&f, "one").unwrap();
        let first = InputHash::new("t").file("f", &f).unwrap().finish();
        std::fs::write(&f, "two").unwrap();
        let second = InputHash::new("t").file("f", &f).unwrap().finish();
        assert_ne!(first, second);
        assert!(InputHash::new("t").file("f", &dir.join("missing")).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
