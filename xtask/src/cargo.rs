//! Running cargo for the bare-metal packages.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::target::Target;

/// What to build.
pub struct Build<'a> {
    pub package: &'a str,
    pub target: Target,
    pub release: bool,
    pub target_dir: Option<&'a Path>,
    /// A kernel to embed instead of `boot/binaries/<arch>/supervisor`.
    pub supervisor: Option<&'a Path>,
    /// Keep this build's executable as `<target dir>/kept/<name>/<triple>/
    /// <profile>/<package>`. Builds with other settings (an embedded kernel,
    /// a manifest, `DIOSIX_*` values) then share one target directory, and
    /// so their dependencies, while each test still runs the executable it
    /// built: cargo's own copy is replaced by the next build.
    pub keep: Option<&'a str>,
}


/// Outcome of a build: the executable, or cargo's diagnostics.
pub enum Outcome {
    Built(PathBuf),
    Failed { stderr: String },
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

impl Build<'_> {
    fn command(&self) -> Command {
        let mut cmd = cargo();
        cmd.current_dir(crate::paths::root());
        cmd.args(["build", "--package", self.package, "--target", self.target.triple()]);
        cmd.arg("--message-format=json-render-diagnostics");
        if self.release {
            cmd.arg("--release");
        }
        if let Some(dir) = self.target_dir {
            cmd.arg("--target-dir").arg(dir);
        }
        match self.supervisor {
            Some(s) => cmd.env("DIOSIX_SUPERVISOR", s),
            None => cmd.env_remove("DIOSIX_SUPERVISOR"),
        };
        // The repository's own manifest unless a caller names another.
        cmd.env_remove("DIOSIX_CAPSULES");
        cmd
    }

    /// Builds, letting cargo's progress and errors reach the terminal.
    pub fn run(&self) -> Result<PathBuf> {
        self.run_with_env(&[])
    }

    /// Builds with these build-time settings (e.g. `DIOSIX_BOOT_CAPSULE_MIB`)
    /// in the environment.
    pub fn run_with_env(&self, env: &[(&str, &str)]) -> Result<PathBuf> {
        let output = self
            .command()
            .envs(env.iter().copied())
            .stderr(Stdio::inherit())
            .output()
            .context("cannot run cargo")?;
        if !output.status.success() {
            bail!("building {} for {} failed", self.package, self.target);
        }
        self.kept(executable(&output.stdout, self.package)?)
    }

    /// Builds, capturing diagnostics (for tests that expect a refusal).
    pub fn try_run(&self) -> Result<Outcome> {
        self.try_run_with_env(&[])
    }

    /// [`Build::try_run`] with these build-time settings.
    pub fn try_run_with_env(&self, env: &[(&str, &str)]) -> Result<Outcome> {
        let output = self.command().envs(env.iter().copied()).output().context("cannot run cargo")?;
        if !output.status.success() {
            return Ok(Outcome::Failed { stderr: String::from_utf8_lossy(&output.stderr).into() });
        }
        Ok(Outcome::Built(self.kept(executable(&output.stdout, self.package)?)?))
    }

    /// The executable, copied where [`Build::keep`] says. The copy is left
    /// alone when it already holds the same bytes, so that its time stamp
    /// (which decides whether a build embedding it must run again) moves
    /// only when it changes.
    fn kept(&self, exe: PathBuf) -> Result<PathBuf> {
        let Some(name) = self.keep else { return Ok(exe) };
        let base = self.target_dir.map_or_else(crate::paths::target_dir, Path::to_path_buf);
        let copy = kept_path(&base, name, self.target, self.release, self.package);
        let dir = copy.parent().context("a kept executable's path has no folder")?;
        let bytes = std::fs::read(&exe).with_context(|| format!("cannot read {}", exe.display()))?;
        if std::fs::read(&copy).ok().as_deref() != Some(&bytes[..]) {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            std::fs::copy(&exe, &copy).with_context(|| format!("cannot copy {} to {}", exe.display(), copy.display()))?;
        }
        Ok(copy)
    }
}

/// Where a build kept as `name` in `target_dir` leaves its executable.
pub fn kept_path(target_dir: &Path, name: &str, target: Target, release: bool, package: &str) -> PathBuf {
    let profile = if release { "release" } else { "debug" };
    target_dir.join("kept").join(name).join(target.triple()).join(profile).join(package)
}

/// The `executable` of the last compiler artifact for `package`.
fn executable(json_lines: &[u8], package: &str) -> Result<PathBuf> {
    let text = String::from_utf8_lossy(json_lines);
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["name"] == package)
        .filter_map(|v| v["executable"].as_str().map(PathBuf::from))
        .next_back()
        .with_context(|| format!("cargo reported no executable for {package}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_executable_among_messages() {
        let msgs = br#"{"reason":"compiler-artifact","target":{"name":"spin"},"executable":null}
{"reason":"compiler-artifact","target":{"name":"hypervisor"},"executable":"/t/riscv64gc-unknown-none-elf/debug/hypervisor"}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            executable(msgs, "hypervisor").unwrap(),
            PathBuf::from("/t/riscv64gc-unknown-none-elf/debug/hypervisor")
        );
        assert!(executable(msgs, "testguest").is_err());
    }
}
