//! Which 1 ms slot of the 20 ms frame period a worker's new call is pinned to.
//!
//! Every wake-up of a worker thread costs about as much CPU as sending seven frames on this
//! kind of machine (the timer is armed and the thread scheduled in a VM: ~22 µs of thread CPU
//! per `nanosleep`), so a worker wakes only for slots that hold calls, and new calls fill
//! slots that are already woken for, up to [`CAPACITY`] calls, before another slot is opened.
//! A full slot sends its calls' frames one after the other (about 4 µs each), so the capacity
//! bounds the send lateness of a slot's last call (~0.2 ms at 48). Slots are opened in an
//! order that keeps the woken ones spread over the period; once every slot is open, a new
//! call goes to the slot with the fewest calls.

/// Slots in one 20 ms frame period.
pub(super) const SLOTS: usize = 20;
/// Calls a slot takes before another slot is opened.
pub(super) const CAPACITY: usize = 48;

/// The order slots are opened in: each next one halves the largest gap left between open
/// slots, so two open slots are 10 ms apart, four 5 ms, and so on.
const OPEN_ORDER: [usize; SLOTS] = [
    0, 10, 5, 15, 2, 12, 7, 17, 4, 14, 9, 19, 1, 11, 6, 16, 3, 13, 8, 18,
];

/// How many calls each slot holds.
#[derive(Debug, Default)]
pub(super) struct SlotLoad {
    calls: [usize; SLOTS],
}

impl SlotLoad {
    /// The slot a new call joins (and counts it there): the fullest slot that has room, else
    /// the next slot to open, else (every slot full) the one with the fewest calls.
    pub(super) fn join(&mut self) -> usize {
        let slot = (0..SLOTS)
            .filter(|&s| self.calls[s] > 0 && self.calls[s] < CAPACITY)
            .max_by_key(|&s| (self.calls[s], std::cmp::Reverse(s)))
            .or_else(|| OPEN_ORDER.iter().copied().find(|&s| self.calls[s] == 0))
            .unwrap_or_else(|| (0..SLOTS).min_by_key(|&s| self.calls[s]).unwrap_or(0));
        self.calls[slot] += 1;
        slot
    }

    /// A call left `slot`.
    pub(super) fn leave(&mut self, slot: usize) {
        self.calls[slot] = self.calls[slot].saturating_sub(1);
    }

    /// True when no slot holds a call.
    pub(super) fn is_empty(&self) -> bool {
        self.calls.iter().all(|&n| n == 0)
    }

    /// The first slot of the period that holds calls: where the worker hands its calls'
    /// events to their tasks, once a period.
    pub(super) fn first_open(&self) -> Option<usize> {
        (0..SLOTS).find(|&s| self.calls[s] > 0)
    }

    /// How many ticks after `slot` (0 = `slot` itself) the next slot holding calls comes;
    /// `None` when no slot does.
    pub(super) fn ticks_to_next(&self, slot: usize) -> Option<usize> {
        (0..SLOTS).find(|k| self.calls[(slot + k) % SLOTS] > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_order_names_every_slot_once() {
        let mut seen = OPEN_ORDER.to_vec();
        seen.sort_unstable();
        assert_eq!(seen, (0..SLOTS).collect::<Vec<_>>());
    }

    #[test]
    fn calls_fill_a_slot_before_another_is_woken() {
        let mut load = SlotLoad::default();
        let slots: Vec<usize> = (0..CAPACITY * 2 + 1).map(|_| load.join()).collect();
        assert!(slots[..CAPACITY].iter().all(|&s| s == 0));
        assert!(slots[CAPACITY..CAPACITY * 2].iter().all(|&s| s == 10));
        assert_eq!(slots[CAPACITY * 2], 5);
        assert_eq!(load.ticks_to_next(1), Some(4));
        assert_eq!(load.ticks_to_next(11), Some(9));
        assert_eq!(load.first_open(), Some(0));
    }

    #[test]
    fn the_first_open_slot_moves_when_slot_zero_empties() {
        let mut load = SlotLoad::default();
        for _ in 0..CAPACITY + 1 {
            load.join();
        }
        for _ in 0..CAPACITY {
            load.leave(0);
        }
        assert_eq!(load.first_open(), Some(10));
        load.leave(10);
        assert_eq!(load.first_open(), None);
    }

    #[test]
    fn a_new_call_goes_where_a_wake_up_is_already_paid_for() {
        let mut load = SlotLoad::default();
        for _ in 0..CAPACITY + 3 {
            load.join();
        }
        // Slot 0 full, slot 10 holds 3; a call leaves slot 0: both slots are woken for
        // already, and the fuller one takes the next call.
        load.leave(0);
        assert_eq!(load.join(), 0);
        assert_eq!(load.join(), 10);
    }

    #[test]
    fn with_every_slot_full_calls_spread_evenly() {
        let mut load = SlotLoad::default();
        for _ in 0..CAPACITY * SLOTS {
            load.join();
        }
        let extra: Vec<usize> = (0..SLOTS).map(|_| load.join()).collect();
        let mut sorted = extra.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..SLOTS).collect::<Vec<_>>());
    }

    #[test]
    fn an_empty_worker_has_no_next_slot() {
        let mut load = SlotLoad::default();
        assert!(load.is_empty());
        assert_eq!(load.ticks_to_next(3), None);
        let s = load.join();
        load.leave(s);
        assert!(load.is_empty());
        assert_eq!(load.ticks_to_next(3), None);
    }
}
