//! Long build steps: a line (or spinner) saying what runs and for how long,
//! every command's output in a log file, and on failure the log's path and
//! its last lines.

use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};

/// Runs commands for one step, appending their output to a log.
pub struct Runner {
    log: PathBuf,
}

impl Runner {
    fn log_file(&self) -> Result<File> {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("cannot open log {}", self.log.display()))
    }

    /// Runs `cmd` with its output going to the log; fails with the log's tail.
    pub fn run(&self, cmd: &mut Command) -> Result<()> {
        let mut log = self.log_file()?;
        writeln!(log, "\n$ {}", crate::qemu::describe(cmd))?;
        let status = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log.try_clone()?)
            .status()
            .with_context(|| format!("cannot start {}", cmd.get_program().to_string_lossy()))?;
        if !status.success() {
            bail!(
                "`{}` failed ({status}); last lines of {}:\n{}",
                crate::qemu::describe(cmd),
                self.log.display(),
                tail(&self.log, 25)
            );
        }
        Ok(())
    }
}

fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 { format!("{}m{:02}s", s / 60, s % 60) } else { format!("{:.1}s", d.as_secs_f64()) }
}

/// Runs one step: shows `label` with the elapsed time, logs to `log`.
pub fn step<T>(label: &str, log: &Path, f: impl FnOnce(&Runner) -> Result<T>) -> Result<T> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // Start each step's log afresh.
    File::create(log).with_context(|| format!("cannot create log {}", log.display()))?;
    let runner = Runner { log: log.to_path_buf() };
    let started = Instant::now();
    let tty = std::io::stderr().is_terminal();
    let spinner = tty.then(|| {
        let pb = ProgressBar::new_spinner();
        pb.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").unwrap());
        pb.set_message(label.to_string());
        pb.enable_steady_tick(Duration::from_millis(200));
        pb
    });
    // Off a terminal (CI), a heartbeat line each minute shows it is alive.
    let done = Arc::new(AtomicBool::new(false));
    if !tty {
        eprintln!("==> {label} (log: {})", log.display());
        let (done, label) = (Arc::clone(&done), label.to_string());
        std::thread::spawn(move || {
            let mut last = Instant::now();
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(500));
                if last.elapsed() >= Duration::from_secs(60) && !done.load(Ordering::Relaxed) {
                    eprintln!("    ... {label}: {} so far", human(started.elapsed()));
                    last = Instant::now();
                }
            }
        });
    }
    let result = f(&runner);
    done.store(true, Ordering::Relaxed);
    if let Some(pb) = spinner {
        pb.finish_and_clear();
    }
    let verdict = if result.is_ok() { "done" } else { "FAILED" };
    eprintln!("==> {label}: {verdict} in {}", human(started.elapsed()));
    if result.is_err() {
        eprintln!("    full log: {}", log.display());
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_command_reports_log_and_tail() {
        let log = std::env::temp_dir().join(format!("xtask-step-{}.log", std::process::id()));
        let err = step("demo", &log, |r| {
            r.run(Command::new("sh").args(["-c", "echo first; echo oops >&2; exit 3"]))
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("failed (exit status: 3)"), "{err}");
        assert!(err.contains(&log.display().to_string()), "{err}");
        assert!(err.contains("first\noops"), "{err}");
        let _ = std::fs::remove_file(log);
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human(Duration::from_millis(2500)), "2.5s");
        assert_eq!(human(Duration::from_secs(133)), "2m13s");
    }
}
