//! Build-time settings, read from the environment when the hypervisor is
//! compiled (see README.md).

/// RAM for the boot capsule, in MiB.
pub const BOOT_CAPSULE_MIB: u64 = number(option_env!("DIOSIX_BOOT_CAPSULE_MIB"), 256);
/// vcores for the boot capsule (1 to 16, more than the harts if wanted);
/// 0 means one per usable hart.
pub const BOOT_CAPSULE_VCORES: u64 = number(option_env!("DIOSIX_BOOT_CAPSULE_VCORES"), 0);
/// The boot capsule kernel's command line. Empty by default: the kernel
/// then uses its own built-in one (ours says `console=hvc0 earlycon=sbi`),
/// or, with none, the console `/chosen/stdout-path` names (the emulated
/// UART), which is what a stock kernel expects.
pub const BOOT_CAPSULE_ARGS: &str = match option_env!("DIOSIX_BOOT_CAPSULE_ARGS") {
    Some(a) => a,
    None => "",
};
/// The most capsules alive at once, the boot capsule included (1 to
/// 1000); the boot capsule's manager is refused more.
pub const MAX_CAPSULES: u64 = number(option_env!("DIOSIX_MAX_CAPSULES"), 32);
const _: () = assert!(MAX_CAPSULES >= 1 && MAX_CAPSULES <= 1000, "DIOSIX_MAX_CAPSULES must be 1 to 1000");

/// Seconds without a console poll after which a capsule that polled once
/// counts as dead; 0 turns the watchdog off.
pub const WATCHDOG_SECONDS: u64 = number(option_env!("DIOSIX_WATCHDOG_SECONDS"), 10);

/// The scheduler's time slice in milliseconds: how long a vcore runs
/// while another waits for its hart (5 to 20 is sensible).
pub const SLICE_MS: u64 = number(option_env!("DIOSIX_SLICE_MS"), 10);
const _: () = assert!(SLICE_MS > 0, "DIOSIX_SLICE_MS must be at least 1");

/// 1: the scheduler counts switches between capsules and their cost,
/// and reports them when the machine powers off (for `cargo xtask bench`).
pub const SCHED_STATS: bool = number(option_env!("DIOSIX_SCHED_STATS"), 0) != 0;

/// 1: the console colours each capsule's line tag; 0: plain tags.
pub const CONSOLE_COLOUR: bool = number(option_env!("DIOSIX_CONSOLE_COLOUR"), 1) != 0;

/// 1: capsules get Sstc (their own `stimecmp`) where every hart they run
/// on has it; 0: they program their timer through SBI only.
pub const OFFER_SSTC: bool = number(option_env!("DIOSIX_SSTC"), 1) != 0;

/// 1: capsules get a pvpanic register, and a kernel that reports its
/// panic there is ended (as dead) a second later; 0: none (a panicked
/// kernel that polled its SBI console is still caught by the watchdog).
pub const OFFER_PVPANIC: bool = number(option_env!("DIOSIX_PVPANIC"), 1) != 0;

/// A decimal setting, or `default` when unset. Anything else stops the
/// build (this runs at compile time).
const fn number(s: Option<&str>, default: u64) -> u64 {
    let Some(s) = s else { return default };
    let b = s.as_bytes();
    assert!(!b.is_empty(), "diosix build settings must be decimal numbers");
    let mut i = 0;
    let mut n = 0u64;
    while i < b.len() {
        assert!(b[i].is_ascii_digit(), "diosix build settings must be decimal numbers");
        n = n * 10 + (b[i] - b'0') as u64;
        i += 1;
    }
    n
}
