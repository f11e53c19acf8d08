//! The scheduler's tick (every minute: EventBridge on AWS, a timer locally).
//! For now it records that it ran, so health shows whether the schedule is
//! alive; due campaigns start here once they exist.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::ports::store::{Item, PutCondition, StoreError, keys};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Heartbeat {
    pub last_tick: DateTime<Utc>,
}

/// Records a tick at the clock's current time.
#[tracing::instrument(skip(app))]
pub async fn tick(app: &App) -> Result<Heartbeat, StoreError> {
    let heartbeat = Heartbeat {
        last_tick: app.clock.now(),
    };
    let item = Item::new(keys::scheduler_heartbeat(), &heartbeat)?;
    app.store.put(item, PutCondition::Always).await?;
    tracing::info!("scheduler tick");
    Ok(heartbeat)
}

/// The last recorded tick, if any.
pub async fn last(app: &App) -> Result<Option<Heartbeat>, StoreError> {
    match app.store.get(&keys::scheduler_heartbeat()).await? {
        Some(stored) => Ok(Some(stored.item.parse()?)),
        None => Ok(None),
    }
}
