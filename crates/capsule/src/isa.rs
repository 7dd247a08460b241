//! The ISA string a capsule's harts advertise.
//!
//! A capsule runs natively in S-mode, so it may use what the hart has,
//! except what needs M-mode to enable or virtualise for it: the H
//! extension, vector state (not switched yet), Sstc and Svpbmt/Svadu
//! (menvcfg bits we leave clear, so the guest uses SBI timers and plain
//! page tables), cache-block operations (menvcfg.CBIE/CBZE) and the
//! hardware performance counters. Only extensions on an allow list pass.

use alloc::string::String;

/// Single-letter extensions a capsule may see, in canonical order.
const LETTERS: &str = "imafdc";

/// Multi-letter extensions a capsule may see.
const ALLOWED: &[&str] = &[
    "zicsr", "zifencei", "zicntr", "zihintpause", "zihintntl", "zmmul", "zaamo", "zalrsc", "zba",
    "zbb", "zbc", "zbs", "zca", "zcb", "zcf", "zcd", "zfa", "zfh", "zfhmin",
];

/// Filters a host `riscv,isa` string (`rv64imafdch_zicsr_...`) down to
/// what a capsule may use. Returns `None` if it is not an `rv32`/`rv64`
/// string.
pub fn for_capsule(host: &str) -> Option<String> {
    let lower = host.to_ascii_lowercase();
    let (base, rest) = lower.split_at(lower.find('_').unwrap_or(lower.len()));
    let letters = base.strip_prefix("rv64").or_else(|| base.strip_prefix("rv32"))?;
    let mut out = String::from(&base[..4]);
    let fpu = letters.contains('f') && letters.contains('d');
    for l in LETTERS.chars().filter(|l| letters.contains(*l)) {
        out.push(l);
    }
    for ext in rest.split('_').filter(|e| !e.is_empty()) {
        let needs_fpu = matches!(ext, "zcf" | "zcd" | "zfa" | "zfh" | "zfhmin");
        if ALLOWED.contains(&ext) && (fpu || !needs_fpu) {
            out.push('_');
            out.push_str(ext);
        }
    }
    Some(out)
}

/// Splits a (filtered) ISA string into the `riscv,isa-base` value
/// (`rv64i`) and the `riscv,isa-extensions` list (`i`, `m`, ..., `zicsr`).
pub fn split(isa: &str) -> (String, alloc::vec::Vec<String>) {
    let lower = isa.to_ascii_lowercase();
    let (base, rest) = lower.split_at(lower.find('_').unwrap_or(lower.len()));
    let width = base.get(..4).unwrap_or("rv64");
    let mut exts: alloc::vec::Vec<String> = base
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
        let got = for_capsule(host).unwrap();
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
        let got = for_capsule("rv32imach_zicsr_zifencei_zca_zcf_zfa_sstc").unwrap();
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
        assert_eq!(for_capsule("x86_64"), None);
        assert_eq!(for_capsule(""), None);
        assert_eq!(for_capsule("RV64IMAC").as_deref(), Some("rv64imac"));
    }
}
