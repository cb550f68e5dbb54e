//! Sign-in with a password or an access key, sign-out, who am I, and changing one's password.

use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse, get, post};
use nuvem_api::ErrorBody;
use nuvem_api::iam::*;

use super::{Errors, no_content};
use crate::Nuvem;
use crate::error::Result;
use crate::http::auth::Caller;
use crate::http::extract::Json;

/// Error answers of password sign-in, beyond [`Errors`].
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum SignInErrors {
    #[response(
        status = 429,
        description = "Too many failed sign-ins: wait `Retry-After` seconds"
    )]
    TooManyRequests(#[to_schema] ErrorBody),
    #[response(
        status = 503,
        description = "Too many sign-ins at once: retry after `Retry-After` seconds"
    )]
    ServiceUnavailable(ErrorBody),
}

/// Sign in with account, user name and password; returns a session token. Failed attempts are
/// throttled per user and per client address (429 with `Retry-After`).
#[utoipa::path(tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = Session), Errors, SignInErrors), security(()))]
#[post("/v1/auth/login")]
pub async fn login(
    req: HttpRequest,
    nuvem: Data<Nuvem>,
    body: Json<LoginRequest>,
) -> Result<Json<Session>> {
    Ok(Json(
        nuvem
            .iam
            .login(body.into_inner(), client_address(&req))
            .await?,
    ))
}

/// The client's address for sign-in throttling: the TCP peer; for a peer on loopback (a reverse
/// proxy on this host, as docs/install.md recommends), the address that proxy appended last to
/// `X-Forwarded-For`. Anyone else's `X-Forwarded-For` is ignored: any client can write it.
fn client_address(req: &HttpRequest) -> Option<std::net::IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !peer.is_loopback() {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .last();
    Some(forwarded.unwrap_or(peer))
}

/// Sign out: ends the caller's session on the server; the token is refused from now on.
#[utoipa::path(tag = "auth", responses((status = 204), Errors), security(("bearer" = [])))]
#[post("/v1/auth/logout")]
pub async fn logout(caller: Caller, nuvem: Data<Nuvem>) -> Result<HttpResponse> {
    nuvem.iam.logout(&caller).await?;
    Ok(no_content())
}

/// Exchange an access key for a session token (as AWS STS GetSessionToken).
#[utoipa::path(tag = "auth", request_body = SessionRequest,
    responses((status = 200, body = Session), Errors), security(()))]
#[post("/v1/auth/session")]
pub async fn session(nuvem: Data<Nuvem>, body: Json<SessionRequest>) -> Result<Json<Session>> {
    Ok(Json(
        nuvem.iam.session_from_access_key(body.into_inner()).await?,
    ))
}

/// Who am I? The caller's account, user and how they signed in.
#[utoipa::path(tag = "auth", responses((status = 200, body = Identity), Errors),
    security(("bearer" = [])))]
#[get("/v1/auth/whoami")]
pub async fn whoami(caller: Caller) -> Json<Identity> {
    Json(caller.identity())
}

/// Change the caller's own password (needs the current one). Every session made with the old
/// password ends, this one included: the answer is a new session to go on with.
#[utoipa::path(tag = "auth", request_body = ChangePasswordRequest,
    responses((status = 200, body = Session), Errors), security(("bearer" = [])))]
#[post("/v1/auth/password")]
pub async fn change_password(
    caller: Caller,
    nuvem: Data<Nuvem>,
    body: Json<ChangePasswordRequest>,
) -> Result<Json<Session>> {
    Ok(Json(
        nuvem
            .iam
            .change_password(&caller, body.into_inner())
            .await?,
    ))
}
