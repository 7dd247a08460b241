//! The run queue in a simulated hart: CPU-bound vcores share it evenly
//! whatever else wakes and sleeps beside them.

use proptest::prelude::*;
use sched::RunQueue;

/// One hart, `busy` CPU-bound vcores and a sleeper that wakes every
/// `period` ticks and runs `burst` ticks; slices of `slice` ticks, for
/// `total` ticks. Returns each busy vcore's share of the busy time.
fn simulate(busy: usize, slice: u64, period: u64, burst: u64, total: u64) -> Vec<u64> {
    let sleeper = busy;
    let mut q = RunQueue::new(slice);
    let mut vrun = vec![0u64; busy + 1];
    let mut ran = vec![0u64; busy + 1];
    for v in 0..busy {
        q.push(v, 0);
    }
    let (mut now, mut wake_at, mut asleep) = (0u64, period / 2, true);
    while now < total {
        let Some((v, vr)) = q.pop(|_| true, |_| {}) else {
            now = wake_at;
            vrun[sleeper] = q.push(sleeper, vrun[sleeper]);
            asleep = false;
            continue;
        };
        vrun[v] = vr;
        // It runs to its slice's end, or the sleeper to its burst's end.
        let run = if v == sleeper { burst } else { slice };
        now += run;
        vrun[v] += run;
        ran[v] += run;
        if v == sleeper {
            asleep = true;
            // Its next deadline a period on, or a period from now if that
            // passed already (as the test guest's `ticks` sets it).
            wake_at = wake_at.saturating_add(period);
            if wake_at <= now {
                wake_at = now + period;
            }
        }
        // The sleeper's timer fires while the slice runs: it is queued
        // before the vcore the slice's end puts back.
        if asleep && wake_at <= now {
            vrun[sleeper] = q.push(sleeper, vrun[sleeper]);
            asleep = false;
        }
        if v != sleeper {
            vrun[v] = q.push(v, vrun[v]);
        }
    }
    ran.truncate(busy);
    ran
}

#[test]
fn two_busy_vcores_and_a_sleeper_in_step_with_the_slice() {
    // The case that made a first-come queue unfair: the sleeper's period
    // equals the slice.
    let ran = simulate(2, 100, 100, 1, 1_000_000);
    let (lo, hi) = (ran.iter().min().unwrap(), ran.iter().max().unwrap());
    assert!((hi - lo) * 100 <= *hi, "shares {ran:?}");
}

proptest! {
    #[test]
    fn busy_vcores_get_shares_within_a_few_slices(
        busy in 2usize..6,
        slice in 10u64..200,
        period in 5u64..500,
        burst in 1u64..20,
    ) {
        let total = 200_000;
        let ran = simulate(busy, slice, period, burst, total);
        let (lo, hi) = (*ran.iter().min().unwrap(), *ran.iter().max().unwrap());
        // Equal to within two slices over the whole run.
        prop_assert!(hi - lo <= 2 * slice, "shares {:?} (slice {})", ran, slice);
    }
}
