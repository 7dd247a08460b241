//! The ISA string a capsule sees, from every form a device tree may give.

use capsule::isa::{self, Offer};

/// The filter with nothing offered beyond the allow list.
fn for_capsule(host: &str) -> Option<String> {
    isa::for_capsule(host, Offer::default())
}

fn for_capsule_from_extensions<'a>(base: &str, exts: impl IntoIterator<Item = &'a str>) -> Option<String> {
    isa::for_capsule_from_extensions(base, exts, Offer::default())
}

#[test]
fn sstc_passes_only_where_offered() {
    let host = "rv64imafdc_zicsr_zifencei_sstc";
    assert_eq!(isa::for_capsule(host, Offer { sstc: true }).as_deref(), Some("rv64imafdc_zicsr_zifencei_sstc"));
    assert_eq!(for_capsule(host).as_deref(), Some("rv64imafdc_zicsr_zifencei"));
    // Offered, but the hart does not have it: nothing to pass.
    assert_eq!(isa::for_capsule("rv32imac_zicsr", Offer { sstc: true }).as_deref(), Some("rv32imac_zicsr"));
}
use proptest::prelude::*;

#[test]
fn g_means_imafd_zicsr_zifencei() {
    assert_eq!(for_capsule("rv64gc").as_deref(), Some("rv64imafdc_zicsr_zifencei"));
    assert_eq!(for_capsule("rv32g").as_deref(), Some("rv32imafd_zicsr_zifencei"));
    // Already listed: not repeated.
    assert_eq!(for_capsule("rv64gc_zicsr_zba").as_deref(), Some("rv64imafdc_zicsr_zifencei_zba"));
}

#[test]
fn underscored_extensions() {
    assert_eq!(
        for_capsule("rv64imafdc_zicsr_zifencei_zihintpause_sstc").as_deref(),
        Some("rv64imafdc_zicsr_zifencei_zihintpause")
    );
}

#[test]
fn upper_case() {
    assert_eq!(for_capsule("RV64GC").as_deref(), Some("rv64imafdc_zicsr_zifencei"));
    assert_eq!(for_capsule("RV32IMAC_Zicsr_ZIFENCEI").as_deref(), Some("rv32imac_zicsr_zifencei"));
}

#[test]
fn version_numbers() {
    assert_eq!(
        for_capsule("rv64i2p1m2p0a2p1f2p2d2p2c2p0_zicsr2p0_zifencei2p0_zba1p0").as_deref(),
        Some("rv64imafdc_zicsr_zifencei_zba")
    );
    // A bare major version, and a version before the p extension.
    assert_eq!(for_capsule("rv32i2m2a2c2").as_deref(), Some("rv32imac"));
    assert_eq!(for_capsule("rv64i2p1m2a").as_deref(), Some("rv64ima"));
}

#[test]
fn multi_letter_straight_after_the_letters() {
    assert_eq!(for_capsule("rv64imaczicsr_zifencei").as_deref(), Some("rv64imac_zicsr_zifencei"));
}

#[test]
fn extension_list() {
    let qemu = [
        "i", "m", "a", "f", "d", "c", "h", "zic64b", "zicbom", "zicntr", "zicsr", "zifencei", "zihpm", "zfa", "zca", "zcd",
        "zba", "sstc", "svadu",
    ];
    assert_eq!(
        for_capsule_from_extensions("rv64i", qemu).as_deref(),
        Some("rv64imafdc_zicntr_zicsr_zifencei_zfa_zca_zcd_zba")
    );
    // Without F and D, no FP-dependent extensions.
    assert_eq!(for_capsule_from_extensions("RV32I", ["m", "A", "c", "zcf", "Zicsr"]).as_deref(), Some("rv32imac_zicsr"));
    assert_eq!(for_capsule_from_extensions("x86", ["m"]), None);
}

#[test]
fn nonsense() {
    assert_eq!(for_capsule("rv"), None);
    assert_eq!(for_capsule("rv128i"), None);
    assert_eq!(for_capsule("rv64").as_deref(), Some("rv64"));
    assert_eq!(for_capsule("rv64_").as_deref(), Some("rv64"));
    assert_eq!(for_capsule("rv64i__zicsr_").as_deref(), Some("rv64i_zicsr"));
}

/// One ISA string in any of the forms, and the imafdc letters it holds.
fn isa_form() -> impl Strategy<Value = (String, Vec<char>)> {
    let letters = prop::collection::vec(prop::sample::select(vec!['i', 'm', 'a', 'f', 'd', 'c', 'g', 'q', 'v', 'h', 'b', 'p']), 0..8);
    let multi = prop::collection::vec(
        prop::sample::select(vec!["zicsr", "zifencei", "zba", "sstc", "zicbom", "zfa", "xfoo", "svadu", "zve32x"]),
        0..5,
    );
    (any::<bool>(), letters, prop::collection::vec(any::<bool>(), 8), multi, any::<bool>(), any::<bool>()).prop_map(
        |(wide, letters, versions, multi, upper, glued)| {
            let mut s = String::from(if wide { "rv64" } else { "rv32" });
            let mut held = Vec::new();
            for (i, l) in letters.iter().enumerate() {
                s.push(*l);
                if versions[i % versions.len()] {
                    s.push_str(&format!("{}p{}", i % 3 + 1, i % 2));
                }
                if *l == 'g' {
                    held.extend(['i', 'm', 'a', 'f', 'd']);
                } else if "imafdc".contains(*l) {
                    held.push(*l);
                }
            }
            for (i, m) in multi.iter().enumerate() {
                if !(glued && i == 0) {
                    s.push('_');
                }
                s.push_str(m);
                if versions[(i + 3) % versions.len()] {
                    s.push_str("1p0");
                }
            }
            if upper {
                s = s.to_ascii_uppercase();
            }
            (s, held)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// No letter of imafdc the input has (itself or through g) is lost,
    /// and nothing outside imafdc or the allow list appears.
    #[test]
    fn no_base_letter_is_lost((isa, held) in isa_form()) {
        let out = for_capsule(&isa).expect("an rv32/rv64 string");
        let letters = out.split('_').next().unwrap();
        for l in held {
            prop_assert!(letters[4..].contains(l), "{isa} -> {out}: lost {l}");
        }
        prop_assert!(letters[4..].chars().all(|c| "imafdc".contains(c)), "{isa} -> {out}");
        for ext in out.split('_').skip(1) {
            prop_assert!(!["sstc", "zicbom", "xfoo", "svadu", "zve32x"].contains(&ext), "{isa} -> {out}");
        }
    }

    /// The same letters through riscv,isa-extensions.
    #[test]
    fn no_base_letter_is_lost_from_a_list(letters in prop::collection::vec(prop::sample::select(vec!["i", "m", "a", "f", "d", "c", "h", "v", "zicsr", "M", "C"]), 0..10)) {
        let out = for_capsule_from_extensions("rv64i", letters.iter().copied()).unwrap();
        for l in &letters {
            let l = l.to_ascii_lowercase();
            if l.len() == 1 && "imafdc".contains(&l) {
                prop_assert!(out.split('_').next().unwrap().contains(&l), "{letters:?} -> {out}");
            }
        }
    }

    /// Arbitrary text never panics.
    #[test]
    fn garbage_never_panics(s in ".{0,40}") {
        let _ = for_capsule(&s);
        let _ = for_capsule(&format!("rv64{s}"));
        let _ = for_capsule_from_extensions(&format!("rv32{s}"), s.split('\0'));
    }
}
