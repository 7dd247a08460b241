//! The ISA string a capsule's harts advertise.
//!
//! A capsule runs natively in S-mode, so it may use what the hart has,
//! except what needs M-mode to enable or virtualise for it: the H
//! extension, vector state (not switched yet), Svpbmt/Svadu (menvcfg bits
//! we leave clear, so the guest uses plain page tables), cache-block
//! operations (menvcfg.CBIE/CBZE) and the hardware performance counters.
//! Sstc passes only where the hypervisor turned it on ([`Offer`]). Only
//! extensions on an allow list pass.

use alloc::string::String;
use alloc::vec::Vec;

/// Single-letter extensions a capsule may see, in canonical order.
const LETTERS: &str = "imafdc";

/// Multi-letter extensions a capsule may see.
const ALLOWED: &[&str] = &[
    "zicsr", "zifencei", "zicntr", "zihintpause", "zihintntl", "zmmul", "zaamo", "zalrsc", "zba",
    "zbb", "zbc", "zbs", "zca", "zcb", "zcf", "zcd", "zfa", "zfh", "zfhmin",
];

/// What the hypervisor turned on for capsules beyond the allow list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Offer {
    /// Sstc: menvcfg.STCE is set, so the capsule may write `stimecmp`.
    pub sstc: bool,
}

/// A hart's ISA, read from any form a device tree uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Isa {
    /// "rv32" or "rv64".
    pub width: &'static str,
    /// Single-letter extensions, lower case, in the order met (`g` already
    /// expanded to `imafd`).
    pub letters: String,
    /// Multi-letter extensions, lower case, without version numbers, in
    /// the order met, each once.
    pub multi: Vec<String>,
}

impl Isa {
    /// Reads a `riscv,isa` string: `rv64gc`, `rv64imafdc_zicsr_zifencei`,
    /// `RV64IMAC`, `rv64i2p1m2p0a2p1c2p0_zicsr2p0`, or a first
    /// multi-letter extension straight after the letters (`rv64imaczicsr`).
    /// `None` if it does not start with `rv32` or `rv64`.
    pub fn parse(isa: &str) -> Option<Isa> {
        let lower = isa.trim().to_ascii_lowercase();
        let (width, rest) = split_width(&lower)?;
        let mut out = Isa { width, letters: String::new(), multi: Vec::new() };
        let mut tokens = rest.split('_');
        let singles = tokens.next().unwrap_or("");
        let mut chars = singles.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            if matches!(c, 'z' | 's' | 'x') {
                // A multi-letter extension right after the letters.
                out.add_multi(&singles[at..]);
                break;
            }
            if c.is_ascii_lowercase() {
                out.add_letter(c);
            }
            skip_version(&mut chars);
        }
        for token in tokens {
            out.add_token(token);
        }
        Some(out)
    }

    /// Reads `riscv,isa-base` (`rv64i`) and `riscv,isa-extensions`
    /// (`i`, `m`, ..., `zicsr`). `None` if the base is not `rv32`/`rv64`.
    pub fn from_extensions<'a>(base: &str, extensions: impl IntoIterator<Item = &'a str>) -> Option<Isa> {
        let lower = base.trim().to_ascii_lowercase();
        let (width, rest) = split_width(&lower)?;
        let mut out = Isa { width, letters: String::new(), multi: Vec::new() };
        // The base names i (or e); the list repeats it, but need not.
        out.add_token(rest);
        for ext in extensions {
            out.add_token(&ext.trim().to_ascii_lowercase());
        }
        Some(out)
    }

    /// One `_`-separated token: a multi-letter extension, or a letter
    /// (with an optional version).
    fn add_token(&mut self, token: &str) {
        let name = strip_version(token);
        let mut chars = name.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_lowercase() => self.add_letter(c),
            (Some(_), Some(_)) => self.add_multi(token),
            _ => {}
        }
    }

    fn add_letter(&mut self, c: char) {
        if c == 'g' {
            for l in ['i', 'm', 'a', 'f', 'd'] {
                self.add_letter(l);
            }
            self.add_multi("zicsr");
            self.add_multi("zifencei");
        } else if !self.letters.contains(c) {
            self.letters.push(c);
        }
    }

    fn add_multi(&mut self, ext: &str) {
        let name = strip_version(ext.trim_end_matches('_'));
        if !name.is_empty() && !self.multi.iter().any(|m| m == name) {
            self.multi.push(name.into());
        }
    }

    pub fn has(&self, letter: char) -> bool {
        self.letters.contains(letter)
    }

    /// The canonical string: width, letters, then `_ext` for each
    /// multi-letter extension.
    pub fn to_isa_string(&self) -> String {
        let mut out = String::from(self.width);
        out.push_str(&self.letters);
        for m in &self.multi {
            out.push('_');
            out.push_str(m);
        }
        out
    }

    /// What a capsule may use of this ISA, given what the hypervisor offers.
    pub fn for_capsule(&self, offer: Offer) -> Isa {
        let fpu = self.has('f') && self.has('d');
        let letters = LETTERS.chars().filter(|&l| self.has(l)).collect();
        let multi = self
            .multi
            .iter()
            .filter(|ext| {
                let needs_fpu = matches!(ext.as_str(), "zcf" | "zcd" | "zfa" | "zfh" | "zfhmin");
                let offered = ext.as_str() == "sstc" && offer.sstc;
                (ALLOWED.contains(&ext.as_str()) || offered) && (fpu || !needs_fpu)
            })
            .cloned()
            .collect();
        Isa { width: self.width, letters, multi }
    }
}

fn split_width(lower: &str) -> Option<(&'static str, &str)> {
    if let Some(rest) = lower.strip_prefix("rv64") {
        Some(("rv64", rest))
    } else {
        lower.strip_prefix("rv32").map(|rest| ("rv32", rest))
    }
}

/// Skips a version (`2`, `2p1`) after a single letter.
fn skip_version(chars: &mut core::iter::Peekable<core::str::CharIndices<'_>>) {
    while chars.next_if(|(_, c)| c.is_ascii_digit()).is_some() {}
    let mut ahead = chars.clone();
    if ahead.next().is_some_and(|(_, c)| c == 'p') && ahead.peek().is_some_and(|(_, c)| c.is_ascii_digit()) {
        chars.next();
        while chars.next_if(|(_, c)| c.is_ascii_digit()).is_some() {}
    }
}

/// `zicsr2p0` -> `zicsr`, `m2` -> `m`: a trailing `<digits>` or
/// `<digits>p<digits>` after a letter.
fn strip_version(ext: &str) -> &str {
    let bytes = ext.as_bytes();
    let mut end = bytes.len();
    while end > 0 && bytes[end - 1].is_ascii_digit() {
        end -= 1;
    }
    if end < bytes.len() && end >= 2 && bytes[end - 1] == b'p' && bytes[end - 2].is_ascii_digit() {
        let mut e = end - 1;
        while e > 0 && bytes[e - 1].is_ascii_digit() {
            e -= 1;
        }
        if e > 0 && e < end - 1 {
            end = e;
        }
    }
    if end == 0 { ext } else { &ext[..end] }
}

/// Filters a host `riscv,isa` string (`rv64imafdch_zicsr_...`, `rv64gc`,
/// upper case, with version numbers) down to what a capsule may use.
/// Returns `None` if it is not an `rv32`/`rv64` string.
pub fn for_capsule(host: &str, offer: Offer) -> Option<String> {
    Some(Isa::parse(host)?.for_capsule(offer).to_isa_string())
}

/// The same from `riscv,isa-base` and `riscv,isa-extensions`.
pub fn for_capsule_from_extensions<'a>(
    base: &str,
    extensions: impl IntoIterator<Item = &'a str>,
    offer: Offer,
) -> Option<String> {
    Some(Isa::from_extensions(base, extensions)?.for_capsule(offer).to_isa_string())
}

/// Splits a (filtered) ISA string into the `riscv,isa-base` value
/// (`rv64i`) and the `riscv,isa-extensions` list (`i`, `m`, ..., `zicsr`).
pub fn split(isa: &str) -> (String, Vec<String>) {
    let lower = isa.to_ascii_lowercase();
    let (base, rest) = lower.split_at(lower.find('_').unwrap_or(lower.len()));
    let width = base.get(..4).unwrap_or("rv64");
    let mut exts: Vec<String> = base
        .get(4..)
        .unwrap_or("")
        .chars()
        .map(String::from)
        .collect();
    exts.extend(rest.split('_').filter(|e| !e.is_empty()).map(String::from));
    (alloc::format!("{width}i"), exts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemu_rv64_loses_what_needs_m_mode() {
        let host = "rv64imafdch_zic64b_zicbom_zicbop_zicboz_ziccamoa_ziccif_zicclsm_ziccrse_zicntr_zicsr_zifencei_zihintntl_zihintpause_zihpm_zmmul_za64rs_zaamo_zalrsc_zawrs_zfa_zca_zcd_zba_zbb_zbc_zbs_shcounterenw_sstc_svadu_svvptc";
        let got = for_capsule(host, Offer::default()).unwrap();
        assert_eq!(
            got,
            "rv64imafdc_zicntr_zicsr_zifencei_zihintntl_zihintpause_zmmul_zaamo_zalrsc_zfa_zca_zcd_zba_zbb_zbc_zbs"
        );
        for gone in ["h_", "sstc", "zicbom", "zihpm", "svadu", "zawrs"] {
            assert!(!got.contains(gone), "{gone} leaked into {got}");
        }
    }

    #[test]
    fn fpu_less_harts_get_no_fp_extensions() {
        let got = for_capsule("rv32imach_zicsr_zifencei_zca_zcf_zfa_sstc", Offer::default()).unwrap();
        assert_eq!(got, "rv32imac_zicsr_zifencei_zca");
    }

    #[test]
    fn split_into_base_and_extensions() {
        let (base, exts) = split("rv32imac_zicsr_zifencei");
        assert_eq!(base, "rv32i");
        assert_eq!(exts, ["i", "m", "a", "c", "zicsr", "zifencei"]);
    }

    #[test]
    fn nonsense_is_refused() {
        assert_eq!(for_capsule("x86_64", Offer::default()), None);
        assert_eq!(for_capsule("", Offer::default()), None);
        assert_eq!(for_capsule("RV64IMAC", Offer::default()).as_deref(), Some("rv64imac"));
    }
}
