//! The scheduler's policy, apart from the hardware: which runnable vcore
//! a hart takes next.
//!
//! Each vcore has a *virtual runtime*: the timer ticks it has run. The
//! queue hands out the runnable vcore with the least, first come first
//! served among equals, so vcores that want the CPU get equal shares of
//! it whatever the rhythm of the others. (A plain first-come queue is not
//! fair: a vcore that wakes every slice, queued behind one of two busy
//! vcores, gave that one 58% of the hart and the other 42%.)
//!
//! A vcore that slept does not bank the time it slept: when it is queued
//! its virtual runtime is raised to at least the least one handed out so
//! far less one slice, so it runs soon but cannot then hold the hart for
//! as long as it slept.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::collections::VecDeque;

/// Runnable items (vcores), each with its virtual runtime.
pub struct RunQueue<T> {
    items: VecDeque<(T, u64)>,
    /// The least virtual runtime handed out so far (never goes back).
    floor: u64,
    /// How far below `floor` a waking item may start: one slice.
    grace: u64,
}

impl<T> RunQueue<T> {
    /// An empty queue; `slice` is the time slice in the runtime's units.
    pub const fn new(slice: u64) -> RunQueue<T> {
        RunQueue { items: VecDeque::new(), floor: 0, grace: slice }
    }

    /// Queues `item`, whose virtual runtime is `vruntime`; returns the
    /// runtime it is queued with (raised if it slept past the others).
    pub fn push(&mut self, item: T, vruntime: u64) -> u64 {
        let v = vruntime.max(self.floor.saturating_sub(self.grace));
        self.items.push_back((item, v));
        v
    }

    /// The item with the least virtual runtime (the earliest queued among
    /// equals) that `keep` accepts, with its runtime. Items `keep` turns
    /// down are removed and given to `dropped` (a capsule that ended).
    pub fn pop(&mut self, mut keep: impl FnMut(&T) -> bool, mut dropped: impl FnMut(T)) -> Option<(T, u64)> {
        let mut i = 0;
        while i < self.items.len() {
            if keep(&self.items[i].0) {
                i += 1;
            } else if let Some((item, _)) = self.items.remove(i) {
                dropped(item);
            }
        }
        let at = (0..self.items.len()).min_by_key(|&i| (self.items[i].1, i))?;
        let (item, v) = self.items.remove(at)?;
        self.floor = self.floor.max(v);
        Some((item, v))
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }
}

#[cfg(test)]
mod tests {
    use super::RunQueue;

    fn pop<T>(q: &mut RunQueue<T>) -> Option<(T, u64)> {
        q.pop(|_| true, |_| {})
    }

    #[test]
    fn least_runtime_first_and_first_come_among_equals() {
        let mut q = RunQueue::new(10);
        q.push('a', 30);
        q.push('b', 20);
        q.push('c', 20);
        assert_eq!(pop(&mut q), Some(('b', 20)));
        assert_eq!(pop(&mut q), Some(('c', 20)));
        assert_eq!(pop(&mut q), Some(('a', 30)));
        assert_eq!(pop(&mut q), None);
    }

    #[test]
    fn a_sleeper_does_not_bank_its_sleep() {
        let mut q = RunQueue::new(10);
        q.push('a', 1000);
        assert_eq!(pop(&mut q), Some(('a', 1000)));
        // 'b' slept all along: it comes back one slice behind, not 1000.
        assert_eq!(q.push('b', 0), 990);
        assert_eq!(q.push('c', 995), 995);
    }

    #[test]
    fn turned_down_items_are_dropped_not_handed_out() {
        let mut q = RunQueue::new(10);
        q.push(1, 5);
        q.push(2, 1);
        q.push(3, 9);
        let mut gone = Vec::new();
        assert_eq!(q.pop(|&i| i != 2, |i| gone.push(i)), Some((1, 5)));
        assert_eq!(gone, [2]);
        assert_eq!(q.len(), 1);
    }
}
