//! Load balancers (the seed's Elastic Load Balancing): a listener on a host port and a target
//! group — an app's replicas and/or instances — behind one HAProxy process. The proxy's
//! configuration is always made whole from the database (`proxy_sync`), so a crash never leaves a
//! backend the database does not know.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::sync::{LazyLock, Mutex};

use chrono::Utc;
use nuvem_api::apps as api;
use nuvem_api::nrn::nrn;

use super::{Apps, host, replicas::new_id};
use crate::drivers::proxy::{Backend, Frontend};
use crate::error::{Error, Result};
use crate::iam::Principal;
use crate::store::apps::{AppRow, LoadBalancerRow};

/// Replicas taken out of their balancer before they are removed (rollouts, scale-in), so that
/// no new request reaches them while they finish what they serve.
static DRAINING: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Mutex::default);

pub fn drain(replica: &str, on: bool) {
    let mut d = DRAINING.lock().unwrap_or_else(|e| e.into_inner());
    if on {
        d.insert(replica.to_owned());
    } else {
        d.remove(replica);
    }
}

fn draining(replica: &str) -> bool {
    DRAINING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .contains(replica)
}

pub fn health_of(row: &LoadBalancerRow) -> api::HealthCheck {
    serde_json::from_str(&row.health).unwrap_or_default()
}

fn instances_of(row: &LoadBalancerRow) -> Vec<String> {
    serde_json::from_str(&row.instance_ids).unwrap_or_default()
}

impl Apps {
    fn url(&self, port: u16) -> String {
        format!("http://{}:{port}", self.listeners.address)
    }

    /// The frontends the database describes, with every target's address.
    async fn frontends(&self) -> Result<Vec<Frontend>> {
        let mut out = Vec::new();
        for lb in self.store.lb_list_all().await? {
            let health = health_of(&lb);
            let mut backends = Vec::new();
            if let Some(app_id) = &lb.app_id
                && let Some(app) = self.store.app_get_by_id(app_id).await?
            {
                let spec = super::view::spec_of(&app)?;
                for r in self.store.replica_list(&app.id).await? {
                    if draining(&r.id) {
                        continue;
                    }
                    if let Ok(address) = r.private_ip.parse() {
                        backends.push(Backend {
                            name: r.id.clone(),
                            address,
                            port: spec.port,
                        });
                    }
                }
            }
            for instance in instances_of(&lb) {
                let port = lb.target_port.unwrap_or(80).clamp(1, 65535) as u16;
                if let Some(address) = self.instance_address(&lb.account_id, &instance).await? {
                    backends.push(Backend {
                        name: instance.clone(),
                        address,
                        port,
                    });
                }
            }
            let mut binds = vec![(Ipv4Addr::LOCALHOST, lb.port as u16)];
            if self.listeners.address != Ipv4Addr::LOCALHOST {
                binds.push((self.listeners.address, lb.port as u16));
            }
            out.push(Frontend {
                id: lb.id.clone(),
                binds,
                backends,
                health_path: health.path.clone(),
                interval_seconds: health.interval_seconds,
                rise: health.healthy_threshold,
                fall: health.unhealthy_threshold,
            });
        }
        Ok(out)
    }

    async fn instance_address(&self, account_id: &str, instance: &str) -> Result<Option<Ipv4Addr>> {
        let Some(row) = self.store.instance_get(account_id, instance).await? else {
            return Ok(None);
        };
        let Some(eni) = row.eni_id else {
            return Ok(None);
        };
        Ok(self
            .store
            .eni_get(account_id, &eni)
            .await?
            .and_then(|e| e.private_ip.parse().ok()))
    }

    /// Makes the proxy serve what the database says; true when it changed.
    pub(super) async fn proxy_sync(&self) -> Result<bool> {
        let _one = self.proxy_lock.lock().await;
        let frontends = self.frontends().await?;
        let proxy = self.proxy.clone();
        tokio::task::spawn_blocking(move || proxy.apply(&frontends))
            .await
            .map_err(Error::internal)?
            .map_err(host)
    }

    /// Refuses a listener port outside the operator's range, taken by another balancer, or held
    /// by another program of the host.
    pub(super) async fn listener_check(&self, port: u16) -> Result<()> {
        let (first, last) = self.listeners.ports;
        if !(first..=last).contains(&port) {
            return Err(Error::invalid(format!(
                "port {port} is outside the load balancers' range {first}-{last} (the operator sets it with --load-balancer-ports)"
            )));
        }
        if self.store.lb_by_port(port).await?.is_some() {
            return Err(Error::AlreadyExists(format!(
                "port {port} is already used by a load balancer; choose another"
            )));
        }
        let proxy = self.proxy.clone();
        let address = self.listeners.address;
        let free = tokio::task::spawn_blocking(move || proxy.port_free(address, port))
            .await
            .map_err(Error::internal)?;
        if !free {
            return Err(Error::AlreadyExists(format!(
                "port {port} is in use by another program on this host; choose another"
            )));
        }
        Ok(())
    }

    /// A balancer row for an app or instances (the caller checked the port and authorized).
    pub(super) fn lb_row(
        account_id: &str,
        name: &str,
        port: u16,
        app: Option<&AppRow>,
        instance_ids: &[String],
        target_port: Option<u16>,
        health: &api::HealthCheck,
    ) -> Result<LoadBalancerRow> {
        Ok(LoadBalancerRow {
            id: new_id("lb"),
            account_id: account_id.to_owned(),
            name: name.to_owned(),
            port: i32::from(port),
            app_id: app.map(|a| a.id.clone()),
            instance_ids: serde_json::to_string(instance_ids).map_err(Error::internal)?,
            target_port: target_port.map(i32::from),
            health: serde_json::to_string(health).map_err(Error::internal)?,
            created_at: Utc::now(),
        })
    }

    async fn lb_view(&self, lb: &LoadBalancerRow) -> Result<api::LoadBalancer> {
        let proxy = self.proxy.clone();
        let stats = tokio::task::spawn_blocking(move || proxy.stats())
            .await
            .map_err(Error::internal)?
            .unwrap_or_default();
        let frontend = self.frontends().await?.into_iter().find(|f| f.id == lb.id);
        let app = match &lb.app_id {
            Some(id) => self.store.app_get_by_id(id).await?.map(|a| a.name),
            None => None,
        };
        let mut targets: Vec<api::Target> = frontend
            .map(|f| f.backends)
            .unwrap_or_default()
            .into_iter()
            .map(|b| {
                let s = stats
                    .iter()
                    .find(|s| s.frontend == lb.id && s.server == b.name)
                    .cloned()
                    .unwrap_or_default();
                let kind = if b.name.starts_with("i-") {
                    "instance"
                } else {
                    "replica"
                };
                api::Target {
                    id: format!("{kind}/{}", b.name),
                    address: b.address.to_string(),
                    port: b.port,
                    state: if s.status.is_empty() {
                        "starting".into()
                    } else {
                        s.status
                    },
                    sessions_current: s.sessions_current,
                    sessions_total: s.sessions_total,
                    requests_total: s.requests_total,
                    errors: s.errors,
                }
            })
            .collect();
        // Replicas kept out of the proxy for now are targets too, as ELB lists them: `initial`
        // until their first health checks pass, `draining` on their way out.
        if let Some(app_id) = &lb.app_id
            && let Some(app) = self.store.app_get_by_id(app_id).await?
        {
            let port = super::view::spec_of(&app)?.port;
            for r in self.store.replica_list(&app.id).await? {
                let id = format!("replica/{}", r.id);
                if targets.iter().any(|t| t.id == id) {
                    continue;
                }
                targets.push(api::Target {
                    id,
                    address: r.private_ip.clone(),
                    port,
                    state: if r.version == app.version {
                        "initial"
                    } else {
                        "draining"
                    }
                    .into(),
                    sessions_current: 0,
                    sessions_total: 0,
                    requests_total: 0,
                    errors: 0,
                });
            }
        }
        Ok(api::LoadBalancer {
            id: lb.id.clone(),
            name: lb.name.clone(),
            nrn: nrn("elb", &lb.account_id, "load-balancer", &lb.name),
            port: lb.port as u16,
            url: self.url(lb.port as u16),
            app,
            targets,
            health_check: health_of(lb),
            created_at: lb.created_at,
        })
    }

    pub(super) async fn lb_url(&self, lb_id: &Option<String>) -> Result<Option<String>> {
        Ok(match lb_id {
            Some(id) => self
                .store
                .lb_get_by_id(id)
                .await?
                .map(|lb| self.url(lb.port as u16)),
            None => None,
        })
    }

    pub async fn lb_create(
        &self,
        p: &Principal,
        req: api::CreateLoadBalancerRequest,
    ) -> Result<api::LoadBalancer> {
        self.iam
            .authorize(p, "elb:CreateLoadBalancer", &Self::elb_res(p, &req.name))
            .await?;
        api::check_name("load balancer", &req.name).map_err(Error::InvalidRequest)?;
        let app = match &req.app {
            Some(name) => Some(self.store.app_get(&p.account.id, name).await?.ok_or_else(
                || Error::invalid(format!("app '{name}' is not an app of your account")),
            )?),
            None => None,
        };
        for i in &req.instance_ids {
            if self.store.instance_get(&p.account.id, i).await?.is_none() {
                return Err(Error::invalid(format!(
                    "{i} is not an instance of your account"
                )));
            }
        }
        if app.is_none() && req.instance_ids.is_empty() {
            return Err(Error::invalid("name an app or instance_ids as the targets"));
        }
        if !req.instance_ids.is_empty() && req.target_port.is_none_or(|p| p == 0) {
            return Err(Error::invalid(
                "instance targets need target_port (1-65535)",
            ));
        }
        let mut spec = api::AppSpec {
            image: String::new(),
            command: vec![],
            env: Default::default(),
            port: 1,
            cpu: 1.0,
            memory_mib: 64,
            health_check: req.health_check.clone(),
        };
        spec.health_check = req.health_check.clone();
        api::check_spec(&spec).map_err(Error::InvalidRequest)?;
        self.listener_check(req.port).await?;
        let row = Self::lb_row(
            &p.account.id,
            &req.name,
            req.port,
            app.as_ref(),
            &req.instance_ids,
            req.target_port,
            &req.health_check,
        )?;
        let row = self.store.lb_create(row).await?;
        if let Err(e) = self.proxy_sync().await {
            self.store.lb_delete(&row.id).await?;
            self.proxy_sync().await.ok();
            return Err(e);
        }
        self.lb_view(&row).await
    }

    pub async fn lb_list(&self, p: &Principal) -> Result<api::LoadBalancerList> {
        self.iam
            .authorize(p, "elb:DescribeLoadBalancers", &Self::elb_res(p, "*"))
            .await?;
        let mut items = Vec::new();
        for lb in self.store.lb_list(&p.account.id).await? {
            items.push(self.lb_view(&lb).await?);
        }
        Ok(api::LoadBalancerList { items })
    }

    pub async fn lb_get(&self, p: &Principal, name: &str) -> Result<api::LoadBalancer> {
        self.iam
            .authorize(p, "elb:DescribeLoadBalancers", &Self::elb_res(p, name))
            .await?;
        let lb = self
            .store
            .lb_get(&p.account.id, name)
            .await?
            .ok_or_else(|| Error::not_found("load balancer", name))?;
        self.lb_view(&lb).await
    }

    pub async fn lb_delete(&self, p: &Principal, name: &str) -> Result<()> {
        self.iam
            .authorize(p, "elb:DeleteLoadBalancer", &Self::elb_res(p, name))
            .await?;
        let lb = self
            .store
            .lb_get(&p.account.id, name)
            .await?
            .ok_or_else(|| Error::not_found("load balancer", name))?;
        if let Some(app_id) = &lb.app_id
            && let Some(mut app) = self.store.app_get_by_id(app_id).await?
            && app.load_balancer_id.as_deref() == Some(lb.id.as_str())
        {
            app.load_balancer_id = None;
            self.store.app_save(&app).await?;
        }
        self.store.lb_delete(&lb.id).await?;
        self.proxy_sync().await.map(drop)
    }
}
