//! RabbitMQ topology and publishing (lapin).
//!
//! ```text
//! <p>.events  (topic)  --invoice.uploaded-->  <p>.invoices (quorum, delivery-limit, DLX -> <p>.parking)
//! <p>.retry   (direct) --<p>.invoices.retry.<d>ms--> TTL queue, dead-letters back to <p>.events
//!                                                    with routing key invoice.uploaded
//! <p>.parking (fanout) --> <p>.invoices.parked (quorum): poison messages, reason in headers
//! ```
//! Everything is declared idempotently at start; every publish waits for the broker's confirm.

use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::Confirmation;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};

use crate::config::{AmqpConfig, Names};

/// Header carrying how many processing attempts a message has had.
pub const ATTEMPT_HEADER: &str = "x-claimscan-attempt";
/// Header carrying the stable code of why a message was retried or parked.
pub const REASON_HEADER: &str = "x-claimscan-reason";
/// Header carrying the human message of why a message was parked.
pub const DETAIL_HEADER: &str = "x-claimscan-detail";

/// Routing key of invoice uploads.
pub const UPLOADED: &str =
    <claimscan_contracts::InvoiceUploaded as claimscan_contracts::Message>::TYPE;

#[derive(Debug, thiserror::Error)]
pub enum AmqpError {
    #[error("broker: {0}")]
    Broker(#[from] lapin::Error),
    #[error("the broker refused the message (nack)")]
    Nacked,
}

/// Runs broker sessions until one ends cleanly (on shutdown), reconnecting after each failure
/// with a backoff growing from 250 ms to 15 s; `connected` is cleared while the broker is away.
/// A session gets its own receiver of the shutdown signal.
pub async fn reconnecting<F, Fut>(
    connected: &std::sync::atomic::AtomicBool,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    mut session: F,
) -> anyhow::Result<()>
where
    F: FnMut(tokio::sync::watch::Receiver<bool>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut backoff = std::time::Duration::from_millis(250);
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        match session(shutdown.clone()).await {
            Ok(()) => return Ok(()),
            Err(e) => {
                connected.store(false, std::sync::atomic::Ordering::Relaxed);
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "broker session ended; reconnecting");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.changed() => {}
                }
                backoff = (backoff * 2).min(std::time::Duration::from_secs(15));
            }
        }
    }
}

pub async fn connect(url: &str) -> Result<Connection, lapin::Error> {
    Connection::connect(url, ConnectionProperties::default()).await
}

fn s(v: &str) -> ShortString {
    v.into()
}

fn long(v: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(v))
}

/// Declares exchanges, queues and bindings (idempotent: same arguments every time).
pub async fn declare_topology(ch: &Channel, cfg: &AmqpConfig) -> Result<(), lapin::Error> {
    let n = Names::new(&cfg.prefix);
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    ch.exchange_declare(
        s(&n.events()),
        ExchangeKind::Topic,
        durable,
        FieldTable::default(),
    )
    .await?;
    ch.exchange_declare(
        s(&n.retry_exchange()),
        ExchangeKind::Direct,
        durable,
        FieldTable::default(),
    )
    .await?;
    ch.exchange_declare(
        s(&n.parking_exchange()),
        ExchangeKind::Fanout,
        durable,
        FieldTable::default(),
    )
    .await?;
    let qopts = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };

    let mut args = FieldTable::default();
    args.insert(s("x-queue-type"), long("quorum"));
    args.insert(
        s("x-delivery-limit"),
        AMQPValue::LongInt(cfg.delivery_limit as i32),
    );
    args.insert(s("x-dead-letter-exchange"), long(&n.parking_exchange()));
    ch.queue_declare(s(&n.invoices()), qopts, args).await?;
    ch.queue_bind(
        s(&n.invoices()),
        s(&n.events()),
        s(UPLOADED),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await?;

    let mut args = FieldTable::default();
    args.insert(s("x-queue-type"), long("quorum"));
    ch.queue_declare(s(&n.parked()), qopts, args).await?;
    ch.queue_bind(
        s(&n.parked()),
        s(&n.parking_exchange()),
        s(""),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await?;

    for &delay in &cfg.retry_delays_ms {
        let q = n.retry_queue(delay);
        let mut args = FieldTable::default();
        args.insert(s("x-queue-type"), long("quorum"));
        args.insert(s("x-message-ttl"), AMQPValue::LongLongInt(i64::from(delay)));
        args.insert(s("x-dead-letter-exchange"), long(&n.events()));
        args.insert(s("x-dead-letter-routing-key"), long(UPLOADED));
        ch.queue_declare(s(&q), qopts, args).await?;
        ch.queue_bind(
            s(&q),
            s(&n.retry_exchange()),
            s(&q),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    }
    Ok(())
}

/// A channel in confirm mode.
pub async fn confirm_channel(conn: &Connection) -> Result<Channel, lapin::Error> {
    let ch = conn.create_channel().await?;
    ch.confirm_select(ConfirmSelectOptions::default()).await?;
    Ok(ch)
}

/// Persistent JSON properties with a message id and optional headers.
pub fn properties(message_id: &str, headers: FieldTable) -> BasicProperties {
    BasicProperties::default()
        .with_content_type(s("application/json"))
        .with_delivery_mode(2)
        .with_message_id(s(message_id))
        .with_headers(headers)
}

/// Publishes and waits for the broker's confirm (mandatory: an unroutable message is an error).
pub async fn publish_confirmed(
    ch: &Channel,
    exchange: &str,
    routing_key: &str,
    body: &[u8],
    props: BasicProperties,
) -> Result<(), AmqpError> {
    let confirm = ch
        .basic_publish(
            s(exchange),
            s(routing_key),
            BasicPublishOptions {
                mandatory: false,
                ..Default::default()
            },
            body,
            props,
        )
        .await?
        .await?;
    match confirm {
        Confirmation::Ack(_) | Confirmation::NotRequested => Ok(()),
        Confirmation::Nack(_) => Err(AmqpError::Nacked),
    }
}

/// Headers for a retried or parked message.
pub fn headers(attempt: u32, reason: &str, detail: Option<&str>) -> FieldTable {
    let mut h = FieldTable::default();
    h.insert(s(ATTEMPT_HEADER), AMQPValue::LongInt(attempt as i32));
    h.insert(s(REASON_HEADER), long(reason));
    if let Some(d) = detail {
        let d: String = d.chars().take(512).collect();
        h.insert(s(DETAIL_HEADER), long(&d));
    }
    h
}

/// The attempt count recorded on a delivery (0 for a first delivery).
pub fn attempt_of(props: &BasicProperties) -> u32 {
    props
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get(ATTEMPT_HEADER))
        .and_then(|v| match v {
            AMQPValue::LongInt(i) => Some(*i as i64),
            AMQPValue::LongLongInt(i) => Some(*i),
            AMQPValue::LongUInt(i) => Some(i64::from(*i)),
            AMQPValue::ShortInt(i) => Some(i64::from(*i)),
            _ => None,
        })
        .map(|i| i.clamp(0, i64::from(u32::MAX)) as u32)
        .unwrap_or(0)
}

/// A string header of a delivery.
pub fn header_str(props: &BasicProperties, key: &str) -> Option<String> {
    props
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get(key))
        .and_then(|v| match v {
            AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
            AMQPValue::ShortString(s) => Some(s.as_str().to_string()),
            _ => None,
        })
}

/// Number of ready messages in a queue (passive declare).
pub async fn queue_depth(ch: &Channel, queue: &str) -> Result<u32, lapin::Error> {
    let q = ch
        .queue_declare(
            s(queue),
            QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await?;
    Ok(q.message_count())
}
