//! The console's one way to the API: the SDK, compiled for WebAssembly (reqwest over the
//! browser's `fetch`), with the session token of the sign-in. Pages call typed SDK methods, so no
//! page writes a URL path or a JSON body by hand, and every answer is read as `nuvem-api` types.

use leptos::prelude::*;
use nuvem_sdk::{Client, Credentials, Error};

use crate::app::ctx;

/// An API error as the page shows it.
#[derive(Debug, Clone)]
pub struct ApiError {
    code: String,
    message: String,
}

impl ApiError {
    /// The API's stable code (`NotFound`, `AccessDenied`, …), or `Network` and the like when
    /// no answer was read.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The message a student reads, with the stable code to search for.
    pub fn show(&self) -> String {
        format!("{} ({})", self.message, self.code)
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let code = match &e {
            Error::Api { code, .. } => code.to_string(),
            Error::Transport { .. } => "Network".to_owned(),
            Error::Config(_) => "Config".to_owned(),
            Error::Decode(_) => "Decode".to_owned(),
        };
        ApiError {
            code,
            message: e.to_string(),
        }
    }
}

/// The console's own origin: the server that serves the console serves the API, and reqwest
/// needs an absolute URL even in a browser.
fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// A client of this origin acting with `token`; without one only sign-in works.
pub fn client(token: Option<String>) -> Result<Client, ApiError> {
    let credentials = token.map_or(Credentials::Anonymous, Credentials::session);
    Ok(Client::new(&origin(), credentials)?)
}

/// Runs one SDK call with the session's token, e.g. `api::run(async |sdk| sdk.whoami().await)`.
/// A 401 ends the session and leads back to sign-in, with a notice that it expired.
pub async fn run<T>(
    call: impl AsyncFnOnce(&Client) -> nuvem_sdk::Result<T>,
) -> Result<T, ApiError> {
    let c = ctx();
    let client = client(c.token.get_untracked())?;
    let result = call(&client).await;
    if let Err(e) = &result
        && e.status() == Some(401)
        && c.token.get_untracked().is_some()
    {
        c.end_session(true);
    }
    Ok(result?)
}

/// [`run`] with the error as the page shows it, for the `Loaded` signals of lists.
pub async fn load<T>(call: impl AsyncFnOnce(&Client) -> nuvem_sdk::Result<T>) -> Result<T, String> {
    run(call).await.map_err(|e| e.show())
}
