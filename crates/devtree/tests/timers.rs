//! Which CLINT/ACLINT serves each hart, and at which index, from the
//! devices' `interrupts-extended` lists.

mod common;

use common::{Harts, Spec, intc};

fn per_hart(spec: &Spec) -> Vec<(u64, u64, u64, u64)> {
    let p = spec.platform().unwrap();
    p.hart_timers.iter().map(|t| (t.hart, t.msip, t.mtimecmp, t.mtime)).collect()
}

#[test]
fn a_clint_lists_harts_out_of_id_order() {
    // Hart 1 is index 0, hart 0 index 1.
    let spec = Spec { clints: vec![(0x200_0000, Harts::Listed(vec![1, 0]))], ..Spec::default() };
    assert_eq!(per_hart(&spec), [(0, 0x200_0004, 0x200_4008, 0x200_bff8), (1, 0x200_0000, 0x200_4000, 0x200_bff8)]);
}

#[test]
fn a_clint_without_a_list_serves_harts_by_id() {
    let spec = Spec { clints: vec![(0x200_0000, Harts::Unlisted)], ..Spec::default() };
    assert_eq!(per_hart(&spec), [(0, 0x200_0000, 0x200_4000, 0x200_bff8), (1, 0x200_0004, 0x200_4008, 0x200_bff8)]);
}

#[test]
fn each_hart_uses_the_clint_that_lists_it() {
    let spec = Spec {
        harts: 4,
        clints: vec![(0x200_0000, Harts::Listed(vec![0, 2])), (0x300_0000, Harts::Listed(vec![3, 1]))],
        ..Spec::default()
    };
    assert_eq!(
        per_hart(&spec),
        [
            (0, 0x200_0000, 0x200_4000, 0x200_bff8),
            (1, 0x300_0004, 0x300_4008, 0x300_bff8),
            (2, 0x200_0004, 0x200_4008, 0x200_bff8),
            (3, 0x300_0000, 0x300_4000, 0x300_bff8),
        ]
    );
    let p = spec.platform().unwrap();
    assert_eq!(p.timer_ipi.iter().map(|d| d.harts.clone()).collect::<Vec<_>>(), [vec![0, 2], vec![1, 3]]);
}

#[test]
fn a_hart_no_device_serves_is_left_out() {
    let spec = Spec { harts: 3, clints: vec![(0x200_0000, Harts::Listed(vec![0, 2]))], ..Spec::default() };
    let p = spec.platform().unwrap();
    assert_eq!(p.usable_harts().map(|h| h.id).collect::<Vec<_>>(), [0, 2]);
    assert!(p.timer_of(1).is_none());
}

/// A capsule's own tree has no CLINT: its harts stay usable (the
/// hypervisor refuses a host tree without one at boot).
#[test]
fn without_timer_devices_harts_stay_usable() {
    let p = Spec { clints: vec![], ..Spec::default() }.platform().unwrap();
    assert!(p.hart_timers.is_empty() && p.timer_ipi.is_empty());
    assert_eq!(p.usable_harts().count(), 2);
}

#[test]
fn other_interrupt_controllers_in_the_list_take_their_own_cells() {
    // An entry for hart 0's intc with irq 11 (not ours), then the usual ones
    // for hart 1 only: hart 1 is index 0 for both roles.
    let cells = vec![intc(0), 11, intc(1), 3, intc(1), 7];
    let spec = Spec { clints: vec![(0x200_0000, Harts::Raw(cells))], ..Spec::default() };
    assert_eq!(per_hart(&spec), [(1, 0x200_0000, 0x200_4000, 0x200_bff8)]);
}

#[test]
fn an_unknown_phandle_ends_the_list() {
    let cells = vec![intc(0), 3, intc(0), 7, 0xdead, 3, intc(1), 3, intc(1), 7];
    let spec = Spec { clints: vec![(0x200_0000, Harts::Raw(cells))], ..Spec::default() };
    assert_eq!(per_hart(&spec), [(0, 0x200_0000, 0x200_4000, 0x200_bff8)]);
}

#[test]
fn aclint_pairs_per_node() {
    let spec = Spec {
        harts: 4,
        clints: vec![],
        aclints: vec![
            (0x200_0000, 0x200_bff8, 0x200_4000, vec![0, 1]),
            (0x201_0000, 0x201_bff8, 0x201_4000, vec![2, 3]),
        ],
        ..Spec::default()
    };
    assert_eq!(per_hart(&spec)[3], (3, 0x201_0004, 0x201_4008, 0x201_bff8));
}

/// `riscv,isa-extensions` (with `riscv,isa-base`) is read, and preferred
/// to `riscv,isa`.
#[test]
fn isa_extension_list_is_read() {
    let exts: Vec<String> = ["i", "m", "a", "F", "d", "c", "zicsr", "zifencei", "sstc"].iter().map(|s| s.to_string()).collect();
    let spec = Spec {
        isa: Some("rv64imac".into()),
        isa_base: Some("rv64i".into()),
        isa_extensions: Some(exts.clone()),
        ..Spec::default()
    };
    let p = spec.platform().unwrap();
    assert_eq!(p.harts[0].isa, "rv64imafdc_zicsr_zifencei_sstc");
    // The width from riscv,isa when there is no base.
    let spec = Spec { isa: Some("rv32ima".into()), isa_base: None, isa_extensions: Some(exts), ..Spec::default() };
    assert_eq!(spec.platform().unwrap().harts[0].isa, "rv32imafdc_zicsr_zifencei_sstc");
    // Only the list, nothing to tell the width: unknown.
    let spec = Spec { isa: None, isa_base: None, isa_extensions: Some(vec!["i".into()]), ..Spec::default() };
    assert_eq!(spec.platform().unwrap().harts[0].isa, "unknown");
}
