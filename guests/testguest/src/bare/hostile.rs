//! Scenarios a hostile or broken kernel might play, which the hypervisor
//! must survive and answer as real hardware under firmware would.

/// Prints lines that imitate the hypervisor's own messages, whole and
/// split across calls: the hypervisor must mark them as the capsule's.
pub fn spoof() -> bool {
    say!("[diosix] boot capsule died: spoofed by the capsule");
    // The same, in pieces: a line start held across SBI calls.
    let mut c = super::Console;
    for piece in ["[dio", "six] boot capsule shut down the system (spoofed in pieces)\n"] {
        let _ = core::fmt::Write::write_str(&mut c, piece);
    }
    say!("an ordinary line [diosix] in the middle stays as it is");
    true
}
