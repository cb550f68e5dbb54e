//! Object storage: buckets owned by accounts, bucket policies, and Nuvem's S3 endpoint — SigV4
//! verified against Nuvem access keys, every operation authorized by IAM together with the
//! bucket's policy, then forwarded to an S3 engine (the embedded SeaweedFS, or MinIO or any S3
//! in production) whose own credentials never leave the server.
//!
//! One file per job: `buckets` (create, delete, list, policies: the business rules both the S3
//! endpoint and the management API call), `access` (which action each S3 operation needs and the
//! decision with the bucket policy), `gateway` (the `s3s` service: the operations Nuvem owns and
//! the ones it forwards), `endpoint` (the S3 listener, path- and virtual-host style), `listener`
//! (the HTTP server both listeners run on), `manage` (the management API's operations),
//! `objects` (the management API's object browser: list, upload, download, delete, presign),
//! `website` (a bucket's static-website settings) and `website_endpoint` (the sites, served
//! anonymously), `meter` (requests and bytes for billing and Prometheus), `reconciler` (buckets
//! the engine lost, and the periodic metering), `purge` (account deletion).
//! Nothing here knows actix-web.

mod access;
mod buckets;
mod endpoint;
mod gateway;
mod listener;
mod manage;
pub mod meter;
mod objects;
mod purge;
mod reconciler;
mod website;
mod website_endpoint;

use std::path::Path;

use serde::Deserialize;

use crate::iam::Iam;
use crate::platform::Platform;
use crate::store::Store;

pub use listener::Listener;
pub use objects::{ObjectDownload, ObjectUpload, UploadBody, UploadSender, upload_channel};

/// Where the S3 engine is and the one identity Nuvem uses on it. Read from a TOML file (0600),
/// never from flags: a secret on a command line is visible to every user in `ps`.
#[derive(Debug, Clone, Deserialize)]
pub struct EngineConfig {
    /// `http://127.0.0.1:PORT`; path-style requests are sent to it.
    pub endpoint: String,
    #[serde(default = "default_region")]
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
}

fn default_region() -> String {
    "us-east-1".to_owned()
}

impl EngineConfig {
    /// Reads an engine file such as the one `infra/seaweedfs.sh start` writes (it may hold more
    /// keys: the engine's own ports).
    pub fn load(path: &Path) -> anyhow::Result<EngineConfig> {
        #[derive(Deserialize)]
        struct File {
            endpoint: String,
            #[serde(default = "default_region")]
            region: String,
            access_key: String,
            secret_key: String,
        }
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!("cannot read the S3 engine file {}: {e}", path.display())
        })?;
        let f: File = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("S3 engine file {}: {e}", path.display()))?;
        if !(f.endpoint.starts_with("http://") || f.endpoint.starts_with("https://")) {
            anyhow::bail!(
                "S3 engine file {}: endpoint must start with http:// or https:// (got {:?})",
                path.display(),
                f.endpoint
            );
        }
        Ok(EngineConfig {
            endpoint: f.endpoint,
            region: f.region,
            access_key: f.access_key,
            secret_key: f.secret_key,
        })
    }

    /// The engine's client: path-style, and checksums only where S3 requires them (the caller's
    /// own checksums travel through as headers; computing new ones would mean reading bodies).
    fn client(&self) -> aws_sdk_s3::Client {
        use aws_sdk_s3::config::{
            BehaviorVersion, Credentials, Region, RequestChecksumCalculation,
            ResponseChecksumValidation, StalledStreamProtectionConfig,
        };
        let config = aws_sdk_s3::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new(self.region.clone()))
            .credentials_provider(Credentials::new(
                &self.access_key,
                &self.secret_key,
                None,
                None,
                "nuvem-s3-engine",
            ))
            .force_path_style(true)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            // Stalled-stream protection fails an upload whose body yields nothing for a few
            // seconds. Here that body is the S3 client's, streamed through: a student's upload
            // paused for 6 s got a bare 500 InternalError from Nuvem (measured), when timeouts
            // are the student's own client's to apply. A closed client connection still drops
            // the engine request with it.
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }
}

/// The object-storage service.
#[derive(Clone)]
pub struct Storage {
    store: Store,
    iam: Iam,
    platform: Platform,
    engine: aws_sdk_s3::Client,
    /// The region Nuvem's endpoint answers for (the engine's).
    region: String,
    meter: std::sync::Arc<meter::Meter>,
    /// `http://host:port` of the S3 endpoint, known once it is bound.
    endpoint_url: std::sync::Arc<std::sync::OnceLock<String>>,
    /// The website listener's domain and port, known once it is bound.
    website_base: std::sync::Arc<std::sync::OnceLock<website::WebsiteBase>>,
    /// Buckets as the access checks read them, on every request (see `crate::cache`).
    buckets: std::sync::Arc<crate::cache::Cached<std::sync::Arc<access::KnownBucket>>>,
}

impl Storage {
    pub fn new(store: Store, iam: Iam, engine: &EngineConfig, platform: Platform) -> Storage {
        Storage {
            store,
            iam,
            platform,
            engine: engine.client(),
            region: engine.region.clone(),
            meter: Default::default(),
            endpoint_url: Default::default(),
            website_base: Default::default(),
            buckets: Default::default(),
        }
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// Requests and bytes counted since the start, per bucket (Prometheus reads them).
    pub fn meter(&self) -> &meter::Meter {
        &self.meter
    }
}
