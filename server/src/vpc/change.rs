//! The saga of a network change: one database write, then the host made to match it.
//!
//! | step       | does                                      | undo                                   |
//! |------------|-------------------------------------------|----------------------------------------|
//! | `database` | the write (one transaction)               | its inverse, then the host reconciled  |
//! | `host`     | the firewall rebuilt, or a full reconcile | (the `database` undo reconciles)       |
//!
//! The write carries its rows, so the saga log holds everything its undo needs: a change whose host
//! step fails, or that a crash interrupted, is taken back in the database and the host follows.

use serde::{Deserialize, Serialize};

use super::Vpc;
use crate::error::Result;
use crate::saga::{Recovery, SagaKind, Step, StepFuture, nothing_to_undo};
use crate::store::vpc::{EniRow, PortForwardRow, SgRow, SgRuleRow, SubnetRow, VpcRow};

/// One write to the network's desired state, with what its inverse needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Write {
    /// A default VPC: the VPC, its default group and rules, and its first subnet.
    CreateVpc {
        vpc: VpcRow,
        sg: SgRow,
        rules: Vec<SgRuleRow>,
        subnet: SubnetRow,
    },
    SetInternetGateway {
        vpc_id: String,
        enabled: bool,
        before: bool,
    },
    /// A subnet, and the rule of its VPC's default group that lets the host in on SSH from the
    /// subnet's gateway address.
    CreateSubnet {
        subnet: SubnetRow,
        host_ssh: Option<SgRuleRow>,
    },
    AddRule(SgRuleRow),
    CreateInterface {
        eni: EniRow,
        groups: Vec<String>,
    },
    SetInterfaceGroups {
        eni_id: String,
        groups: Vec<String>,
        before: Vec<String>,
    },
    CreatePortForward(PortForwardRow),
}

impl Write {
    /// What the host needs after this write: only the firewall, or bridges and DHCP too.
    fn firewall_only(&self) -> bool {
        matches!(
            self,
            Write::SetInternetGateway { .. }
                | Write::AddRule(_)
                | Write::SetInterfaceGroups { .. }
                | Write::CreatePortForward(_)
        )
    }

    fn resource(&self) -> String {
        match self {
            Write::CreateVpc { vpc, .. } => format!("vpc/{}", vpc.id),
            Write::SetInternetGateway { vpc_id, .. } => format!("vpc/{vpc_id}"),
            Write::CreateSubnet { subnet, .. } => format!("subnet/{}", subnet.id),
            Write::AddRule(r) => format!("security-group/{}", r.sg_id),
            Write::CreateInterface { eni, .. } => format!("network-interface/{}", eni.id),
            Write::SetInterfaceGroups { eni_id, .. } => format!("network-interface/{eni_id}"),
            Write::CreatePortForward(f) => format!("port-forward/{}", f.id),
        }
    }
}

impl Vpc {
    async fn write_apply(&self, w: &Write) -> Result<()> {
        let store = &self.store;
        match w.clone() {
            Write::CreateVpc {
                vpc,
                sg,
                rules,
                subnet,
            } => store.vpc_create_with_subnet(vpc, sg, rules, subnet).await,
            Write::SetInternetGateway {
                vpc_id, enabled, ..
            } => store
                .vpc_set_internet_gateway(&vpc_id, enabled)
                .await
                .map(drop),
            Write::CreateSubnet { subnet, host_ssh } => {
                store.subnet_create(subnet).await?;
                if let Some(r) = host_ssh {
                    store.sg_rule_create(r).await?;
                }
                Ok(())
            }
            Write::AddRule(r) => store.sg_rule_create(r).await.map(drop),
            Write::CreateInterface { eni, groups } => {
                store.eni_create(eni, &groups).await.map(drop)
            }
            Write::SetInterfaceGroups { eni_id, groups, .. } => {
                store.eni_set_security_groups(&eni_id, &groups).await
            }
            Write::CreatePortForward(f) => store.port_forward_create(f).await.map(drop),
        }
    }

    /// The inverse of a write; idempotent, and harmless when the write never happened.
    async fn write_revert(&self, w: &Write) -> Result<()> {
        let store = &self.store;
        match w {
            Write::CreateVpc { vpc, .. } => store.vpc_delete(&vpc.id).await,
            Write::SetInternetGateway { vpc_id, before, .. } => {
                if store.vpc_get_any(vpc_id).await?.is_some() {
                    store.vpc_set_internet_gateway(vpc_id, *before).await?;
                }
                Ok(())
            }
            Write::CreateSubnet { subnet, host_ssh } => {
                if let Some(r) = host_ssh {
                    store.sg_rule_delete(&r.sg_id, &r.id).await?;
                }
                store.subnet_delete(&subnet.id).await
            }
            Write::AddRule(r) => store.sg_rule_delete(&r.sg_id, &r.id).await.map(drop),
            Write::CreateInterface { eni, .. } => store.eni_delete(&eni.id).await,
            Write::SetInterfaceGroups { eni_id, before, .. } => {
                if store.eni_get_any(eni_id).await?.is_some() {
                    store.eni_set_security_groups(eni_id, before).await?;
                }
                Ok(())
            }
            Write::CreatePortForward(f) => store.port_forward_delete(&f.id).await,
        }
    }

    /// Writes `write` and makes the host match, as a saga: if the host step fails, the write is
    /// taken back and the host reconciled again. The caller holds the network lock.
    pub(super) async fn change(&self, write: Write) -> Result<()> {
        self.sagas.run::<NetworkChange>(self, write).await.map(drop)
    }
}

/// The saga kind of a network change.
pub struct NetworkChange;

impl SagaKind for NetworkChange {
    type Context = Vpc;
    type State = Write;
    const KIND: &'static str = "vpc.change";
    /// A change a crash interrupted is taken back; the caller never got an answer.
    const RECOVERY: Recovery = Recovery::Unwind;

    fn steps() -> &'static [Step<Vpc, Write>] {
        STEPS
    }

    fn resource(state: &Write) -> String {
        state.resource()
    }
}

const STEPS: &[Step<Vpc, Write>] = &[
    Step {
        name: "database",
        run: database_write,
        undo: database_revert,
    },
    Step {
        name: "host",
        run: host_apply,
        undo: nothing_to_undo,
    },
];

fn database_write<'a>(v: &'a Vpc, w: &'a mut Write) -> StepFuture<'a> {
    Box::pin(v.write_apply(w))
}

fn database_revert<'a>(v: &'a Vpc, w: &'a Write, _: &'a str) -> StepFuture<'a> {
    Box::pin(async move {
        v.write_revert(w).await?;
        v.reconcile().await.map(drop)
    })
}

fn host_apply<'a>(v: &'a Vpc, w: &'a mut Write) -> StepFuture<'a> {
    Box::pin(async move {
        if w.firewall_only() {
            v.apply_firewall().await.map(drop)
        } else {
            v.reconcile().await.map(drop)
        }
    })
}
