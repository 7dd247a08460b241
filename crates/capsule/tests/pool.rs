//! The RAM pool under random takes and give-backs: free pieces stay
//! sorted, disjoint and merged, never cover reserved RAM or a capsule's,
//! and every byte taken comes back. A take that prefers a start gets it
//! exactly when that range is free.

use capsule::RamPool;
use memrange::Range;
use proptest::prelude::*;

const MIB: u64 = 1 << 20;

fn check(pool: &RamPool, ram: Range, reserved: &[Range], taken: &[Range]) -> Result<(), TestCaseError> {
    let pieces = pool.pieces();
    for w in pieces.windows(2) {
        prop_assert!(w[0].end() < w[1].start(), "pieces out of order, overlapping or unmerged: {pieces:?}");
    }
    for p in pieces {
        prop_assert!(ram.contains_range(p), "{p:?} outside RAM");
        prop_assert!(reserved.iter().all(|h| !h.overlaps(p)), "{p:?} covers reserved RAM");
        prop_assert!(taken.iter().all(|t| !t.overlaps(p)), "{p:?} covers a capsule's RAM");
    }
    Ok(())
}

proptest! {
    #[test]
    fn takes_and_give_backs_keep_the_pool_whole(
        holes in prop::collection::vec((0u64..512, 1u64..32), 0..4),
        ops in prop::collection::vec((any::<bool>(), 1u64..96, any::<prop::sample::Index>(), prop::option::of(0u64..256)), 1..40),
    ) {
        let ram = Range::new(0x8000_0000, 512 * MIB).unwrap();
        let reserved: Vec<Range> = holes.iter().map(|&(at, size)| Range::new(0x8000_0000 + at * MIB, size * MIB).unwrap()).collect();
        let mut pool = RamPool::new(&[ram], &reserved);
        let start = pool.free_bytes();
        let mut taken: Vec<Range> = Vec::new();
        for (take, mib, which, at) in ops {
            if take || taken.is_empty() {
                let before = pool.clone();
                let size = mib * 2 * MIB;
                let wanted = at.map(|a| 0x8000_0000 + a * 2 * MIB);
                let got = match wanted {
                    Some(w) => pool.take_preferring(w, size, 2 * MIB),
                    None => pool.take(size, 2 * MIB),
                };
                if let (Some(w), Ok(r)) = (wanted, &got) {
                    let free_there = Range::new(w, size).is_ok_and(|want| before.pieces().iter().any(|p| p.contains_range(&want)));
                    prop_assert_eq!(free_there, r.start() == w, "the preferred start was {} but not taken", if free_there { "free" } else { "taken" });
                }
                match got {
                    Ok(r) => {
                        prop_assert_eq!(r.size(), mib * 2 * MIB);
                        prop_assert!(r.start() % (2 * MIB) == 0);
                        prop_assert!(taken.iter().all(|t| !t.overlaps(&r)));
                        taken.push(r);
                    }
                    Err(_) => prop_assert_eq!(&pool, &before, "a failed take changed the pool"),
                }
            } else {
                let r = taken.swap_remove(which.index(taken.len()));
                prop_assert!(pool.give_back(r).is_ok());
                prop_assert!(pool.give_back(r).is_err(), "a second give-back was taken");
            }
            check(&pool, ram, &reserved, &taken)?;
            let out: u64 = taken.iter().map(|t| t.size()).sum();
            prop_assert_eq!(pool.free_bytes() + out, start);
        }
        for r in taken.drain(..) {
            prop_assert!(pool.give_back(r).is_ok());
        }
        prop_assert_eq!(pool, RamPool::new(&[ram], &reserved));
    }
}
