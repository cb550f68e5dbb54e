//! What accrues for each kind of resource: its usage types, when each accrues (while running or
//! while it exists), the SKU its price is looked up by, and the unit.
//!
//! Adding a metered service is three steps (docs/billing.md): emit usage events from the service,
//! add its meter here with default prices in `catalog.rs`, and list what exists now in its
//! [`Inventory`](super::Inventory) so the reconciler closes what the server missed.

use rust_decimal::Decimal;

use crate::usage::Dimensions;

/// When a usage line accrues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accrues {
    /// From a start to the next stop.
    Running,
    /// From creation (or first start) to deletion.
    Exists,
    /// Counted, not timed: each event carries what was used since the previous one (requests,
    /// bytes out); `scale` gives it in the line's units.
    Counted,
}

#[derive(Debug)]
pub struct Line {
    pub usage_type: &'static str,
    pub accrues: Accrues,
    /// The catalog SKU for the resource's dimensions.
    pub sku: fn(&Dimensions) -> String,
    /// How many units accrue per `seconds_per_unit` (a disk's GiB; 1 for an hourly resource).
    pub scale: fn(&Dimensions) -> Decimal,
    pub unit: &'static str,
    pub seconds_per_unit: i64,
    /// Every start is billed at least this long (EC2 bills Linux instances 60 s at least).
    pub minimum_seconds: i64,
}

#[derive(Debug)]
pub struct Meter {
    pub service: &'static str,
    pub resource_type: &'static str,
    pub lines: &'static [Line],
}

const HOUR: i64 = 3600;
const MONTH: i64 = nuvem_api::billing::HOURS_PER_MONTH * HOUR;

fn one(_: &Dimensions) -> Decimal {
    Decimal::ONE
}

fn instance_sku(d: &Dimensions) -> String {
    format!("ec2.instance.{}", d.sku.as_deref().unwrap_or("unknown"))
}

fn disk_gib(d: &Dimensions) -> Decimal {
    Decimal::from(d.disk_gib)
}

/// Every metered kind of resource.
pub const METERS: &[Meter] = &[
    Meter {
        service: "ec2",
        resource_type: "instance",
        lines: &[
            Line {
                usage_type: "running",
                accrues: Accrues::Running,
                sku: instance_sku,
                scale: one,
                unit: "hour",
                seconds_per_unit: HOUR,
                minimum_seconds: 60,
            },
            Line {
                usage_type: "disk",
                accrues: Accrues::Exists,
                sku: |_| "ec2.disk".to_owned(),
                scale: disk_gib,
                unit: "GiB-month",
                seconds_per_unit: MONTH,
                minimum_seconds: 0,
            },
        ],
    },
    Meter {
        service: "vpc",
        resource_type: "port-forward",
        lines: &[Line {
            usage_type: "exists",
            accrues: Accrues::Exists,
            sku: |_| "vpc.port-forward".to_owned(),
            scale: one,
            unit: "hour",
            seconds_per_unit: HOUR,
            minimum_seconds: 0,
        }],
    },
    Meter {
        service: "vpc",
        resource_type: "internet-gateway",
        lines: &[Line {
            usage_type: "exists",
            accrues: Accrues::Exists,
            sku: |_| "vpc.internet-gateway".to_owned(),
            scale: one,
            unit: "hour",
            seconds_per_unit: HOUR,
            minimum_seconds: 0,
        }],
    },
];

const GIB: u64 = 1 << 30;

fn stored_gib(d: &Dimensions) -> Decimal {
    Decimal::from(d.storage_bytes) / Decimal::from(GIB)
}

fn thousand_tier1(d: &Dimensions) -> Decimal {
    Decimal::from(d.requests_tier1) / Decimal::from(1000)
}

fn thousand_tier2(d: &Dimensions) -> Decimal {
    Decimal::from(d.requests_tier2) / Decimal::from(1000)
}

fn gib_out(d: &Dimensions) -> Decimal {
    Decimal::from(d.bytes_out) / Decimal::from(GIB)
}

/// Object storage, as the storage service reports each bucket (created, resized with its bytes
/// stored and the requests and bytes out since, deleted).
const S3_BUCKET: Meter = Meter {
    service: "s3",
    resource_type: "bucket",
    lines: &[
        Line {
            usage_type: "storage",
            accrues: Accrues::Exists,
            sku: |_| "s3.storage".to_owned(),
            scale: stored_gib,
            unit: "GiB-month",
            seconds_per_unit: MONTH,
            minimum_seconds: 0,
        },
        Line {
            usage_type: "requests-put",
            accrues: Accrues::Counted,
            sku: |_| "s3.requests.put".to_owned(),
            scale: thousand_tier1,
            unit: "1000 requests",
            seconds_per_unit: 1,
            minimum_seconds: 0,
        },
        Line {
            usage_type: "requests-get",
            accrues: Accrues::Counted,
            sku: |_| "s3.requests.get".to_owned(),
            scale: thousand_tier2,
            unit: "1000 requests",
            seconds_per_unit: 1,
            minimum_seconds: 0,
        },
        Line {
            usage_type: "bytes-out",
            accrues: Accrues::Counted,
            sku: |_| "s3.bytes-out".to_owned(),
            scale: gib_out,
            unit: "GiB",
            seconds_per_unit: 1,
            minimum_seconds: 0,
        },
    ],
};

pub fn meter_for(service: &str, resource_type: &str) -> Option<&'static Meter> {
    METERS
        .iter()
        .chain(std::iter::once(&S3_BUCKET))
        .find(|m| m.service == service && m.resource_type == resource_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instance_accrues_its_type_while_running_and_its_disk_while_it_exists() {
        let m = meter_for("ec2", "instance").expect("meter");
        let d = Dimensions {
            vcpus: 1,
            memory_mib: 1024,
            disk_gib: 8,
            sku: Some("t3.micro".into()),
            ..Default::default()
        };
        assert_eq!((m.lines[0].sku)(&d), "ec2.instance.t3.micro");
        assert_eq!((m.lines[1].scale)(&d), Decimal::from(8));
    }
}
