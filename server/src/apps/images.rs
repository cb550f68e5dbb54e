//! Container images: built from a Dockerfile and a context (a tarball) on Nuvem's offline bases
//! with the engine's build API, owned by one account, listed with their layers.

use std::collections::BTreeMap;

use chrono::Utc;
use nuvem_api::apps::{self as api, BuildEvent};
use tokio::sync::mpsc;

use super::{Apps, OWNER, host, view};
use crate::drivers::containers::OWNER_LABEL;
use crate::error::{Error, Result};
use crate::iam::Principal;
use crate::store::apps::AppImageRow;

/// `name:tag` → (name, tag), the tag defaulting to `latest`.
pub fn split_reference(reference: &str) -> (&str, &str) {
    reference.split_once(':').unwrap_or((reference, "latest"))
}

/// The files of a tar archive, by name (`./` stripped), with their sizes; `Err` when the bytes
/// are not a tar archive.
fn tar_files(bytes: &[u8]) -> std::result::Result<Vec<(String, usize, usize)>, String> {
    let mut files = Vec::new();
    let mut at = 0;
    while at + 512 <= bytes.len() {
        let header = &bytes[at..at + 512];
        if header.iter().all(|b| *b == 0) {
            return Ok(files);
        }
        if &header[257..262] != b"ustar" {
            return Err("the build context is not a tar archive (make one with: tar -c -f ctx.tar -C DIR .)".into());
        }
        let name_end = header[..100].iter().position(|b| *b == 0).unwrap_or(100);
        let name = String::from_utf8_lossy(&header[..name_end]);
        let size_text = String::from_utf8_lossy(&header[124..136]);
        let size =
            usize::from_str_radix(size_text.trim_matches(|c: char| c == '\0' || c == ' '), 8)
                .map_err(|_| "the build context's tar headers are damaged".to_owned())?;
        let body = at + 512;
        files.push((name.trim_start_matches("./").to_owned(), body, size));
        at = body + size.div_ceil(512) * 512;
    }
    if files.is_empty() {
        Err("the build context is empty or not a tar archive".into())
    } else {
        Ok(files)
    }
}

/// The images a Dockerfile builds on (`FROM x [AS y]`), stage names excluded.
fn bases_of(dockerfile: &str) -> Vec<String> {
    let mut stages = Vec::new();
    let mut bases = Vec::new();
    for line in dockerfile.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words
            .first()
            .is_some_and(|w| w.eq_ignore_ascii_case("FROM"))
        {
            let image = words
                .iter()
                .skip(1)
                .find(|w| !w.starts_with("--"))
                .map(|w| (*w).to_owned())
                .unwrap_or_default();
            if !stages.contains(&image) {
                bases.push(image);
            }
            if let Some(i) = words.iter().position(|w| w.eq_ignore_ascii_case("AS")) {
                stages.extend(words.get(i + 1).map(|s| (*s).to_owned()));
            }
        }
    }
    bases
}

impl Apps {
    /// The engine's name of an image an app names: a base as it is, an account's image by its
    /// row. `InvalidRequest` when the account has no such image.
    pub(super) async fn image_resolve(&self, account_id: &str, reference: &str) -> Result<String> {
        if api::BASE_IMAGES.contains(&reference) {
            return Ok(reference.to_owned());
        }
        let (name, tag) = split_reference(reference);
        self.store
            .app_image_get(account_id, name, tag)
            .await?
            .map(|r| r.engine_ref)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown image '{reference}': build it first (cloudctl app image build), or use a base: {}",
                    api::BASE_IMAGES.join(", ")
                ))
            })
    }

    /// Builds `name:tag` from `context`, sending the builder's output and then the outcome to
    /// `events`. Returns the image, or the error that was also sent.
    pub async fn image_build(
        &self,
        p: &Principal,
        params: api::BuildImageParams,
        context: Vec<u8>,
        events: mpsc::Sender<BuildEvent>,
    ) -> Result<api::ContainerImage> {
        let outcome = self.image_build_inner(p, params, context, &events).await;
        let last = match &outcome {
            Ok(image) => BuildEvent::Done {
                image: image.clone(),
            },
            Err(e) => BuildEvent::Failed {
                code: format!("{:?}", e.code()),
                message: e.to_string(),
            },
        };
        let _ = events.send(last).await;
        outcome
    }

    /// Everything about a build that can be refused before it starts: names, rights, the
    /// context (a tarball with a Dockerfile, not too large), the bases. Returns the tag.
    pub async fn image_build_check(
        &self,
        p: &Principal,
        params: &api::BuildImageParams,
        context: &[u8],
    ) -> Result<String> {
        let tag = params.tag.clone().unwrap_or_else(|| "latest".into());
        api::check_name("image", &params.name).map_err(Error::InvalidRequest)?;
        api::check_tag(&tag).map_err(Error::InvalidRequest)?;
        self.iam
            .authorize(p, "apps:BuildImage", &Self::res(p, "image", &params.name))
            .await?;
        if context.len() > api::MAX_BUILD_CONTEXT_BYTES {
            return Err(Error::PayloadTooLarge(format!(
                "the build context is {} bytes; at most {} are accepted",
                context.len(),
                api::MAX_BUILD_CONTEXT_BYTES
            )));
        }
        let files = tar_files(context).map_err(Error::InvalidRequest)?;
        let (_, at, size) = files
            .iter()
            .find(|(n, _, _)| n == "Dockerfile")
            .ok_or_else(|| Error::invalid("the build context has no Dockerfile at its top"))?;
        let end = (*at + *size).min(context.len());
        let dockerfile = String::from_utf8_lossy(&context[*at..end]).into_owned();
        // Only the shared bases: an engine name would reach another account's images.
        for base in bases_of(&dockerfile) {
            if !api::BASE_IMAGES.contains(&base.as_str()) {
                return Err(Error::invalid(format!(
                    "the Dockerfile builds FROM '{base}'; images build on a base: {}",
                    api::BASE_IMAGES.join(", ")
                )));
            }
        }
        Ok(tag)
    }

    async fn image_build_inner(
        &self,
        p: &Principal,
        params: api::BuildImageParams,
        context: Vec<u8>,
        events: &mpsc::Sender<BuildEvent>,
    ) -> Result<api::ContainerImage> {
        let tag = self.image_build_check(p, &params, &context).await?;
        let engine_ref = format!("nuvem-{}/{}:{tag}", p.account.id, params.name);
        let labels = BTreeMap::from([
            (OWNER_LABEL.to_owned(), OWNER.to_owned()),
            ("nuvem.account".to_owned(), p.account.id.clone()),
        ]);
        let (log_tx, mut log_rx) = mpsc::channel::<String>(64);
        let forward = {
            let events = events.clone();
            tokio::spawn(async move {
                while let Some(line) = log_rx.recv().await {
                    let _ = events.send(BuildEvent::Log { line }).await;
                }
            })
        };
        let built = self
            .engine
            .image_build(&engine_ref, &labels, context, log_tx)
            .await;
        let _ = forward.await;
        built.map_err(|e| Error::invalid(format!("{e}")))?;
        let info = self
            .engine
            .image_inspect(&engine_ref)
            .await
            .map_err(host)?
            .ok_or_else(|| Error::internal("the engine built the image but does not know it"))?;
        if let Some(old) = self
            .store
            .app_image_get(&p.account.id, &params.name, &tag)
            .await?
        {
            // Tags are mutable, as in a registry: the new build takes the name.
            self.store.app_image_delete(&old.id).await?;
        }
        let row = self
            .store
            .app_image_create(AppImageRow {
                id: super::replicas::new_id("img"),
                account_id: p.account.id.clone(),
                name: params.name.clone(),
                tag: tag.clone(),
                engine_ref,
                size_bytes: info.size_bytes as i64,
                created_at: Utc::now(),
            })
            .await?;
        Ok(view::image(&row, &info))
    }

    pub async fn image_list(&self, p: &Principal) -> Result<api::ContainerImageList> {
        self.iam
            .authorize(p, "apps:DescribeImages", &Self::res(p, "image", "*"))
            .await?;
        let mut items = Vec::new();
        for base in api::BASE_IMAGES {
            if let Some(info) = self.engine.image_inspect(base).await.map_err(host)? {
                items.push(view::base_image(base, &info));
            }
        }
        for row in self.store.app_image_list(&p.account.id).await? {
            if let Some(info) = self
                .engine
                .image_inspect(&row.engine_ref)
                .await
                .map_err(host)?
            {
                items.push(view::image(&row, &info));
            }
        }
        Ok(api::ContainerImageList { items })
    }

    pub async fn image_get(&self, p: &Principal, reference: &str) -> Result<api::ContainerImage> {
        let (name, tag) = split_reference(reference);
        self.iam
            .authorize(p, "apps:DescribeImages", &Self::res(p, "image", name))
            .await?;
        if api::BASE_IMAGES.contains(&reference) {
            let info = self
                .engine
                .image_inspect(reference)
                .await
                .map_err(host)?
                .ok_or_else(|| Error::not_found("image", reference))?;
            return Ok(view::base_image(reference, &info));
        }
        let row = self
            .store
            .app_image_get(&p.account.id, name, tag)
            .await?
            .ok_or_else(|| Error::not_found("image", reference))?;
        let info = self
            .engine
            .image_inspect(&row.engine_ref)
            .await
            .map_err(host)?
            .ok_or_else(|| Error::not_found("image", reference))?;
        Ok(view::image(&row, &info))
    }

    /// Deletes an image; refused while an app of the account runs it.
    pub async fn image_delete(&self, p: &Principal, reference: &str) -> Result<()> {
        let (name, tag) = split_reference(reference);
        self.iam
            .authorize(p, "apps:DeleteImage", &Self::res(p, "image", name))
            .await?;
        if api::BASE_IMAGES.contains(&reference) {
            return Err(Error::AccessDenied(format!(
                "{reference} is a shared base image; it cannot be deleted through the API"
            )));
        }
        let row = self
            .store
            .app_image_get(&p.account.id, name, tag)
            .await?
            .ok_or_else(|| Error::not_found("image", reference))?;
        let reference = format!("{name}:{tag}");
        for app in self.store.app_list(&p.account.id).await? {
            let spec = view::spec_of(&app)?;
            if spec.image == reference {
                return Err(Error::DependencyViolation(format!(
                    "image {reference} is used by app '{}'; delete the app or deploy another image first",
                    app.name
                )));
            }
        }
        self.engine
            .image_remove(&row.engine_ref)
            .await
            .map_err(host)?;
        self.store.app_image_delete(&row.id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_skip_stage_names_and_flags() {
        let df = "FROM --platform=linux/amd64 nuvem/debian:12 AS build\nRUN true\nFROM build\nfrom nuvem/busybox:latest\n";
        assert_eq!(
            bases_of(df),
            vec![
                "nuvem/debian:12".to_owned(),
                "nuvem/busybox:latest".to_owned()
            ]
        );
    }

    #[test]
    fn a_context_must_be_a_tarball() {
        assert!(tar_files(b"not a tar at all, just some text that is long enough").is_err());
        assert!(tar_files(&[]).is_err());
    }
}
