//! The capsule manager in the boot capsule's `/init`, over the control
//! channel (the boot capsule's virtio console port `diosix.ctl`): the
//! autostart list, listing images, starting a capsule from a bundled
//! image and from an image file in the boot capsule's filesystem,
//! listing, switching consoles, showing output, stopping, and every
//! refusal as a sentence with the manager going on.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, ensure};

use super::capsules::hypervisor;
use super::{Case, FOCUS, case, poweroff};
use crate::paths;
use crate::qemu::{Machine, Running};
use crate::supervisor::{self, Extra, Flavour};
use crate::target::Target;

const BOOT_TIMEOUT: Duration = Duration::from_secs(300);
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);
/// The boot capsule's prompt once other capsules share the console.
const PROMPT: &str = "[boot] diosix> ";
const AUTOSTART: &str = "# started by /init before its first prompt\nstart web name=auto1 ram=64M\n\nstart web name=auto2 ram=64M\n";

pub fn cases(t: Target) -> Vec<Case> {
    let a = t.arch();
    vec![
        case(format!("{a}: manager: the boot capsule's autostart file brings up two capsules with no typing; built for 3 capsules, a fourth is refused"), move || autostart(t)),
        case(format!("{a}: manager: at the boot capsule's prompt, list images, start, list, switch console, show output, stop (RAM back), upload an image file, start and restart a capsule from it, remove it (RAM back); a capsule whose kernel panics ends alone; refusals are sentences"), move || manage(t)),
    ]
}

/// The hypervisor whose boot capsule has an autostart file and a kernel
/// image file (`/images/linux`), with a kernel bundled as image `web`.
fn machine(t: Target) -> Result<Machine> {
    machine_with(t, &[])
}

/// [`machine`], the hypervisor built with `env` too.
fn machine_with(t: Target, env: &[(&str, &str)]) -> Result<Machine> {
    let ours = supervisor::build(t)?;
    let dir = paths::test_target_dir().join("manager").join(t.arch());
    std::fs::create_dir_all(&dir)?;
    let autostart = dir.join("autostart");
    std::fs::write(&autostart, AUTOSTART)?;
    let extra = [
        Extra { path: "/etc/diosix/autostart".into(), source: autostart },
        Extra { path: "/images/linux".into(), source: ours.vmlinux.clone() },
    ];
    let boot = supervisor::build_with(t, Flavour::Standard, &extra)?;
    let manifest: PathBuf = dir.join("capsules.toml");
    std::fs::write(
        &manifest,
        format!("[[capsule]]\nname = \"web\"\nimage = \"{}\"\nram_mib = 96\nvcores = 1\n", ours.vmlinux.display()),
    )?;
    let name = if env.is_empty() { "manager".to_string() } else { format!("manager-{}", env.len()) };
    let exe = hypervisor(t, &boot.vmlinux, &manifest, &name, env)?;
    let mut m = Machine::new(t, &exe);
    m.smp = 2;
    m.memory_mib = 1024;
    Ok(m)
}

/// Built to allow 3 capsules: the boot capsule and the two it autostarts
/// fill it, so a third start is refused.
fn autostart(t: Target) -> Result<()> {
    let mut vm = machine_with(t, &[("DIOSIX_MAX_CAPSULES", "3")])?.spawn()?;
    vm.wait_all(&["autostart: start web name=auto1 ram=64M", "started capsule 2 (auto1)", "started capsule 3 (auto2)",
                    "[auto1] type 'help'", "[auto2] type 'help'", PROMPT], BOOT_TIMEOUT)?;
    vm.expect(PROMPT, REPLY_TIMEOUT)?;
    let table = command(&mut vm, "capsules", "auto2")?;
    for name in ["auto1", "auto2"] {
        ensure!(table.lines().any(|l| l.contains(name) && l.contains("running")), "{name} is not listed as running\n{table}");
    }
    command(&mut vm, "start web name=fourth", "No more capsules can be made: 3 is the most there can be at once.")?;
    poweroff(vm, REPLY_TIMEOUT)
}

/// Sends `line`, waits for `needle` in its answer and then for the boot
/// capsule's next prompt; returns everything printed meanwhile.
fn command(vm: &mut Running, line: &str, needle: &str) -> Result<String> {
    let from = vm.transcript().len();
    vm.send(&format!("{line}\r"))?;
    vm.expect(needle, REPLY_TIMEOUT)?;
    vm.expect(PROMPT, REPLY_TIMEOUT)?;
    Ok(vm.transcript().get(from..).unwrap_or_default().to_string())
}

/// The MiB free that a refusal for 4 GiB reports.
fn free_mib(vm: &mut Running) -> Result<String> {
    vm.send("start web ram=4G\r")?;
    vm.expect("There is no room for 4096 MiB of RAM: ", REPLY_TIMEOUT)?;
    let free = vm.expect(" is free", REPLY_TIMEOUT)?;
    vm.expect(PROMPT, REPLY_TIMEOUT)?;
    Ok(free.trim_start_matches("only ").trim().to_string())
}

fn manage(t: Target) -> Result<()> {
    let mut vm = machine(t)?.spawn()?;
    vm.wait_all(&["[auto1] type 'help'", "[auto2] type 'help'", PROMPT], BOOT_TIMEOUT)?;
    vm.expect(PROMPT, REPLY_TIMEOUT)?;
    command(&mut vm, "images", "bundled")?;
    let before = free_mib(&mut vm)?;

    command(&mut vm, "start web name=web2 ram=96M", "started capsule 4 (web2)")?;
    vm.wait_all(&["[web2] type 'help'"], BOOT_TIMEOUT)?;
    command(&mut vm, "capsules", "web2")?;
    command(&mut vm, "console 4", "capsule 4 has the console; Ctrl-] brings it back here")?;
    vm.wait_all(&["[diosix] console input goes to web2 (capsule 4)"], REPLY_TIMEOUT)?;
    vm.send("info\r")?;
    vm.expect("[web2] cpus:", REPLY_TIMEOUT)?;
    vm.expect("[web2] diosix> ", REPLY_TIMEOUT)?;
    vm.send(FOCUS)?;
    vm.expect("[diosix] console input goes to boot (capsule 1)", REPLY_TIMEOUT)?;
    // Its recent output, shown by the boot capsule: web2 has 1 CPU.
    command(&mut vm, "output 4", "[boot] cpus: 1")?;
    // That output holds web2's own prompts, tagged as the boot capsule's
    // lines now: move past them to the boot capsule's real prompt.
    command(&mut vm, "echo synced", "[boot] synced")?;
    command(&mut vm, "stop 4", "stopped capsule 4")?;
    vm.wait_all(&["(web2) is gone after"], REPLY_TIMEOUT)?;
    let listed = command(&mut vm, "capsules", "auto2")?;
    ensure!(!listed.contains("web2"), "web2 is still listed after it stopped\n{listed}");
    let after = free_mib(&mut vm)?;
    ensure!(after == before, "{before} was free before web2 and {after} after it stopped");

    // Refusals, each a sentence, the manager going on.
    command(&mut vm, "start nosuch", "There is no image called \"nosuch\".")?;
    command(&mut vm, "stop 99", "There is no capsule 99.")?;
    command(&mut vm, "stop 1", "The hypervisor refused: the boot capsule is ended by its own poweroff or reboot")?;
    command(&mut vm, "start web vcores=17", "The hypervisor refused: 17 vcores asked for; a capsule has 1 to 16.")?;
    command(&mut vm, "start web name=bad/name", "a name is 1 to 32 letters")?;

    // An image file in the boot capsule's filesystem.
    command(&mut vm, "upload /images/linux name=up", "uploaded up")?;
    command(&mut vm, "images", "uploaded")?;
    command(&mut vm, "start up ram=64M", "started capsule 5 (up)")?;
    vm.wait_all(&["[up] type 'help'"], BOOT_TIMEOUT)?;
    // It restarts from the uploaded image, under its id, and keeps the
    // image once it is removed; the image's RAM comes back with its end.
    command(&mut vm, "restart 5", "restarted capsule 5")?;
    vm.wait_all(&["capsule 5 (up) is gone after"], REPLY_TIMEOUT)?;
    vm.wait_count("[diosix] capsule 5 (up) started", 2, REPLY_TIMEOUT)?;
    vm.wait_count("[up] type 'help'", 2, BOOT_TIMEOUT)?;
    command(&mut vm, "remove up", "removed image up")?;
    vm.wait_all(&["[diosix] image up removed; its RAM goes back once the capsules started from it are gone"], REPLY_TIMEOUT)?;
    let listed = command(&mut vm, "images", "bundled")?;
    ensure!(!listed.contains("uploaded"), "the removed image is still listed\n{listed}");
    command(&mut vm, "start up", "There is no image called \"up\".")?;
    command(&mut vm, "remove up", "There is no image called \"up\".")?;
    command(&mut vm, "remove web", "The hypervisor refused: web is bundled into the hypervisor")?;
    command(&mut vm, "stop 5", "stopped capsule 5")?;
    vm.wait_count("capsule 5 (up) is gone after", 2, REPLY_TIMEOUT)?;
    vm.wait_all(&["[diosix] image up's RAM ("], REPLY_TIMEOUT)?;
    let end = free_mib(&mut vm)?;
    ensure!(end == before, "{before} was free before the upload and {end} after its image and capsule went");
    // A bundled one restarts too, under its id.
    command(&mut vm, "restart 2", "restarted capsule 2")?;
    vm.wait_all(&["(auto1) is gone after"], REPLY_TIMEOUT)?;
    vm.wait_count("[diosix] capsule 2 (auto1) started", 2, REPLY_TIMEOUT)?;
    let listed = command(&mut vm, "capsules", "auto1")?;
    ensure!(listed.lines().any(|l| l.split_whitespace().skip_while(|w| w.starts_with('[')).take(2).eq(["2", "auto1"])), "auto1 is not listed as capsule 2 after its restart\n{listed}");

    // A capsule whose kernel panics says so through pvpanic and ends at
    // once, alone; the console comes back to the boot capsule.
    vm.wait_count("[auto1] type 'help'", 2, BOOT_TIMEOUT)?;
    command(&mut vm, "console 2", "capsule 2 has the console")?;
    vm.wait_all(&["[diosix] console input goes to auto1 (capsule 2)"], REPLY_TIMEOUT)?;
    vm.send("crash\r")?;
    vm.wait_all(&["[diosix] capsule 2 (auto1) died after", "s: its kernel panicked (it said so through pvpanic)"], REPLY_TIMEOUT)?;
    command(&mut vm, "echo still here", "[boot] still here")?;
    poweroff(vm, REPLY_TIMEOUT)
}

