//! What the VPC service tells metering: the port forwards and internet gateways that accrue now.

use futures_util::future::BoxFuture;

use super::Vpc;
use crate::error::Result;
use crate::usage::{Dimensions, Inventory, Metered};

impl Inventory for Vpc {
    fn service(&self) -> &'static str {
        "vpc"
    }

    fn metered(&self) -> BoxFuture<'_, Result<(Vec<Metered>, Vec<String>)>> {
        Box::pin(async move {
            let mut now = Vec::new();
            for f in self.store.port_forward_list_all().await? {
                now.push(Metered {
                    account_id: f.account_id,
                    service: "vpc",
                    resource_type: "port-forward",
                    resource_id: f.id,
                    running: false,
                    dimensions: Dimensions::default(),
                });
            }
            for v in self.store.vpc_list_all().await? {
                if v.internet_gateway {
                    now.push(Metered {
                        account_id: v.account_id,
                        service: "vpc",
                        resource_type: "internet-gateway",
                        resource_id: v.id,
                        running: false,
                        dimensions: Dimensions::default(),
                    });
                }
            }
            Ok((now, Vec::new()))
        })
    }
}
