//! The one mapping of [`Error`] to an HTTP answer: status, `Retry-After`, and the
//! `{"code", "message", "request_id"}` body with the request's id.

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use nuvem_api::ErrorBody;

use crate::error::Error;

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code().http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let request_id = super::current_request_id();
        let message = match self {
            Error::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                format!(
                    "something went wrong inside Nuvem; the operator can find request {request_id} in the server log"
                )
            }
            other => {
                tracing::info!(code = %other.code(), message = %other, "request refused");
                other.to_string()
            }
        };
        let mut response = HttpResponse::build(self.status_code());
        if let Error::TooManyRequests {
            retry_after_seconds,
            ..
        }
        | Error::ServiceUnavailable {
            retry_after_seconds,
            ..
        } = self
        {
            response.insert_header(("retry-after", retry_after_seconds.max(&1).to_string()));
        }
        response.json(ErrorBody {
            code: self.code(),
            message,
            request_id,
        })
    }
}
