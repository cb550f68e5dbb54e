//! Counting what object storage is priced by: requests per bucket in AWS's two price classes and
//! the bytes sent out. Usage events carry what was counted since a bucket's previous event
//! (`Storage::report` takes it); the running totals are Prometheus counters.

use std::collections::HashMap;
use std::sync::Mutex;

/// AWS's request price classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestClass {
    /// PUT, COPY, POST, LIST.
    Tier1,
    /// GET, HEAD and the rest.
    Tier2,
    /// DELETE and abort: not charged.
    Free,
}

/// What one bucket used since it was last taken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counted {
    pub tier1: u64,
    pub tier2: u64,
    pub bytes_out: u64,
}

#[derive(Default)]
pub struct Meter {
    since_event: Mutex<HashMap<String, Counted>>,
    totals: Mutex<HashMap<String, Counted>>,
    /// Each bucket's bytes stored at its last usage event.
    stored: Mutex<HashMap<String, u64>>,
}

impl Meter {
    pub fn request(&self, bucket: &str, class: RequestClass, bytes_out: u64) {
        let add = |c: &mut Counted| {
            match class {
                RequestClass::Tier1 => c.tier1 += 1,
                RequestClass::Tier2 => c.tier2 += 1,
                RequestClass::Free => {}
            }
            c.bytes_out += bytes_out;
        };
        for map in [&self.since_event, &self.totals] {
            let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
            add(map.entry(bucket.to_owned()).or_default());
        }
    }

    /// What `bucket` used since the previous call, and zero from now on.
    pub fn take(&self, bucket: &str) -> Counted {
        self.since_event
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(bucket)
            .unwrap_or_default()
    }

    /// A deleted bucket's counters go (its last event carried them).
    pub fn forget(&self, bucket: &str) {
        self.totals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(bucket);
        self.stored
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(bucket);
    }

    pub fn set_stored(&self, bucket: &str, bytes: u64) {
        self.stored
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(bucket.to_owned(), bytes);
    }

    /// The Prometheus text of the counters: requests by bucket and class, bytes out, bytes
    /// stored. Bucket names need no escaping (lowercase letters, digits, dots and hyphens).
    pub fn prometheus_text(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let totals = self.totals();
        out.push_str("# HELP nuvem_s3_requests_total S3 requests per bucket and price class (tier1: PUT, COPY, POST, LIST; tier2: GET, HEAD).\n# TYPE nuvem_s3_requests_total counter\n");
        for (b, c) in &totals {
            let _ = writeln!(
                out,
                "nuvem_s3_requests_total{{bucket=\"{b}\",class=\"tier1\"}} {}",
                c.tier1
            );
            let _ = writeln!(
                out,
                "nuvem_s3_requests_total{{bucket=\"{b}\",class=\"tier2\"}} {}",
                c.tier2
            );
        }
        out.push_str("# HELP nuvem_s3_bytes_out_total Bytes sent to S3 clients per bucket.\n# TYPE nuvem_s3_bytes_out_total counter\n");
        for (b, c) in &totals {
            let _ = writeln!(
                out,
                "nuvem_s3_bytes_out_total{{bucket=\"{b}\"}} {}",
                c.bytes_out
            );
        }
        out.push_str("# HELP nuvem_s3_bucket_bytes Bytes stored per bucket, at the last metering run.\n# TYPE nuvem_s3_bucket_bytes gauge\n");
        let stored = self.stored.lock().unwrap_or_else(|e| e.into_inner());
        let mut stored: Vec<_> = stored.iter().collect();
        stored.sort();
        for (b, bytes) in stored {
            let _ = writeln!(out, "nuvem_s3_bucket_bytes{{bucket=\"{b}\"}} {bytes}");
        }
        out
    }

    /// Running totals per bucket since the server started.
    pub fn totals(&self) -> Vec<(String, Counted)> {
        let map = self.totals.lock().unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<_> = map.iter().map(|(b, c)| (b.clone(), *c)).collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }
}
