//! IAM and authentication handlers: parse, call the service, shape the response. Nothing else.
//!
//! One file per job: `sessions` (sign-in, sign-out, whoami, password), `quotas`, `accounts`
//! (operator only), `users`, `access_keys`, `groups` and `policies`. Here: [`Errors`], the error
//! answers every service's handlers document, and the route list.

pub mod access_keys;
pub mod accounts;
pub mod groups;
pub mod policies;
pub mod quotas;
pub mod sessions;
pub mod users;

use actix_web::HttpResponse;
use nuvem_api::ErrorBody;

/// Error answers any authenticated operation may give.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum Errors {
    #[response(
        status = 400,
        description = "Invalid request: malformed body, bad name, invalid field"
    )]
    InvalidRequest(#[to_schema] ErrorBody),
    #[response(status = 401, description = "No valid credentials")]
    Unauthenticated(ErrorBody),
    #[response(
        status = 403,
        description = "Not allowed by IAM policy, or operator-only"
    )]
    AccessDenied(ErrorBody),
    #[response(status = 404, description = "No such resource in the caller's account")]
    NotFound(ErrorBody),
    #[response(
        status = 409,
        description = "Already exists, conflict, limit or dependency"
    )]
    Conflict(ErrorBody),
}

fn no_content() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

/// Registers the IAM and authentication operations, once: for routing and for OpenAPI.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(sessions::login);
    cfg.service(sessions::session);
    cfg.service(sessions::whoami);
    cfg.service(sessions::logout);
    cfg.service(sessions::change_password);
    cfg.service(quotas::quota_list);
    cfg.service(quotas::account_quota_list);
    cfg.service(quotas::account_quota_set);
    cfg.service(accounts::account_create);
    cfg.service(accounts::account_list);
    cfg.service(accounts::account_get);
    cfg.service(accounts::account_delete);
    cfg.service(accounts::account_assume);
    cfg.service(users::user_create);
    cfg.service(users::user_list);
    cfg.service(users::user_get);
    cfg.service(users::user_delete);
    cfg.service(users::login_profile_update);
    cfg.service(users::login_profile_delete);
    cfg.service(users::user_group_list);
    cfg.service(users::user_policy_list);
    cfg.service(users::user_policy_attach);
    cfg.service(users::user_policy_detach);
    cfg.service(access_keys::access_key_create);
    cfg.service(access_keys::access_key_list);
    cfg.service(access_keys::access_key_update);
    cfg.service(access_keys::access_key_delete);
    cfg.service(groups::group_create);
    cfg.service(groups::group_list);
    cfg.service(groups::group_get);
    cfg.service(groups::group_delete);
    cfg.service(groups::group_member_add);
    cfg.service(groups::group_member_remove);
    cfg.service(groups::group_policy_list);
    cfg.service(groups::group_policy_attach);
    cfg.service(groups::group_policy_detach);
    cfg.service(policies::policy_create);
    cfg.service(policies::policy_list);
    cfg.service(policies::policy_get);
    cfg.service(policies::policy_update);
    cfg.service(policies::policy_delete);
}
