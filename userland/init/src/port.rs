//! Finding the control channel's port.
//!
//! The hypervisor gives the boot capsule a virtio console (virtio-mmio)
//! whose port 1 is named [`ctl::PORT`]. Linux's virtio_console driver makes
//! a character device `/dev/vport<N>p<M>` for each port beyond the console
//! (devtmpfs makes the node) and puts the port's name, with a newline, in
//! `/sys/class/virtio-ports/vport<N>p<M>/name`. With no udev there is no
//! `/dev/virtio-ports/<name>` link, so the names are read from sysfs.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::fs::{self, Dirents};
use crate::os::Os;

/// Where Linux lists the virtio console ports.
pub const PORTS_DIR: &str = "/sys/class/virtio-ports";

/// The longest port name worth reading.
const NAME_MAX: usize = 64;

/// The device of the port named `name`, e.g. `/dev/vport0p1`, or `None`
/// if no port has that name (or there are no virtio console ports).
pub fn find(os: &mut dyn Os, name: &str) -> Option<String> {
    ports(os)
        .into_iter()
        .find(|port| {
            let path = format!("{PORTS_DIR}/{port}/name");
            fs::read_up_to(os, &path, NAME_MAX)
                .is_ok_and(|(text, _)| text.trim_ascii_end() == name.as_bytes())
        })
        .map(|port| format!("/dev/{port}"))
}

/// The ports' names in [`PORTS_DIR`] (`vport0p1` and so on).
fn ports(os: &mut dyn Os) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(fd) = os.open(PORTS_DIR, true) else {
        return found;
    };
    let mut buf = [0u8; 1024];
    while let Ok(n @ 1..) = os.getdents(fd, &mut buf) {
        for entry in Dirents::new(&buf[..n]) {
            if entry.name.starts_with(b".") {
                continue;
            }
            if let Ok(name) = core::str::from_utf8(entry.name) {
                found.push(name.to_string());
            }
        }
    }
    os.close(fd);
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::FakeOs;
    use crate::fs::DT_LNK;

    #[test]
    fn finds_the_port_by_its_name_among_others() {
        let mut os = FakeOs::new();
        os.dir(
            PORTS_DIR,
            &[
                (".", 4),
                ("..", 4),
                ("vport0p0", DT_LNK),
                ("vport1p1", DT_LNK),
                ("vport1p2", DT_LNK),
            ],
        );
        os.file("/sys/class/virtio-ports/vport0p0/name", "\n");
        os.file("/sys/class/virtio-ports/vport1p1/name", "diosix.ctl.old\n");
        os.file("/sys/class/virtio-ports/vport1p2/name", "diosix.ctl\n");
        assert_eq!(
            find(&mut os, "diosix.ctl").as_deref(),
            Some("/dev/vport1p2")
        );
        assert_eq!(find(&mut os, "other"), None);
        assert_eq!(os.open_fds(), 0);
    }

    #[test]
    fn no_ports_directory_means_no_port() {
        let mut os = FakeOs::new();
        assert_eq!(find(&mut os, "diosix.ctl"), None);
        os.dir(PORTS_DIR, &[("vport0p1", DT_LNK)]);
        // A port whose name cannot be read is not the one.
        assert_eq!(find(&mut os, "diosix.ctl"), None);
    }
}
