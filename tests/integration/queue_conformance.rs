//! The queue port's conformance suite: one set of cases, run against the
//! in-process queue and against SQS on the emulator, each on a fresh queue
//! whose dead-letter queue takes a message after two receives.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use emma::adapters::local_queue::LocalQueue;
use emma::adapters::sqs::SqsQueue;
use emma::ports::queue::{MAX_MESSAGE_BYTES, Queue, QueueError, ReceivedMessage};

/// Receives allowed before a message moves to the dead-letter queue.
const MAX_RECEIVES: u32 = 2;
/// A visibility no case outlives: a message received with it stays hidden.
const LONG: Duration = Duration::from_secs(120);
/// The visibility a case waits out.
const SHORT: Duration = Duration::from_secs(1);
/// Sleeping this long lets a SHORT visibility pass.
const PAST_SHORT: Duration = Duration::from_millis(1500);
/// Do not wait for messages.
const NO_WAIT: Duration = Duration::ZERO;
/// Long-poll for a message that should arrive.
const WAIT: Duration = Duration::from_secs(10);

/// A fresh queue and its dead-letter queue.
struct Queues {
    queue: Arc<dyn Queue>,
    dead_letter: Arc<dyn Queue>,
}

fn local() -> Queues {
    let dead_letter = Arc::new(LocalQueue::default());
    let queue = LocalQueue::new(Some(MAX_RECEIVES), Some(dead_letter.clone()));
    Queues {
        queue: Arc::new(queue),
        dead_letter,
    }
}

async fn cloud() -> Queues {
    let client = emma::adapters::aws::sqs_client(&emma_tests::aws::config().await);
    let name = emma_tests::aws::unique_name("queue");
    let (queue_url, dead_letter_url) =
        SqsQueue::create_with_dead_letter(&client, &name, MAX_RECEIVES)
            .await
            .expect("the emulator creates the queues");
    Queues {
        queue: Arc::new(SqsQueue::new(client.clone(), queue_url)),
        dead_letter: Arc::new(SqsQueue::new(client, dead_letter_url)),
    }
}

/// Receives exactly one message, failing the case otherwise.
async fn receive_one(queue: &dyn Queue, visibility: Duration, wait: Duration) -> ReceivedMessage {
    let mut received = queue.receive(10, visibility, wait).await.unwrap();
    assert_eq!(received.len(), 1, "expected exactly one message");
    received.remove(0)
}

async fn receive_none(queue: &dyn Queue) {
    let received = queue.receive(10, LONG, NO_WAIT).await.unwrap();
    assert!(received.is_empty(), "expected no message, got {received:?}");
}

async fn sending_then_receiving_gives_the_body_with_receive_count_one(queues: Queues) {
    let queue = queues.queue.as_ref();
    let id = queue
        .send(r#"{"job":"send"}"#, Duration::ZERO)
        .await
        .unwrap();

    let message = receive_one(queue, LONG, WAIT).await;

    assert_eq!(message.message_id, id);
    assert_eq!(message.body, r#"{"job":"send"}"#);
    assert_eq!(message.receive_count, 1);
}

async fn an_acknowledged_message_is_gone_for_good(queues: Queues) {
    let queue = queues.queue.as_ref();
    queue.send("job", Duration::ZERO).await.unwrap();
    let message = receive_one(queue, SHORT, WAIT).await;

    queue.ack(&message.receipt).await.unwrap();
    tokio::time::sleep(PAST_SHORT).await;

    receive_none(queue).await;
    assert_eq!(queue.approximate_depth().await.unwrap(), 0);
    receive_none(queues.dead_letter.as_ref()).await;
}

async fn a_received_message_is_hidden_from_other_receivers(queues: Queues) {
    let queue = queues.queue.as_ref();
    queue.send("job", Duration::ZERO).await.unwrap();
    receive_one(queue, LONG, WAIT).await;

    receive_none(queue).await;
}

async fn an_unacknowledged_message_comes_back_after_its_visibility_with_a_new_receipt(
    queues: Queues,
) {
    let queue = queues.queue.as_ref();
    let id = queue.send("job", Duration::ZERO).await.unwrap();
    let first = receive_one(queue, SHORT, WAIT).await;

    tokio::time::sleep(PAST_SHORT).await;
    let second = receive_one(queue, LONG, WAIT).await;

    assert_eq!(second.message_id, id);
    assert_eq!(second.body, "job");
    assert_eq!(second.receive_count, 2);
    assert_ne!(second.receipt, first.receipt);
}

async fn releasing_at_once_makes_the_message_visible_again(queues: Queues) {
    let queue = queues.queue.as_ref();
    let id = queue.send("job", Duration::ZERO).await.unwrap();
    let first = receive_one(queue, LONG, WAIT).await;

    queue.release(&first.receipt, Duration::ZERO).await.unwrap();
    let second = receive_one(queue, LONG, WAIT).await;

    assert_eq!(second.message_id, id);
    assert_eq!(second.receive_count, 2);
}

async fn a_message_received_too_often_moves_to_the_dead_letter_queue(queues: Queues) {
    let queue = queues.queue.as_ref();
    let id = queue.send("poison", Duration::ZERO).await.unwrap();
    for expected in 1..=MAX_RECEIVES {
        let message = receive_one(queue, SHORT, WAIT).await;
        assert_eq!(message.receive_count, expected);
        tokio::time::sleep(PAST_SHORT).await;
    }

    receive_none(queue).await;
    let dead = receive_one(queues.dead_letter.as_ref(), LONG, WAIT).await;

    assert_eq!(dead.message_id, id);
    assert_eq!(dead.body, "poison");
    receive_none(queue).await;
    assert_eq!(queue.approximate_depth().await.unwrap(), 0);
}

async fn a_delayed_message_stays_hidden_until_its_delay_passes(queues: Queues) {
    let queue = queues.queue.as_ref();
    let id = queue.send("later", Duration::from_secs(2)).await.unwrap();

    receive_none(queue).await;
    let message = receive_one(queue, LONG, WAIT).await;

    assert_eq!(message.message_id, id);
    assert_eq!(message.receive_count, 1);
}

async fn a_receive_returns_at_most_max_messages_and_each_once_per_round(queues: Queues) {
    let queue = queues.queue.as_ref();
    let mut sent = HashSet::new();
    for n in 0..15 {
        sent.insert(
            queue
                .send(&format!("job {n}"), Duration::ZERO)
                .await
                .unwrap(),
        );
    }

    let first = queue.receive(3, LONG, WAIT).await.unwrap();
    assert!(!first.is_empty() && first.len() <= 3, "got {}", first.len());
    let mut received: HashSet<String> = first.into_iter().map(|m| m.message_id).collect();
    for _round in 0..10 {
        let batch = queue.receive(10, LONG, SHORT).await.unwrap();
        assert!(batch.len() <= 10, "got {}", batch.len());
        if batch.is_empty() {
            break;
        }
        for message in batch {
            assert!(
                received.insert(message.message_id.clone()),
                "{} was received twice",
                message.message_id
            );
        }
    }

    assert_eq!(received, sent);
    receive_none(queue).await;
}

async fn a_body_over_256_kib_is_refused(queues: Queues) {
    let queue = queues.queue.as_ref();

    let refused = queue
        .send(&"a".repeat(MAX_MESSAGE_BYTES + 1), Duration::ZERO)
        .await;
    queue
        .send(&"b".repeat(MAX_MESSAGE_BYTES), Duration::ZERO)
        .await
        .unwrap();

    assert_eq!(refused, Err(QueueError::TooLarge));
    let message = receive_one(queue, LONG, WAIT).await;
    assert_eq!(message.body.len(), MAX_MESSAGE_BYTES);
    assert!(message.body.starts_with('b'));
}

async fn the_approximate_depth_counts_waiting_and_in_flight_messages(queues: Queues) {
    let queue = queues.queue.as_ref();
    assert_eq!(queue.approximate_depth().await.unwrap(), 0);
    for n in 0..3 {
        queue
            .send(&format!("job {n}"), Duration::ZERO)
            .await
            .unwrap();
    }
    queue
        .send("not yet", Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(queue.approximate_depth().await.unwrap(), 3);

    let in_flight = queue.receive(1, LONG, WAIT).await.unwrap();
    assert_eq!(queue.approximate_depth().await.unwrap(), 3);

    queue.ack(&in_flight[0].receipt).await.unwrap();
    assert_eq!(queue.approximate_depth().await.unwrap(), 2);
}

async fn acking_twice_or_with_a_stale_receipt_succeeds(queues: Queues) {
    let queue = queues.queue.as_ref();
    queue.send("job", Duration::ZERO).await.unwrap();
    let first = receive_one(queue, SHORT, WAIT).await;
    tokio::time::sleep(PAST_SHORT).await;
    let second = receive_one(queue, LONG, WAIT).await;

    // A stale receipt is accepted. Whether it deletes the message is up to
    // the queue (moto and the local queue do; real SQS may keep it and
    // deliver it again later), so the depth is not asserted here; but the
    // message is never handed out twice at the same time.
    queue.ack(&first.receipt).await.unwrap();
    receive_none(queue).await;

    queue.ack(&second.receipt).await.unwrap();
    queue.ack(&second.receipt).await.unwrap();
    receive_none(queue).await;
}

async fn a_receipt_the_queue_never_handed_out_is_refused(queues: Queues) {
    let queue = queues.queue.as_ref();
    queue.send("job", Duration::ZERO).await.unwrap();

    assert_eq!(
        queue.ack("not-a-receipt").await,
        Err(QueueError::InvalidReceipt)
    );
    assert_eq!(
        queue.release("not-a-receipt", Duration::ZERO).await,
        Err(QueueError::InvalidReceipt)
    );
    assert_eq!(queue.approximate_depth().await.unwrap(), 1);
}

async fn releasing_an_acknowledged_message_is_refused(queues: Queues) {
    let queue = queues.queue.as_ref();
    queue.send("job", Duration::ZERO).await.unwrap();
    let message = receive_one(queue, LONG, WAIT).await;
    queue.ack(&message.receipt).await.unwrap();

    let released = queue.release(&message.receipt, Duration::ZERO).await;

    assert_eq!(released, Err(QueueError::InvalidReceipt));
    receive_none(queue).await;
}

async fn a_waiting_receive_gets_a_message_sent_meanwhile(queues: Queues) {
    let queue = queues.queue.clone();
    let waiting = tokio::spawn(async move { queue.receive(1, LONG, WAIT).await });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let id = queues.queue.send("news", Duration::ZERO).await.unwrap();

    let received = waiting.await.unwrap().unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].message_id, id);
    assert_eq!(received[0].body, "news");
}

// Runs every case once per adapter, as `local::<case>` and `cloud::<case>`.
emma_tests::on_both!(
    local: super::local(),
    cloud: super::cloud().await;
    sending_then_receiving_gives_the_body_with_receive_count_one,
    an_acknowledged_message_is_gone_for_good,
    a_received_message_is_hidden_from_other_receivers,
    an_unacknowledged_message_comes_back_after_its_visibility_with_a_new_receipt,
    releasing_at_once_makes_the_message_visible_again,
    a_message_received_too_often_moves_to_the_dead_letter_queue,
    a_delayed_message_stays_hidden_until_its_delay_passes,
    a_receive_returns_at_most_max_messages_and_each_once_per_round,
    a_body_over_256_kib_is_refused,
    the_approximate_depth_counts_waiting_and_in_flight_messages,
    acking_twice_or_with_a_stale_receipt_succeeds,
    a_receipt_the_queue_never_handed_out_is_refused,
    releasing_an_acknowledged_message_is_refused,
    a_waiting_receive_gets_a_message_sent_meanwhile,
);
