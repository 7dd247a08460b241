//! The label a capsule's lines are tagged with, and the tag itself.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Longest label, in characters.
pub const TAG_CHARS: usize = 16;

/// SGR foreground colours for tags, by capsule id modulo their number:
/// green, cyan, yellow, magenta, blue, then red (last, since red reads as
/// an error).
const PALETTE: [u8; 6] = [32, 36, 33, 35, 34, 31];

/// The start of the hypervisor's own lines.
pub(crate) const HV_PREFIX: &[u8] = b"[diosix";

/// `tag` made safe to print: printable ASCII other than brackets, at most
/// [`TAG_CHARS`]; the id if nothing is left; and never starting like the
/// hypervisor's lines (`[diosix...`), so a tag cannot pass for it.
pub(crate) fn label(id: u32, tag: &str) -> String {
    let mut label: String =
        tag.chars().filter(|c| matches!(c, ' '..='~') && !matches!(c, '[' | ']')).take(TAG_CHARS).collect();
    if label.trim().is_empty() {
        label = format!("{id}");
    }
    if label.as_bytes().starts_with(&HV_PREFIX[1..]) {
        label.insert_str(0, "capsule-");
    }
    label
}

/// What goes in front of a capsule's lines: `[label] `, the bracketed
/// part coloured when `colour` (and everything switched off after it).
pub(crate) fn render(id: u32, label: &str, colour: bool) -> Vec<u8> {
    if colour {
        let sgr = PALETTE[id as usize % PALETTE.len()];
        format!("\x1b[0;{sgr}m[{label}]\x1b[0m ").into_bytes()
    } else {
        format!("[{label}] ").into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_printable_and_short() {
        assert_eq!(label(1, "linux"), "linux");
        assert_eq!(label(1, "a\x1b[31mb\n[c]"), "a31mbc");
        assert_eq!(label(1, "abcdefghijklmnopqrstuvwxyz"), "abcdefghijklmnop");
        assert_eq!(label(1, "ünï"), "n");
    }

    #[test]
    fn an_empty_label_is_the_id() {
        assert_eq!(label(7, ""), "7");
        assert_eq!(label(7, "  \x07"), "7");
    }

    #[test]
    fn a_label_cannot_pass_for_the_hypervisor() {
        assert_eq!(label(2, "diosix"), "capsule-diosix");
        assert_eq!(label(2, "[diosix"), "capsule-diosix");
        assert_eq!(label(2, "dios"), "dios");
    }

    #[test]
    fn tags_with_and_without_colour() {
        assert_eq!(render(1, "web", false), b"[web] ");
        assert_eq!(render(0, "web", true), b"\x1b[0;32m[web]\x1b[0m ");
        assert_eq!(render(7, "web", true), b"\x1b[0;36m[web]\x1b[0m ");
        assert_eq!(render(5, "web", true), b"\x1b[0;31m[web]\x1b[0m ");
    }
}
