//! `cloudctl image`: the images you can launch; import and delete (operator).

use clap::Subcommand;
use nuvem_api::ec2::{Image, ImageFormat, ImportImageRequest};
use nuvem_sdk::Client;

use super::resolve_image;
use crate::output::{Out, Tabular};

#[derive(Subcommand)]
pub enum ImageCmd {
    /// List the images you can launch (public ones and your account's).
    List,
    /// Show one image.
    Describe {
        /// The image id (ami-…) or name.
        id: String,
    },
    /// Register an image from files in the server's import directory (operator). Copy the files
    /// to that directory first (`--image-import-dir`, default /var/lib/nuvem/import); paths
    /// elsewhere are refused.
    Import {
        /// The image's name (what `instance launch --image` takes).
        #[arg(long)]
        name: String,
        /// The kernel: a path inside the import directory, or a name relative to it.
        #[arg(long)]
        kernel: Option<String>,
        /// The initrd: a path inside the import directory, or a name relative to it.
        #[arg(long)]
        initrd: Option<String>,
        /// A qcow2 disk instead of kernel + initrd (inside the import directory).
        #[arg(long, conflicts_with_all = ["kernel", "initrd"])]
        disk: Option<String>,
        /// The kernel command line (kernel + initrd images).
        #[arg(long)]
        cmdline: Option<String>,
        /// A description shown in `image list`.
        #[arg(long)]
        description: Option<String>,
        /// Make it private to this account instead of public.
        #[arg(long)]
        account: Option<String>,
    },
    /// Deregister an image (operator).
    Delete {
        /// The image id (ami-…).
        id: String,
    },
}

pub async fn image(c: &Client, out: &Out, cmd: &ImageCmd) -> anyhow::Result<()> {
    match cmd {
        ImageCmd::List => out.list(&c.list_images().await?.items),
        ImageCmd::Describe { id } => out.list(&[c.get_image(&resolve_image(c, id).await?).await?]),
        ImageCmd::Import {
            name,
            kernel,
            initrd,
            disk,
            cmdline,
            description,
            account,
        } => {
            let abs = |p: &Option<String>| {
                p.as_ref().map(|p| {
                    std::fs::canonicalize(p)
                        .map(|a| a.display().to_string())
                        .unwrap_or_else(|_| p.clone())
                })
            };
            let req = ImportImageRequest {
                name: name.clone(),
                format: if disk.is_some() {
                    ImageFormat::Qcow2
                } else {
                    ImageFormat::KernelInitrd
                },
                kernel_path: abs(kernel),
                initrd_path: abs(initrd),
                cmdline: cmdline.clone(),
                disk_path: abs(disk),
                description: description.clone(),
                public: Some(account.is_none()),
                account: account.clone(),
            };
            out.list(&[c.import_image(&req).await?])
        }
        ImageCmd::Delete { id } => {
            c.delete_image(id).await?;
            out.message(&format!("Deregistered image {id}."));
            Ok(())
        }
    }
}

impl Tabular for Image {
    const COLUMNS: &'static [&'static str] = &["ID", "NAME", "FORMAT", "VISIBILITY", "DESCRIPTION"];

    fn row(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.name.clone(),
            format!("{:?}", self.format).to_lowercase(),
            if self.public {
                "public".into()
            } else {
                self.owner_account_id.clone().unwrap_or_default()
            },
            self.description.clone(),
        ]
    }
}
