//! What every service stands on besides its store: the saga executor and the usage hook. One
//! value handed to each service at start, so adding a shared mechanism changes no constructor.

use crate::saga::Sagas;
use crate::usage::Usage;

#[derive(Clone)]
pub struct Platform {
    /// Multi-step operations, persisted so that a restart finishes or unwinds them.
    pub sagas: Sagas,
    /// Lifecycle changes of what costs (metering subscribes).
    pub usage: Usage,
}
