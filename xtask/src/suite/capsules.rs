//! Many capsules on a few harts: capsules started from the manifest at
//! boot beside the boot capsule, scheduled over the harts, isolated from
//! each other, ended alone, restarted where their manifest says so, and
//! sharing one console (tagged lines, a focus key).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, ensure};

use super::linux::{PROMPT, memory_mib};
use super::{Case, FOCUS, case, expect_all, fixture, poweroff};
use crate::cargo::Build;
use crate::paths;
use crate::qemu::{Machine, Running};
use crate::supervisor;
use crate::target::Target;

const BOOT_TIMEOUT: Duration = Duration::from_secs(300);
const RUN_TIMEOUT: Duration = Duration::from_secs(180);
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

pub fn cases(t: Target) -> Vec<Case> {
    let a = t.arch();
    vec![
        case(format!("{a}: capsules: eight test-guest capsules beside the boot capsule on 2 harts all count their timer interrupts"), move || eight(t)),
        case(format!("{a}: capsules: two CPU-bound capsules on 1 hart get shares within 10% of each other"), move || fair(t)),
        case(format!("{a}: capsules: two capsules sharing 1 hart keep their own sscratch, vsscratch and henvcfg (H) and (where the harts have FP) FP registers, which start zeroed"), move || keep(t, false)),
        case(format!("{a}: capsules: on harts with vector registers, which capsules can turn on although V is not offered, two capsules sharing 1 hart keep their own, which start zeroed"), move || keep(t, true)),
        case(format!("{a}: capsules: a second capsule's loads, stores and fetches to the boot capsule's and a third capsule's RAM are contained"), move || attack(t)),
        case(format!("{a}: capsules: a crashing capsule ends alone, is restarted into zeroed RAM up to its limit; one too big for the RAM is refused"), move || crash(t)),
        case(format!("{a}: capsules: a second capsule's virtio console has no control port, and its hostile queues stop only its own device"), move || virtio_second(t)),
        case(format!("{a}: capsules: two Linux capsules beside the boot capsule on -smp 2; each answers info with its own CPUs and memory once it has the focus"), move || linux_three(t)),
        case(format!("{a}: capsules: a 4-vcore Linux boot capsule on -smp 1 has 4 CPUs online and sees steal time"), move || linux_overcommitted(t)),
    ]
}

/// One manifest entry for a test guest.
struct Guest<'a> {
    name: &'a str,
    image: &'a Path,
    scenario: &'a str,
    extra: &'a str,
}

fn manifest(t: Target, file: &str, entries: &[Guest]) -> Result<PathBuf> {
    let dir = paths::test_target_dir().join("capsules").join(t.arch());
    std::fs::create_dir_all(&dir)?;
    let mut text = String::new();
    for g in entries {
        text += &format!(
            "[[capsule]]\nname = \"{}\"\nimage = \"{}\"\nram_mib = 16\nautostart = true\nbootargs = \"diosix.test={}\"\n{}\n",
            g.name,
            g.image.display(),
            g.scenario,
            g.extra
        );
    }
    let path = dir.join(file);
    std::fs::write(&path, text)?;
    Ok(path)
}

/// `n` test guests for capsules beside a test-guest boot capsule. On rv64
/// the guest relocates itself, so one image serves all; the rv32 one
/// cannot, so each copy is linked where its capsule's RAM will be: the
/// 16 MiB blocks after the boot capsule's 256 MiB at 0x84000000.
fn guests(t: Target, n: usize) -> Result<Vec<PathBuf>> {
    if t.is_64bit() {
        return Ok(vec![fixture::guest(t)?; n]);
    }
    (0..n)
        .map(|i| {
            let base = format!("{:#x}", 0x9400_0000u64 + ((i as u64) << 24));
            let dir = paths::test_target_dir();
            let name = format!("testguest-at-{base}");
            Build { package: "testguest", target: t, release: false, target_dir: Some(&dir), supervisor: None, keep: Some(&name) }
                .run_with_env(&[("DIOSIX_TESTGUEST_BASE", &base)])
        })
        .collect()
}

/// The hypervisor with `boot` as its boot capsule and the manifest's
/// capsules bundled, console tags without colour (so tests match text).
pub(super) fn hypervisor(t: Target, boot: &Path, manifest: &Path, name: &str, env: &[(&str, &str)]) -> Result<PathBuf> {
    let dir = paths::test_target_dir();
    let mut all = vec![("DIOSIX_CAPSULES", manifest.to_str().context("manifest path")?), ("DIOSIX_CONSOLE_COLOUR", "0")];
    all.extend_from_slice(env);
    Build { package: "hypervisor", target: t, release: false, target_dir: Some(&dir), supervisor: Some(boot), keep: Some(name) }
        .run_with_env(&all)
}

/// A test-guest boot capsule that idles long enough (its own timer
/// interrupts, as a capsule beside the others) for them to finish.
fn machine(t: Target, exe: &Path, smp: u32) -> Machine {
    let mut m = Machine::new(t, exe);
    m.smp = smp;
    m.memory_mib = 1024;
    m.append = Some("-- diosix.test=ticks:6000".into());
    m
}

/// Ends the run; the output must hold no failed check.
fn finish(vm: Running) -> Result<String> {
    let out = vm.finish(Duration::from_millis(100)).output;
    ensure!(!out.contains("testguest: FAIL"), "a check failed\n{out}");
    ensure!(!out.contains("boot capsule died"), "the boot capsule died\n{out}");
    Ok(out)
}

fn eight(t: Target) -> Result<()> {
    let images = guests(t, 8)?;
    let names: Vec<String> = (1..=8).map(|i| format!("tick{i}")).collect();
    let entries: Vec<Guest> = names
        .iter()
        .zip(&images)
        .map(|(n, i)| Guest { name: n, image: i, scenario: "ticks:100", extra: "" })
        .collect();
    let exe = hypervisor(t, &fixture::guest(t)?, &manifest(t, "eight.toml", &entries)?, "eight", &[])?;
    let mut vm = machine(t, &exe, 2).spawn()?;
    let needles: Vec<String> = names.iter().map(|n| format!("({n}) shut down")).collect();
    let mut all: Vec<&str> = needles.iter().map(String::as_str).collect();
    let passes: Vec<String> = names.iter().map(|n| format!("[{n}] testguest: PASS ticks 100")).collect();
    all.extend(passes.iter().map(String::as_str));
    vm.wait_all(&all, RUN_TIMEOUT)?;
    let out = finish(vm)?;
    // Progress lines come from each capsule while the others run.
    for n in &names {
        ensure!(out.contains(&format!("[{n}] testguest: ticks 50")), "{n} printed no progress\n{out}");
    }
    // They write a byte at a time, nine at once: each line still comes
    // out whole (held until it ends, not broken by the others').
    for line in out.lines().filter(|l| l.starts_with("[tick") || l.starts_with("[boot]")) {
        let text = line.split_once("] ").map_or("", |(_, t)| t);
        ensure!(ticks_line(text), "a capsule's line came out in pieces: {line:?}\n{out}");
    }
    Ok(())
}

/// A whole line of the `ticks` scenario (after its tag).
fn ticks_line(text: &str) -> bool {
    let number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let Some(rest) = text.strip_prefix("testguest: ") else { return false };
    rest == "all passed"
        || rest.strip_prefix("ticks ").is_some_and(number)
        || rest.strip_prefix("PASS ticks ").is_some_and(number)
        || rest.strip_prefix("ticks took ").and_then(|r| r.strip_suffix(" ms")).is_some_and(number)
        || rest.strip_prefix("hart ").and_then(|r| r.split_once(", scenario ticks:")).is_some_and(|(h, n)| number(h) && number(n))
}

fn virtio_second(t: Target) -> Result<()> {
    let images = guests(t, 1)?;
    let entries = [Guest { name: "second", image: &images[0], scenario: "virtio-second", extra: "" }];
    let exe = hypervisor(t, &fixture::guest(t)?, &manifest(t, "virtio.toml", &entries)?, "virtio", &[])?;
    let mut vm = machine(t, &exe, 2).spawn()?;
    vm.wait_all(&["[second] testguest: PASS virtio: the boot capsule alone has the control port",
                    "[second] testguest: PASS virtio: no queue for a control port here",
                    "[second] testguest: PASS virtio: every hostile queue stops the device, and a reset brings it back",
                    "[second] testguest: still running after the virtio tests", "(second) shut down"], RUN_TIMEOUT)?;
    let out = finish(vm)?;
    ensure!(out.contains("capsule 2 (second): its virtio console stopped"), "the broken device was not reported\n{out}");
    ensure!(!out.contains("boot capsule: its virtio console stopped"), "the boot capsule's device stopped too\n{out}");
    Ok(())
}

/// The `(time, count)` samples capsule `name` printed while spinning.
fn spin_samples(out: &str, name: &str) -> Vec<(u64, u64)> {
    out.lines()
        .filter_map(|l| l.split_once(&format!("[{name}] testguest: spin sample ")).map(|(_, r)| r.trim()))
        .filter_map(|r| r.split_once(' ').and_then(|(t, c)| Some((t.parse().ok()?, c.parse().ok()?))))
        .collect()
}

/// A capsule's count at time `t`, between its samples (linearly).
fn count_at(samples: &[(u64, u64)], t: u64) -> Option<f64> {
    let w = samples.windows(2).find(|w| w[0].0 <= t && t <= w[1].0)?;
    let ((t0, c0), (t1, c1)) = (w[0], w[1]);
    Some(c0 as f64 + (c1 - c0) as f64 * (t - t0) as f64 / (t1 - t0).max(1) as f64)
}

fn fair(t: Target) -> Result<()> {
    let images = guests(t, 2)?;
    let entries = [
        Guest { name: "spinA", image: &images[0], scenario: "spin:3000", extra: "" },
        Guest { name: "spinB", image: &images[1], scenario: "spin:3000", extra: "" },
    ];
    let exe = hypervisor(t, &fixture::guest(t)?, &manifest(t, "fair.toml", &entries)?, "fair", &[])?;
    let mut vm = machine(t, &exe, 1).spawn()?;
    vm.wait_all(&["[spinA] testguest: PASS spin", "[spinB] testguest: PASS spin"], RUN_TIMEOUT)?;
    let out = finish(vm)?;
    // Compare what each did while both ran: from the later first sample
    // to the earlier last one (at least a second).
    let (a, b) = (spin_samples(&out, "spinA"), spin_samples(&out, "spinB"));
    ensure!(a.len() >= 4 && b.len() >= 4, "too few spin samples ({} and {})\n{out}", a.len(), b.len());
    let from = a[0].0.max(b[0].0);
    let to = a[a.len() - 1].0.min(b[b.len() - 1].0);
    let done = |s: &[(u64, u64)]| -> Result<f64> {
        Ok(count_at(s, to).context("no sample at the end")? - count_at(s, from).context("no sample at the start")?)
    };
    let (da, db) = (done(&a)?, done(&b)?);
    ensure!(to > from, "the spinners never ran at the same time\n{out}");
    let (lo, hi) = (da.min(db), da.max(db));
    ensure!(lo > 0.0 && (hi - lo) * 10.0 <= hi, "shares differ by more than 10% over the time both ran: spinA {da:.0}, spinB {db:.0}\n{out}");
    Ok(())
}

/// Harts with vector registers: V, 256 bits each. QEMU 10 lets
/// `sstatus.VS` be turned on only with the full V, which needs D, so on
/// the imac targets these harts have FP too.
const VECTOR_HARTS: &str = "f=true,d=true,v=true,vlen=256";

fn keep(t: Target, vector: bool) -> Result<()> {
    let images = guests(t, 2)?;
    let entries = [
        Guest { name: "keepA", image: &images[0], scenario: "keep:1500:1", extra: "" },
        Guest { name: "keepB", image: &images[1], scenario: "keep:1500:2", extra: "" },
    ];
    let exe = hypervisor(t, &fixture::guest(t)?, &manifest(t, "keep.toml", &entries)?, "keep", &[])?;
    let mut m = machine(t, &exe, 1);
    if vector {
        m.cpu_extras = Some(VECTOR_HARTS.into());
    }
    let mut vm = m.spawn()?;
    vm.wait_all(&["(keepA) shut down", "(keepB) shut down"], RUN_TIMEOUT)?;
    let out = finish(vm)?;
    let vector_lines = [
        "[keepA] testguest: PASS keep: vector registers start at zero",
        "[keepB] testguest: PASS keep: vector registers start at zero",
        "[keepA] testguest: PASS keep: vector registers and configuration kept",
        "[keepB] testguest: PASS keep: vector registers and configuration kept",
    ];
    if vector {
        ensure!(out.contains("vector registers: on harts 0, 256 bits, kept per vcore"), "the boot report does not name the vector registers\n{out}");
        return expect_all(&out, &vector_lines);
    }
    ensure!(!out.contains("PASS keep: vector"), "the harts have no vector registers, yet the guest found some\n{out}");
    // QEMU's harts have the H extension: its CSRs are switched too.
    // keepA's seed is odd: its henvcfg.FIOM is set, keepB's clear.
    expect_all(&out, &["[keepA] testguest: PASS keep: vsscratch and henvcfg (0x1) (H extension) kept",
                       "[keepB] testguest: PASS keep: vsscratch and henvcfg (0x0) (H extension) kept"])?;
    if t.has_fpu() {
        expect_all(&out, &[
            "[keepA] testguest: PASS keep: FP registers start at zero",
            "[keepB] testguest: PASS keep: FP registers start at zero",
            "[keepA] testguest: PASS keep: sscratch and FP registers kept for 1500 ms",
            "[keepB] testguest: PASS keep: sscratch and FP registers kept for 1500 ms",
        ])
    } else {
        // The imac targets are tested on harts without F and D.
        expect_all(&out, &["[keepA] testguest: PASS keep: sscratch kept for 1500 ms", "[keepB] testguest: PASS keep: sscratch kept for 1500 ms"])
    }
}

/// The RAM a capsule was given, from its "started" line.
fn capsule_ram(out: &str, name: &str) -> Result<(u64, u64)> {
    let rest = out
        .lines()
        .find_map(|l| l.split_once(&format!("({name}) started: ram ")).map(|(_, r)| r.to_string()))
        .with_context(|| format!("no start line for {name}\n{out}"))?;
    let range = rest.split_whitespace().next().context("range")?;
    let (s, e) = range.split_once("..").context("range")?;
    let hex = |x: &str| u64::from_str_radix(x.trim_start_matches("0x"), 16);
    Ok((hex(s)?, hex(e)?))
}

fn attack(t: Target) -> Result<()> {
    let images = guests(t, 2)?;
    let entries = [
        Guest { name: "victim", image: &images[0], scenario: "ticks:300", extra: "" },
        Guest { name: "attacker", image: &images[1], scenario: "attack:0x80000000-0xc0000000", extra: "" },
    ];
    let exe = hypervisor(t, &fixture::guest(t)?, &manifest(t, "attack.toml", &entries)?, "attack", &[])?;
    let mut vm = machine(t, &exe, 2).spawn()?;
    vm.wait_all(&["[attacker] testguest: PASS attack\n", "[victim] testguest: PASS ticks 300", "[diosix] capsule 3 (attacker) shut down"], RUN_TIMEOUT)?;
    let out = finish(vm)?;
    expect_all(&out, &["[attacker] testguest: PASS attack store", "[attacker] testguest: PASS attack load", "[attacker] testguest: PASS attack fetch"])?;
    // Every 16 MiB from 0x80000000 was attacked: both the boot capsule's
    // and the victim's RAM held an attacked address.
    let boot = out.lines().find_map(|l| l.split_once("boot capsule: ram ").map(|(_, r)| r.to_string())).context("boot report")?;
    let (bs, be) = boot.split_whitespace().next().and_then(|r| r.split_once("..")).context("boot range")?;
    let hex = |x: &str| u64::from_str_radix(x.trim_start_matches("0x"), 16).unwrap_or(0);
    let (vs, ve) = capsule_ram(&out, "victim")?;
    for (what, s, e) in [("boot capsule", hex(bs), hex(be)), ("victim", vs, ve)] {
        let first = (s.saturating_sub(0x8000_0000)).div_ceil(16 << 20) * (16 << 20) + 0x8000_0000;
        ensure!(first < e, "no attacked address fell in the {what}'s RAM {s:#x}..{e:#x}\n{out}");
    }
    Ok(())
}

fn crash(t: Target) -> Result<()> {
    let images = guests(t, 3)?;
    let entries = [
        Guest { name: "crasher", image: &images[0], scenario: "zeroed", extra: "on_death = \"restart\"\nrestart_limit = 2" },
        Guest { name: "neighbour", image: &images[1], scenario: "ticks:500", extra: "" },
        Guest { name: "huge", image: &images[2], scenario: "hello", extra: "" },
    ];
    let text = std::fs::read_to_string(manifest(t, "crash.toml", &entries)?)?;
    // The last entry asks for more RAM than the machine has.
    let path = manifest(t, "crash.toml", &[])?;
    std::fs::write(&path, text.replacen("ram_mib = 16\nautostart = true\nbootargs = \"diosix.test=hello\"", "ram_mib = 4096\nautostart = true\nbootargs = \"diosix.test=hello\"", 1))?;
    let exe = hypervisor(t, &fixture::guest(t)?, &path, "crash", &[])?;
    let mut vm = machine(t, &exe, 2).spawn()?;
    vm.wait_all(&["[diosix] crasher reached its restart limit (2); it stays stopped", "[neighbour] testguest: PASS ticks 500"], RUN_TIMEOUT)?;
    let out = finish(vm)?;
    expect_all(&out, &["[diosix] cannot start capsule huge: not enough free RAM: 4 GiB asked for, the largest free block is ", "[diosix] restarting crasher (restart 1 of 2)", "[diosix] restarting crasher (restart 2 of 2)"])?;
    // Three lives, each finding its RAM zeroed although the one before
    // dirtied all of it, and each death reported.
    ensure!(out.matches("[crasher] testguest: PASS zeroed").count() == 3, "the crasher did not run three times with zeroed RAM\n{out}");
    ensure!(out.matches("[crasher] testguest: dirtied ").count() == 3, "the crasher did not dirty its RAM each time\n{out}");
    ensure!(out.matches("(crasher) died after ").count() == 3, "not every death was reported\n{out}");
    // Each restart got the same RAM back (the hole it left), so zeroed
    // really checks what the last one dirtied.
    let rams: Vec<&str> = out.lines().filter_map(|l| l.split_once("(crasher) started: ram ").map(|(_, r)| r)).collect();
    ensure!(rams.len() == 3 && rams.iter().all(|r| *r == rams[0]), "the restarts did not reuse the crasher's RAM: {rams:?}\n{out}");
    // And its id: a restarted capsule is the same capsule to its user.
    let ids: Vec<&str> = out.lines().filter_map(|l| l.split_once(" (crasher) started").map(|(c, _)| c)).collect();
    ensure!(ids.len() == 3 && ids.iter().all(|i| *i == ids[0]), "the restarts did not keep the crasher's id: {ids:?}\n{out}");
    Ok(())
}

/// The hypervisor with Linux as the boot capsule and `manifest` bundled.
fn with_linux(t: Target, manifest_text: &str, name: &str, env: &[(&str, &str)]) -> Result<(PathBuf, PathBuf)> {
    let built = supervisor::build(t)?;
    let dir = paths::test_target_dir().join("capsules").join(t.arch());
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, manifest_text.replace("{vmlinux}", &built.vmlinux.display().to_string()))?;
    let exe = hypervisor(t, &built.vmlinux, &path, name, env)?;
    Ok((exe, built.vmlinux))
}

/// Types `info` for the capsule with the focus, tagged `tag`; returns its
/// CPUs and MiB.
fn info(vm: &mut Running, tag: &str) -> Result<(u32, u64)> {
    vm.send("info\r")?;
    let cpus = vm.expect(&format!("[{tag}] cpus:"), REPLY_TIMEOUT)?;
    let memory = vm.expect(&format!("[{tag}] memory:"), REPLY_TIMEOUT)?;
    vm.expect(&format!("[{tag}] {PROMPT}"), REPLY_TIMEOUT)?;
    Ok((cpus.trim().parse().with_context(|| format!("cpus: {cpus}"))?, memory_mib(&memory)?))
}

fn linux_three(t: Target) -> Result<()> {
    let text = "[[capsule]]\nname = \"one\"\nimage = \"{vmlinux}\"\nram_mib = 128\nvcores = 1\nautostart = true\n\n\
                [[capsule]]\nname = \"two\"\nimage = \"{vmlinux}\"\nram_mib = 192\nvcores = 3\nautostart = true\n";
    let (exe, _) = with_linux(t, text, "three", &[])?;
    let mut m = Machine::new(t, &exe);
    m.smp = 2;
    m.memory_mib = 1024;
    let mut vm = m.spawn()?;
    let prompts = ["[boot] diosix boot capsule", "[one] diosix boot capsule", "[two] diosix boot capsule"];
    vm.wait_all(&prompts, BOOT_TIMEOUT)?;
    vm.wait_all(&["[boot] type 'help'", "[one] type 'help'", "[two] type 'help'"], BOOT_TIMEOUT)?;
    // Input goes to the boot capsule first, then to each in turn.
    let mut seen = Vec::new();
    for (tag, id) in [("boot", 1), ("one", 2), ("two", 3), ("boot", 1)] {
        if !seen.is_empty() {
            vm.send(FOCUS)?;
            vm.expect(&format!("[diosix] console input goes to {tag} (capsule {id})"), REPLY_TIMEOUT)?;
        }
        seen.push((tag, info(&mut vm, tag)?));
    }
    let transcript = vm.transcript();
    for (tag, (cpus, mib), want_cpus, want_mib) in [
        ("boot", seen[0].1, 2, 256),
        ("one", seen[1].1, 1, 128),
        ("two", seen[2].1, 3, 192),
    ] {
        ensure!(cpus == want_cpus, "{tag} sees {cpus} CPUs, expected {want_cpus}\n{transcript}");
        ensure!((want_mib * 3 / 4..=want_mib).contains(&mib), "{tag} sees {mib} MiB of its {want_mib}\n{transcript}");
    }
    poweroff(vm, REPLY_TIMEOUT)
}

fn linux_overcommitted(t: Target) -> Result<()> {
    let (exe, _) = with_linux(t, "", "four", &[("DIOSIX_BOOT_CAPSULE_VCORES", "4")])?;
    let mut m = Machine::new(t, &exe);
    m.smp = 1;
    m.memory_mib = 512;
    let mut vm = m.spawn()?;
    vm.expect(", vcores 0 1 2 3 on harts 0, ", BOOT_TIMEOUT)?;
    vm.expect("diosix boot capsule", BOOT_TIMEOUT)?;
    vm.expect(PROMPT, BOOT_TIMEOUT)?;
    vm.send("info\r")?;
    let cpus = vm.expect("cpus:", REPLY_TIMEOUT)?;
    vm.expect(PROMPT, REPLY_TIMEOUT)?;
    vm.send("cat /proc/stat\r")?;
    vm.expect("intr ", REPLY_TIMEOUT)?;
    vm.expect(PROMPT, REPLY_TIMEOUT)?;
    let transcript = vm.transcript();
    ensure!(cpus.trim() == "4", "Linux sees {cpus} CPUs on 4 vcores, expected 4\n{transcript}");
    ensure!(transcript.contains("SBI STA extension detected"), "Linux did not find steal-time accounting\n{transcript}");
    // Four vcores on one hart wait for it while booting: steal time
    // (the 8th field of the cpu line) is not zero.
    let stat = transcript.rsplit("cat /proc/stat").next().unwrap_or("");
    let steal: u64 = stat
        .lines()
        .find(|l| l.starts_with("cpu "))
        .and_then(|l| l.split_whitespace().nth(8))
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("no cpu line in /proc/stat\n{transcript}"))?;
    ensure!(steal > 0, "/proc/stat shows no steal time with 4 vcores on 1 hart\n{transcript}");
    poweroff(vm, REPLY_TIMEOUT)
}

#[cfg(test)]
mod tests {
    use super::ticks_line;

    #[test]
    fn ticks_lines_whole_and_in_pieces() {
        for whole in ["testguest: ticks 40", "testguest: PASS ticks 100", "testguest: all passed",
                      "testguest: ticks took 1033 ms", "testguest: hart 0, scenario ticks:100"] {
            assert!(ticks_line(whole), "{whole:?}");
        }
        // Pieces seen when lines were broken by other capsules'.
        for piece in ["t", "testguest", "estguest: ticks 50", ": ticks 40", "testguest: PASS ti", "testguest: ticks took 10"] {
            assert!(!ticks_line(piece), "{piece:?}");
        }
    }
}
