//! Images: the built ones, imports from the operator's import directory, deletion.

use std::path::{Path, PathBuf};

use chrono::Utc;
use nuvem_api::ec2 as api;
use nuvem_api::nrn::nrn;
use nuvem_api::validate;

use super::{Compute, new_id};
use crate::error::{Error, Result};
use crate::iam::Principal;
use crate::store::compute::ImageRow;

impl Compute {
    // ----------------------------------------------------------------------------------------
    // Images, instance types, key pairs

    pub(super) fn image_view(i: &ImageRow) -> api::Image {
        api::Image {
            id: i.id.clone(),
            name: i.name.clone(),
            nrn: nrn(
                "ec2",
                i.owner_account_id.as_deref().unwrap_or(""),
                "image",
                &i.id,
            ),
            format: i.format.get(),
            architecture: i.architecture.clone(),
            min_disk_mib: i.min_disk_mib as u64,
            description: i.description.clone(),
            public: i.public,
            owner_account_id: i.owner_account_id.clone(),
            created_at: i.created_at,
        }
    }

    pub(super) fn visible(p: &Principal, i: &ImageRow) -> bool {
        i.public || i.owner_account_id.as_deref() == Some(p.account.id.as_str())
    }

    pub async fn image_list(&self, p: &Principal) -> Result<api::ImageList> {
        self.iam
            .authorize(p, "ec2:DescribeImages", &Self::res(p, "image", "*"))
            .await?;
        let items = self
            .store
            .image_list()
            .await?
            .iter()
            .filter(|i| Self::visible(p, i))
            .map(Self::image_view)
            .collect();
        Ok(api::ImageList { items })
    }

    pub(super) async fn image_lookup(&self, p: &Principal, id: &str) -> Result<ImageRow> {
        self.store
            .image_get(id)
            .await?
            .filter(|i| Self::visible(p, i))
            .ok_or_else(|| Error::not_found("image", id))
    }

    pub async fn image_get(&self, p: &Principal, id: &str) -> Result<api::Image> {
        self.iam
            .authorize(p, "ec2:DescribeImages", &Self::res(p, "image", id))
            .await?;
        Ok(Self::image_view(&self.image_lookup(p, id).await?))
    }

    /// `src` (absolute, or relative to the import directory) if it is a file inside the import
    /// directory once symlinks and `..` are resolved; the resolved path.
    pub(super) fn import_source(&self, what: &str, src: &str) -> Result<PathBuf> {
        let root = &self.cfg.image_import_dir;
        let outside = || {
            Error::invalid(format!(
                "{what} must be a file in the image import directory {} (copy it there first; \
                 paths leaving it, also through symlinks or '..', are refused)",
                root.display()
            ))
        };
        let canonical_root = std::fs::canonicalize(root).map_err(|_| outside())?;
        let path = canonical_root.join(src);
        let canonical = std::fs::canonicalize(&path).map_err(|_| {
            if Path::new(src).is_absolute() && !Path::new(src).starts_with(root) {
                outside()
            } else {
                Error::invalid(format!(
                    "{what} {src} does not exist in the image import directory {}",
                    root.display()
                ))
            }
        })?;
        if !canonical.starts_with(&canonical_root) {
            return Err(outside());
        }
        if !canonical.is_file() {
            return Err(Error::invalid(format!("{what} {src} is not a file")));
        }
        Ok(canonical)
    }

    /// Registers an image from files in the import directory (operator only); the files are
    /// copied.
    pub async fn image_import(
        &self,
        p: &Principal,
        req: api::ImportImageRequest,
    ) -> Result<api::Image> {
        self.iam.require_operator(p, "ec2:ImportImage")?;
        self.iam
            .authorize(p, "ec2:ImportImage", &Self::res(p, "image", "*"))
            .await?;
        validate::label("image name", &req.name).map_err(Error::InvalidRequest)?;
        let public = req.public.unwrap_or(req.account.is_none());
        let owner = match (&req.account, public) {
            (Some(name), false) => Some(
                self.store
                    .account_get_by_name(name)
                    .await?
                    .ok_or_else(|| Error::invalid(format!("account '{name}' does not exist")))?
                    .id,
            ),
            (None, false) => return Err(Error::invalid("a private image needs an account")),
            (Some(_), true) => {
                return Err(Error::invalid(
                    "an image is public or belongs to an account, not both",
                ));
            }
            (None, true) => None,
        };
        let id = new_id("ami");
        let dir = self.data_dir.join("images").join(&id);
        let group = self.hv.guest_group();
        let copy = |src: &Option<String>, what: &str, dest: &str| -> Result<Option<String>> {
            let src = src
                .as_ref()
                .ok_or_else(|| Error::invalid(format!("{what} is required for this format")))?;
            let from = self.import_source(what, src)?;
            self.guest_dir(&dir)?;
            let to = dir.join(dest);
            std::fs::copy(&from, &to).map_err(Error::internal)?;
            // Readable by the guests' QEMU group (the image is read-only to guests), no one else.
            crate::drivers::file_mode(&to, if group.is_some() { 0o640 } else { 0o600 }, group)
                .map_err(Error::internal)?;
            Ok(Some(to.display().to_string()))
        };
        let (kernel, initrd, disk) = match req.format {
            api::ImageFormat::KernelInitrd => (
                copy(&req.kernel_path, "kernel_path", "vmlinuz")?,
                copy(&req.initrd_path, "initrd_path", "initrd.img")?,
                None,
            ),
            api::ImageFormat::Qcow2 => {
                (None, None, copy(&req.disk_path, "disk_path", "disk.qcow2")?)
            }
        };
        let row = self
            .store
            .image_create(ImageRow {
                id,
                name: req.name,
                owner_account_id: owner,
                public,
                format: req.format.into(),
                architecture: "x86_64".into(),
                kernel_path: kernel,
                initrd_path: initrd,
                cmdline: req.cmdline.unwrap_or_default(),
                disk_path: disk,
                min_disk_mib: 64,
                description: req.description.unwrap_or_default(),
                created_at: Utc::now(),
            })
            .await?;
        Ok(Self::image_view(&row))
    }

    pub async fn image_delete(&self, p: &Principal, id: &str) -> Result<()> {
        self.iam.require_operator(p, "ec2:DeregisterImage")?;
        self.iam
            .authorize(p, "ec2:DeregisterImage", &Self::res(p, "image", id))
            .await?;
        let img = self
            .store
            .image_get(id)
            .await?
            .ok_or_else(|| Error::not_found("image", id))?;
        let n = self.store.instance_count_using_image(&img.id).await?;
        if n > 0 {
            return Err(Error::DependencyViolation(format!(
                "image {id} is used by {n} instance(s)"
            )));
        }
        self.store.image_delete(&img.id).await
    }
}
