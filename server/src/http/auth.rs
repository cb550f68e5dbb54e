//! The authentication extractor: every authenticated handler takes a [`Caller`] as its first
//! argument, so a request without valid credentials is refused (401) before anything else runs.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use crate::Nuvem;
use crate::error::Error;
use crate::iam::Principal;

/// The authenticated principal of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl std::ops::Deref for Caller {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.0
    }
}

const NO_CREDENTIALS: &str = "this call needs credentials: sign in (cloudctl login) or exchange an access key for a session, then send 'Authorization: Bearer <token>'";

/// Extracts the bearer token; errors are decided synchronously, so that a request without
/// credentials is answered 401 whatever else is wrong with it.
fn bearer_token(req: &HttpRequest) -> Result<String, Error> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| Error::Unauthenticated(NO_CREDENTIALS.to_owned()))?;
    let value = header.to_str().map_err(|_| {
        Error::Unauthenticated("the Authorization header is not readable text".into())
    })?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Error::Unauthenticated(
                "the Authorization header must be 'Bearer <token>' with a session token".into(),
            )
        })?;
    Ok(token.to_owned())
}

impl FromRequest for Caller {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer_token(req);
        let nuvem = req.app_data::<web::Data<Nuvem>>().cloned();
        Box::pin(async move {
            let token = token?;
            let nuvem = nuvem.ok_or_else(|| Error::internal("application state is missing"))?;
            let principal = nuvem.iam.authenticate(&token).await?;
            // Every log line of the request names the caller, and who assumed its account.
            let who = match &principal.assumed_by {
                Some(by) => format!("{} (assumed by {by})", principal.user_nrn()),
                None => principal.user_nrn(),
            };
            tracing::Span::current().record("principal", who.as_str());
            Ok(Caller(principal))
        })
    }
}
