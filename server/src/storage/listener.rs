//! A listener of object storage's own (the S3 endpoint, the website endpoint): HTTP/1.1 served
//! by hyper on a bound address, each request handed to a handler, stopped gracefully.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use s3s::{HttpError, HttpResponse};
use tokio::sync::watch;

/// A running listener.
pub struct Listener {
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Listener {
    /// Binds `listen` and hands every request to `handler` until [`Listener::stop`]. `what`
    /// names the listener in messages.
    pub(super) async fn start<H, F>(
        listen: &str,
        what: &'static str,
        handler: H,
    ) -> anyhow::Result<Listener>
    where
        H: Fn(http::Request<Incoming>) -> F + Clone + Send + Sync + 'static,
        F: Future<Output = Result<HttpResponse, HttpError>> + Send + 'static,
    {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen for the {what} on {listen}"))?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(accept(listener, what, handler, stopped));
        tracing::info!(%addr, "{what} listening");
        Ok(Listener { addr, stop, task })
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

async fn accept<H, F>(
    listener: tokio::net::TcpListener,
    what: &'static str,
    handler: H,
    mut stopped: watch::Receiver<bool>,
) where
    H: Fn(http::Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<HttpResponse, HttpError>> + Send + 'static,
{
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "{what}: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        // Small answers must not wait for the client's delayed ACK (Nagle's algorithm): without
        // this, small GETs had a 40 ms tail.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "{what}: TCP_NODELAY refused");
        }
        let handler = handler.clone();
        let conn = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), hyper::service::service_fn(handler));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "{what}: a connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(10), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("{what}: connections still open after 10 s were dropped");
    }
}
