//! Corrupt, truncated and hostile device trees end in an error, never a panic.

mod common;

use common::{Harts, Spec};
use devtree::{Error, Fdt, Platform, PlatformError};
use proptest::prelude::*;

const VIRT: &[u8] = include_bytes!("data/qemu-virt-rv64-smp3-384M.dtb");
const NUMA: &[u8] = include_bytes!("data/qemu-virt-rv64-numa2-smp4-512M.dtb");
const NUMA_ACLINT: &[u8] = include_bytes!("data/qemu-virt-rv64-aclint-numa2-smp4-512M.dtb");

fn leak(v: Vec<u8>) -> &'static [u8] {
    Box::leak(v.into_boxed_slice())
}

/// Parse and, if that works, read a platform and walk every node and
/// property: none of it may panic.
fn exercise(bytes: &'static [u8]) -> Result<(), PlatformError> {
    let fdt = Fdt::parse(bytes)?;
    for node in fdt.nodes() {
        let _ = node.name();
        for p in node.properties() {
            let _ = (p.as_str(), p.as_u32(), p.strings().count(), p.cells().count());
        }
        let _ = node.reg().count();
    }
    let p = Platform::from_fdt(&fdt)?;
    check_invariants(&p);
    Ok(())
}

/// What a platform read from any tree promises: its sums and addresses
/// do not overflow.
fn check_invariants(p: &Platform) {
    let total = p.ram.iter().try_fold(0u64, |s, r| s.checked_add(r.size()));
    assert_eq!(total, Some(p.ram_bytes()));
    for d in p.poweroff.iter().chain(p.reboot.iter()) {
        assert!(d.address().is_some(), "{d:?}");
    }
    for t in &p.hart_timers {
        assert!(t.msip.checked_add(3).is_some() && t.mtimecmp.checked_add(7).is_some() && t.mtime.checked_add(7).is_some(), "{t:?}");
        assert!(p.timer_ipi.iter().any(|d| d.harts.contains(&t.hart)));
    }
    if !p.hart_timers.is_empty() {
        for h in p.usable_harts() {
            assert!(p.timer_of(h.id).is_some(), "usable hart {} has no timer", h.id);
        }
    }
}

/// Numbers a hostile tree might hold: small ones, and ones near the top.
fn number() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..0x1_0000,
        0x8000_0000u64..0x9000_0000,
        (0u64..0x10_0000).prop_map(|d| u64::MAX - d),
        any::<u64>(),
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    // Mostly sane RAM and reservations, so that reading gets past them to
    // the timers and power devices.
    let ram = prop_oneof![
        3 => Just(vec![(0x8000_0000u64, 0x1000_0000u64)]),
        1 => prop::collection::vec((number(), number()), 0..4),
    ];
    let clints = prop::collection::vec(
        (
            number(),
            prop_oneof![
                prop::collection::vec(0u32..6, 0..6).prop_map(Harts::Listed),
                Just(Harts::Unlisted),
                prop::collection::vec(prop_oneof![0x100u32..0x106, 0u32..12, any::<u32>()], 0..12).prop_map(Harts::Raw),
            ],
        ),
        0..3,
    );
    let aclints = prop::collection::vec((number(), number(), number(), prop::collection::vec(0u32..6, 0..6)), 0..3);
    let syscon = || prop::option::of((number(), any::<u32>()));
    // The block ends at its first all-zero entry, so keep sizes non-zero.
    let entry = || (number(), number().prop_map(|s| s.max(1)));
    let block = prop_oneof![
        3 => prop::collection::vec(entry(), 0..3),
        1 => prop::collection::vec(entry(), 0..70),
    ];
    let nodes = prop_oneof![
        3 => prop::collection::vec((0x8000_0000u64..0x9000_0000, 1u64..0x1_0000), 0..3),
        1 => prop::collection::vec((number(), number()), 0..8),
    ];
    (ram, 0u32..6, clints, aclints, syscon(), syscon(), block, nodes, prop_oneof![3 => Just(2u32), 1 => 1u32..4]).prop_map(
        |(ram, harts, clints, aclints, poweroff, reboot, rsv_block, reserved_nodes, reserved_cells)| Spec {
            ram,
            harts,
            clints,
            aclints,
            poweroff,
            reboot,
            rsv_block,
            reserved_nodes,
            reserved_cells,
            ..Spec::default()
        },
    )
}

fn set_be32(v: &mut [u8], at: usize, value: u32) {
    v[at..at + 4].copy_from_slice(&value.to_be_bytes());
}

#[test]
fn every_truncation_is_an_error() {
    for len in 0..VIRT.len() {
        let cut = leak(VIRT[..len].to_vec());
        assert!(Fdt::parse(cut).is_err(), "a tree cut to {len} bytes parsed");
    }
}

#[test]
fn header_damage_is_reported() {
    let mut v = VIRT.to_vec();
    v[0] = 0;
    assert!(matches!(Fdt::parse(leak(v)), Err(Error::BadMagic(_))));

    let mut v = VIRT.to_vec();
    set_be32(&mut v, 4, 0x7fff_ffff);
    assert_eq!(Fdt::parse(leak(v)).err(), Some(Error::TooLarge(0x7fff_ffff)));

    let mut v = VIRT.to_vec();
    set_be32(&mut v, 8, 0xffff_fff0); // off_dt_struct
    assert_eq!(Fdt::parse(leak(v)).err(), Some(Error::BlockOutOfBounds("structure")));

    let mut v = VIRT.to_vec();
    set_be32(&mut v, 32, 0xffff_ffff); // size_dt_strings
    assert_eq!(Fdt::parse(leak(v)).err(), Some(Error::BlockOutOfBounds("strings")));

    let mut v = VIRT.to_vec();
    set_be32(&mut v, 20, 2); // version
    assert_eq!(Fdt::parse(leak(v)).err(), Some(Error::UnsupportedVersion(2)));
}

#[test]
fn structure_damage_is_reported() {
    let off_struct = u32::from_be_bytes(VIRT[8..12].try_into().unwrap()) as usize;
    // The first token must begin the root node; make it an unknown token.
    let mut v = VIRT.to_vec();
    set_be32(&mut v, off_struct, 0x77);
    assert!(matches!(Fdt::parse(leak(v)), Err(Error::BadToken { token: 0x77, .. })));
    // An END_NODE first closes a node that was never opened.
    let mut v = VIRT.to_vec();
    set_be32(&mut v, off_struct, 2);
    assert!(matches!(Fdt::parse(leak(v)), Err(Error::Unbalanced { .. })));
}

#[test]
fn absurd_cells_are_rejected() {
    let mut w = vm_fdt::FdtWriter::new().unwrap();
    let root = w.begin_node("").unwrap();
    w.property_u32("#address-cells", 5).unwrap();
    w.end_node(root).unwrap();
    let blob = leak(w.finish().unwrap());
    assert!(matches!(Fdt::parse(blob), Err(Error::BadCells { .. })));
}

#[test]
fn missing_ram_and_harts_are_errors() {
    let mut w = vm_fdt::FdtWriter::new().unwrap();
    let root = w.begin_node("").unwrap();
    let cpus = w.begin_node("cpus").unwrap();
    w.end_node(cpus).unwrap();
    w.end_node(root).unwrap();
    let blob = leak(w.finish().unwrap());
    let fdt = Fdt::parse(blob).unwrap();
    assert_eq!(Platform::from_fdt(&fdt), Err(PlatformError::NoRam));

    let mut w = vm_fdt::FdtWriter::new().unwrap();
    let root = w.begin_node("").unwrap();
    w.property_u32("#address-cells", 2).unwrap();
    w.property_u32("#size-cells", 2).unwrap();
    let mem = w.begin_node("memory@80000000").unwrap();
    w.property_string("device_type", "memory").unwrap();
    w.property_array_u64("reg", &[0x8000_0000, 0x100_0000]).unwrap();
    w.end_node(mem).unwrap();
    w.end_node(root).unwrap();
    let blob = leak(w.finish().unwrap());
    let fdt = Fdt::parse(blob).unwrap();
    assert_eq!(Platform::from_fdt(&fdt), Err(PlatformError::NoHarts));
}

#[test]
fn ram_that_wraps_the_address_space_is_an_error() {
    let mut w = vm_fdt::FdtWriter::new().unwrap();
    let root = w.begin_node("").unwrap();
    w.property_u32("#address-cells", 2).unwrap();
    w.property_u32("#size-cells", 2).unwrap();
    let mem = w.begin_node("memory@0").unwrap();
    w.property_string("device_type", "memory").unwrap();
    w.property_array_u64("reg", &[u64::MAX - 0xfff, 0x2000]).unwrap();
    w.end_node(mem).unwrap();
    w.end_node(root).unwrap();
    let fdt = Fdt::parse(leak(w.finish().unwrap())).unwrap();
    assert!(matches!(Platform::from_fdt(&fdt), Err(PlatformError::BadRam { .. })));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Well-formed trees full of hostile numbers: RAM, CLINT and ACLINT
    /// bases, hart lists, syscon offsets, reservations.
    #[test]
    fn hostile_numbers_never_panic(spec in spec()) {
        let _ = exercise(spec.build());
    }

    /// Byte flips in the two-socket trees, whose CLINTs and ACLINTs list
    /// their harts.
    #[test]
    fn numa_tree_corruption_never_panics(
        aclint: bool,
        flips in prop::collection::vec((0..NUMA.len().min(NUMA_ACLINT.len()), any::<u8>()), 1..8),
    ) {
        let mut v = if aclint { NUMA_ACLINT.to_vec() } else { NUMA.to_vec() };
        for (at, byte) in flips {
            v[at] = byte;
        }
        let _ = exercise(leak(v));
    }

    /// Random byte flips anywhere in a real tree.
    #[test]
    fn random_corruption_never_panics(flips in prop::collection::vec((0..VIRT.len(), any::<u8>()), 1..8)) {
        let mut v = VIRT.to_vec();
        for (at, byte) in flips {
            v[at] = byte;
        }
        let _ = exercise(leak(v));
    }

    /// Random 32-bit words written at word boundaries, where tokens, lengths
    /// and offsets live.
    #[test]
    fn random_words_never_panic(words in prop::collection::vec((0..VIRT.len() / 4, any::<u32>()), 1..4)) {
        let mut v = VIRT.to_vec();
        for (at, word) in words {
            set_be32(&mut v, at * 4, word);
        }
        let _ = exercise(leak(v));
    }

    /// Arbitrary bytes behind a valid magic number.
    #[test]
    fn garbage_never_panics(tail in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut v = 0xd00d_feedu32.to_be_bytes().to_vec();
        v.extend(tail);
        let _ = exercise(leak(v));
    }
}
