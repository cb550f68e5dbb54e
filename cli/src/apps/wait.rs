//! `--wait` on create, deploy and scale: polls the app until its replicas of the asked version
//! are all healthy, with a spinner saying how far it is; a rollback or a failure is an error
//! with the server's reason.

use std::time::{Duration, Instant};

use anyhow::bail;
use nuvem_api::apps::{App, AppState, ReplicaHealth};
use nuvem_sdk::Client;

/// Longer than the slowest honest deploy here (a Debian image's first start under load).
const PATIENCE: Duration = Duration::from_secs(300);

pub(super) async fn deployed(c: &Client, name: &str, version: u32) -> anyhow::Result<App> {
    let spinner =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr())
            .with_style(indicatif::ProgressStyle::default_spinner());
    spinner.enable_steady_tick(Duration::from_millis(120));
    let started = Instant::now();
    loop {
        let app = c.get_app(name).await?;
        let healthy = app
            .replicas
            .iter()
            .filter(|r| r.version == app.version && r.health == ReplicaHealth::Healthy)
            .count();
        spinner.set_message(format!(
            "{name}: {} — {healthy}/{} replicas of version {} healthy{}",
            state_word(app.state),
            app.replicas_desired,
            app.version,
            if app.status_reason.is_empty() {
                String::new()
            } else {
                format!(" ({})", app.status_reason)
            }
        ));
        match app.state {
            AppState::Failed => {
                spinner.finish_and_clear();
                bail!("{name} failed: {}", app.status_reason)
            }
            AppState::Running if app.version < version => {
                spinner.finish_and_clear();
                bail!("{}", app.status_reason)
            }
            AppState::Running
                if healthy == app.replicas_desired as usize
                    && app.replicas.len() == app.replicas_desired as usize =>
            {
                spinner.finish_and_clear();
                eprintln!(
                    "✔ {name}: {healthy} replica(s) of version {} healthy ({} s)",
                    app.version,
                    started.elapsed().as_secs()
                );
                return Ok(app);
            }
            AppState::Deleting => {
                spinner.finish_and_clear();
                bail!("{name} is being deleted")
            }
            _ => {}
        }
        if started.elapsed() > PATIENCE {
            spinner.finish_and_clear();
            bail!(
                "{name} was not deployed within {} s; `cloudctl app events {name}` says what happened",
                PATIENCE.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

pub(super) fn state_word(state: AppState) -> &'static str {
    match state {
        AppState::Deploying => "deploying",
        AppState::Running => "running",
        AppState::Failed => "failed",
        AppState::Deleting => "deleting",
    }
}
