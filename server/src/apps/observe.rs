//! Logs (merged across replicas, each line with its replica) and events.

use nuvem_api::apps as api;

use super::{Apps, host};
use crate::error::{Error, Result};
use crate::iam::Principal;

impl Apps {
    pub async fn app_logs(
        &self,
        p: &Principal,
        name: &str,
        params: api::LogParams,
    ) -> Result<api::LogList> {
        self.iam
            .authorize(p, "apps:GetLogs", &Self::res(p, "app", name))
            .await?;
        let app = self.app_lookup(p, name).await?;
        let tail = params.tail.unwrap_or(200).clamp(1, 10_000);
        let replicas = self.store.replica_list(&app.id).await?;
        if let Some(want) = &params.replica
            && !replicas.iter().any(|r| &r.id == want)
        {
            return Err(Error::not_found("replica", want));
        }
        let mut items = Vec::new();
        for r in replicas
            .iter()
            .filter(|r| params.replica.as_ref().is_none_or(|w| w == &r.id))
        {
            for line in self
                .engine
                .container_logs(&r.container, params.since, tail)
                .await
                .map_err(host)?
            {
                items.push(api::LogLine {
                    at: line.at,
                    replica: r.id.clone(),
                    line: line.line,
                });
            }
        }
        items.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.replica.cmp(&b.replica)));
        Ok(api::LogList { items })
    }

    pub async fn app_events(&self, p: &Principal, name: &str) -> Result<api::AppEventList> {
        self.iam
            .authorize(p, "apps:DescribeApps", &Self::res(p, "app", name))
            .await?;
        let app = self.app_lookup(p, name).await?;
        let items = self
            .store
            .app_event_list(&app.id, 500)
            .await?
            .into_iter()
            .map(|e| api::AppEvent {
                at: e.at,
                kind: e.kind,
                message: e.message,
            })
            .collect();
        Ok(api::AppEventList { items })
    }
}
