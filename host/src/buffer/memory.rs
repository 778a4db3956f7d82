//! The memory buffer: the disk buffer's surface, without the disk.
//!
//! Bounded by events rather than bytes. Records read and not yet
//! acknowledged still count against the bound, as on disk, so the bound
//! covers everything between the sink's input and its destination's
//! acknowledgement. Nothing survives a restart: records not acknowledged
//! then are lost, which is why the source is only told "delivered" for them
//! once they have left through the sink.

use super::{AppendError, Appended, RecordId};
use std::collections::VecDeque;

#[derive(Debug)]
pub struct MemoryBuffer {
    max_events: usize,
    /// Appended, not yet read.
    unread: VecDeque<Vec<u8>>,
    /// Read, not yet acknowledged.
    in_flight: usize,
    /// The id of the next record read; ids are 1, 2, 3 …
    next_id: u64,
    /// Records up to this id are acknowledged.
    acked: u64,
}

impl MemoryBuffer {
    pub fn new(max_events: usize) -> MemoryBuffer {
        MemoryBuffer { max_events, unread: VecDeque::new(), in_flight: 0, next_id: 1, acked: 0 }
    }

    /// Move `records` in, or leave them in place when they do not fit.
    pub fn append(&mut self, records: &mut Vec<Vec<u8>>) -> Result<Appended, AppendError> {
        let n = records.len();
        if n > self.max_events {
            return Err(AppendError::TooLarge { size: n as u64, max: self.max_events as u64 });
        }
        if self.len() + n > self.max_events {
            return Err(AppendError::Full);
        }
        let bytes = records.iter().map(|r| r.len() as u64).sum();
        self.unread.extend(records.drain(..));
        Ok(Appended { records: n, bytes })
    }

    // Not an Iterator: records are acknowledged through the buffer while
    // being read, and (on disk) reading can fail.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<(RecordId, Vec<u8>)> {
        let record = self.unread.pop_front()?;
        let id = RecordId(0, self.next_id);
        self.next_id += 1;
        self.in_flight += 1;
        Some((id, record))
    }

    pub fn ack(&mut self, up_to: RecordId) -> anyhow::Result<()> {
        if up_to.1 <= self.acked {
            return Ok(());
        }
        anyhow::ensure!(up_to.1 < self.next_id, "acknowledging a record that was not read");
        self.in_flight -= (up_to.1 - self.acked) as usize;
        self.acked = up_to.1;
        Ok(())
    }

    /// Unacknowledged records (read or not).
    pub fn len(&self) -> usize {
        self.unread.len() + self.in_flight
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
