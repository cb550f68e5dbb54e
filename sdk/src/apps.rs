//! Container apps (PaaS) and load balancers: images built from a Dockerfile, apps with replicas,
//! scaling, logs, events, a replica's kernel internals, and ELB-like load balancers.

use reqwest::Method;

use crate::{Client, Error, Result, api_error, error_chain};
use nuvem_api::ErrorCode;
use nuvem_api::apps::*;

/// An image build may take minutes (a `RUN apt-get ...` on the Debian base); its log streams
/// meanwhile, so the usual request timeout would cut it short.
const BUILD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30 * 60);

impl Client {
    /// Builds `name:tag` from a tarball holding a `Dockerfile` (and whatever it copies),
    /// calling `on_event` for every line of the builder's log as it arrives. Returns the image,
    /// or the build's failure as an [`Error::Api`] with its code (`BuildFailed`, ...).
    pub async fn build_container_image(
        &self,
        name: &str,
        tag: Option<&str>,
        context_tar: Vec<u8>,
        mut on_event: impl FnMut(&BuildEvent),
    ) -> Result<ContainerImage> {
        let token = self.bearer(false).await?;
        let mut req = self
            .inner
            .http
            .request(Method::POST, self.url(&["v1", "apps", "images", "build"]))
            .timeout(BUILD_TIMEOUT)
            .query(&BuildImageParams {
                name: name.into(),
                tag: tag.map(Into::into),
            })
            .header(reqwest::header::CONTENT_TYPE, "application/x-tar")
            .body(context_tar);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let transport = |e: reqwest::Error| Error::Transport {
            endpoint: self.inner.endpoint.clone(),
            reason: error_chain(&e),
        };
        let mut res = Some(req.send().await.map_err(transport)?);
        let status = res.as_ref().map(|r| r.status()).unwrap_or_default();
        if !status.is_success() {
            let bytes = match res.take() {
                Some(r) => r.bytes().await.map_err(transport)?,
                None => Default::default(),
            };
            return Err(api_error(status, &bytes));
        }
        let mut pending = Vec::new();
        let mut outcome = None;
        while let Some(chunk) = next_chunk(&mut res).await.map_err(transport)? {
            pending.extend_from_slice(&chunk);
            while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                let event: BuildEvent = serde_json::from_slice(&line)
                    .map_err(|e| Error::Decode(format!("a build event: {e}")))?;
                on_event(&event);
                match event {
                    BuildEvent::Log { .. } => {}
                    BuildEvent::Done { image } => outcome = Some(Ok(image)),
                    BuildEvent::Failed { code, message } => {
                        // The codes are the API's (`InvalidRequest` for a Dockerfile that fails).
                        let code: ErrorCode =
                            serde_json::from_value(serde_json::Value::String(code))
                                .unwrap_or(ErrorCode::Unknown);
                        outcome = Some(Err(Error::Api {
                            status: code.http_status(),
                            code,
                            message,
                            request_id: String::new(),
                        }))
                    }
                }
            }
        }
        outcome.unwrap_or_else(|| {
            Err(Error::Decode(
                "the build's answer ended without saying whether it succeeded".into(),
            ))
        })
    }

    pub async fn list_container_images(&self) -> Result<ContainerImageList> {
        self.get(&["v1", "apps", "images"]).await
    }

    /// One image by `name:tag`.
    pub async fn get_container_image(&self, reference: &str) -> Result<ContainerImage> {
        self.get(&["v1", "apps", "images", reference]).await
    }

    /// Refused while an app uses it.
    pub async fn delete_container_image(&self, reference: &str) -> Result<()> {
        self.delete(&["v1", "apps", "images", reference]).await
    }

    /// Creates an app and starts deploying it; it starts `deploying`.
    pub async fn create_app(&self, request: &CreateAppRequest) -> Result<App> {
        self.post(&["v1", "apps"], request).await
    }

    pub async fn list_apps(&self) -> Result<AppList> {
        self.get(&["v1", "apps"]).await
    }

    pub async fn get_app(&self, name: &str) -> Result<App> {
        self.get(&["v1", "apps", name]).await
    }

    /// A new version (rolled out replica by replica) or new limits (applied in place).
    pub async fn update_app(&self, name: &str, request: &UpdateAppRequest) -> Result<App> {
        self.call(
            Method::PATCH,
            &["v1", "apps", name],
            None::<&()>,
            Some(request),
        )
        .await
    }

    pub async fn scale_app(&self, name: &str, replicas: u32) -> Result<App> {
        self.post(
            &["v1", "apps", name, "scale"],
            &ScaleAppRequest { replicas },
        )
        .await
    }

    pub async fn set_autoscaling(&self, name: &str, policy: &Autoscaling) -> Result<App> {
        self.call(
            Method::PUT,
            &["v1", "apps", name, "autoscaling"],
            None::<&()>,
            Some(policy),
        )
        .await
    }

    pub async fn delete_autoscaling(&self, name: &str) -> Result<()> {
        self.delete(&["v1", "apps", name, "autoscaling"]).await
    }

    pub async fn delete_app(&self, name: &str) -> Result<()> {
        self.delete(&["v1", "apps", name]).await
    }

    /// Log lines of the replicas, merged by time.
    pub async fn app_logs(&self, name: &str, params: &LogParams) -> Result<LogList> {
        self.call(
            Method::GET,
            &["v1", "apps", name, "logs"],
            Some(params),
            None::<&()>,
        )
        .await
    }

    pub async fn app_events(&self, name: &str) -> Result<AppEventList> {
        self.get(&["v1", "apps", name, "events"]).await
    }

    /// One replica as the kernel sees it.
    pub async fn replica_internals(&self, app: &str, replica: &str) -> Result<ReplicaInternals> {
        self.get(&["v1", "apps", app, "replicas", replica, "internals"])
            .await
    }

    pub async fn create_load_balancer(
        &self,
        request: &CreateLoadBalancerRequest,
    ) -> Result<LoadBalancer> {
        self.post(&["v1", "elb", "load-balancers"], request).await
    }

    pub async fn list_load_balancers(&self) -> Result<LoadBalancerList> {
        self.get(&["v1", "elb", "load-balancers"]).await
    }

    /// By name or id, with each target's live state from the proxy.
    pub async fn get_load_balancer(&self, name: &str) -> Result<LoadBalancer> {
        self.get(&["v1", "elb", "load-balancers", name]).await
    }

    pub async fn delete_load_balancer(&self, name: &str) -> Result<()> {
        self.delete(&["v1", "elb", "load-balancers", name]).await
    }
}

/// The next piece of a streamed answer as it arrives (`None` at its end). In a browser, where
/// reqwest offers no chunks without its `stream` feature, the whole answer is one piece.
async fn next_chunk(
    res: &mut Option<reqwest::Response>,
) -> std::result::Result<Option<Vec<u8>>, reqwest::Error> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        match res.as_mut() {
            Some(r) => Ok(r.chunk().await?.map(|b| b.to_vec())),
            None => Ok(None),
        }
    }
    #[cfg(target_arch = "wasm32")]
    {
        match res.take() {
            Some(r) => Ok(Some(r.bytes().await?.to_vec())),
            None => Ok(None),
        }
    }
}
