//! The price catalog: defaults shipped with Nuvem (public-cloud list prices of the same kind of
//! resource, rounded), changes by the operator through the API or a file, each from its
//! effective time on and never backwards.

use chrono::{DateTime, Utc};
use nuvem_api::billing::{self as api, Currency};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::Billing;
use crate::error::{Error, Result};
use crate::iam::Principal;
use crate::store::billing::PriceRow;

/// One SKU: its description, unit and default price in each currency.
pub struct Sku {
    pub sku: &'static str,
    pub description: &'static str,
    pub unit: &'static str,
    pub usd: &'static str,
    pub brl: &'static str,
}

/// What Nuvem charges by default. Services that have not landed yet (apps, load balancers,
/// object storage) have their prices here already, so the catalog is complete when they do.
pub const DEFAULT_SKUS: &[Sku] = &[
    Sku {
        sku: "ec2.instance.t3.nano",
        description: "t3.nano instance running (1 vCPU, 512 MiB)",
        unit: "hour",
        usd: "0.0052",
        brl: "0.0286",
    },
    Sku {
        sku: "ec2.instance.t3.micro",
        description: "t3.micro instance running (1 vCPU, 1 GiB)",
        unit: "hour",
        usd: "0.0104",
        brl: "0.0572",
    },
    Sku {
        sku: "ec2.instance.t3.small",
        description: "t3.small instance running (2 vCPU, 2 GiB)",
        unit: "hour",
        usd: "0.0208",
        brl: "0.1144",
    },
    Sku {
        sku: "ec2.instance.t3.medium",
        description: "t3.medium instance running (2 vCPU, 4 GiB)",
        unit: "hour",
        usd: "0.0416",
        brl: "0.2288",
    },
    Sku {
        sku: "ec2.disk",
        description: "instance disk, while the instance exists",
        unit: "GiB-month",
        usd: "0.08",
        brl: "0.44",
    },
    Sku {
        sku: "vpc.port-forward",
        description: "port forward from a host port, while it exists",
        unit: "hour",
        usd: "0.005",
        brl: "0.0275",
    },
    Sku {
        sku: "vpc.internet-gateway",
        description: "internet gateway (NAT) of a VPC, while it is on",
        unit: "hour",
        usd: "0.045",
        brl: "0.2475",
    },
    Sku {
        sku: "apps.vcpu",
        description: "container app vCPU limit of its replicas",
        unit: "vCPU-hour",
        usd: "0.04048",
        brl: "0.22264",
    },
    Sku {
        sku: "apps.memory",
        description: "container app memory limit of its replicas",
        unit: "GiB-hour",
        usd: "0.004445",
        brl: "0.024448",
    },
    Sku {
        sku: "elb.load-balancer",
        description: "load balancer, while it exists",
        unit: "hour",
        usd: "0.0225",
        brl: "0.12375",
    },
    Sku {
        sku: "s3.storage",
        description: "object storage, bytes stored",
        unit: "GiB-month",
        usd: "0.023",
        brl: "0.1265",
    },
    Sku {
        sku: "s3.requests.put",
        description: "PUT, COPY, POST and LIST requests",
        unit: "1000 requests",
        usd: "0.005",
        brl: "0.0275",
    },
    Sku {
        sku: "s3.requests.get",
        description: "GET, HEAD and other requests",
        unit: "1000 requests",
        usd: "0.0004",
        brl: "0.0022",
    },
    Sku {
        sku: "s3.bytes-out",
        description: "bytes sent out of object storage",
        unit: "GiB",
        usd: "0.09",
        brl: "0.495",
    },
];

/// The start of the defaults' validity: before anything could have run.
pub fn epoch() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH
}

fn sku_info(sku: &str) -> Option<&'static Sku> {
    DEFAULT_SKUS.iter().find(|s| s.sku == sku)
}

/// A price file the operator keeps (`--prices FILE`): `[[price]] sku = "…" currency = "USD"
/// unit_price = "0.012"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceFile {
    #[serde(default)]
    pub price: Vec<PriceFileEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceFileEntry {
    pub sku: String,
    pub currency: String,
    pub unit_price: String,
}

/// Parses a price as the API takes it: decimal text, zero or more, at most 6 decimal places.
pub fn parse_price(text: &str) -> Result<Decimal> {
    let t = text.trim();
    let plain = !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
        && t.matches('.').count() <= 1;
    if !plain {
        return Err(Error::invalid(format!(
            "the price '{text}' is not a decimal number; write it like \"0.0125\""
        )));
    }
    let d: Decimal = t.parse().map_err(|_| {
        Error::invalid(format!(
            "the price '{text}' is not a decimal number; write it like \"0.0125\""
        ))
    })?;
    if d.is_sign_negative() && !d.is_zero() {
        return Err(Error::invalid(format!(
            "the price {text} is negative; prices are zero or more"
        )));
    }
    if d > Decimal::from(1_000_000_000u64) {
        return Err(Error::invalid(format!(
            "the amount {text} is too large (at most 1000000000)"
        )));
    }
    if d.scale() > 6 {
        return Err(Error::invalid(format!(
            "the price {text} has more than 6 decimal places"
        )));
    }
    Ok(d.normalize())
}

impl Billing {
    /// Writes the default catalog on the first start (effective since the epoch), and then the
    /// operator's price file, each entry that differs from the price in force becoming a change
    /// from now on.
    pub(super) async fn catalog_load(&self, file: Option<&std::path::Path>) -> anyhow::Result<()> {
        if self.store.price_count().await? == 0 {
            for s in DEFAULT_SKUS {
                for (currency, price) in [(Currency::Usd, s.usd), (Currency::Brl, s.brl)] {
                    self.store
                        .price_add(PriceRow {
                            id: 0,
                            sku: s.sku.to_owned(),
                            currency: currency.as_str().to_owned(),
                            unit_price: price.to_owned(),
                            effective_from: epoch(),
                            created_at: Utc::now(),
                        })
                        .await?;
                }
            }
        }
        let Some(path) = file else {
            return Ok(());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the price file {}: {e}", path.display()))?;
        let parsed: PriceFile = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("the price file {} is not valid: {e}", path.display()))?;
        let now = Utc::now();
        for entry in parsed.price {
            let currency = Currency::parse(&entry.currency).ok_or_else(|| {
                anyhow::anyhow!(
                    "price file: unknown currency '{}' (USD or BRL)",
                    entry.currency
                )
            })?;
            self.price_check_sku(&entry.sku)
                .await
                .map_err(|e| anyhow::anyhow!("price file: {e}"))?;
            let price =
                parse_price(&entry.unit_price).map_err(|e| anyhow::anyhow!("price file: {e}"))?;
            if self.price_now(&entry.sku, currency).await? != Some(price) {
                self.store
                    .price_add(PriceRow {
                        id: 0,
                        sku: entry.sku.clone(),
                        currency: currency.as_str().to_owned(),
                        unit_price: price.to_string(),
                        effective_from: now,
                        created_at: now,
                    })
                    .await?;
                tracing::info!(sku = %entry.sku, %currency, %price, "price changed from the price file");
            }
        }
        Ok(())
    }

    async fn price_now(&self, sku: &str, currency: Currency) -> Result<Option<Decimal>> {
        let now = Utc::now();
        Ok(self
            .store
            .price_list()
            .await?
            .into_iter()
            .rfind(|p| p.sku == sku && p.currency == currency.as_str() && p.effective_from <= now)
            .and_then(|p| p.unit_price.parse().ok()))
    }

    /// A SKU the catalog can price: a default one, or an existing instance type's.
    async fn price_check_sku(&self, sku: &str) -> Result<()> {
        if sku_info(sku).is_some() {
            return Ok(());
        }
        if let Some(t) = sku.strip_prefix("ec2.instance.") {
            if self.store.instance_type_get(t).await?.is_some() {
                return Ok(());
            }
            return Err(Error::invalid(format!(
                "there is no instance type '{t}'; create it first (cloudctl instance-type create)"
            )));
        }
        Err(Error::invalid(format!(
            "unknown SKU '{sku}'; `cloudctl billing prices` lists them"
        )))
    }

    fn price_view(row: &PriceRow) -> Option<api::Price> {
        let currency = Currency::parse(&row.currency)?;
        let unit_price = row.unit_price.parse().ok()?;
        let (description, unit) = match sku_info(&row.sku) {
            Some(s) => (s.description.to_owned(), s.unit.to_owned()),
            None => (
                format!(
                    "{} instance running",
                    row.sku.trim_start_matches("ec2.instance.")
                ),
                "hour".to_owned(),
            ),
        };
        Some(api::Price {
            sku: row.sku.clone(),
            description,
            unit,
            currency,
            unit_price,
            effective_from: row.effective_from,
        })
    }

    /// The prices in force now, and those announced for later.
    pub async fn price_list(&self, p: &Principal) -> Result<api::PriceList> {
        self.authorize(p, "billing:ListPrices", "price/*").await?;
        let now = Utc::now();
        let rows = self.store.price_list().await?;
        let mut current: std::collections::BTreeMap<(String, String), api::Price> =
            Default::default();
        let mut scheduled = Vec::new();
        for row in &rows {
            let Some(view) = Self::price_view(row) else {
                continue;
            };
            if row.effective_from <= now {
                current.insert((row.sku.clone(), row.currency.clone()), view);
            } else {
                scheduled.push(view);
            }
        }
        Ok(api::PriceList {
            items: current.into_values().collect(),
            scheduled,
        })
    }

    /// Sets a price from a time on (operator only).
    pub async fn price_set(&self, p: &Principal, req: api::SetPriceRequest) -> Result<api::Price> {
        self.iam.require_operator(p, "billing:SetPrice")?;
        self.authorize(p, "billing:SetPrice", &format!("price/{}", req.sku))
            .await?;
        self.price_check_sku(&req.sku).await?;
        let price = parse_price(&req.unit_price)?;
        let now = Utc::now();
        let from = req.effective_from.unwrap_or(now);
        // A second of slack for a client that sends "now" from its own clock.
        if from < now - chrono::Duration::seconds(1) {
            return Err(Error::invalid(format!(
                "effective_from {from} is in the past; a price change applies from now or later, never to usage already metered"
            )));
        }
        let row = self
            .store
            .price_add(PriceRow {
                id: 0,
                sku: req.sku.clone(),
                currency: req.currency.as_str().to_owned(),
                unit_price: price.to_string(),
                effective_from: from.max(now),
                created_at: now,
            })
            .await?;
        Self::price_view(&row).ok_or_else(|| Error::internal("a stored price does not read back"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_exact_decimals_zero_or_more() {
        assert_eq!(parse_price("0.0125").expect("ok").to_string(), "0.0125");
        assert_eq!(parse_price("0").expect("ok"), Decimal::ZERO);
        assert!(parse_price("-1").is_err());
        assert!(parse_price("abc").is_err());
        assert!(parse_price("0.0000001").is_err());
        assert!(parse_price("1e3").is_err());
    }

    #[test]
    fn every_default_sku_has_both_currencies() {
        for s in DEFAULT_SKUS {
            assert!(
                parse_price(s.usd).is_ok() && parse_price(s.brl).is_ok(),
                "{}",
                s.sku
            );
        }
    }
}
