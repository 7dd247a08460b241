//! The boot capsule's kernel, embedded byte for byte by build.rs.

#[repr(C, align(4096))]
struct PageAligned<T: ?Sized>(T);

const BYTES: &[u8] = include_bytes!(env!("DIOSIX_SUPERVISOR_PATH"));

#[unsafe(link_section = ".supervisor")]
static SUPERVISOR: PageAligned<[u8; BYTES.len()]> = PageAligned(*include_bytes!(env!(
    "DIOSIX_SUPERVISOR_PATH"
)));

/// The embedded kernel's bytes.
pub fn bytes() -> &'static [u8] {
    &SUPERVISOR.0
}

/// The architecture the kernel was checked against (`riscv64gc`, ...).
pub const ARCH: &str = env!("DIOSIX_ARCH");
