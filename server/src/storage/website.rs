//! Static website settings of a bucket: its index and error documents, kept on the bucket's row.
//! The management API (`/v1/s3/buckets/{bucket}/website`) and the S3 protocol
//! (Put/Get/DeleteBucketWebsite) set and read them through the rules here; `website_endpoint`
//! serves the sites.

use nuvem_api::s3 as api;

use super::Storage;
use super::buckets::BucketError;
use crate::error::Result;
use crate::iam::Principal;
use crate::store::storage::BucketRow;

/// Where the website listener is: sites are `http://<bucket>.s3-website.<domain>:<port>/`.
#[derive(Debug, Clone)]
pub(super) struct WebsiteBase {
    pub domain: String,
    pub port: u16,
}

/// The bucket's website settings, `None` when it has none.
pub(super) fn website_of(row: &BucketRow) -> Option<api::BucketWebsite> {
    row.website_index.as_ref().map(|index| api::BucketWebsite {
        index_document: index.clone(),
        error_document: row.website_error.clone(),
    })
}

impl Storage {
    /// The URL of the bucket's site, when it has website settings and the listener is up.
    pub(super) fn website_url(&self, row: &BucketRow) -> Option<String> {
        row.website_index.as_ref()?;
        let base = self.website_base.get()?;
        Some(format!(
            "http://{}.s3-website.{}:{}/",
            row.name, base.domain, base.port
        ))
    }

    /// Validates and stores (`Some`) or removes (`None`) the bucket's website settings (the
    /// caller is authorized).
    pub(super) async fn bucket_website_store(
        &self,
        row: &BucketRow,
        website: Option<&api::BucketWebsite>,
    ) -> std::result::Result<(), BucketError> {
        if let Some(w) = website {
            w.check().map_err(BucketError::InvalidWebsite)?;
        }
        let columns = website.map(|w| (w.index_document.clone(), w.error_document.clone()));
        self.store.bucket_set_website(&row.name, columns).await?;
        Ok(())
    }

    /// The bucket's website settings (`NotFound` when it has none).
    pub async fn bucket_website_get(
        &self,
        p: &Principal,
        name: &str,
    ) -> Result<api::BucketWebsite> {
        let row = self
            .authorized_bucket(p, name, "s3:GetBucketWebsite")
            .await?;
        Ok(website_of(&row).ok_or(BucketError::NoSuchWebsite(row.name))?)
    }

    /// Turns the bucket's website on, or changes its documents.
    pub async fn bucket_website_put(
        &self,
        p: &Principal,
        name: &str,
        website: api::BucketWebsite,
    ) -> Result<api::BucketWebsite> {
        let row = self
            .authorized_bucket(p, name, "s3:PutBucketWebsite")
            .await?;
        self.bucket_website_store(&row, Some(&website)).await?;
        Ok(website)
    }

    /// Turns the bucket's website off (its objects stay).
    pub async fn bucket_website_delete(&self, p: &Principal, name: &str) -> Result<()> {
        let row = self
            .authorized_bucket(p, name, "s3:DeleteBucketWebsite")
            .await?;
        Ok(self.bucket_website_store(&row, None).await?)
    }
}
