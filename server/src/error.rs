//! The one public error type of the server.
//!
//! Services return [`Error`]; `http/error.rs` turns it into the `{"code", "message",
//! "request_id"}` body, in that one place, so this module knows nothing of HTTP. Database errors
//! are translated once, in [`Error::from_db`]: a value the database refuses is the client's 400
//! (validation at the API boundary should have caught it, and the log says so), never a 500.

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
            _ => match data_exception(&err) {
                Some(detail) => {
                    // The API validates what it stores and looks up; this is a gap in that.
                    tracing::error!(%detail, "the database refused a value the API let through");
                    Error::InvalidRequest(
                        "a value in the request cannot be stored: it is too long, out of range or \
                         holds a character the database refuses (such as NUL)"
                            .into(),
                    )
                }
                None => Error::Internal(format!("database: {err}")),
            },
        }
    }
}

/// PostgreSQL's data exceptions (SQLSTATE class 22): a value it cannot take, such as a string too
/// long for its column (22001), a NUL in text (22021) or in `jsonb` (22P05), a number out of range
/// (22003). They come from a request's values, so they are the client's 400, not a 500; SQLite
/// raises none of them.
fn data_exception(err: &DbErr) -> Option<String> {
    use sea_orm::{RuntimeErr, sqlx};
    let (DbErr::Exec(RuntimeErr::SqlxError(sqlx::Error::Database(e)))
    | DbErr::Query(RuntimeErr::SqlxError(sqlx::Error::Database(e)))) = err
    else {
        return None;
    };
    let code = e.code()?;
    code.starts_with("22")
        .then(|| format!("{code}: {}", e.message()))
}

impl From<DbErr> for Error {
    fn from(err: DbErr) -> Self {
        Error::from_db(err, || "a resource with that name already exists".into())
    }
}
