//! `cargo xtask run --gdb`: QEMU's gdb stub, paused, and gdb-multiarch
//! attached with the hypervisor's symbols, as docs/debugging.md walks
//! through: break in the hypervisor's boot, then in its trap handler when
//! the capsule makes its first SBI call.

use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use wait_timeout::ChildExt;

use super::{Case, case, expect_all, fixture};
use crate::qemu::Machine;
use crate::target::Target;

const TIMEOUT: Duration = Duration::from_secs(120);

pub fn cases(t: Target) -> Vec<Case> {
    vec![case(
        format!("{}: gdb attaches to a paused machine, stops in boot_main and in guest_trap at the capsule's first ecall", t.arch()),
        move || attach(t),
    )]
}

/// A TCP port nobody is listening on now.
fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(l.local_addr()?.port())
}

fn attach(t: Target) -> Result<()> {
    let fx = fixture::get(t)?;
    let port = free_port()?;
    let mut m = Machine::new(t, &fx.hypervisor);
    m.smp = 1;
    m.memory_mib = 256;
    m.append = Some("-- diosix.test=hello".into());
    m.gdb_port = Some(port);
    let vm = m.spawn()?;
    let mut gdb = Command::new("gdb-multiarch");
    gdb.args(["-batch", "-nx"]).arg(&fx.hypervisor);
    for c in [
        format!("target remote 127.0.0.1:{port}"),
        "break hypervisor::boot::boot_main".into(),
        // Its first SBI call (a timer interrupt, the slice's end, may come
        // before it).
        "break hypervisor::run::exits::guest_trap if $mcause == 9".into(),
        "continue".into(),
        "continue".into(),
        "print/x $mcause".into(),
    ] {
        gdb.args(["-ex", &c]);
    }
    let mut child = gdb
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("cannot run gdb-multiarch; `cargo xtask deps` installs it")?;
    let finished = child.wait_timeout(TIMEOUT)?;
    if finished.is_none() {
        let _ = child.kill();
    }
    let out = child.wait_with_output()?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    drop(vm.finish(Duration::ZERO));
    ensure!(finished.is_some(), "gdb did not finish within {TIMEOUT:?}\n{text}");
    expect_all(&text, &[
        "Breakpoint 1, hypervisor::boot::boot_main",
        "Breakpoint 2, hypervisor::run::exits::guest_trap",
        // The capsule's first SBI call: ecall from S-mode.
        "= 0x9",
    ])
}
