//! `cloudctl s3`: buckets, bucket policies and website settings through Nuvem's API; objects
//! (`cp`, `mv`, `sync`, `rm`, `presign`) through Nuvem's S3 endpoint with `aws-sdk-s3`, signed
//! with the profile's access key. One file per job below: `transfer` (one file up or down,
//! streamed, with a progress bar), `tree` (directories: recursive copies and sync), `website`.

mod transfer;
mod tree;
mod website;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use nuvem_api::s3::{Bucket, BucketUsage};
use nuvem_sdk::{Client, Credentials};

use crate::output::{Detail, Out, Tabular, timestamp};

#[derive(Subcommand)]
pub enum S3Cmd {
    /// Make a bucket (names are global: 3-63 lowercase letters, digits, dots, hyphens).
    Mb {
        /// The bucket name, or s3://name.
        bucket: String,
    },
    /// Remove an empty bucket.
    Rb {
        /// The bucket name, or s3://name.
        bucket: String,
    },
    /// List your buckets with their size and object count; with a bucket, its objects.
    Ls {
        /// A bucket (s3://name or s3://name/prefix) to list the objects of.
        target: Option<String>,
    },
    /// Copy a file to s3://bucket/key, s3://bucket/key to a file, or one object to another
    /// (streamed; multipart above 8 MiB); with --recursive, a directory or a prefix.
    Cp {
        /// A local file (directory with --recursive) or s3://bucket/key (prefix).
        from: String,
        /// A local file (directory with --recursive) or s3://bucket/key (prefix).
        to: String,
        #[command(flatten)]
        options: CopyOptions,
    },
    /// Move: copy as `cp` does, then delete the source (the local file or the object).
    Mv {
        /// A local file (directory with --recursive) or s3://bucket/key (prefix).
        from: String,
        /// A local file (directory with --recursive) or s3://bucket/key (prefix).
        to: String,
        #[command(flatten)]
        options: CopyOptions,
    },
    /// Make DST like SRC (a local directory and s3://bucket/prefix, either way): copies the
    /// files that are new, or differ in size, or are newer at the source, as `aws s3 sync`.
    Sync {
        /// A local directory or s3://bucket/prefix.
        source: String,
        /// A local directory or s3://bucket/prefix.
        destination: String,
        /// Also delete what is at the destination but not at the source.
        #[arg(long)]
        delete: bool,
        /// Show what would be copied and deleted, and change nothing.
        #[arg(long)]
        dryrun: bool,
        /// Do not draw progress bars (they are drawn only on a terminal, for large files).
        #[arg(long)]
        no_progress: bool,
    },
    /// Delete an object.
    Rm {
        /// s3://bucket/key.
        target: String,
    },
    /// Print a URL that lets anyone GET the object until it expires.
    Presign {
        /// s3://bucket/key.
        target: String,
        /// Seconds until the URL expires (at most 7 days).
        #[arg(long, default_value_t = 3600)]
        expires_in: u64,
    },
    /// A bucket's policy: show, set from a file, or delete.
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// A bucket's static website: show it, turn it on with --index-document, or --off.
    Website(website::WebsiteArgs),
    /// Your buckets' usage: size, requests by price class, bytes out.
    Usage,
    /// The S3 endpoint and region, for `aws --endpoint-url` and the SDKs.
    Info,
}

/// How `cp` and `mv` treat their arguments.
#[derive(Args)]
pub struct CopyOptions {
    /// Copy a whole directory or every object under a prefix.
    #[arg(short, long)]
    recursive: bool,
    /// Do not draw progress bars (they are drawn only on a terminal, for large files).
    #[arg(long)]
    no_progress: bool,
}

#[derive(Subcommand)]
pub enum PolicyCmd {
    /// Show the bucket's policy.
    Get {
        /// The bucket name.
        bucket: String,
    },
    /// Set the bucket's policy from a JSON file (the IAM grammar plus `Principal`).
    Put {
        /// The bucket name.
        bucket: String,
        /// The policy document, a JSON file.
        #[arg(long)]
        file: PathBuf,
    },
    /// Delete the bucket's policy.
    Delete {
        /// The bucket name.
        bucket: String,
    },
}

/// `s3://bucket/key` → (bucket, key); a bare name is a bucket.
fn split(target: &str) -> (String, String) {
    let rest = target.strip_prefix("s3://").unwrap_or(target);
    match rest.split_once('/') {
        Some((b, k)) => (b.to_owned(), k.to_owned()),
        None => (rest.to_owned(), String::new()),
    }
}

fn object(target: &str) -> anyhow::Result<(String, String)> {
    let (b, k) = split(target);
    if !target.starts_with("s3://") || k.is_empty() {
        bail!("{target}: expected s3://bucket/key");
    }
    Ok((b, k))
}

/// A local path or an object location.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Location {
    Local(PathBuf),
    /// A bucket and a key (or a prefix), as written after `s3://`.
    S3 {
        bucket: String,
        key: String,
    },
}

impl Location {
    fn parse(text: &str) -> anyhow::Result<Location> {
        if !text.starts_with("s3://") {
            return Ok(Location::Local(PathBuf::from(text)));
        }
        let (bucket, key) = split(text);
        if bucket.is_empty() {
            bail!("{text}: expected s3://bucket/key");
        }
        Ok(Location::S3 { bucket, key })
    }
}

/// An S3 client on Nuvem's endpoint, signed with the profile's access key: the S3 protocol has
/// no session tokens of Nuvem's.
async fn s3_client(c: &Client) -> anyhow::Result<aws_sdk_s3::Client> {
    use aws_sdk_s3::config::{BehaviorVersion, Credentials as S3Credentials, Region};
    let Credentials::AccessKey {
        access_key_id,
        secret_access_key,
    } = c.credentials()
    else {
        bail!(
            "objects travel over S3, which is signed with an access key: use a profile made with `cloudctl configure` (an access key), or set NUVEM_ACCESS_KEY_ID and NUVEM_SECRET_ACCESS_KEY"
        );
    };
    let info = c.storage_info().await?;
    let config = aws_sdk_s3::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(&info.endpoint)
        .region(Region::new(info.region))
        .credentials_provider(S3Credentials::new(
            access_key_id,
            secret_access_key,
            None,
            None,
            "cloudctl",
        ))
        .force_path_style(true)
        .build();
    Ok(aws_sdk_s3::Client::from_conf(config))
}

pub(crate) fn s3_err<E>(e: aws_sdk_s3::error::SdkError<E>) -> anyhow::Error
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match e.as_service_error() {
        Some(se) => anyhow::anyhow!(
            "{}: {}",
            se.code().unwrap_or("error"),
            se.message().unwrap_or("no message")
        ),
        None => anyhow::anyhow!("{}", aws_sdk_s3::error::DisplayErrorContext(&e)),
    }
}

pub async fn s3(c: &Client, out: &Out, cmd: &S3Cmd) -> anyhow::Result<()> {
    match cmd {
        S3Cmd::Mb { bucket } => out.detail(&c.create_bucket(&split(bucket).0).await?),
        S3Cmd::Rb { bucket } => {
            c.delete_bucket(&split(bucket).0).await?;
            out.message(&format!("removed bucket {}", split(bucket).0));
            Ok(())
        }
        S3Cmd::Ls { target: None } => out.list(&c.list_buckets().await?.items),
        S3Cmd::Ls {
            target: Some(target),
        } => {
            let (bucket, prefix) = split(target);
            let s3 = s3_client(c).await?;
            let mut pages = s3
                .list_objects_v2()
                .bucket(&bucket)
                .prefix(prefix)
                .into_paginator()
                .send();
            let mut rows = Vec::new();
            while let Some(page) = pages.next().await {
                for o in page.map_err(s3_err)?.contents() {
                    rows.push(vec![
                        o.last_modified().map(|t| t.to_string()).unwrap_or_default(),
                        o.size().unwrap_or(0).to_string(),
                        o.key().unwrap_or_default().to_owned(),
                    ]);
                }
            }
            out.message(&crate::output::table_text(
                &["MODIFIED", "BYTES", "KEY"],
                rows,
            ));
            Ok(())
        }
        S3Cmd::Cp { from, to, options } => {
            let (from, to) = (Location::parse(from)?, Location::parse(to)?);
            let s3 = s3_client(c).await?;
            if options.recursive {
                tree::copy_tree(&s3, out, &from, &to, options, false).await
            } else {
                transfer::cp(&s3, out, &from, &to, !options.no_progress).await
            }
        }
        S3Cmd::Mv { from, to, options } => {
            let (from, to) = (Location::parse(from)?, Location::parse(to)?);
            let s3 = s3_client(c).await?;
            if options.recursive {
                tree::copy_tree(&s3, out, &from, &to, options, true).await
            } else {
                transfer::mv(&s3, out, &from, &to, !options.no_progress).await
            }
        }
        S3Cmd::Sync {
            source,
            destination,
            delete,
            dryrun,
            no_progress,
        } => {
            let (from, to) = (Location::parse(source)?, Location::parse(destination)?);
            let how = tree::SyncOptions {
                delete: *delete,
                dryrun: *dryrun,
                no_progress: *no_progress,
            };
            tree::sync(&s3_client(c).await?, out, &from, &to, &how).await
        }
        S3Cmd::Website(args) => website::website(c, out, args).await,
        S3Cmd::Rm { target } => {
            let (bucket, key) = object(target)?;
            let s3 = s3_client(c).await?;
            s3.delete_object()
                .bucket(&bucket)
                .key(&key)
                .send()
                .await
                .map_err(s3_err)?;
            out.message(&format!("delete: {target}"));
            Ok(())
        }
        S3Cmd::Presign { target, expires_in } => {
            let (bucket, key) = object(target)?;
            let s3 = s3_client(c).await?;
            let config = aws_sdk_s3::presigning::PresigningConfig::expires_in(
                Duration::from_secs(*expires_in),
            )?;
            let url = s3
                .get_object()
                .bucket(&bucket)
                .key(&key)
                .presigned(config)
                .await
                .map_err(s3_err)?;
            out.message(url.uri());
            Ok(())
        }
        S3Cmd::Policy(PolicyCmd::Get { bucket }) => {
            let policy = c.get_bucket_policy(bucket).await?;
            out.message(&serde_json::to_string_pretty(&policy)?);
            Ok(())
        }
        S3Cmd::Policy(PolicyCmd::Put { bucket, file }) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let policy = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", file.display()))?;
            c.put_bucket_policy(bucket, policy).await?;
            out.message(&format!("policy of bucket {bucket} set"));
            Ok(())
        }
        S3Cmd::Policy(PolicyCmd::Delete { bucket }) => {
            c.delete_bucket_policy(bucket).await?;
            out.message(&format!("policy of bucket {bucket} deleted"));
            Ok(())
        }
        S3Cmd::Usage => out.list(&c.storage_usage().await?.items),
        S3Cmd::Info => {
            let info = c.storage_info().await?;
            out.message(&format!(
                "endpoint: {}\nregion:   {}",
                info.endpoint, info.region
            ));
            Ok(())
        }
    }
}

impl Tabular for Bucket {
    const COLUMNS: &'static [&'static str] =
        &["BUCKET", "CREATED", "OBJECTS", "BYTES", "PUBLIC READ"];

    fn row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            timestamp(&self.created_at),
            self.object_count.to_string(),
            self.size_bytes.to_string(),
            if self.public_read { "yes" } else { "no" }.to_owned(),
        ]
    }
}

impl Detail for Bucket {
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("Bucket", self.name.clone()),
            ("Account", self.account_id.clone()),
            ("Created", timestamp(&self.created_at)),
            ("Objects", self.object_count.to_string()),
            ("Bytes", self.size_bytes.to_string()),
            ("Public read", self.public_read.to_string()),
            (
                "Website",
                self.website_url.clone().unwrap_or_else(|| "-".to_owned()),
            ),
        ]
    }
}

impl Tabular for BucketUsage {
    const COLUMNS: &'static [&'static str] = &[
        "BUCKET",
        "BYTES",
        "OBJECTS",
        "PUT/COPY/POST/LIST",
        "GET/HEAD",
        "BYTES OUT",
    ];

    fn row(&self) -> Vec<String> {
        vec![
            self.bucket.clone(),
            self.size_bytes.to_string(),
            self.object_count.to_string(),
            self.requests_tier1.to_string(),
            self.requests_tier2.to_string(),
            self.bytes_out.to_string(),
        ]
    }
}
