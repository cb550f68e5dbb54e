//! VPC networking: VPCs, subnets, security groups, interfaces, port forwards, trace.

use reqwest::Method;

use crate::{Client, Result};
use nuvem_api::vpc;

impl Client {
    pub async fn create_vpc(&self, cidr: &str, name: Option<&str>) -> Result<vpc::Vpc> {
        let body = vpc::CreateVpcRequest {
            cidr: cidr.into(),
            name: name.map(Into::into),
        };
        self.post(&["v1", "vpc", "vpcs"], &body).await
    }

    /// Your VPCs; the default VPC is created on first use.
    pub async fn list_vpcs(&self) -> Result<vpc::VpcList> {
        self.get(&["v1", "vpc", "vpcs"]).await
    }

    pub async fn get_vpc(&self, id: &str) -> Result<vpc::Vpc> {
        self.get(&["v1", "vpc", "vpcs", id]).await
    }

    pub async fn delete_vpc(&self, id: &str) -> Result<()> {
        self.delete(&["v1", "vpc", "vpcs", id]).await
    }

    pub async fn set_internet_gateway(&self, vpc_id: &str, enabled: bool) -> Result<vpc::Vpc> {
        let body = vpc::InternetGatewayRequest { enabled };
        self.call(
            Method::PUT,
            &["v1", "vpc", "vpcs", vpc_id, "internet-gateway"],
            None::<&()>,
            Some(&body),
        )
        .await
    }

    pub async fn create_subnet(
        &self,
        vpc_id: &str,
        cidr: &str,
        name: Option<&str>,
    ) -> Result<vpc::Subnet> {
        let body = vpc::CreateSubnetRequest {
            vpc_id: vpc_id.into(),
            cidr: cidr.into(),
            name: name.map(Into::into),
        };
        self.post(&["v1", "vpc", "subnets"], &body).await
    }

    pub async fn list_subnets(&self, vpc_id: Option<&str>) -> Result<vpc::SubnetList> {
        let q = vpc::VpcFilter {
            vpc_id: vpc_id.map(Into::into),
        };
        self.call(
            Method::GET,
            &["v1", "vpc", "subnets"],
            Some(&q),
            None::<&()>,
        )
        .await
    }

    pub async fn get_subnet(&self, id: &str) -> Result<vpc::Subnet> {
        self.get(&["v1", "vpc", "subnets", id]).await
    }

    pub async fn delete_subnet(&self, id: &str) -> Result<()> {
        self.delete(&["v1", "vpc", "subnets", id]).await
    }

    pub async fn create_security_group(
        &self,
        vpc_id: &str,
        name: &str,
        description: Option<&str>,
    ) -> Result<vpc::SecurityGroup> {
        let body = vpc::CreateSecurityGroupRequest {
            vpc_id: vpc_id.into(),
            name: name.into(),
            description: description.map(Into::into),
        };
        self.post(&["v1", "vpc", "security-groups"], &body).await
    }

    pub async fn list_security_groups(
        &self,
        vpc_id: Option<&str>,
    ) -> Result<vpc::SecurityGroupList> {
        let q = vpc::VpcFilter {
            vpc_id: vpc_id.map(Into::into),
        };
        self.call(
            Method::GET,
            &["v1", "vpc", "security-groups"],
            Some(&q),
            None::<&()>,
        )
        .await
    }

    pub async fn get_security_group(&self, id: &str) -> Result<vpc::SecurityGroup> {
        self.get(&["v1", "vpc", "security-groups", id]).await
    }

    pub async fn delete_security_group(&self, id: &str) -> Result<()> {
        self.delete(&["v1", "vpc", "security-groups", id]).await
    }

    /// Adds a rule; returns the group with all its rules.
    pub async fn authorize_rule(
        &self,
        sg_id: &str,
        rule: &vpc::AuthorizeRuleRequest,
    ) -> Result<vpc::SecurityGroup> {
        self.post(&["v1", "vpc", "security-groups", sg_id, "rules"], rule)
            .await
    }

    pub async fn revoke_rule(&self, sg_id: &str, rule_id: &str) -> Result<()> {
        self.delete(&["v1", "vpc", "security-groups", sg_id, "rules", rule_id])
            .await
    }

    pub async fn security_group_iptables(&self, sg_id: &str) -> Result<vpc::GeneratedRules> {
        self.get(&["v1", "vpc", "security-groups", sg_id, "iptables"])
            .await
    }

    pub async fn create_network_interface(
        &self,
        request: &vpc::CreateNetworkInterfaceRequest,
    ) -> Result<vpc::NetworkInterface> {
        self.post(&["v1", "vpc", "network-interfaces"], request)
            .await
    }

    pub async fn list_network_interfaces(
        &self,
        vpc_id: Option<&str>,
    ) -> Result<vpc::NetworkInterfaceList> {
        let q = vpc::VpcFilter {
            vpc_id: vpc_id.map(Into::into),
        };
        self.call(
            Method::GET,
            &["v1", "vpc", "network-interfaces"],
            Some(&q),
            None::<&()>,
        )
        .await
    }

    pub async fn get_network_interface(&self, id: &str) -> Result<vpc::NetworkInterface> {
        self.get(&["v1", "vpc", "network-interfaces", id]).await
    }

    pub async fn delete_network_interface(&self, id: &str) -> Result<()> {
        self.delete(&["v1", "vpc", "network-interfaces", id]).await
    }

    pub async fn set_interface_security_groups(
        &self,
        id: &str,
        security_group_ids: Vec<String>,
    ) -> Result<vpc::NetworkInterface> {
        let body = vpc::SetSecurityGroupsRequest { security_group_ids };
        self.call(
            Method::PUT,
            &["v1", "vpc", "network-interfaces", id, "security-groups"],
            None::<&()>,
            Some(&body),
        )
        .await
    }

    pub async fn create_port_forward(
        &self,
        request: &vpc::CreatePortForwardRequest,
    ) -> Result<vpc::PortForward> {
        self.post(&["v1", "vpc", "port-forwards"], request).await
    }

    pub async fn list_port_forwards(&self) -> Result<vpc::PortForwardList> {
        self.get(&["v1", "vpc", "port-forwards"]).await
    }

    pub async fn delete_port_forward(&self, id: &str) -> Result<()> {
        self.delete(&["v1", "vpc", "port-forwards", id]).await
    }

    /// Would a new connection pass? Names the rule or default that decides.
    pub async fn trace(&self, request: &vpc::TraceRequest) -> Result<vpc::TraceResult> {
        self.post(&["v1", "vpc", "trace"], request).await
    }

    /// Rebuilds the host network from the database (operator only).
    pub async fn reconcile_network(&self) -> Result<vpc::ReconcileReport> {
        self.call(
            Method::POST,
            &["v1", "vpc", "reconcile"],
            None::<&()>,
            None::<&()>,
        )
        .await
    }
}
