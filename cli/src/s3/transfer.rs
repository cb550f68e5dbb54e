//! One file up or down, or one object to another: streamed (a file is read and written in
//! chunks, never held whole), multipart above 8 MiB so a failed part is retried alone and no
//! single PUT limit applies, and a progress bar on the terminal for large files.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, bail};
use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use tokio::io::AsyncWriteExt;

use super::{Location, s3_err};
use crate::output::Out;

/// Files at least this large go up in parts, and get a progress bar.
const MULTIPART_THRESHOLD: u64 = 8 * 1024 * 1024;
const PART_SIZE: u64 = 8 * 1024 * 1024;
/// S3 allows at most this many parts in an upload.
const MAX_PARTS: u64 = 10_000;

/// A progress bar on standard error, drawn only on a terminal and only for large transfers.
pub(super) struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    pub(super) fn new(total: u64, label: &str, wanted: bool) -> Progress {
        if !wanted || total < MULTIPART_THRESHOLD {
            return Progress(None);
        }
        // `stderr()` hides the bar when standard error is not a terminal (a pipe, a log).
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(total),
            indicatif::ProgressDrawTarget::stderr(),
        );
        let style = indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message(label.to_owned());
        Progress(Some(bar))
    }

    fn inc(&self, bytes: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(bytes);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// Parts of 8 MiB, larger when the file would need more than S3's 10,000 parts.
fn part_size(size: u64) -> u64 {
    PART_SIZE.max(size.div_ceil(MAX_PARTS))
}

/// The object's Content-Type, guessed from the file name as the `aws` CLI does (websites need
/// `text/html` for their pages to render).
fn content_type(path: &Path) -> Option<String> {
    mime_guess::from_path(path).first_raw().map(str::to_owned)
}

/// Uploads a file to `bucket`/`key`, streamed.
pub(super) async fn upload(
    s3: &aws_sdk_s3::Client,
    path: &Path,
    bucket: &str,
    key: &str,
    progress: bool,
) -> anyhow::Result<()> {
    let size = tokio::fs::metadata(path)
        .await
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if size < MULTIPART_THRESHOLD {
        let body = ByteStream::from_path(path)
            .await
            .with_context(|| format!("cannot read {}", path.display()))?;
        s3.put_object()
            .bucket(bucket)
            .key(key)
            .set_content_type(content_type(path))
            .body(body)
            .send()
            .await
            .map_err(s3_err)?;
        return Ok(());
    }
    let bar = Progress::new(size, &path.display().to_string(), progress);
    let made = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .set_content_type(content_type(path))
        .send()
        .await
        .map_err(s3_err)?;
    let id = made
        .upload_id()
        .context("the endpoint gave no upload id")?
        .to_owned();
    let sent = upload_parts(s3, path, bucket, key, &id, size, &bar).await;
    bar.finish();
    if let Err(e) = sent {
        // An aborted upload leaves no parts behind (nor their storage bill).
        let _ = s3
            .abort_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(&id)
            .send()
            .await;
        return Err(e);
    }
    Ok(())
}

async fn upload_parts(
    s3: &aws_sdk_s3::Client,
    path: &Path,
    bucket: &str,
    key: &str,
    id: &str,
    size: u64,
    bar: &Progress,
) -> anyhow::Result<()> {
    let step = part_size(size);
    let mut parts = Vec::new();
    let (mut offset, mut number) = (0u64, 1i32);
    while offset < size {
        let length = step.min(size - offset);
        // Each part streams from its slice of the file.
        let body = ByteStream::read_from()
            .path(path)
            .offset(offset)
            .length(Length::Exact(length))
            .build()
            .await
            .with_context(|| format!("cannot read {}", path.display()))?;
        let part = s3
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(id)
            .part_number(number)
            .body(body)
            .send()
            .await
            .map_err(s3_err)?;
        parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(part.e_tag().map(str::to_owned))
                .build(),
        );
        bar.inc(length);
        offset += length;
        number += 1;
    }
    s3.complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .map_err(s3_err)?;
    Ok(())
}

/// Downloads `bucket`/`key` to `path` (its folders made as needed), streamed into a temporary
/// file renamed at the end, so a failed download leaves no half file. The file gets the
/// object's modification time, as the `aws` CLI does (`sync` compares it).
pub(super) async fn download(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    path: &Path,
    progress: bool,
) -> anyhow::Result<()> {
    let got = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(s3_err)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(parent)
            .await
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let name = path
        .file_name()
        .with_context(|| format!("{}: not a file name", path.display()))?;
    let partial = path.with_file_name(format!(".{}.cloudctl-part", name.to_string_lossy()));
    let size = got.content_length().unwrap_or(0).max(0) as u64;
    let modified = got
        .last_modified()
        .and_then(|t| u64::try_from(t.secs()).ok())
        .map(|secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
    let bar = Progress::new(size, &format!("s3://{bucket}/{key}"), progress);
    let written = async {
        let mut file = tokio::fs::File::create(&partial)
            .await
            .with_context(|| format!("cannot create {}", partial.display()))?;
        let mut body = got.body;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.context("the download was cut off")?;
            file.write_all(&chunk).await?;
            bar.inc(chunk.len() as u64);
        }
        file.flush().await?;
        let file = file.into_std().await;
        if let Some(t) = modified {
            file.set_modified(t)?;
        }
        anyhow::Ok(())
    }
    .await;
    bar.finish();
    if let Err(e) = written {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(e);
    }
    tokio::fs::rename(&partial, path)
        .await
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// `s3://bucket/key` as text.
pub(super) fn s3_url(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

/// Copies one file or object as `cp` does; returns the source and destination as printed.
async fn copy_one(
    s3: &aws_sdk_s3::Client,
    from: &Location,
    to: &Location,
    progress: bool,
) -> anyhow::Result<(&'static str, String, String)> {
    Ok(match (from, to) {
        (Location::Local(path), Location::S3 { bucket, key }) => {
            let mut key = key.clone();
            if key.is_empty() || key.ends_with('/') {
                let name = path.file_name().context("the source has no file name")?;
                key.push_str(&name.to_string_lossy());
            }
            upload(s3, path, bucket, &key, progress).await?;
            ("upload", path.display().to_string(), s3_url(bucket, &key))
        }
        (Location::S3 { bucket, key }, Location::Local(path)) => {
            if key.is_empty() || key.ends_with('/') {
                bail!(
                    "{}: name an object (s3://bucket/key), or use --recursive for a prefix",
                    s3_url(bucket, key)
                );
            }
            let path = into_directory(path, key);
            download(s3, bucket, key, &path, progress).await?;
            ("download", s3_url(bucket, key), path.display().to_string())
        }
        (
            Location::S3 { bucket, key },
            Location::S3 {
                bucket: db,
                key: dk,
            },
        ) => {
            if key.is_empty() || key.ends_with('/') {
                bail!(
                    "{}: name an object (s3://bucket/key), or use --recursive for a prefix",
                    s3_url(bucket, key)
                );
            }
            let mut dk = dk.clone();
            if dk.is_empty() || dk.ends_with('/') {
                dk.push_str(key.rsplit('/').next().unwrap_or(key));
            }
            copy_object(s3, bucket, key, db, &dk).await?;
            ("copy", s3_url(bucket, key), s3_url(db, &dk))
        }
        (Location::Local(_), Location::Local(_)) => {
            bail!("one side must be s3://bucket/key (for local files, use cp itself)")
        }
    })
}

/// A destination that is a directory (existing, or written with a final `/`) receives the
/// object under its own name.
fn into_directory(path: &Path, key: &str) -> PathBuf {
    let is_dir = path.is_dir() || path.to_string_lossy().ends_with('/');
    if is_dir {
        path.join(key.rsplit('/').next().unwrap_or(key))
    } else {
        path.to_owned()
    }
}

/// A server-side copy: the bytes never leave the engine.
pub(super) async fn copy_object(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    to_bucket: &str,
    to_key: &str,
) -> anyhow::Result<()> {
    s3.copy_object()
        .bucket(to_bucket)
        .key(to_key)
        .copy_source(format!("{bucket}/{key}"))
        .send()
        .await
        .map_err(s3_err)?;
    Ok(())
}

/// `cp` of one file or object.
pub(super) async fn cp(
    s3: &aws_sdk_s3::Client,
    out: &Out,
    from: &Location,
    to: &Location,
    progress: bool,
) -> anyhow::Result<()> {
    let (verb, source, destination) = copy_one(s3, from, to, progress).await?;
    out.message(&format!("{verb}: {source} to {destination}"));
    Ok(())
}

/// `mv` of one file or object: copied, then the source deleted once the copy is complete.
pub(super) async fn mv(
    s3: &aws_sdk_s3::Client,
    out: &Out,
    from: &Location,
    to: &Location,
    progress: bool,
) -> anyhow::Result<()> {
    let (_, source, destination) = copy_one(s3, from, to, progress).await?;
    match from {
        Location::Local(path) => tokio::fs::remove_file(path)
            .await
            .with_context(|| format!("copied, but cannot remove {}", path.display()))?,
        Location::S3 { bucket, key } => {
            s3.delete_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .map_err(s3_err)?;
        }
    }
    out.message(&format!("move: {source} to {destination}"));
    Ok(())
}
