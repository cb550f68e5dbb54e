//! The usage-event hook: every service reports the lifecycle changes of what costs (an instance
//! started or stopped, a port forward created or deleted) here, as they happen. Metering will
//! subscribe to it; until then nothing listens and an event costs a lock and a clone.
//!
//! Events are facts, not polls: a subscriber sees each change once, in the order the service made
//! it, with the dimensions that price it (vCPUs, memory, disk).

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

/// What happened to the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// It exists from now on (a disk, a port forward).
    Created,
    /// It began to run (and to accrue its running rate).
    Started,
    /// It stopped running; what it holds (a disk) still exists.
    Stopped,
    /// Its size changed while it exists.
    Resized,
    /// It is gone: nothing of it accrues any more.
    Deleted,
}

/// The sizes that price a resource; zero where they do not apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dimensions {
    pub vcpus: u32,
    pub memory_mib: u64,
    pub disk_gib: u64,
    /// The instance type (or another catalog name) the price is looked up by.
    pub sku: Option<String>,
    /// Object storage: the bucket's bytes stored when the event was made.
    pub storage_bytes: u64,
    /// Object storage: requests since the bucket's previous event, by AWS's price classes —
    /// tier 1 is PUT, COPY, POST and LIST; tier 2 is GET, HEAD and the rest (DELETE is free).
    pub requests_tier1: u64,
    pub requests_tier2: u64,
    /// Object storage: bytes sent to clients since the bucket's previous event.
    pub bytes_out: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageEvent {
    pub at: DateTime<Utc>,
    pub account_id: String,
    /// `ec2`, `vpc`, …
    pub service: &'static str,
    /// `instance`, `port-forward`, …
    pub resource_type: &'static str,
    pub resource_id: String,
    pub change: Change,
    pub dimensions: Dimensions,
}

/// Something that listens to usage events (billing, a test).
pub trait UsageSink: Send + Sync {
    fn record(&self, event: &UsageEvent);
}

/// The hook the services call; cheap to clone, shared by all of them.
#[derive(Clone, Default)]
pub struct Usage {
    sinks: Arc<RwLock<Vec<Arc<dyn UsageSink>>>>,
}

impl Usage {
    /// Every later event also goes to `sink`.
    pub fn subscribe(&self, sink: Arc<dyn UsageSink>) {
        self.sinks
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(sink);
    }

    pub fn emit(&self, event: UsageEvent) {
        for sink in self.sinks.read().unwrap_or_else(|e| e.into_inner()).iter() {
            sink.record(&event);
        }
    }
}

/// Keeps every event it is given: for tests, and for looking at what a service reports.
#[derive(Default)]
pub struct Recorder {
    events: std::sync::Mutex<Vec<UsageEvent>>,
}

impl Recorder {
    pub fn events(&self) -> Vec<UsageEvent> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl UsageSink for Recorder {
    fn record(&self, event: &UsageEvent) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribers_see_every_later_event_in_order() {
        let usage = Usage::default();
        let event = |id: &str, change| UsageEvent {
            at: Utc::now(),
            account_id: "111111111111".into(),
            service: "ec2",
            resource_type: "instance",
            resource_id: id.into(),
            change,
            dimensions: Dimensions::default(),
        };
        usage.emit(event("i-before", Change::Started));
        let recorder = Arc::new(Recorder::default());
        usage.subscribe(recorder.clone());
        usage.emit(event("i-1", Change::Started));
        usage.emit(event("i-1", Change::Deleted));
        let seen: Vec<(String, Change)> = recorder
            .events()
            .into_iter()
            .map(|e| (e.resource_id, e.change))
            .collect();
        assert_eq!(
            seen,
            [
                ("i-1".to_owned(), Change::Started),
                ("i-1".to_owned(), Change::Deleted)
            ]
        );
    }
}
