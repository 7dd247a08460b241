//! Which capsule the terminal's keys go to, and what the hypervisor says
//! when that changes.

use alloc::string::String;
use core::fmt;

/// The key that moves the input focus to the next capsule: Ctrl-]
/// (0x1d, GS). See the crate docs for why this one.
pub const FOCUS_KEY: u8 = 0x1d;
/// How [`FOCUS_KEY`] is written for people.
pub const FOCUS_KEY_NAME: &str = "Ctrl-]";

/// Where console input goes now, for the hypervisor to say.
///
/// Its `Display` is the sentence, without the hypervisor's `[diosix]`:
/// "console input goes to linux (capsule 1); Ctrl-] switches".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// To capsule `id`, whose lines are tagged `tag`.
    Focus { id: u32, tag: String },
    /// Nowhere: no capsule is registered. Input is dropped.
    Nobody,
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Notice::Focus { id, tag } => {
                write!(f, "console input goes to {tag} (capsule {id}); {FOCUS_KEY_NAME} switches")
            }
            Notice::Nobody => f.write_str("console input goes nowhere: no capsule is running"),
        }
    }
}

/// The capsule after `current` in id order, wrapping; `None` if `ids`
/// is empty.
pub(crate) fn next(ids: impl Iterator<Item = u32> + Clone, current: Option<u32>) -> Option<u32> {
    let after = current.and_then(|c| ids.clone().filter(|&id| id > c).min());
    after.or_else(|| ids.min())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn next_wraps_in_id_order() {
        let ids = [5, 1, 9];
        let next = |c| next(ids.iter().copied(), c);
        assert_eq!(next(Some(1)), Some(5));
        assert_eq!(next(Some(5)), Some(9));
        assert_eq!(next(Some(9)), Some(1));
        assert_eq!(next(Some(3)), Some(5));
        assert_eq!(next(None), Some(1));
        assert_eq!(super::next([].into_iter(), Some(1)), None);
    }

    #[test]
    fn notices_read_well() {
        let n = Notice::Focus { id: 2, tag: "web".into() };
        assert_eq!(n.to_string(), "console input goes to web (capsule 2); Ctrl-] switches");
        assert_eq!(Notice::Nobody.to_string(), "console input goes nowhere: no capsule is running");
    }
}
