//! Starting a QEMU board (`virt`, `sifive_u` or `spike`), interactively or
//! with captured output and a deadline.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use wait_timeout::ChildExt;

use crate::target::Target;

/// Default harts and RAM for `cargo xtask run`.
pub const DEFAULT_SMP: u32 = 4;
pub const DEFAULT_MEMORY: &str = "512M";
/// Harts the hypervisor has stacks for (hypervisor/link.ld's MAX_HARTS).
pub const MAX_SMP: u32 = 16;

/// Which firmware QEMU starts before the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Firmware {
    /// `-bios none`: the kernel is entered in M-mode at the base of RAM (diosix).
    None,
    /// QEMU's bundled OpenSBI: the kernel is entered in S-mode (plain Linux).
    OpenSbi,
    /// `-bios <kernel>` and no `-kernel`: the kernel file itself is QEMU's
    /// firmware (an ELF, or a raw image loaded at the base of RAM), as a
    /// board's boot ROM or loader would start it. QEMU then takes no
    /// `-append`, so `append` must be `None`.
    Kernel,
}

/// Which QEMU board.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Board {
    /// QEMU's generic `virt` board.
    Virt,
    /// QEMU's model of the HiFive Unleashed: an E51 monitor core (hart 0,
    /// no MMU) and U54 application cores, fixed 64-bit CPUs.
    SifiveU,
    /// QEMU's `spike`: the RISC-V ISA simulator's board, with a CLINT, RAM
    /// and HTIF (console and power-off through the `tohost`/`fromhost`
    /// symbols of the ELF it loads), and nothing else.
    Spike,
}

impl Board {
    pub const ALL: [Board; 3] = [Board::Virt, Board::SifiveU, Board::Spike];

    /// The name QEMU's `-machine` and our `--machine` take.
    pub fn name(self) -> &'static str {
        match self {
            Board::Virt => "virt",
            Board::SifiveU => "sifive_u",
            Board::Spike => "spike",
        }
    }

    pub fn supports(self, t: Target) -> bool {
        self != Board::SifiveU || t.is_64bit()
    }

    /// Refuses a target the board has no harts for.
    pub fn check(self, t: Target) -> Result<()> {
        if !self.supports(t) {
            bail!("{self} has 64-bit harts: use --target riscv64gc or riscv64imac (not {})", t.arch());
        }
        Ok(())
    }
}

impl std::str::FromStr for Board {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Board> {
        match Board::ALL.into_iter().find(|b| b.name() == s) {
            Some(b) => Ok(b),
            None => bail!("unknown board `{s}`; choose one of: {}", Board::ALL.map(Board::name).join(", ")),
        }
    }
}

impl std::fmt::Display for Board {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One QEMU machine.
#[derive(Clone, Debug)]
pub struct Machine {
    pub target: Target,
    pub smp: u32,
    pub memory_mib: u64,
    pub kernel: PathBuf,
    pub append: Option<String>,
    pub firmware: Firmware,
    /// The virt board's ACLINT (MTIMER + MSWI devices) instead of its CLINT.
    pub aclint: bool,
    /// NUMA nodes (sockets), 0 or 1 for none: the harts and RAM are split
    /// evenly between them, in order, and the board gets one CLINT (or
    /// ACLINT) and PLIC per node. `smp` and `memory_mib` must divide evenly.
    pub numa_nodes: u32,
    /// QEMU's gdb stub on this TCP port, with the machine paused until a
    /// debugger continues it.
    pub gdb_port: Option<u16>,
    /// A device tree to hand the kernel instead of the board's own (`-dtb`).
    pub dtb: Option<PathBuf>,
    /// The board. `aclint` and `numa_nodes` are `virt`'s only.
    pub board: Board,
    /// More properties for `virt`'s harts, after the target's own in
    /// `-cpu` (`v=true,vlen=256`, say).
    pub cpu_extras: Option<String>,
}

impl Machine {
    pub fn new(target: Target, kernel: &Path) -> Machine {
        Machine {
            target,
            smp: DEFAULT_SMP,
            memory_mib: parse_memory(DEFAULT_MEMORY).expect("default memory parses"),
            kernel: kernel.to_path_buf(),
            append: None,
            firmware: Firmware::None,
            aclint: false,
            numa_nodes: 0,
            gdb_port: None,
            dtb: None,
            board: Board::Virt,
            cpu_extras: None,
        }
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(self.target.qemu_binary());
        match self.board {
            Board::Virt => {
                cmd.args(["-machine", if self.aclint { "virt,aclint=on" } else { "virt" }, "-nographic"]);
                let cpu = self.target.qemu_cpu();
                cmd.args(["-cpu", &self.cpu_extras.as_ref().map_or(cpu.clone(), |x| format!("{cpu},{x}"))]);
            }
            // The board's own harts: no -cpu. Its tree's only power device
            // is a `gpio-restart` pin, which QEMU answers by resetting the
            // machine: with -no-reboot a reset ends QEMU (status 0), so a
            // power-off through that pin stops it instead of booting again.
            Board::SifiveU => {
                cmd.args(["-machine", "sifive_u", "-nographic", "-no-reboot"]);
            }
            // HTIF powers off for real and the tree has no reset device,
            // so -no-reboot changes nothing today; it is there so that any
            // reset QEMU is asked for ends the run, as on sifive_u, rather
            // than boot the hypervisor again behind a test's back.
            Board::Spike => {
                cmd.args(["-machine", "spike", "-nographic", "-no-reboot"]);
                cmd.args(["-cpu", &self.target.qemu_cpu()]);
            }
        }
        if self.numa_nodes > 1 {
            let n = self.numa_nodes;
            cmd.args(["-smp", &format!("{},sockets={n}", self.smp)]);
            let (harts, mib) = (self.smp / n, self.memory_mib / u64::from(n));
            for node in 0..n {
                cmd.args(["-object", &format!("memory-backend-ram,id=numa{node},size={mib}M")]);
                let cpus = format!("{}-{}", node * harts, (node + 1) * harts - 1);
                cmd.args(["-numa", &format!("node,nodeid={node},cpus={cpus},memdev=numa{node}")]);
            }
        } else {
            cmd.args(["-smp", &self.smp.to_string()]);
        }
        cmd.args(["-m", &format!("{}M", self.memory_mib)]);
        match self.firmware {
            Firmware::None => cmd.args(["-bios", "none"]).arg("-kernel").arg(&self.kernel),
            Firmware::OpenSbi => cmd.args(["-bios", "default"]).arg("-kernel").arg(&self.kernel),
            Firmware::Kernel => cmd.arg("-bios").arg(&self.kernel),
        };
        if let Some(a) = &self.append {
            cmd.args(["-append", a]);
        }
        if let Some(dtb) = &self.dtb {
            cmd.arg("-dtb").arg(dtb);
        }
        if let Some(port) = self.gdb_port {
            cmd.args(["-gdb", &format!("tcp:127.0.0.1:{port}"), "-S"]);
        }
        cmd
    }

    /// Runs with the terminal attached; returns QEMU's exit status.
    pub fn run_interactive(&self) -> Result<ExitStatus> {
        let mut cmd = self.command();
        eprintln!("running: {}", describe(&cmd));
        eprintln!("(press Ctrl-A then X to quit QEMU)");
        cmd.status().with_context(|| not_found(self.target))
    }

    /// Runs with output captured, killing QEMU after `timeout`.
    pub fn run_captured(&self, timeout: Duration) -> Result<Captured> {
        Ok(self.spawn()?.finish(timeout))
    }

    /// Starts QEMU with its console on pipes, for a test to read and type.
    pub fn spawn(&self) -> Result<Running> {
        let mut cmd = self.command();
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().with_context(|| not_found(self.target))?;
        let text = Arc::new(Mutex::new(String::new()));
        let readers = [
            child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
            child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        .map(|mut pipe| {
            let text = Arc::clone(&text);
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = pipe.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    text.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            })
        })
        .collect();
        Ok(Running {
            stdin: child.stdin.take(),
            child,
            text,
            readers,
            seen: 0,
            board: self.board,
        })
    }
}

/// A QEMU that is running, with its console captured.
///
/// Not `expectrl`: a test that fails must show everything the machine
/// printed, and captured runs and interactive tests share this one path.
pub struct Running {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    text: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    /// How far `expect` has consumed the output.
    seen: usize,
    /// How `send` must type on this board's console.
    board: Board,
}

/// How long `send` waits for the echo of one byte on an HTIF console.
/// Linux's hvc console polls for input, every 2 s at most when idle; the
/// rest is margin for a loaded machine.
const ECHO_TIMEOUT: Duration = Duration::from_secs(10);

impl Running {
    /// Everything printed so far.
    pub fn transcript(&self) -> String {
        self.text.lock().unwrap().replace("\r\n", "\n")
    }

    /// Waits until `needle` appears after what earlier calls consumed;
    /// returns the rest of the line it is on. Fails with the transcript.
    pub fn expect(&mut self, needle: &str, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            {
                let text = self.text.lock().unwrap();
                if let Some(at) = text.get(self.seen..).and_then(|t| t.find(needle)) {
                    let from = self.seen + at + needle.len();
                    let rest = &text[from..];
                    if let Some(eol) = rest.find('\n') {
                        self.seen = from;
                        return Ok(rest[..eol].trim_end_matches('\r').to_string());
                    }
                    if needle.ends_with(' ') || needle.ends_with('>') {
                        // A prompt: the line will not end until we type.
                        self.seen = from;
                        return Ok(rest.to_string());
                    }
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                std::thread::sleep(Duration::from_millis(200));
                bail!("QEMU exited ({status}) before printing {needle:?}\n--- output ---\n{}", self.transcript());
            }
            if Instant::now() > deadline {
                bail!("{needle:?} did not appear within {timeout:?}\n--- output ---\n{}", self.transcript());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until every needle has appeared anywhere in the output, in
    /// any order (lines from several capsules interleave); returns the
    /// transcript. Fails as soon as QEMU exits or after `timeout`, naming
    /// the missing needles after the transcript, where a log's tail shows
    /// them.
    pub fn wait_all(&mut self, needles: &[&str], timeout: Duration) -> Result<String> {
        self.wait_until(timeout, |out| {
            let missing: Vec<&&str> = needles.iter().filter(|n| !out.contains(**n)).collect();
            (!missing.is_empty()).then(|| format!("{missing:?}"))
        })
    }

    /// Waits until `needle` has appeared `n` times in the whole output (a
    /// capsule's line again after its restart); as [`Running::wait_all`].
    pub fn wait_count(&mut self, needle: &str, n: usize, timeout: Duration) -> Result<String> {
        self.wait_until(timeout, |out| {
            let seen = out.matches(needle).count();
            (seen < n).then(|| format!("{needle:?} {n} times (seen {seen})"))
        })
    }

    /// Polls the transcript until `missing` finds nothing missing (it
    /// says what is, otherwise); fails when QEMU exits first or after
    /// `timeout`, naming what is missing after the transcript.
    fn wait_until(&mut self, timeout: Duration, missing: impl Fn(&str) -> Option<String>) -> Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let exited = self.child.try_wait().ok().flatten();
            if exited.is_some() {
                // What the readers still hold arrives before the check.
                std::thread::sleep(Duration::from_millis(200));
            }
            let out = self.transcript();
            let Some(missing) = missing(&out) else {
                return Ok(out);
            };
            if let Some(status) = exited {
                bail!("--- output ---\n{out}\n--- end of output ---\nQEMU exited ({status}) before printing {missing}");
            }
            if Instant::now() > deadline {
                bail!("--- output ---\n{out}\n--- end of output ---\n{missing} did not appear within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Types `text` on the console.
    ///
    /// On `spike` the console is HTIF, and QEMU's HTIF holds one received
    /// byte in `fromhost` and overwrites it with the next: there each byte
    /// is typed only once the previous one was echoed, so `send` needs a
    /// program that echoes (a shell, Linux's terminal) there.
    pub fn send(&mut self, text: &str) -> Result<()> {
        if self.board != Board::Spike {
            return self.write(text.as_bytes());
        }
        for (i, &byte) in text.as_bytes().iter().enumerate() {
            let before = self.text.lock().unwrap().len();
            self.write(&[byte])?;
            let deadline = Instant::now() + ECHO_TIMEOUT;
            while !echoed(&self.text.lock().unwrap()[before..], byte) {
                if let Ok(Some(status)) = self.child.try_wait() {
                    if i + 1 == text.len() {
                        // The last byte may have ended the machine
                        // (`poweroff\r`); the caller checks how it ended.
                        return Ok(());
                    }
                    bail!("QEMU exited ({status}) while typing {text:?}\n--- output ---\n{}", self.transcript());
                }
                if Instant::now() > deadline {
                    bail!(
                        "typing {text:?}: byte {i} ({:?}) was not echoed within {ECHO_TIMEOUT:?}\n--- output ---\n{}",
                        char::from(byte),
                        self.transcript()
                    );
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        use std::io::Write;
        let stdin = self.stdin.as_mut().context("QEMU's input is closed")?;
        stdin.write_all(bytes)?;
        stdin.flush()?;
        Ok(())
    }

    /// Waits for QEMU to exit, killing it after `timeout`.
    pub fn finish(mut self, timeout: Duration) -> Captured {
        drop(self.stdin.take());
        let status = self.child.wait_timeout(timeout).ok().flatten();
        let timed_out = status.is_none();
        if timed_out {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        Captured {
            exit_code: status.and_then(|s| s.code()),
            timed_out,
            output: self.transcript(),
        }
    }
}

/// Whether `output` (printed since `byte` was typed) shows it was read: a
/// printable byte must come back itself, a line end as a line end (other
/// output may arrive meanwhile, kernel messages for example); a control
/// byte, whose echo varies (`^C`), only needs some output.
fn echoed(output: &str, byte: u8) -> bool {
    match byte {
        b' '..=b'~' => output.contains(char::from(byte)),
        b'\r' | b'\n' => output.contains(['\r', '\n']),
        _ => !output.is_empty(),
    }
}

/// What a captured run printed and how it ended.
#[derive(Debug)]
pub struct Captured {
    /// `None` when QEMU was killed (timeout or signal).
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    pub output: String,
}

fn not_found(target: Target) -> String {
    format!(
        "cannot start {}; run `cargo xtask deps` to install QEMU",
        target.qemu_binary()
    )
}

/// What to type to attach gdb to a machine started with `gdb_port`.
pub fn gdb_instructions(exe: &Path, port: u16, supervisor: &Path) -> String {
    format!(
        "QEMU is paused, waiting for gdb on port {port}. In another terminal:\n\
         \n  gdb-multiarch {exe} -ex 'target remote 127.0.0.1:{port}'\n\
         \nthen, for example, `break hypervisor::run::exits::guest_trap` and `continue`.\n\
         The boot capsule's kernel symbols (valid once its MMU is on): `add-symbol-file {sup}`.\n\
         See docs/debugging.md.",
        exe = exe.display(),
        sup = supervisor.display(),
    )
}

/// The command line, for showing to the user.
pub fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Parses a memory size: a number of MiB, or a number with a unit
/// (`K`, `M`, `G`, optionally followed by `iB` or `B`). Returns MiB.
pub fn parse_memory(s: &str) -> Result<u64> {
    let t = s.trim();
    let digits = t.chars().take_while(|c| c.is_ascii_digit()).count();
    let (num, unit) = t.split_at(digits);
    let Ok(n) = num.parse::<u64>() else {
        bail!("memory size `{s}` does not start with a number (try 512M or 1G)");
    };
    let unit = unit.trim().to_ascii_uppercase();
    let unit = unit.trim_end_matches("IB").trim_end_matches('B');
    let mib = match unit {
        "" | "M" => Some(n),
        "G" => n.checked_mul(1024),
        "K" if n % 1024 == 0 => Some(n / 1024),
        "K" => bail!("memory size `{s}` is not a whole number of MiB"),
        _ => bail!("memory size `{s}` has an unknown unit (use K, M or G)"),
    };
    match mib {
        Some(m) if (64..=65536).contains(&m) => Ok(m),
        Some(m) => bail!("memory size `{s}` is {m} MiB; choose between 64 MiB and 64 GiB"),
        None => bail!("memory size `{s}` is too large"),
    }
}

/// Checks a hart count for the `virt` board and our stack table.
pub fn check_smp(n: u32) -> Result<u32> {
    if n == 0 || n > MAX_SMP {
        bail!("--smp {n}: choose between 1 and {MAX_SMP} harts");
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes() {
        assert_eq!(parse_memory("512M").unwrap(), 512);
        assert_eq!(parse_memory("384").unwrap(), 384);
        assert_eq!(parse_memory("1G").unwrap(), 1024);
        assert_eq!(parse_memory("2GiB").unwrap(), 2048);
        assert_eq!(parse_memory("262144K").unwrap(), 256);
        assert!(parse_memory("lots").unwrap_err().to_string().contains("does not start with a number"));
        assert!(parse_memory("512X").unwrap_err().to_string().contains("unknown unit"));
        assert!(parse_memory("16M").unwrap_err().to_string().contains("between 64 MiB"));
        assert!(parse_memory("99999999999999999G").is_err());
    }

    #[test]
    fn smp_bounds() {
        assert!(check_smp(0).is_err());
        assert_eq!(check_smp(4).unwrap(), 4);
        assert!(check_smp(17).unwrap_err().to_string().contains("between 1 and 16"));
    }

    #[test]
    fn command_line_for_imac() {
        let mut m = Machine::new(Target::Riscv32imac, Path::new("/k"));
        m.smp = 3;
        m.memory_mib = 384;
        let line = describe(&m.command());
        assert!(line.starts_with("qemu-system-riscv32 -machine virt"), "{line}");
        assert!(line.contains("-smp 3 -m 384M -bios none -kernel /k"), "{line}");
        assert!(line.contains("-cpu rv32,f=false,d=false"), "{line}");
    }

    #[test]
    fn command_line_for_two_numa_nodes() {
        let mut m = Machine::new(Target::Riscv64gc, Path::new("/k"));
        m.smp = 4;
        m.memory_mib = 512;
        m.numa_nodes = 2;
        let line = describe(&m.command());
        assert!(line.contains("-smp 4,sockets=2 "), "{line}");
        assert!(line.contains("-object memory-backend-ram,id=numa1,size=256M"), "{line}");
        assert!(line.contains("-numa node,nodeid=0,cpus=0-1,memdev=numa0"), "{line}");
        assert!(line.contains("-numa node,nodeid=1,cpus=2-3,memdev=numa1 -m 512M"), "{line}");
    }

    #[test]
    fn virt_command_line_is_unchanged() {
        let mut m = Machine::new(Target::Riscv64gc, Path::new("/k"));
        m.append = Some("-- x".into());
        assert_eq!(
            describe(&m.command()),
            "qemu-system-riscv64 -machine virt -nographic -cpu rv64 -smp 4 -m 512M -bios none -kernel /k -append -- x"
        );
    }

    #[test]
    fn command_line_for_sifive_u() {
        let mut m = Machine::new(Target::Riscv64imac, Path::new("/k"));
        m.board = Board::SifiveU;
        m.smp = 5;
        m.memory_mib = 1024;
        assert_eq!(
            describe(&m.command()),
            "qemu-system-riscv64 -machine sifive_u -nographic -no-reboot -smp 5 -m 1024M -bios none -kernel /k"
        );
    }

    #[test]
    fn command_line_for_spike() {
        let mut m = Machine::new(Target::Riscv32imac, Path::new("/k"));
        m.board = Board::Spike;
        m.smp = 2;
        m.memory_mib = 256;
        let line = describe(&m.command());
        let cpu = Target::Riscv32imac.qemu_cpu();
        assert_eq!(
            line,
            format!("qemu-system-riscv32 -machine spike -nographic -no-reboot -cpu {cpu} -smp 2 -m 256M -bios none -kernel /k")
        );
    }

    #[test]
    fn the_kernel_as_firmware() {
        let mut m = Machine::new(Target::Riscv64gc, Path::new("/k.bin"));
        m.firmware = Firmware::Kernel;
        let line = describe(&m.command());
        assert!(line.ends_with("-m 512M -bios /k.bin"), "{line}");
    }

    #[test]
    fn boards_parse_and_know_their_targets() {
        for b in Board::ALL {
            assert_eq!(b.name().parse::<Board>().unwrap(), b);
            assert_eq!(b.to_string(), b.name());
        }
        let e = "sifive-u".parse::<Board>().unwrap_err().to_string();
        assert!(e.contains("unknown board `sifive-u`") && e.contains("virt, sifive_u, spike"), "{e}");
        assert!(Target::ALL.into_iter().all(|t| Board::Spike.supports(t) && Board::Virt.supports(t)));
        assert!(Board::SifiveU.check(Target::Riscv64imac).is_ok());
        let e = Board::SifiveU.check(Target::Riscv32imac).unwrap_err().to_string();
        assert!(e.contains("sifive_u has 64-bit harts: use --target riscv64gc or riscv64imac"), "{e}");
    }

    #[test]
    fn an_echo_is_the_byte_itself_or_a_line_end() {
        assert!(echoed("i", b'i') && echoed("\x1b[Ki", b'i'));
        assert!(!echoed("", b'i') && !echoed("[    1.0] x", b'i'));
        assert!(echoed("\r\n", b'\r') && echoed("\n", b'\r') && !echoed("x", b'\r'));
        assert!(echoed("^C", 3) && !echoed("", 3));
    }
}
