//! Nuvem's S3 endpoint: its own listener (`--s3-listen`), HTTP/1.1 served by hyper, every
//! request handed to the `s3s` service (SigV4 → `access` → `gateway` → engine). Each answer
//! carries a request id (`x-amz-request-id`, and `<RequestId>` in error bodies, which the AWS
//! SDKs show); the id is in the log line of the request too.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{Body, HttpError, HttpResponse};
use tokio::sync::watch;

use super::Storage;
use super::access::Gatekeeper;
use super::gateway::Gateway;

/// Error bodies are a few hundred bytes; anything larger is passed on untouched.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// A running S3 listener.
pub struct S3Endpoint {
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl S3Endpoint {
    /// Binds `listen` and serves until [`S3Endpoint::stop`]. Requests to `<bucket>.<domain>`
    /// are virtual-host style; any other host is path-style.
    pub async fn start(storage: Storage, listen: &str, domain: &str) -> anyhow::Result<S3Endpoint> {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen for S3 on {listen}"))?;
        let addr = listener.local_addr()?;
        let _ = storage.endpoint_url.set(format!("http://{addr}"));
        let mut builder = S3ServiceBuilder::new(Gateway {
            storage: storage.clone(),
            engine: s3s_aws::Proxy::from(storage.engine.clone()),
        });
        builder.set_host(Hosts {
            domain: domain.to_ascii_lowercase(),
        });
        builder.set_auth(Gatekeeper(storage.clone()));
        builder.set_access(Gatekeeper(storage));
        let service = Arc::new(builder.build());
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(accept(listener, service, stopped));
        tracing::info!(%addr, "S3 endpoint listening");
        Ok(S3Endpoint { addr, stop, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets requests in flight finish (at most 10 s), and waits.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
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

async fn accept(
    listener: tokio::net::TcpListener,
    service: Arc<S3Service>,
    mut stopped: watch::Receiver<bool>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "S3 endpoint: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        // Small answers must not wait for the client's delayed ACK (Nagle's algorithm): without
        // this, small GETs had a 40 ms tail.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "S3 endpoint: TCP_NODELAY refused");
        }
        let service = service.clone();
        let handler = hyper::service::service_fn(move |req: http::Request<Incoming>| {
            let service = service.clone();
            async move { answer(&service, req).await }
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), handler);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "S3 connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(10), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("S3 endpoint: connections still open after 10 s were dropped");
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
