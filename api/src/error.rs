//! The error body every failed API call returns.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Stable, machine-readable error codes. Clients branch on these, never on messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum ErrorCode {
    /// The named resource does not exist in the caller's account (404).
    NotFound,
    /// The path exists but not with this HTTP method; the `Allow` header lists those it has (405).
    MethodNotAllowed,
    /// A resource with that name already exists (409).
    AlreadyExists,
    /// The request is malformed or a field is invalid (400).
    InvalidRequest,
    /// No valid credentials were presented (401).
    Unauthenticated,
    /// The caller is authenticated but no policy allows the action, or one denies it (403).
    AccessDenied,
    /// The request conflicts with the resource's current state (409).
    Conflict,
    /// A quota or limit would be exceeded (409).
    LimitExceeded,
    /// Other resources still depend on this one (409).
    DependencyViolation,
    /// The hosts have no room for it now: vCPUs, memory or dedicated cores (409).
    InsufficientCapacity,
    /// The request body is too large (413).
    PayloadTooLarge,
    /// Too many attempts in a short time, such as wrong sign-ins; retry after the time in the
    /// `Retry-After` header (429).
    TooManyRequests,
    /// The server is too busy to take this request now; retry after `Retry-After` seconds (503).
    ServiceUnavailable,
    /// A bug or an unavailable dependency on the server side (500).
    Internal,
    /// A code this client does not know yet (sent by a newer server).
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The HTTP status this code is always sent with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidRequest => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::AccessDenied => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::AlreadyExists
            | ErrorCode::Conflict
            | ErrorCode::LimitExceeded
            | ErrorCode::DependencyViolation
            | ErrorCode::InsufficientCapacity => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::TooManyRequests => 429,
            ErrorCode::ServiceUnavailable => 503,
            ErrorCode::Internal | ErrorCode::Unknown => 500,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "NotFound",
            ErrorCode::MethodNotAllowed => "MethodNotAllowed",
            ErrorCode::AlreadyExists => "AlreadyExists",
            ErrorCode::InvalidRequest => "InvalidRequest",
            ErrorCode::Unauthenticated => "Unauthenticated",
            ErrorCode::AccessDenied => "AccessDenied",
            ErrorCode::Conflict => "Conflict",
            ErrorCode::LimitExceeded => "LimitExceeded",
            ErrorCode::DependencyViolation => "DependencyViolation",
            ErrorCode::InsufficientCapacity => "InsufficientCapacity",
            ErrorCode::PayloadTooLarge => "PayloadTooLarge",
            ErrorCode::TooManyRequests => "TooManyRequests",
            ErrorCode::ServiceUnavailable => "ServiceUnavailable",
            ErrorCode::Internal => "Internal",
            ErrorCode::Unknown => "Unknown",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Body of every error response: `{"code", "message", "request_id"}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub code: ErrorCode,
    /// A sentence for a person: what was wrong and, where possible, how to fix it.
    pub message: String,
    /// The id of the request in the server's logs.
    pub request_id: String,
}
