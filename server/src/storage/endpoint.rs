//! Nuvem's S3 endpoint: its own listener (`--s3-listen`), HTTP/1.1 served by hyper, every
//! request handed to the `s3s` service (SigV4 → `access` → `gateway` → engine). Each answer
//! carries a request id (`x-amz-request-id`, and `<RequestId>` in error bodies, which the AWS
//! SDKs show); the id is in the log line of the request too.

use std::sync::Arc;

use hyper::body::Incoming;
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{Body, HttpError, HttpResponse};

use super::Storage;
use super::access::Gatekeeper;
use super::gateway::Gateway;
use super::listener::Listener;

/// Error bodies are a few hundred bytes; anything larger is passed on untouched.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

impl Storage {
    /// Binds `listen` for Nuvem's S3 endpoint and serves it until the listener is stopped.
    /// Requests to `<bucket>.<domain>` are virtual-host style; any other host is path-style.
    pub async fn serve_s3(&self, listen: &str, domain: &str) -> anyhow::Result<Listener> {
        let mut builder = S3ServiceBuilder::new(Gateway {
            storage: self.clone(),
            engine: s3s_aws::Proxy::from(self.engine.clone()),
        });
        builder.set_host(Hosts {
            domain: domain.to_ascii_lowercase(),
        });
        builder.set_auth(Gatekeeper(self.clone()));
        builder.set_access(Gatekeeper(self.clone()));
        let service = Arc::new(builder.build());
        let listener = Listener::start(listen, "S3 endpoint", move |req| {
            let service = service.clone();
            async move { answer(&service, req).await }
        })
        .await?;
        let _ = self.endpoint_url.set(listener.url());
        Ok(listener)
    }
}

/// Virtual-host style for `<bucket>.<domain>[:port]`, path-style for every other host (an IP
/// address, `localhost`, a name without the domain).
struct Hosts {
    domain: String,
}

impl s3s::host::S3Host for Hosts {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> s3s::S3Result<s3s::host::VirtualHost<'a>> {
        let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
        let bucket = name
            .strip_suffix(self.domain.as_str())
            .and_then(|rest| rest.strip_suffix('.'))
            .filter(|b| !b.is_empty());
        Ok(match bucket {
            Some(b) => s3s::host::VirtualHost::new(host).with_bucket(b),
            None => s3s::host::VirtualHost::new(host),
        })
    }
}

async fn answer(
    service: &S3Service,
    req: http::Request<Incoming>,
) -> Result<HttpResponse, HttpError> {
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let mut resp = hyper::service::Service::call(service, req).await?;
    let status = resp.status();
    // As on the API listener: at info only what failed; at debug every request.
    if status.is_success() || status.is_redirection() {
        tracing::debug!(request_id, %method, path, status = status.as_u16(), "s3 request");
    } else {
        tracing::info!(request_id, %method, path, status = status.as_u16(), "s3 request");
    }
    if let Ok(value) = http::HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-amz-request-id", value);
    }
    if status.is_client_error() || status.is_server_error() {
        add_request_id_to_error(&mut resp, &request_id).await;
    }
    Ok(resp)
}

/// `s3s` writes error bodies without a request id; the SDKs print it, so it is added here.
async fn add_request_id_to_error(resp: &mut HttpResponse, request_id: &str) {
    let Ok(bytes) = resp.body_mut().store_all_limited(ERROR_BODY_LIMIT).await else {
        return;
    };
    let text = String::from_utf8_lossy(&bytes);
    if !text.contains("</Error>") || text.contains("<RequestId>") {
        return;
    }
    let patched = text.replacen(
        "</Error>",
        &format!("<RequestId>{request_id}</RequestId></Error>"),
        1,
    );
    resp.headers_mut()
        .insert(http::header::CONTENT_LENGTH, patched.len().into());
    *resp.body_mut() = Body::from(patched);
}
