//! Numbers from the tree that would overflow when added or multiplied end
//! in a clear error, never a panic, a wrapped address or a silently shorter
//! list of reservations.

mod common;

use common::{Harts, Spec};

fn error_of(spec: &Spec) -> String {
    match spec.platform() {
        Ok(p) => panic!("tree accepted: {p:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_default_spec_is_a_platform() {
    let p = Spec::default().platform().unwrap();
    assert_eq!(p.ram_bytes(), 0x1000_0000);
    assert_eq!(p.usable_harts().count(), 2);
}

#[test]
fn clint_near_the_top_of_the_address_space() {
    let base = u64::MAX - 0x100;
    let spec = Spec { clints: vec![(base, Harts::Listed(vec![0, 1]))], ..Spec::default() };
    let e = error_of(&spec);
    assert!(e.contains(&format!("{base:#x}")), "{e}");
}

#[test]
fn clint_unlisted_near_the_top_of_the_address_space() {
    let base = u64::MAX - 0xbff0;
    let spec = Spec { clints: vec![(base, Harts::Unlisted)], ..Spec::default() };
    let e = error_of(&spec);
    assert!(e.contains(&format!("{base:#x}")), "{e}");
}

#[test]
fn aclint_mtimecmp_array_that_wraps() {
    // Hart 0's mtimecmp fits, hart 1's (8 bytes on) would wrap.
    let mtimecmp = u64::MAX - 7;
    let spec = Spec { clints: vec![], aclints: vec![(0x200_0000, 0x200_bff8, mtimecmp, vec![0, 1])], ..Spec::default() };
    let e = error_of(&spec);
    assert!(e.contains(&format!("{mtimecmp:#x}")), "{e}");
}

#[test]
fn aclint_msip_array_that_wraps() {
    let mswi = u64::MAX - 3;
    let spec = Spec { clints: vec![], aclints: vec![(mswi, 0x200_bff8, 0x200_4000, vec![0, 1])], ..Spec::default() };
    let e = error_of(&spec);
    assert!(e.contains(&format!("{mswi:#x}")), "{e}");
}

#[test]
fn ram_ranges_whose_sum_overflows() {
    // Each range is valid on its own; together they claim more than 2^64 bytes.
    let spec = Spec { ram: vec![(0, u64::MAX), (0x8000_0000, u64::MAX - 0x8000_0000)], ..Spec::default() };
    let e = error_of(&spec);
    assert!(e.contains("overlap"), "{e}");
}

#[test]
fn overlapping_ram_is_an_error() {
    let spec = Spec { ram: vec![(0x8000_0000, 0x1000_0000), (0x8800_0000, 0x1000_0000)], ..Spec::default() };
    let e = error_of(&spec);
    assert!(e.contains("0x88000000"), "{e}");
}

#[test]
fn poweroff_offset_past_the_address_space() {
    let spec = Spec { poweroff: Some((u64::MAX - 3, 0x10)), ..Spec::default() };
    let e = error_of(&spec);
    assert!(e.contains("power-off") && e.contains("0x10"), "{e}");
}

#[test]
fn reboot_offset_past_the_address_space() {
    let spec = Spec { reboot: Some((u64::MAX, 4)), ..Spec::default() };
    let e = error_of(&spec);
    assert!(e.contains("reset"), "{e}");
}

#[test]
fn syscon_offsets_in_range_give_the_address() {
    let p = Spec { poweroff: Some((0x10_0000, 0x10)), reboot: Some((0x20_0000, 4)), ..Spec::default() }
        .platform()
        .unwrap();
    let (o, r) = (p.poweroff.unwrap(), p.reboot.unwrap());
    assert_eq!(o.base.checked_add(o.offset), Some(0x10_0010));
    assert_eq!(r.base.checked_add(r.offset), Some(0x20_0004));
}

#[test]
fn every_reservation_block_entry_up_to_the_limit_is_kept() {
    let block: Vec<(u64, u64)> = (0..64).map(|i| (0x8000_0000 + i * 0x1000, 0x1000)).collect();
    let p = Spec { rsv_block: block.clone(), ..Spec::default() }.platform().unwrap();
    let got: Vec<(u64, u64)> = p.reserved.iter().map(|r| (r.start(), r.size())).collect();
    assert_eq!(got, block);
}

#[test]
fn a_reservation_block_beyond_the_limit_is_an_error() {
    let block: Vec<(u64, u64)> = (0..65).map(|i| (0x8000_0000 + i * 0x1000, 0x1000)).collect();
    let e = error_of(&Spec { rsv_block: block, ..Spec::default() });
    assert!(e.contains("reservation"), "{e}");
}

#[test]
fn a_wrapping_reservation_block_entry_is_an_error() {
    let spec = Spec { rsv_block: vec![(0x8000_0000, 0x1000), (u64::MAX - 0xfff, 0x2000)], ..Spec::default() };
    let e = error_of(&spec);
    assert!(e.contains("reserv") && e.contains("0xfffffffffffff000"), "{e}");
}

#[test]
fn many_reserved_memory_nodes_are_all_kept() {
    let nodes: Vec<(u64, u64)> = (0..200).map(|i| (0x8000_0000 + i * 0x1000, 0x1000)).collect();
    let p = Spec { reserved_nodes: nodes.clone(), ..Spec::default() }.platform().unwrap();
    assert_eq!(p.reserved.len(), 200);
    let got: Vec<(u64, u64)> = p.reserved.iter().map(|r| (r.start(), r.size())).collect();
    assert_eq!(got, nodes);
}

#[test]
fn too_many_reserved_memory_nodes_are_an_error() {
    let nodes: Vec<(u64, u64)> = (0..2000).map(|i| (0x8000_0000 + i * 0x1000, 0x1000)).collect();
    let e = error_of(&Spec { reserved_nodes: nodes, ..Spec::default() });
    assert!(e.contains("reserv"), "{e}");
}

#[test]
fn a_wrapping_reserved_memory_node_is_an_error() {
    let spec = Spec { reserved_nodes: vec![(u64::MAX - 0xfff, 0x2000)], ..Spec::default() };
    let e = error_of(&spec);
    assert!(e.contains("0xfffffffffffff000"), "{e}");
}

#[test]
fn a_reserved_memory_node_we_cannot_read_is_an_error() {
    // Three address cells: reg() cannot give 64-bit addresses for it.
    let spec = Spec { reserved_nodes: vec![(0x8000_0000, 0x1000)], reserved_cells: 3, ..Spec::default() };
    let e = error_of(&spec);
    assert!(e.contains("reserved-memory"), "{e}");
}
