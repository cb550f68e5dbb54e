//! Directories and prefixes: `cp --recursive`, `mv --recursive` and `sync`. A local directory
//! and the objects under a prefix are both read as a listing (relative path → size and
//! modification time); a sync copies what is new, differs in size or is newer at the source —
//! `aws s3 sync`'s rule — and with `--delete` removes what the source no longer has.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use anyhow::{Context, bail};
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use super::transfer::{copy_object, download, s3_url, upload};
use super::{CopyOptions, Location, s3_err};
use crate::output::Out;

/// How a sync goes.
pub struct SyncOptions {
    pub delete: bool,
    pub dryrun: bool,
    pub no_progress: bool,
}

/// A file's or an object's size and modification time, in whole seconds (S3 keeps no finer:
/// comparing finer would copy again a file uploaded in the same second it was written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    size: u64,
    modified: i64,
}

/// Relative paths (`/`-separated, as keys are) → entries.
type Listing = BTreeMap<String, Entry>;

/// What a sync copies and deletes, by relative path.
#[derive(Debug, Default, PartialEq, Eq)]
struct Plan {
    copy: Vec<String>,
    delete: Vec<String>,
}

/// The sync rule: copy what the destination lacks, what differs in size, and what is newer at
/// the source; delete (when asked) what only the destination has.
fn plan(source: &Listing, destination: &Listing, delete: bool) -> Plan {
    let copy = source
        .iter()
        .filter(|(path, src)| {
            destination
                .get(*path)
                .is_none_or(|dst| dst.size != src.size || src.modified > dst.modified)
        })
        .map(|(path, _)| path.clone())
        .collect();
    let delete = if delete {
        destination
            .keys()
            .filter(|p| !source.contains_key(*p))
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    Plan { copy, delete }
}

/// A key prefix that names a folder: empty, or ending in `/`.
fn folder(prefix: &str) -> String {
    if prefix.is_empty() || prefix.ends_with('/') {
        prefix.to_owned()
    } else {
        format!("{prefix}/")
    }
}

/// The files under `dir`, recursively (a missing directory lists nothing). Symbolic links to
/// files are followed; links to directories are not, so a loop cannot run forever.
fn local_listing(dir: &Path) -> anyhow::Result<Listing> {
    let mut listing = Listing::new();
    if !dir.exists() {
        return Ok(listing);
    }
    if !dir.is_dir() {
        bail!("{}: not a directory", dir.display());
    }
    let mut pending = vec![(dir.to_owned(), String::new())];
    while let Some((at, rel)) = pending.pop() {
        let entries =
            std::fs::read_dir(&at).with_context(|| format!("cannot read {}", at.display()))?;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                bail!(
                    "{}: the name is not UTF-8, so it cannot be an object key",
                    entry.path().display()
                );
            };
            // Downloads in progress are not part of the tree.
            if name.ends_with(".cloudctl-part") {
                continue;
            }
            let path = format!("{rel}{name}");
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push((entry.path(), format!("{path}/")));
                continue;
            }
            let meta = std::fs::metadata(entry.path())?;
            if !meta.is_file() {
                continue;
            }
            let modified = meta
                .modified()?
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            listing.insert(
                path,
                Entry {
                    size: meta.len(),
                    modified,
                },
            );
        }
    }
    Ok(listing)
}

/// A key below a prefix as a relative path that stays inside a local directory: keys such as
/// `../x`, `/x` or `a//b` are refused rather than written outside it.
fn safe_relative(rel: &str) -> bool {
    !rel.is_empty()
        && !rel.starts_with('/')
        && rel
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

/// The objects under `prefix` (a folder prefix), by path relative to it; folder markers
/// (keys ending in `/`) are not files.
async fn remote_listing(
    s3: &aws_sdk_s3::Client,
    out: &Out,
    bucket: &str,
    prefix: &str,
) -> anyhow::Result<Listing> {
    let mut listing = Listing::new();
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for o in page.map_err(s3_err)?.contents() {
            let key = o.key().unwrap_or_default();
            let rel = &key[prefix.len().min(key.len())..];
            if key.ends_with('/') {
                continue;
            }
            if !safe_relative(rel) {
                out.message(&format!(
                    "skip: {} (not a safe file name)",
                    s3_url(bucket, key)
                ));
                continue;
            }
            listing.insert(
                rel.to_owned(),
                Entry {
                    size: o.size().unwrap_or(0).max(0) as u64,
                    modified: o.last_modified().map(|t| t.secs()).unwrap_or(0),
                },
            );
        }
    }
    Ok(listing)
}

/// Deletes keys in batches of 1,000 (S3's limit), printing each deletion; keys the endpoint
/// refused (AccessDenied) are reported together at the end.
async fn delete_keys(
    s3: &aws_sdk_s3::Client,
    out: &Out,
    bucket: &str,
    keys: &[String],
) -> anyhow::Result<()> {
    let mut failed = Vec::new();
    for batch in keys.chunks(1000) {
        let objects = batch
            .iter()
            .map(|k| ObjectIdentifier::builder().key(k).build())
            .collect::<Result<Vec<_>, _>>()?;
        let answer = s3
            .delete_objects()
            .bucket(bucket)
            .delete(Delete::builder().set_objects(Some(objects)).build()?)
            .send()
            .await
            .map_err(s3_err)?;
        for d in answer.deleted() {
            out.message(&format!(
                "delete: {}",
                s3_url(bucket, d.key().unwrap_or_default())
            ));
        }
        for e in answer.errors() {
            failed.push(format!(
                "{}: {}: {}",
                s3_url(bucket, e.key().unwrap_or_default()),
                e.code().unwrap_or("error"),
                e.message().unwrap_or("no message")
            ));
        }
    }
    if !failed.is_empty() {
        bail!(
            "{} object(s) were not deleted:\n  {}",
            failed.len(),
            failed.join("\n  ")
        );
    }
    Ok(())
}

fn local_path(dir: &Path, rel: &str) -> PathBuf {
    rel.split('/').fold(dir.to_owned(), |p, c| p.join(c))
}

/// `sync SOURCE DESTINATION`, one side local and the other s3://bucket/prefix.
pub async fn sync(
    s3: &aws_sdk_s3::Client,
    out: &Out,
    from: &Location,
    to: &Location,
    how: &SyncOptions,
) -> anyhow::Result<()> {
    let progress = !how.no_progress;
    let dry = if how.dryrun { "(dryrun) " } else { "" };
    match (from, to) {
        (Location::Local(dir), Location::S3 { bucket, key }) => {
            if !dir.is_dir() {
                bail!("{}: not a directory", dir.display());
            }
            let prefix = folder(key);
            let source = local_listing(dir)?;
            let destination = remote_listing(s3, out, bucket, &prefix).await?;
            let plan = plan(&source, &destination, how.delete);
            for rel in &plan.copy {
                let (path, key) = (local_path(dir, rel), format!("{prefix}{rel}"));
                if !how.dryrun {
                    upload(s3, &path, bucket, &key, progress).await?;
                }
                let to = s3_url(bucket, &key);
                out.message(&format!("{dry}upload: {} to {to}", path.display()));
            }
            let keys: Vec<String> = plan.delete.iter().map(|r| format!("{prefix}{r}")).collect();
            if how.dryrun {
                for k in &keys {
                    out.message(&format!("{dry}delete: {}", s3_url(bucket, k)));
                }
                return Ok(());
            }
            delete_keys(s3, out, bucket, &keys).await
        }
        (Location::S3 { bucket, key }, Location::Local(dir)) => {
            let prefix = folder(key);
            let source = remote_listing(s3, out, bucket, &prefix).await?;
            let destination = local_listing(dir)?;
            let plan = plan(&source, &destination, how.delete);
            for rel in &plan.copy {
                let (key, path) = (format!("{prefix}{rel}"), local_path(dir, rel));
                if !how.dryrun {
                    download(s3, bucket, &key, &path, progress).await?;
                }
                let from = s3_url(bucket, &key);
                out.message(&format!("{dry}download: {from} to {}", path.display()));
            }
            for rel in &plan.delete {
                let path = local_path(dir, rel);
                if !how.dryrun {
                    std::fs::remove_file(&path)
                        .with_context(|| format!("cannot delete {}", path.display()))?;
                }
                out.message(&format!("{dry}delete: {}", path.display()));
            }
            Ok(())
        }
        _ => bail!("sync copies between a local directory and s3://bucket/prefix, either way"),
    }
}

/// `cp --recursive` (and `mv --recursive`, which deletes each source once all are copied).
pub async fn copy_tree(
    s3: &aws_sdk_s3::Client,
    out: &Out,
    from: &Location,
    to: &Location,
    options: &CopyOptions,
    remove_source: bool,
) -> anyhow::Result<()> {
    let progress = !options.no_progress;
    let verb = |plain: &'static str| if remove_source { "move" } else { plain };
    match (from, to) {
        (Location::Local(dir), Location::S3 { bucket, key }) => {
            if !dir.is_dir() {
                bail!(
                    "{}: not a directory (without --recursive, cp copies one file)",
                    dir.display()
                );
            }
            let prefix = folder(key);
            for rel in local_listing(dir)?.keys() {
                let (path, key) = (local_path(dir, rel), format!("{prefix}{rel}"));
                upload(s3, &path, bucket, &key, progress).await?;
                if remove_source {
                    std::fs::remove_file(&path)
                        .with_context(|| format!("copied, but cannot remove {}", path.display()))?;
                }
                let to = s3_url(bucket, &key);
                out.message(&format!("{}: {} to {to}", verb("upload"), path.display()));
            }
            Ok(())
        }
        (Location::S3 { bucket, key }, Location::Local(dir)) => {
            let prefix = folder(key);
            let listing = remote_listing(s3, out, bucket, &prefix).await?;
            let mut copied = Vec::new();
            for rel in listing.keys() {
                let (key, path) = (format!("{prefix}{rel}"), local_path(dir, rel));
                download(s3, bucket, &key, &path, progress).await?;
                let from = s3_url(bucket, &key);
                out.message(&format!(
                    "{}: {from} to {}",
                    verb("download"),
                    path.display()
                ));
                copied.push(key);
            }
            if remove_source {
                delete_keys(s3, out, bucket, &copied).await?;
            }
            Ok(())
        }
        (
            Location::S3 { bucket, key },
            Location::S3 {
                bucket: db,
                key: dk,
            },
        ) => {
            let (prefix, to_prefix) = (folder(key), folder(dk));
            let listing = remote_listing(s3, out, bucket, &prefix).await?;
            let mut copied = Vec::new();
            for rel in listing.keys() {
                let (key, to_key) = (format!("{prefix}{rel}"), format!("{to_prefix}{rel}"));
                copy_object(s3, bucket, &key, db, &to_key).await?;
                let (from, to) = (s3_url(bucket, &key), s3_url(db, &to_key));
                out.message(&format!("{}: {from} to {to}", verb("copy")));
                copied.push(key);
            }
            if remove_source {
                delete_keys(s3, out, bucket, &copied).await?;
            }
            Ok(())
        }
        (Location::Local(_), Location::Local(_)) => {
            bail!("one side must be s3://bucket/prefix (for local directories, use cp -r itself)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(entries: &[(&str, u64, i64)]) -> Listing {
        entries
            .iter()
            .map(|(p, size, modified)| {
                (
                    p.to_string(),
                    Entry {
                        size: *size,
                        modified: *modified,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn sync_copies_what_is_new_resized_or_newer_and_deletes_only_when_asked() {
        let source = listing(&[
            ("same.txt", 10, 100),
            ("new.txt", 1, 100),
            ("resized.txt", 20, 100),
            ("newer.txt", 10, 200),
            ("older.txt", 10, 50),
        ]);
        let destination = listing(&[
            ("same.txt", 10, 100),
            ("resized.txt", 10, 300),
            ("newer.txt", 10, 100),
            ("older.txt", 10, 100),
            ("gone.txt", 5, 100),
        ]);
        let expected_copy = ["new.txt", "newer.txt", "resized.txt"];
        assert_eq!(
            plan(&source, &destination, false),
            Plan {
                copy: expected_copy.iter().map(|s| s.to_string()).collect(),
                delete: vec![],
            }
        );
        assert_eq!(
            plan(&source, &destination, true).delete,
            vec!["gone.txt".to_owned()]
        );
        assert_eq!(plan(&source, &source, true), Plan::default());
    }

    #[test]
    fn keys_that_would_leave_the_directory_are_not_file_names() {
        for ok in ["a.txt", "docs/a.txt", "a..b/c"] {
            assert!(safe_relative(ok), "{ok}");
        }
        for bad in ["", "../x", "a/../../x", "/etc/passwd", "a//b", "./a"] {
            assert!(!safe_relative(bad), "{bad}");
        }
    }

    #[test]
    fn a_local_directory_lists_recursively_with_slashes() {
        let dir = tempfile_dir();
        std::fs::create_dir_all(dir.join("sub/deeper")).unwrap();
        std::fs::write(dir.join("a.txt"), "aa").unwrap();
        std::fs::write(dir.join("sub/deeper/b.txt"), "bbb").unwrap();
        std::fs::write(dir.join("sub/.b.txt.cloudctl-part"), "half").unwrap();
        let l = local_listing(&dir).unwrap();
        let sizes: Vec<(&str, u64)> = l.iter().map(|(p, e)| (p.as_str(), e.size)).collect();
        assert_eq!(sizes, [("a.txt", 2), ("sub/deeper/b.txt", 3)]);
        assert!(local_listing(&dir.join("missing")).unwrap().is_empty());
        assert_eq!(
            local_path(&dir, "sub/deeper/b.txt"),
            dir.join("sub").join("deeper").join("b.txt")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "cloudctl-tree-test-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn folders_end_in_a_slash() {
        assert_eq!(folder(""), "");
        assert_eq!(folder("site"), "site/");
        assert_eq!(folder("site/"), "site/");
    }
}
