//! The one public error type of the server.
//!
//! Services return [`Error`]; `http/error.rs` turns it into the `{"code", "message",
//! "request_id"}` body, in that one place, so this module knows nothing of HTTP. Database errors
//! are translated once, in [`Error::from_db`].

use nuvem_api::ErrorCode;
use sea_orm::{DbErr, SqlErr};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    NotFound(String),
    /// Sent with an `Allow` header, which the caller adds (`http::no_route`).
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    DependencyViolation(String),
    #[error("{0}")]
    InsufficientCapacity(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// Sent with `Retry-After: retry_after_seconds`.
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_seconds: u64,
    },
    /// The server is saturated (for example, every password-hashing slot is taken); sent with
    /// `Retry-After`.
    #[error("{message}")]
    ServiceUnavailable {
        message: String,
        retry_after_seconds: u64,
    },
    /// Details go to the log, never to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            Error::AlreadyExists(_) => ErrorCode::AlreadyExists,
            Error::InvalidRequest(_) => ErrorCode::InvalidRequest,
            Error::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Error::AccessDenied(_) => ErrorCode::AccessDenied,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::LimitExceeded(_) => ErrorCode::LimitExceeded,
            Error::DependencyViolation(_) => ErrorCode::DependencyViolation,
            Error::InsufficientCapacity(_) => ErrorCode::InsufficientCapacity,
            Error::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            Error::TooManyRequests { .. } => ErrorCode::TooManyRequests,
            Error::ServiceUnavailable { .. } => ErrorCode::ServiceUnavailable,
            Error::Internal(_) => ErrorCode::Internal,
        }
    }

    /// `"<kind> '<name>' was not found"`, the one wording of every 404.
    pub fn not_found(kind: &str, name: &str) -> Self {
        Error::NotFound(format!("{kind} '{name}' was not found in your account"))
    }

    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidRequest(msg.into())
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        Error::Internal(err.to_string())
    }

    /// The single translation of database errors. `exists` words the AlreadyExists message for the
    /// row being written (a unique index said no).
    pub fn from_db(err: DbErr, exists: impl FnOnce() -> String) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Error::AlreadyExists(exists()),
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => Error::Conflict(
                "the resource changed while the request ran (a related resource was removed); try again"
                    .into(),
            ),
            _ => Error::Internal(format!("database: {err}")),
        }
    }
}

impl From<DbErr> for Error {
    fn from(err: DbErr) -> Self {
        Error::from_db(err, || "a resource with that name already exists".into())
    }
}
