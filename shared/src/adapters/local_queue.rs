//! The queue port in process, for local mode: at-least-once delivery with
//! SQS's rules (delays, visibility timeouts, receive counts, redrive to a
//! dead-letter queue, stale receipts handled as SQS and moto do), kept in
//! memory and timed with tokio's clock.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::adapters::sqs::{MAX_VISIBILITY, MAX_WAIT, check_message};
use crate::ports::queue::{MAX_RECEIVE, Queue, QueueError, ReceivedMessage};

/// An in-process queue. Cheap to share behind an `Arc`.
pub struct LocalQueue {
    /// Starts every receipt this queue hands out, so a receipt from another
    /// queue is refused.
    tag: String,
    /// Where a message goes instead of being received a
    /// (max_receives + 1)-th time.
    redrive: Option<(u32, Arc<LocalQueue>)>,
    state: Mutex<State>,
    /// Wakes waiting receivers when a message may have become visible.
    changed: Notify,
}

#[derive(Default)]
struct State {
    next_seq: u64,
    /// The messages in the queue, oldest first.
    messages: BTreeMap<u64, Waiting>,
    by_id: HashMap<String, u64>,
    /// Deleted messages (id to the receive count at deletion), so that a
    /// second ack succeeds as on SQS; kept as long as a receipt can live.
    deleted: HashMap<String, u32>,
    deleted_order: VecDeque<(Instant, String)>,
}

struct Waiting {
    id: String,
    body: String,
    visible_at: Instant,
    receive_count: u32,
}

/// What one pass over the queue found.
struct Pass {
    received: Vec<ReceivedMessage>,
    to_dead_letter: Vec<Waiting>,
    /// When the next hidden message becomes visible.
    next_visible: Option<Instant>,
}

impl LocalQueue {
    /// A queue that moves a message to `dead_letter` instead of receiving it
    /// a (`max_receives` + 1)-th time. As with an SQS redrive policy, both
    /// are needed: with either missing, messages are received for ever.
    pub fn new(max_receives: Option<u32>, dead_letter: Option<Arc<LocalQueue>>) -> Self {
        Self {
            tag: uuid::Uuid::new_v4().simple().to_string(),
            redrive: max_receives.zip(dead_letter),
            state: Mutex::new(State::default()),
            changed: Notify::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // No code path panics while holding the lock; if one ever did, the
        // state is still consistent (every change is a single step).
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn receipt(&self, message_id: &str, receive_count: u32) -> String {
        format!("{}.{message_id}.{receive_count}", self.tag)
    }

    /// The message id and the receive a receipt was handed out for, if it
    /// is one of this queue's.
    fn parse_receipt<'r>(&self, receipt: &'r str) -> Option<(&'r str, u32)> {
        let mut parts = receipt.splitn(3, '.');
        let tag = parts.next()?;
        let message_id = parts.next()?;
        let receive = parts.next()?.parse::<u32>().ok()?;
        (tag == self.tag && receive >= 1).then_some((message_id, receive))
    }

    fn enqueue(&self, message: Waiting) {
        let mut state = self.state();
        let seq = state.next_seq;
        state.next_seq += 1;
        state.by_id.insert(message.id.clone(), seq);
        state.messages.insert(seq, message);
        drop(state);
        self.changed.notify_waiters();
    }

    /// Receives up to `max` visible messages, oldest first, and takes out
    /// those that have been received too often.
    fn pass(&self, max: usize, visibility: Duration, now: Instant) -> Pass {
        let mut state = self.state();
        let mut pass = Pass {
            received: Vec::new(),
            to_dead_letter: Vec::new(),
            next_visible: None,
        };
        let mut redriven = Vec::new();
        for (seq, message) in state.messages.iter_mut() {
            if message.visible_at > now {
                pass.next_visible = Some(
                    pass.next_visible
                        .map_or(message.visible_at, |at| at.min(message.visible_at)),
                );
                continue;
            }
            if let Some((max_receives, _)) = &self.redrive
                && message.receive_count >= *max_receives
            {
                redriven.push(*seq);
                continue;
            }
            message.receive_count += 1;
            message.visible_at = now + visibility;
            pass.received.push(ReceivedMessage {
                message_id: message.id.clone(),
                receipt: self.receipt(&message.id, message.receive_count),
                body: message.body.clone(),
                receive_count: message.receive_count,
            });
            if pass.received.len() >= max {
                break;
            }
        }
        for seq in redriven {
            if let Some(message) = state.messages.remove(&seq) {
                state.by_id.remove(&message.id);
                pass.to_dead_letter.push(message);
            }
        }
        pass
    }

    fn forget_old_deletions(state: &mut State, now: Instant) {
        while let Some((deleted_at, _)) = state.deleted_order.front() {
            if now.duration_since(*deleted_at) < MAX_VISIBILITY {
                break;
            }
            if let Some((_, id)) = state.deleted_order.pop_front() {
                state.deleted.remove(&id);
            }
        }
    }
}

impl Default for LocalQueue {
    /// A queue without a dead-letter queue.
    fn default() -> Self {
        Self::new(None, None)
    }
}

impl std::fmt::Debug for LocalQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalQueue")
            .field("max_receives", &self.redrive.as_ref().map(|(max, _)| max))
            .field("messages", &self.state().messages.len())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Queue for LocalQueue {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn send(&self, body: &str, delay: Duration) -> Result<String, QueueError> {
        check_message(body, delay)?;
        let id = uuid::Uuid::new_v4().to_string();
        self.enqueue(Waiting {
            id: id.clone(),
            body: body.to_owned(),
            visible_at: Instant::now() + delay,
            receive_count: 0,
        });
        Ok(id)
    }

    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        let max = max.clamp(1, MAX_RECEIVE);
        let visibility = visibility.min(MAX_VISIBILITY);
        let deadline = Instant::now() + wait.min(MAX_WAIT);
        loop {
            // Listen before looking, so a send between the look and the
            // wait is not missed.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();

            let now = Instant::now();
            let pass = self.pass(max, visibility, now);
            if let Some((_, dead_letter)) = &self.redrive {
                for mut message in pass.to_dead_letter {
                    message.visible_at = now;
                    dead_letter.enqueue(message);
                }
            }
            if !pass.received.is_empty() || now >= deadline {
                return Ok(pass.received);
            }
            let until = pass
                .next_visible
                .map_or(deadline, |visible_at| visible_at.min(deadline));
            tokio::select! {
                () = &mut changed => {}
                () = tokio::time::sleep_until(until) => {}
            }
        }
    }

    async fn ack(&self, receipt: &str) -> Result<(), QueueError> {
        let (message_id, receive) = self
            .parse_receipt(receipt)
            .ok_or(QueueError::InvalidReceipt)?;
        let now = Instant::now();
        let mut state = self.state();
        Self::forget_old_deletions(&mut state, now);
        if let Some(&seq) = state.by_id.get(message_id) {
            let issued = state
                .messages
                .get(&seq)
                .is_some_and(|message| receive <= message.receive_count);
            if !issued {
                return Err(QueueError::InvalidReceipt);
            }
            if let Some(message) = state.messages.remove(&seq) {
                state.by_id.remove(message_id);
                state
                    .deleted
                    .insert(message.id.clone(), message.receive_count);
                state.deleted_order.push_back((now, message.id));
            }
            return Ok(());
        }
        match state.deleted.get(message_id) {
            Some(&receive_count) if receive <= receive_count => Ok(()),
            _ => Err(QueueError::InvalidReceipt),
        }
    }

    async fn release(&self, receipt: &str, after: Duration) -> Result<(), QueueError> {
        let (message_id, receive) = self
            .parse_receipt(receipt)
            .ok_or(QueueError::InvalidReceipt)?;
        let mut state = self.state();
        let seq = state
            .by_id
            .get(message_id)
            .copied()
            .ok_or(QueueError::InvalidReceipt)?;
        let message = state
            .messages
            .get_mut(&seq)
            .filter(|message| receive <= message.receive_count)
            .ok_or(QueueError::InvalidReceipt)?;
        message.visible_at = Instant::now() + after.min(MAX_VISIBILITY);
        drop(state);
        self.changed.notify_waiters();
        Ok(())
    }

    async fn approximate_depth(&self) -> Result<u64, QueueError> {
        let now = Instant::now();
        let state = self.state();
        // Visible or in flight; a message still within its delay is not
        // counted (SQS counts it as delayed).
        let depth = state
            .messages
            .values()
            .filter(|message| message.receive_count > 0 || message.visible_at <= now)
            .count();
        Ok(depth as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_receipt_from_another_queue_is_refused() {
        let first = LocalQueue::default();
        let second = LocalQueue::default();
        first.send("job", Duration::ZERO).await.unwrap();
        second.send("job", Duration::ZERO).await.unwrap();
        let received = first
            .receive(1, Duration::from_secs(60), Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(
            second.ack(&received[0].receipt).await,
            Err(QueueError::InvalidReceipt)
        );
        assert_eq!(second.approximate_depth().await, Ok(1));
    }

    #[tokio::test]
    async fn a_receipt_for_a_receive_that_never_happened_is_refused() {
        let queue = LocalQueue::default();
        queue.send("job", Duration::ZERO).await.unwrap();
        let received = queue
            .receive(1, Duration::from_secs(60), Duration::ZERO)
            .await
            .unwrap();
        let forged = format!("{}2", received[0].receipt.strip_suffix('1').unwrap());
        assert_eq!(queue.ack(&forged).await, Err(QueueError::InvalidReceipt));
        assert_eq!(
            queue.release(&forged, Duration::ZERO).await,
            Err(QueueError::InvalidReceipt)
        );
        assert_eq!(queue.ack(&received[0].receipt).await, Ok(()));
    }

    #[tokio::test]
    async fn without_a_dead_letter_queue_a_message_is_received_again_and_again() {
        let queue = LocalQueue::new(Some(1), None);
        queue.send("job", Duration::ZERO).await.unwrap();
        for expected in 1..=3 {
            let received = queue
                .receive(1, Duration::ZERO, Duration::ZERO)
                .await
                .unwrap();
            assert_eq!(received[0].receive_count, expected);
        }
    }
}
