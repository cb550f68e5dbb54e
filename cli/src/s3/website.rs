//! `cloudctl s3 website BUCKET`: show the bucket's static-website settings and URL, turn the
//! website on (`--index-document`, `--error-document`) or off (`--off`).

use clap::Args;
use nuvem_api::s3::BucketWebsite;
use nuvem_sdk::Client;
use serde::Serialize;

use super::split;
use crate::output::{Detail, Out};

#[derive(Args)]
pub struct WebsiteArgs {
    /// The bucket name, or s3://name.
    bucket: String,
    /// The object served for every path ending in `/` (such as index.html): turns the website
    /// on, or changes it.
    #[arg(long, conflicts_with = "off")]
    index_document: Option<String>,
    /// The object served, with status 404, for keys that do not exist (such as error.html).
    #[arg(long, requires = "index_document")]
    error_document: Option<String>,
    /// Turn the bucket's website off (its objects stay).
    #[arg(long)]
    off: bool,
}

/// A bucket's website as shown: its settings, where it is served, and whether anyone can read.
#[derive(Serialize)]
struct WebsiteView {
    bucket: String,
    #[serde(flatten)]
    website: BucketWebsite,
    url: Option<String>,
    public_read: bool,
}

impl Detail for WebsiteView {
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("Bucket", self.bucket.clone()),
            ("Index document", self.website.index_document.clone()),
            (
                "Error document",
                self.website
                    .error_document
                    .clone()
                    .unwrap_or_else(|| "- (a plain 404 page)".to_owned()),
            ),
            ("URL", self.url.clone().unwrap_or_else(|| "-".to_owned())),
            ("Public read", self.public_read.to_string()),
        ]
    }
}

pub async fn website(c: &Client, out: &Out, args: &WebsiteArgs) -> anyhow::Result<()> {
    let bucket = split(&args.bucket).0;
    if args.off {
        c.delete_bucket_website(&bucket).await?;
        out.message(&format!("website of bucket {bucket} turned off"));
        return Ok(());
    }
    let website = match &args.index_document {
        Some(index) => {
            let wanted = BucketWebsite {
                index_document: index.clone(),
                error_document: args.error_document.clone(),
            };
            c.put_bucket_website(&bucket, &wanted).await?
        }
        None => c.get_bucket_website(&bucket).await?,
    };
    let about = c.get_bucket(&bucket).await?;
    let view = WebsiteView {
        bucket: bucket.clone(),
        website,
        url: about.website_url,
        public_read: about.public_read,
    };
    out.detail(&view)?;
    if !view.public_read {
        out.message(&format!(
            "note: the site answers 403 until the bucket policy lets everyone read, e.g. \
             {{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"s3:GetObject\", \
             \"Resource\": \"nrn:nuvem:s3:::{bucket}/*\"}} (cloudctl s3 policy put)"
        ));
    }
    Ok(())
}
