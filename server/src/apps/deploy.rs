//! Creating and deleting an app, as sagas. Create: the app's security group, the app's row, the
//! replicas, the load balancer, then running — a crash or a failure unwinds every step (the app
//! never happened, nothing is left on the host). Delete: resumed after a crash until nothing of
//! the app is left.

use std::collections::BTreeMap;

use chrono::Utc;
use nuvem_api::apps as api;
use serde::{Deserialize, Serialize};

use super::Apps;
use crate::error::{Error, Result};
use crate::saga::{Recovery, SagaKind, Step, StepFuture, nothing_to_undo};
use crate::store::apps::AppRow;

/// What the create saga works on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Create {
    pub account_id: String,
    pub app_id: String,
    pub name: String,
    pub spec: api::AppSpec,
    pub replicas: u32,
    pub subnet_id: String,
    /// `None`: make a group for the app.
    pub security_group_ids: Option<Vec<String>>,
    pub own_security_group: Option<String>,
    pub public_port: Option<u16>,
    pub tags: BTreeMap<String, String>,
}

pub struct CreateSaga;

impl SagaKind for CreateSaga {
    type Context = Apps;
    type State = Create;
    const KIND: &'static str = "apps.app-create";
    const RECOVERY: Recovery = Recovery::Unwind;

    fn steps() -> &'static [Step<Apps, Create>] {
        CREATE_STEPS
    }

    fn resource(state: &Create) -> String {
        format!("app/{}", state.app_id)
    }
}

const CREATE_STEPS: &[Step<Apps, Create>] = &[
    Step {
        name: "security-group",
        run: group_create,
        undo: group_delete,
    },
    Step {
        name: "record",
        run: record,
        undo: unrecord,
    },
    Step {
        name: "replicas",
        run: replicas_make,
        undo: replicas_remove,
    },
    Step {
        name: "load-balancer",
        run: balancer_create,
        undo: balancer_delete,
    },
    Step {
        name: "running",
        run: running,
        undo: nothing_to_undo,
    },
];

fn group_create<'a>(a: &'a Apps, s: &'a mut Create) -> StepFuture<'a> {
    Box::pin(async move {
        if s.security_group_ids.is_some() {
            return Ok(());
        }
        let gateway = a.vpc.subnet_gateway(&s.account_id, &s.subnet_id).await?;
        let id = a
            .vpc
            .sg_create_owned(
                &s.account_id,
                &s.subnet_id,
                &format!("app-{}", s.name),
                s.spec.port,
                &format!("{gateway}/32"),
            )
            .await?;
        s.own_security_group = Some(id.clone());
        s.security_group_ids = Some(vec![id]);
        Ok(())
    })
}

fn group_delete<'a>(a: &'a Apps, s: &'a Create, _: &'a str) -> StepFuture<'a> {
    Box::pin(async move {
        match &s.own_security_group {
            Some(id) => a.vpc.sg_delete_owned(&s.account_id, id).await,
            None => Ok(()),
        }
    })
}

fn record<'a>(a: &'a Apps, s: &'a mut Create) -> StepFuture<'a> {
    Box::pin(async move {
        if a.store.app_get_by_id(&s.app_id).await?.is_some() {
            return Ok(());
        }
        a.store
            .app_create(AppRow {
                id: s.app_id.clone(),
                account_id: s.account_id.clone(),
                name: s.name.clone(),
                spec: serde_json::to_string(&s.spec).map_err(Error::internal)?,
                version: 1,
                replicas_desired: s.replicas as i32,
                state: "deploying".into(),
                status_reason: String::new(),
                subnet_id: s.subnet_id.clone(),
                security_group_ids: serde_json::to_string(
                    s.security_group_ids.as_deref().unwrap_or_default(),
                )
                .map_err(Error::internal)?,
                own_security_group: s.own_security_group.clone(),
                load_balancer_id: None,
                autoscaling: None,
                last_scaled_at: None,
                tags: serde_json::to_string(&s.tags).map_err(Error::internal)?,
                created_at: Utc::now(),
            })
            .await
            .map(drop)
    })
}

fn unrecord<'a>(a: &'a Apps, s: &'a Create, _: &'a str) -> StepFuture<'a> {
    Box::pin(async move { a.store.app_delete(&s.app_id).await })
}

async fn the_app(a: &Apps, id: &str) -> Result<AppRow> {
    a.store
        .app_get_by_id(id)
        .await?
        .ok_or_else(|| Error::internal(format!("app {id} vanished during its deploy")))
}

fn replicas_make<'a>(a: &'a Apps, s: &'a mut Create) -> StepFuture<'a> {
    Box::pin(async move {
        let app = the_app(a, &s.app_id).await?;
        let have = a.store.replica_list(&app.id).await?.len() as u32;
        for _ in have..s.replicas {
            a.replica_make(&app, &s.spec, super::replicas::new_id("r"))
                .await?;
        }
        Ok(())
    })
}

fn replicas_remove<'a>(a: &'a Apps, s: &'a Create, _: &'a str) -> StepFuture<'a> {
    Box::pin(async move { a.replicas_remove_all(&s.account_id, &s.app_id).await })
}

fn balancer_create<'a>(a: &'a Apps, s: &'a mut Create) -> StepFuture<'a> {
    Box::pin(async move {
        let Some(port) = s.public_port else {
            return Ok(());
        };
        let mut app = the_app(a, &s.app_id).await?;
        if app.load_balancer_id.is_none() {
            let row = Apps::lb_row(
                &s.account_id,
                &s.name,
                port,
                Some(&app),
                &[],
                None,
                &s.spec.health_check,
            )?;
            let row = a.store.lb_create(row).await?;
            app.load_balancer_id = Some(row.id);
            a.store.app_save(&app).await?;
        }
        a.proxy_sync().await.map(drop)
    })
}

fn balancer_delete<'a>(a: &'a Apps, s: &'a Create, _: &'a str) -> StepFuture<'a> {
    Box::pin(a.app_balancers_remove(&s.account_id, &s.app_id))
}

fn running<'a>(a: &'a Apps, s: &'a mut Create) -> StepFuture<'a> {
    Box::pin(async move {
        let mut app = the_app(a, &s.app_id).await?;
        app.state = "running".into();
        a.store.app_save(&app).await?;
        a.event(
            &app.id,
            &app.account_id,
            "deploy",
            &format!(
                "deployed version 1 of {} with {} replica(s)",
                s.spec.image, s.replicas
            ),
        )
        .await;
        Ok(())
    })
}

/// What the delete saga works on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delete {
    pub account_id: String,
    pub app_id: String,
}

pub struct DeleteSaga;

impl SagaKind for DeleteSaga {
    type Context = Apps;
    type State = Delete;
    const KIND: &'static str = "apps.app-delete";
    /// A delete cannot be taken back once replicas are gone: it is finished after a crash.
    const RECOVERY: Recovery = Recovery::Resume;

    fn steps() -> &'static [Step<Apps, Delete>] {
        DELETE_STEPS
    }

    fn resource(state: &Delete) -> String {
        format!("app/{}", state.app_id)
    }
}

const DELETE_STEPS: &[Step<Apps, Delete>] = &[
    Step {
        name: "balancer",
        run: delete_balancer,
        undo: nothing_to_undo,
    },
    Step {
        name: "replicas",
        run: delete_replicas,
        undo: nothing_to_undo,
    },
    Step {
        name: "forget",
        run: delete_row,
        undo: nothing_to_undo,
    },
];

fn delete_balancer<'a>(a: &'a Apps, s: &'a mut Delete) -> StepFuture<'a> {
    Box::pin(a.app_balancers_remove(&s.account_id, &s.app_id))
}

fn delete_replicas<'a>(a: &'a Apps, s: &'a mut Delete) -> StepFuture<'a> {
    Box::pin(async move { a.replicas_remove_all(&s.account_id, &s.app_id).await })
}

fn delete_row<'a>(a: &'a Apps, s: &'a mut Delete) -> StepFuture<'a> {
    Box::pin(async move {
        if let Some(app) = a.store.app_get_by_id(&s.app_id).await? {
            if let Some(sg) = &app.own_security_group {
                a.vpc.sg_delete_owned(&s.account_id, sg).await?;
            }
            a.store.app_delete(&app.id).await?;
        }
        Ok(())
    })
}

impl Apps {
    /// Removes the load balancers made for an app and takes them out of the proxy (the create
    /// saga's undo and the delete saga's step).
    async fn app_balancers_remove(&self, account_id: &str, app_id: &str) -> Result<()> {
        for lb in self.store.lb_list(account_id).await? {
            if lb.app_id.as_deref() == Some(app_id) {
                self.store.lb_delete(&lb.id).await?;
            }
        }
        self.proxy_sync().await.map(drop)
    }
}
