//! The storage reconciler: the database says which buckets exist, the engine must hold them —
//! a bucket the engine lost (a wiped engine, a crash between the two steps of a create) is made
//! again, empty; a bucket the engine has and Nuvem does not know is reported, never deleted (it
//! holds someone's data). Each run also meters: one usage event per bucket with its bytes stored
//! and the requests and bytes out counted since the previous event, so billing sees storage
//! over time.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_s3::error::ProvideErrorMetadata;
use futures_util::future::BoxFuture;

use super::Storage;
use crate::error::{Error, Result};
use crate::reconcile::Reconciler;
use crate::usage::Change;

/// Storage is priced per GB-month: a sample every five minutes is fine-grained enough.
const PERIOD: Duration = Duration::from_secs(300);

impl Reconciler for Storage {
    fn name(&self) -> &'static str {
        "storage"
    }

    fn period(&self) -> Duration {
        PERIOD
    }

    fn reconcile(&self) -> BoxFuture<'_, Result<Vec<String>>> {
        Box::pin(async move { self.reconcile_engine().await })
    }
}

impl Storage {
    async fn reconcile_engine(&self) -> Result<Vec<String>> {
        let unavailable = |what: &str, e: &dyn ProvideErrorMetadata| Error::ServiceUnavailable {
            message: format!(
                "the S3 engine did not answer {what}: {}",
                e.message().unwrap_or("no message")
            ),
            retry_after_seconds: 30,
        };
        let listed = self
            .engine
            .list_buckets()
            .send()
            .await
            .map_err(|e| unavailable("ListBuckets", &e))?;
        let in_engine: BTreeSet<String> = listed
            .buckets()
            .iter()
            .filter_map(|b| b.name().map(str::to_owned))
            .collect();
        let rows = self.store.bucket_list_all().await?;
        let mut fixed = Vec::new();
        for row in &rows {
            if !in_engine.contains(&row.name) {
                self.engine
                    .create_bucket()
                    .bucket(&row.name)
                    .send()
                    .await
                    .map_err(|e| unavailable("CreateBucket", &e))?;
                fixed.push(format!(
                    "bucket {} was missing in the engine: made again (empty)",
                    row.name
                ));
            }
            match self.bucket_size(&row.name).await {
                Ok((bytes, _)) => self.report(row, Change::Resized, bytes).await,
                Err(e) => tracing::warn!(bucket = row.name, error = ?e, "cannot size a bucket"),
            }
        }
        let known: BTreeSet<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        for stray in in_engine.iter().filter(|b| !known.contains(b.as_str())) {
            // Reported only: the engine may be shared, or the bucket may hold data to rescue.
            tracing::warn!(
                bucket = stray,
                "the S3 engine has a bucket Nuvem does not know"
            );
        }
        Ok(fixed)
    }
}
