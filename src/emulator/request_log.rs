//! The emulators' request log (the legacy API's and Zoho Desk's): the last `capacity`
//! entries, each numbered as it is written, numbers growing for the emulator's life (a
//! reset empties the log, never renumbers), read back after a number, so a test reads
//! what its own requests did whatever ran before.

use std::collections::VecDeque;

/// An entry that carries its number in the log.
pub trait Numbered {
    fn seq(&self) -> u64;
    fn set_seq(&mut self, seq: u64);
}

#[derive(Debug)]
pub struct RequestLog<E> {
    capacity: usize,
    entries: VecDeque<E>,
    next_seq: u64,
}

impl<E: Numbered + Clone> RequestLog<E> {
    /// Keeps the last `capacity` entries (none at 0; they are still numbered).
    pub fn new(capacity: usize) -> RequestLog<E> {
        RequestLog {
            capacity,
            entries: VecDeque::new(),
            next_seq: 0,
        }
    }

    /// Numbers the entry and keeps it, forgetting the oldest past the capacity.
    pub fn push(&mut self, mut entry: E) {
        self.next_seq += 1;
        entry.set_seq(self.next_seq);
        if self.capacity == 0 {
            return;
        }
        if self.entries.len() >= self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    /// Entries numbered above `after`, oldest first, at most `limit`.
    pub fn after(&self, after: u64, limit: usize) -> Vec<E> {
        let skip = self.entries.partition_point(|e| e.seq() <= after);
        self.entries
            .iter()
            .skip(skip)
            .take(limit)
            .cloned()
            .collect()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}
