//! Operating the platform itself (operator only): the background reconcilers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every operations action Nuvem authorizes (`ops:<Action>`).
pub const ACTIONS: &[&str] = &["ops:ListReconcilers", "ops:RunReconciler"];

/// One service's reconciler: desired state (the database) against the host, and how its last run
/// went.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReconcilerStatus {
    /// The service: `vpc`, `compute`.
    pub name: String,
    /// How often it runs by itself.
    pub period_seconds: u64,
    /// Whether a run is in progress now.
    pub running: bool,
    /// Runs since the server started (at start, on its timer, on demand).
    pub runs: u64,
    pub failures: u64,
    pub last_started_at: Option<DateTime<Utc>>,
    pub last_duration_ms: u64,
    /// What the last run fixed, one line each; empty when the host already matched.
    pub last_fixed: Vec<String>,
    /// Why the last run failed, if it did.
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReconcilerList {
    pub items: Vec<ReconcilerStatus>,
}
