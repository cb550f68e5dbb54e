//! `cloudctl app image build|list|describe|delete`: container images (`cloudctl image` is for
//! VM images). A build sends the directory as a tarball and prints the builder's log as it runs.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use nuvem_api::apps::{BuildEvent, ContainerImage, ImageLayer, MAX_BUILD_CONTEXT_BYTES};
use nuvem_sdk::Client;

use crate::output::{Detail, Out, Tabular, timestamp};

#[derive(Subcommand)]
pub enum ImageCmd {
    /// Build an image from a directory holding a Dockerfile (FROM nuvem/debian:12 or
    /// nuvem/busybox:latest); the build log is printed as it runs.
    Build {
        /// The directory (the build context).
        dir: PathBuf,
        /// The image's name.
        #[arg(long)]
        name: String,
        /// The image's tag.
        #[arg(long, default_value = "latest")]
        tag: String,
    },
    /// Your images and the shared bases, with size and number of layers.
    List,
    /// One image (name:tag) with its layers, as `docker history` shows them.
    Describe {
        /// The image as name:tag.
        reference: String,
    },
    /// Delete an image (refused while an app uses it).
    Delete {
        /// The image as name:tag.
        reference: String,
    },
}

pub async fn image(c: &Client, out: &Out, cmd: &ImageCmd) -> anyhow::Result<()> {
    match cmd {
        ImageCmd::Build { dir, name, tag } => {
            let context = context_tar(dir)?;
            let image = c
                .build_container_image(name, Some(tag), context, |event| {
                    if let BuildEvent::Log { line } = event {
                        eprintln!("{line}");
                    }
                })
                .await?;
            out.detail(&image)
        }
        ImageCmd::List => out.list(&c.list_container_images().await?.items),
        ImageCmd::Describe { reference } => {
            let image = c.get_container_image(reference).await?;
            out.detail(&image)?;
            if !out.is_json() {
                out.list(&image.layers)?;
            }
            Ok(())
        }
        ImageCmd::Delete { reference } => {
            c.delete_container_image(reference).await?;
            out.message(&format!("deleted image {reference}"));
            Ok(())
        }
    }
}

/// The directory as a tarball, its Dockerfile at the top, refused early when it is larger
/// than the server accepts.
fn context_tar(dir: &Path) -> anyhow::Result<Vec<u8>> {
    if !dir.join("Dockerfile").is_file() {
        bail!("{} has no Dockerfile", dir.display());
    }
    let mut tar = tar::Builder::new(Vec::new());
    tar.follow_symlinks(false);
    tar.append_dir_all(".", dir)
        .with_context(|| format!("packing {}", dir.display()))?;
    let bytes = tar.into_inner().context("packing the build context")?;
    if bytes.len() > MAX_BUILD_CONTEXT_BYTES {
        bail!(
            "{} packs into {} bytes; a build context may be at most {MAX_BUILD_CONTEXT_BYTES}",
            dir.display(),
            bytes.len()
        );
    }
    Ok(bytes)
}

impl Tabular for ContainerImage {
    const COLUMNS: &'static [&'static str] = &["IMAGE", "SIZE", "LAYERS", "BASE", "CREATED"];

    fn row(&self) -> Vec<String> {
        vec![
            self.reference.clone(),
            size(self.size_bytes),
            self.layers.len().to_string(),
            if self.base { "yes" } else { "" }.into(),
            timestamp(&self.created_at),
        ]
    }
}

impl Detail for ContainerImage {
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("image", self.reference.clone()),
            ("size", size(self.size_bytes)),
            ("layers", self.layers.len().to_string()),
            (
                "owner",
                if self.base {
                    "shared base".into()
                } else {
                    self.account_id.clone()
                },
            ),
            ("created", timestamp(&self.created_at)),
        ]
    }
}

impl Tabular for ImageLayer {
    const COLUMNS: &'static [&'static str] = &["CREATED BY", "SIZE"];

    fn row(&self) -> Vec<String> {
        vec![self.created_by.clone(), size(self.size_bytes)]
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}
