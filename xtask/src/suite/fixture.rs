//! What the integration tests boot: the test guest, and a hypervisor with
//! the test guest embedded, built once per target into the test target dir.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{Result, anyhow};

use crate::cargo::Build;
use crate::paths;
use crate::target::Target;

#[derive(Clone)]
pub struct Fixture {
    pub guest: PathBuf,
    pub hypervisor: PathBuf,
}

static BUILT: Mutex<Option<HashMap<Target, Result<Fixture, String>>>> = Mutex::new(None);

/// The test guest and a hypervisor embedding it, for `target`. Built once;
/// built again if a refusal test has since removed the executable.
pub fn get(target: Target) -> Result<Fixture> {
    let mut built = BUILT.lock().unwrap();
    let map = built.get_or_insert_with(HashMap::new);
    if map.get(&target).is_some_and(|f| f.as_ref().is_ok_and(|f| !f.hypervisor.exists())) {
        map.remove(&target);
    }
    map.entry(target)
        .or_insert_with(|| build(target).map_err(|e| format!("{e:?}")))
        .clone()
        .map_err(|e| anyhow!("building the test fixture for {target} failed: {e}"))
}

/// Builds just the test guest.
pub fn guest(target: Target) -> Result<PathBuf> {
    let dir = paths::test_target_dir();
    Build { package: "testguest", target, release: false, target_dir: Some(&dir), supervisor: None, keep: Some("testguest") }
        .run()
}

fn build(target: Target) -> Result<Fixture> {
    let dir = paths::test_target_dir();
    let guest = guest(target)?;
    let hypervisor = Build {
        package: "hypervisor",
        target,
        release: false,
        target_dir: Some(&dir),
        supervisor: Some(&guest),
        keep: Some("fixture"),
    }
    .run()?;
    Ok(Fixture { guest, hypervisor })
}
