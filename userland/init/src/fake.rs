//! An in-memory [`Os`] for the unit tests.

use crate::errno::{EAGAIN, EBADF, EBUSY, ENOENT, ENOTDIR, Errno};
use crate::fake_port::{self, FakePort};
use crate::fs::{DT_LNK, encode_dirents};
use crate::os::{Counter, CounterError, CpuSet, Exit, Fd, Os, Power, Ready, SysInfo};
use crate::port::PORTS_DIR;

/// The fake control port's descriptor.
const PORT_FD: Fd = 1000;

pub struct FakeOs {
    files: Vec<(String, Vec<u8>)>,
    dirs: Vec<(String, Vec<u8>)>,
    /// Open files: contents (file data or encoded dirents) and position.
    fds: Vec<Option<(Vec<u8>, usize)>>,
    out: Vec<u8>,
    input: Vec<u8>,
    /// Returned once by `read_input` before any input.
    pub input_error: Option<Errno>,
    /// Most bytes one `read` or `read_input` returns.
    pub read_chunk: usize,
    /// What `file_size` says instead of the truth (a file that changes
    /// while it is read).
    pub stated_size: Option<u64>,
    /// Reading a file fails with this once this many bytes were read.
    pub read_error: Option<(usize, Errno)>,
    pub tty: bool,
    pub sysinfo: Option<SysInfo>,
    pub executables: Vec<String>,
    pub exit: Result<Exit, Errno>,
    pub ran: Vec<String>,
    pub power_error: Errno,
    pub power_requests: Vec<Power>,
    pub reaps: usize,
    /// Set when the init asked to end itself (`crash`).
    pub ended: bool,

    /// The CPUs we may run on; we run on the lowest.
    pub affinity: CpuSet,
    /// Every `set_affinity` request.
    pub pinned: Vec<CpuSet>,
    pub affinity_error: Option<Errno>,
    /// Where `current_cpu` says we are instead, if set.
    pub stray_cpu: Option<u32>,
    /// `CLOCK_MONOTONIC`; the time CSR counts it at `time_hz`.
    pub now_ns: u64,
    pub time_hz: u64,
    /// Added to every sleep.
    pub oversleep_ns: u64,
    /// The time CSR stops counting.
    pub time_frozen: bool,
    pub instret: u64,
    pub instret_frozen: bool,
    /// Counter reads that fail, on a CPU.
    pub counter_errors: Vec<(u32, Counter, CounterError)>,
    pub counter_reads: Vec<(u32, Counter)>,

    /// `bench`: calls made, bytes mapped and not yet given back, errors.
    pub getppids: u32,
    pub mapped: usize,
    pub map_error: Option<Errno>,
    pub ping_pongs: Vec<([u32; 2], u32)>,
    pub fence_storms: Vec<(Vec<u32>, u32)>,
    /// Returned by `ping_pong` and `fence_storm`.
    pub bench_error: Option<Errno>,

    /// The hypervisor behind the control port, once [`FakeOs::control_port`]
    /// made one.
    pub port: Option<FakePort>,
}

impl FakeOs {
    pub fn new() -> Self {
        Self {
            files: Vec::new(),
            dirs: Vec::new(),
            fds: Vec::new(),
            out: Vec::new(),
            input: Vec::new(),
            input_error: None,
            read_chunk: 100,
            stated_size: None,
            read_error: None,
            tty: false,
            sysinfo: None,
            executables: Vec::new(),
            exit: Ok(Exit::Code(0)),
            ran: Vec::new(),
            power_error: Errno(1),
            power_requests: Vec::new(),
            reaps: 0,
            ended: false,
            affinity: CpuSet([0b1111, 0, 0, 0]),
            pinned: Vec::new(),
            affinity_error: None,
            stray_cpu: None,
            now_ns: 5_000_000_000,
            time_hz: 10_000_000,
            oversleep_ns: 1_000_000,
            time_frozen: false,
            instret: 1000,
            instret_frozen: false,
            counter_errors: Vec::new(),
            counter_reads: Vec::new(),
            getppids: 0,
            mapped: 0,
            map_error: None,
            ping_pongs: Vec::new(),
            fence_storms: Vec::new(),
            bench_error: None,
            port: None,
        }
    }

    /// Makes a virtio console with the control port as its port 1 (in
    /// sysfs and /dev), and a scripted hypervisor behind it.
    pub fn control_port(&mut self) -> &mut FakePort {
        self.dir(PORTS_DIR, &[("vport0p0", DT_LNK), ("vport0p1", DT_LNK)]);
        self.file("/sys/class/virtio-ports/vport0p0/name", "\n");
        self.file(fake_port::SYS_NAME, "diosix.ctl\n");
        self.port.insert(FakePort::new())
    }

    /// The hypervisor behind the control port.
    pub fn hv(&mut self) -> &mut FakePort {
        self.port
            .as_mut()
            .expect("no control port; call control_port")
    }

    pub fn file(&mut self, path: &str, text: &str) {
        self.files.push((path.into(), text.as_bytes().to_vec()));
    }

    pub fn file_bytes(&mut self, path: &str, bytes: &[u8]) {
        self.files.push((path.into(), bytes.to_vec()));
    }

    /// Makes the last file added at `path` the one that is opened.
    pub fn files_first(&mut self, path: &str) {
        if let Some(i) = self.files.iter().rposition(|(p, _)| p == path) {
            let f = self.files.remove(i);
            self.files.insert(0, f);
        }
    }

    fn cpu(&self) -> u32 {
        self.affinity.iter().next().unwrap_or(0)
    }

    pub fn dir(&mut self, path: &str, entries: &[(&str, u8)]) {
        self.dirs.push((path.into(), encode_dirents(entries)));
    }

    pub fn input(&mut self, bytes: &[u8]) {
        self.input.extend_from_slice(bytes);
    }

    pub fn output(&self) -> String {
        String::from_utf8(self.out.clone()).unwrap()
    }

    pub fn take_output(&mut self) -> String {
        String::from_utf8(std::mem::take(&mut self.out)).unwrap()
    }

    /// Runs a prompt line; what it printed (and only that).
    pub fn run(&mut self, line: &str) -> String {
        self.take_output();
        crate::commands::dispatch(self, line);
        self.take_output()
    }

    pub fn open_fds(&self) -> usize {
        self.fds.iter().flatten().count()
    }

    fn fd(&mut self, fd: Fd) -> Result<&mut (Vec<u8>, usize), Errno> {
        self.fds
            .get_mut(fd as usize)
            .and_then(Option::as_mut)
            .ok_or(EBADF)
    }
}

impl Os for FakeOs {
    fn write(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    fn flush(&mut self) {}

    fn read_input(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        if let Some(e) = self.input_error.take() {
            return Err(e);
        }
        let n = buf.len().min(self.read_chunk).min(self.input.len());
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input.drain(..n);
        Ok(n)
    }

    fn echo(&self) -> bool {
        self.tty
    }

    fn open(&mut self, path: &str, dir: bool) -> Result<Fd, Errno> {
        let data = if let Some((_, d)) = self.dirs.iter().find(|(p, _)| p == path) {
            if !dir {
                return Err(Errno(21));
            }
            d.clone()
        } else if let Some((_, f)) = self.files.iter().find(|(p, _)| p == path) {
            if dir {
                return Err(ENOTDIR);
            }
            f.clone()
        } else {
            return Err(ENOENT);
        };
        self.fds.push(Some((data, 0)));
        Ok(self.fds.len() as Fd - 1)
    }

    fn read(&mut self, fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
        let chunk = self.read_chunk;
        if fd == PORT_FD {
            let n = buf.len().min(chunk);
            return self.port.as_mut().ok_or(EBADF)?.read(&mut buf[..n]);
        }
        let error = self.read_error;
        let (data, pos) = self.fd(fd)?;
        if let Some((_, e)) = error.filter(|&(at, _)| *pos >= at) {
            return Err(e);
        }
        let n = buf.len().min(chunk).min(data.len() - *pos);
        buf[..n].copy_from_slice(&data[*pos..*pos + n]);
        *pos += n;
        Ok(n)
    }

    fn file_size(&mut self, fd: Fd) -> Result<Option<u64>, Errno> {
        let stated = self.stated_size;
        let (data, _) = self.fd(fd)?;
        Ok(Some(stated.unwrap_or(data.len() as u64)))
    }

    fn getdents(&mut self, fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
        // One whole record per call, as a small buffer would get.
        let (data, pos) = self.fd(fd)?;
        if *pos == data.len() {
            return Ok(0);
        }
        let reclen = usize::from(u16::from_le_bytes([data[*pos + 16], data[*pos + 17]]));
        buf[..reclen].copy_from_slice(&data[*pos..*pos + reclen]);
        *pos += reclen;
        Ok(reclen)
    }

    fn close(&mut self, fd: Fd) {
        if fd == PORT_FD {
            let port = self.hv();
            assert!(port.is_open, "closed the port twice");
            port.close();
            return;
        }
        self.fds[fd as usize] = None;
    }

    fn open_device(&mut self, path: &str) -> Result<Fd, Errno> {
        match &mut self.port {
            Some(port) if path == fake_port::DEVICE => {
                // Like Linux: one opener at a time.
                if port.is_open {
                    return Err(EBUSY);
                }
                port.open();
                Ok(PORT_FD)
            }
            _ => Err(ENOENT),
        }
    }

    fn write_fd(&mut self, fd: Fd, bytes: &[u8]) -> Result<usize, Errno> {
        let port = self.port.as_mut().filter(|_| fd == PORT_FD).ok_or(EBADF)?;
        match port.ready(true) {
            Some(Ready { write: true, .. }) => Ok(port.write(bytes)),
            _ => Err(EAGAIN),
        }
    }

    fn wait(&mut self, fd: Fd, write: bool, timeout_ns: u64) -> Result<Ready, Errno> {
        let port = self.port.as_ref().filter(|_| fd == PORT_FD).ok_or(EBADF)?;
        match port.ready(write) {
            Some(ready) => Ok(ready),
            None => {
                self.now_ns += timeout_ns;
                Ok(Ready::default())
            }
        }
    }

    fn sysinfo(&mut self) -> Result<SysInfo, Errno> {
        self.sysinfo.ok_or(Errno(38))
    }

    fn executable(&mut self, path: &str) -> bool {
        self.executables.iter().any(|p| p == path)
    }

    fn run(&mut self, path: &str, argv: &[&str]) -> Result<Exit, Errno> {
        self.ran.push(format!("{path} {}", argv.join(" ")));
        self.exit
    }

    fn power(&mut self, how: Power) -> Errno {
        self.power_requests.push(how);
        self.power_error
    }

    fn reap(&mut self) {
        self.reaps += 1;
    }

    fn end_init(&mut self) -> Errno {
        self.ended = true;
        self.power_error
    }

    fn affinity(&mut self) -> Result<CpuSet, Errno> {
        Ok(self.affinity)
    }

    fn set_affinity(&mut self, cpus: &CpuSet) -> Result<(), Errno> {
        self.pinned.push(*cpus);
        if let Some(e) = self.affinity_error {
            return Err(e);
        }
        self.affinity = *cpus;
        Ok(())
    }

    fn current_cpu(&mut self) -> Result<u32, Errno> {
        Ok(self.stray_cpu.unwrap_or_else(|| self.cpu()))
    }

    fn monotonic_ns(&mut self) -> Result<u64, Errno> {
        self.now_ns += 1000;
        Ok(self.now_ns)
    }

    fn sleep_ns(&mut self, ns: u64) -> Result<(), Errno> {
        self.now_ns += ns + self.oversleep_ns;
        Ok(())
    }

    fn read_counter(&mut self, counter: Counter) -> Result<u64, CounterError> {
        let cpu = self.cpu();
        self.counter_reads.push((cpu, counter));
        // A fork and a wait take a while.
        self.now_ns += 300_000;
        if let Some((_, _, e)) = self
            .counter_errors
            .iter()
            .find(|(c, k, _)| *c == cpu && *k == counter)
        {
            return Err(*e);
        }
        Ok(match counter {
            Counter::Time if self.time_frozen => 12345,
            Counter::Time => {
                (u128::from(self.now_ns) * u128::from(self.time_hz) / 1_000_000_000) as u64
            }
            Counter::Cycle => self.now_ns * 3,
            Counter::Instret => {
                if !self.instret_frozen {
                    self.instret += 5000;
                }
                self.instret
            }
        })
    }

    fn getppid(&mut self) -> i32 {
        self.getppids += 1;
        0
    }

    fn map(&mut self, len: usize) -> Result<&'static mut [u8], Errno> {
        if let Some(e) = self.map_error {
            return Err(e);
        }
        self.mapped += len;
        Ok(Box::leak(vec![0u8; len].into_boxed_slice()))
    }

    fn unmap(&mut self, mem: &'static mut [u8]) {
        self.mapped -= mem.len();
        // SAFETY: `mem` came from Box::leak in `map` and is given up here.
        drop(unsafe { Box::from_raw(mem) });
    }

    fn ping_pong(&mut self, cpus: [u32; 2], rounds: u32) -> Result<u64, Errno> {
        self.ping_pongs.push((cpus, rounds));
        self.bench_error.map_or(Ok(u64::from(rounds) * 50_000), Err)
    }

    fn fence_storm(&mut self, others: &CpuSet, rounds: u32) -> Result<u64, Errno> {
        self.fence_storms.push((others.iter().collect(), rounds));
        self.bench_error.map_or(Ok(u64::from(rounds) * 70_000), Err)
    }
}
