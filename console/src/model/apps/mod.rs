//! The Apps pages' plain logic: how an app, a replica, its health and a balancer's target are
//! badged; what the create and autoscaling forms send; the rollout's progress; live logs merged
//! across polls; sizes as shown. A replica's internals (namespaces, cgroup, layers) are in
//! `internals`. Plain Rust on `nuvem-api` types, tested on the host.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use nuvem_api::apps::{
    App, AppSpec, AppState, Autoscaling, BASE_IMAGES, ContainerImage, CreateAppRequest,
    HealthCheck, LogLine, ReplicaHealth,
};

mod internals;

pub use internals::*;

/// The CSS classes of an app's state badge.
pub fn app_badge_class(state: AppState) -> &'static str {
    match state {
        AppState::Running => "badge ok",
        AppState::Deploying | AppState::Deleting => "badge busy",
        AppState::Failed => "badge off",
    }
}

/// The API's name of an app state (`data-state`, and the badge's text before translation).
pub fn app_state_name(state: AppState) -> &'static str {
    match state {
        AppState::Deploying => "deploying",
        AppState::Running => "running",
        AppState::Failed => "failed",
        AppState::Deleting => "deleting",
    }
}

/// A replica's container state, in Docker's words (`running`, `created`, `exited`, `missing`).
pub fn replica_badge_class(state: &str) -> &'static str {
    match state {
        "running" => "badge ok",
        "created" | "restarting" => "badge busy",
        "missing" | "exited" | "dead" => "badge off",
        _ => "badge idle",
    }
}

pub fn health_name(h: ReplicaHealth) -> &'static str {
    match h {
        ReplicaHealth::Unknown => "unknown",
        ReplicaHealth::Healthy => "healthy",
        ReplicaHealth::Unhealthy => "unhealthy",
    }
}

/// Unknown is grey: no check has decided yet (on the simulated engine none ever does).
pub fn health_badge_class(h: ReplicaHealth) -> &'static str {
    match h {
        ReplicaHealth::Unknown => "badge idle",
        ReplicaHealth::Healthy => "badge ok",
        ReplicaHealth::Unhealthy => "badge off",
    }
}

/// A target's state as HAProxy reports it: `UP`, `UP 1/3` (going down), `DOWN`, `DOWN 1/2`
/// (coming up), `NOLB`, `MAINT`, `DRAIN`, `no check`; or Nuvem's own `initial` (not in the proxy
/// until healthy), `draining` (on its way out) and `starting` (no numbers from the proxy yet).
pub fn target_badge_class(state: &str) -> &'static str {
    let word = state.split_whitespace().next().unwrap_or_default();
    let changing = state.contains('/');
    match word {
        "UP" if changing => "badge busy",
        "UP" => "badge ok",
        "DOWN" if changing => "badge busy",
        "DOWN" => "badge off",
        "NOLB" | "DRAIN" | "initial" | "draining" | "starting" => "badge busy",
        _ => "badge idle",
    }
}

/// `healthy/desired`, as the apps list shows it.
pub fn healthy_of_desired(app: &App) -> String {
    let healthy = app
        .replicas
        .iter()
        .filter(|r| r.health == ReplicaHealth::Healthy)
        .count();
    format!("{healthy}/{}", app.replicas_desired)
}

/// How far a rollout to the app's current version has gone: replicas at that version against
/// those wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rollout {
    pub version: u32,
    pub updated: u32,
    pub desired: u32,
}

impl Rollout {
    pub fn of(app: &App) -> Rollout {
        let updated = app
            .replicas
            .iter()
            .filter(|r| r.version == app.version)
            .count();
        Rollout {
            version: app.version,
            updated: u32::try_from(updated).unwrap_or(u32::MAX),
            desired: app.replicas_desired,
        }
    }

    /// Every wanted replica runs the current version and no older one is left.
    pub fn done(self, app: &App) -> bool {
        self.updated >= self.desired && app.replicas.iter().all(|r| r.version == self.version)
    }
}

/// A number typed in a form, or the field's name when it is not one.
fn number<T: std::str::FromStr>(field: &'static str, text: &str) -> Result<T, BadField> {
    text.trim()
        .replace(',', ".")
        .parse()
        .map_err(|_| BadField(field))
}

/// A form field that is not what it should be (its name, which the page translates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadField(pub &'static str);

/// The create form as typed; numbers are text until [`CreateForm::request`] reads them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateForm {
    pub name: String,
    pub image: String,
    /// Empty: the image's own command. Split at spaces (no shell quoting): `httpd -f -p 8080`.
    pub command: String,
    pub port: String,
    pub replicas: String,
    pub cpu: String,
    pub memory_mib: String,
    /// Empty: no load balancer.
    pub public_port: String,
    /// Empty: a TCP check.
    pub health_path: String,
}

impl CreateForm {
    /// What the form proposes before the student types: the API's defaults.
    pub fn proposed() -> CreateForm {
        CreateForm {
            image: BASE_IMAGES[0].to_owned(),
            port: "8080".into(),
            replicas: "1".into(),
            cpu: "0.5".into(),
            memory_mib: "128".into(),
            ..CreateForm::default()
        }
    }

    /// The request, once every number reads as one. Names, ranges and paths are the server's
    /// to judge: its message is the one the documentation and cloudctl show.
    pub fn request(&self) -> Result<CreateAppRequest, BadField> {
        let optional = |s: &str| Some(s.trim().to_owned()).filter(|v| !v.is_empty());
        let public_port = match optional(&self.public_port) {
            Some(p) => Some(number("public_port", &p)?),
            None => None,
        };
        Ok(CreateAppRequest {
            name: self.name.trim().to_owned(),
            spec: AppSpec {
                image: self.image.trim().to_owned(),
                command: self.command.split_whitespace().map(str::to_owned).collect(),
                env: BTreeMap::new(),
                port: number("port", &self.port)?,
                cpu: number("cpu", &self.cpu)?,
                memory_mib: number("memory_mib", &self.memory_mib)?,
                health_check: HealthCheck {
                    path: optional(&self.health_path),
                    ..HealthCheck::default()
                },
            },
            replicas: number("replicas", &self.replicas)?,
            public_port,
            subnet_id: None,
            security_group_ids: None,
            tags: BTreeMap::new(),
        })
    }
}

/// The autoscaling form as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AutoscalingForm {
    pub min: String,
    pub max: String,
    pub target_cpu_percent: String,
    pub cooldown_seconds: String,
}

impl AutoscalingForm {
    /// The app's policy in the form, or a proposal when it has none.
    pub fn of(policy: Option<&Autoscaling>) -> AutoscalingForm {
        match policy {
            Some(p) => AutoscalingForm {
                min: p.min.to_string(),
                max: p.max.to_string(),
                target_cpu_percent: p.target_cpu_percent.to_string(),
                cooldown_seconds: p.cooldown_seconds.to_string(),
            },
            None => AutoscalingForm {
                min: "1".into(),
                max: "3".into(),
                target_cpu_percent: "50".into(),
                cooldown_seconds: "30".into(),
            },
        }
    }

    pub fn policy(&self) -> Result<Autoscaling, BadField> {
        Ok(Autoscaling {
            min: number("min", &self.min)?,
            max: number("max", &self.max)?,
            target_cpu_percent: number("target_cpu_percent", &self.target_cpu_percent)?,
            cooldown_seconds: number("cooldown_seconds", &self.cooldown_seconds)?,
        })
    }
}

/// The images an app can run: the shared bases first, then the account's own, each once.
pub fn image_choices(images: &[ContainerImage]) -> Vec<String> {
    let mut choices: Vec<String> = BASE_IMAGES.iter().map(|b| (*b).to_owned()).collect();
    let mut own: Vec<&ContainerImage> = images.iter().collect();
    own.sort_by_key(|i| (!i.base, i.reference.clone()));
    for i in own {
        if !choices.contains(&i.reference) {
            choices.push(i.reference.clone());
        }
    }
    choices
}

/// The most log lines kept on the page: a replica that logs fast must not grow it forever.
pub const MAX_LOG_LINES: usize = 1000;

/// Adds the lines of a poll (`since` the last line kept) to those shown: in time order, a line
/// already shown (same time, replica and text) never twice, at most [`MAX_LOG_LINES`] (the
/// newest).
pub fn merge_logs(shown: &mut Vec<LogLine>, new: Vec<LogLine>) {
    for line in new {
        if !shown.contains(&line) {
            shown.push(line);
        }
    }
    // Stable: lines of one time keep the order the server gave.
    shown.sort_by_key(|l| l.at);
    if shown.len() > MAX_LOG_LINES {
        shown.drain(..shown.len() - MAX_LOG_LINES);
    }
}

/// The `since` of the next poll: the newest line shown.
pub fn logs_since(shown: &[LogLine]) -> Option<DateTime<Utc>> {
    shown.iter().map(|l| l.at).max()
}

/// The lines as `cloudctl app logs` prints them: `r-1a2b | text`.
pub fn log_text(shown: &[LogLine]) -> String {
    shown
        .iter()
        .map(|l| format!("{} | {}", l.replica, l.line))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Bytes as `docker images` writes sizes: `812 B`, `2.0 MB` — in powers of 1024, named KiB,
/// MiB and GiB so that nobody has to guess which.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A replica's CPU at the last sample: `12.5 %`, or `—` before the first.
pub fn cpu_percent(p: Option<f64>) -> String {
    p.map_or_else(|| "—".to_owned(), |v| format!("{v:.1} %"))
}

/// The `replica/r-…` or `instance/i-…` of a target, split into kind and id.
pub fn target_kind(id: &str) -> (&str, &str) {
    id.split_once('/').unwrap_or(("", id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nuvem_api::apps::Replica;

    fn replica(version: u32, health: ReplicaHealth) -> Replica {
        Replica {
            id: format!("r-{version}"),
            version,
            container: "nv-app".into(),
            state: "running".into(),
            health,
            private_ip: "10.0.0.5".into(),
            interface_id: "eni-1".into(),
            restarts: 0,
            cpu_percent: None,
            created_at: Utc::now(),
        }
    }

    fn app(version: u32, desired: u32, replicas: Vec<Replica>) -> App {
        let request = CreateForm {
            name: "web".into(),
            ..CreateForm::proposed()
        }
        .request()
        .unwrap();
        App {
            id: "app-1".into(),
            name: "web".into(),
            nrn: "nrn:apps:app/web".into(),
            spec: request.spec,
            version,
            replicas_desired: desired,
            replicas,
            state: AppState::Deploying,
            status_reason: String::new(),
            subnet_id: "subnet-1".into(),
            security_group_ids: vec![],
            load_balancer_id: None,
            url: None,
            autoscaling: None,
            tags: BTreeMap::new(),
            created_at: Utc::now(),
        }
    }

    #[test]
    fn badges_follow_the_states() {
        assert_eq!(app_badge_class(AppState::Running), "badge ok");
        assert_eq!(app_badge_class(AppState::Deploying), "badge busy");
        assert_eq!(app_badge_class(AppState::Failed), "badge off");
        assert_eq!(app_state_name(AppState::Deleting), "deleting");
        assert_eq!(replica_badge_class("running"), "badge ok");
        assert_eq!(replica_badge_class("missing"), "badge off");
        assert_eq!(replica_badge_class("created"), "badge busy");
        assert_eq!(health_badge_class(ReplicaHealth::Unknown), "badge idle");
        assert_eq!(health_badge_class(ReplicaHealth::Unhealthy), "badge off");
        assert_eq!(health_name(ReplicaHealth::Healthy), "healthy");
    }

    #[test]
    fn haproxy_states_as_badges() {
        assert_eq!(target_badge_class("UP"), "badge ok");
        assert_eq!(target_badge_class("UP 1/3"), "badge busy");
        assert_eq!(target_badge_class("DOWN"), "badge off");
        assert_eq!(target_badge_class("DOWN 1/2"), "badge busy");
        assert_eq!(target_badge_class("MAINT"), "badge idle");
        assert_eq!(target_badge_class("no check"), "badge idle");
        assert_eq!(target_badge_class("DRAIN"), "badge busy");
        assert_eq!(target_kind("replica/r-12"), ("replica", "r-12"));
        assert_eq!(target_kind("odd"), ("", "odd"));
    }

    #[test]
    fn healthy_replicas_and_rollout_progress() {
        let a = app(
            2,
            3,
            vec![
                replica(1, ReplicaHealth::Healthy),
                replica(2, ReplicaHealth::Healthy),
                replica(2, ReplicaHealth::Unknown),
            ],
        );
        assert_eq!(healthy_of_desired(&a), "2/3");
        let r = Rollout::of(&a);
        assert_eq!((r.version, r.updated, r.desired), (2, 2, 3));
        assert!(!r.done(&a));
        let done = app(2, 2, vec![replica(2, ReplicaHealth::Healthy); 2]);
        assert!(Rollout::of(&done).done(&done));
        // Two at the new version and an old one still draining: not done yet.
        let mut draining = done.clone();
        draining.replicas.push(replica(1, ReplicaHealth::Healthy));
        assert!(!Rollout::of(&draining).done(&draining));
    }

    #[test]
    fn the_create_form_reads_numbers_and_leaves_the_rest_to_the_server() {
        let mut f = CreateForm {
            name: " web ".into(),
            public_port: "30080".into(),
            health_path: "/healthz".into(),
            ..CreateForm::proposed()
        };
        let r = f.request().unwrap();
        assert_eq!(r.name, "web");
        assert_eq!(r.spec.image, "nuvem/busybox:latest");
        assert_eq!((r.spec.port, r.replicas, r.spec.memory_mib), (8080, 1, 128));
        assert_eq!(r.spec.cpu, 0.5);
        assert_eq!(r.public_port, Some(30080));
        assert!(r.spec.command.is_empty(), "the image's own command");
        f.command = " httpd  -f -p 8080 ".into();
        assert_eq!(
            f.request().unwrap().spec.command,
            ["httpd", "-f", "-p", "8080"]
        );
        assert_eq!(r.spec.health_check.path.as_deref(), Some("/healthz"));
        // Portuguese decimals are typed with a comma.
        f.cpu = "0,25".into();
        assert_eq!(f.request().unwrap().spec.cpu, 0.25);
        f.public_port = " ".into();
        f.health_path = String::new();
        let r = f.request().unwrap();
        assert_eq!((r.public_port, r.spec.health_check.path), (None, None));
        f.port = "http".into();
        assert_eq!(f.request().unwrap_err(), BadField("port"));
        f.port = "70000".into();
        assert_eq!(f.request().unwrap_err(), BadField("port"), "not a u16");
        f.port = "80".into();
        f.name = "Bad Name".into();
        assert!(f.request().is_ok(), "names are the server's to refuse");
    }

    #[test]
    fn the_autoscaling_form() {
        let f = AutoscalingForm::of(None);
        let p = f.policy().unwrap();
        assert_eq!((p.min, p.max, p.cooldown_seconds), (1, 3, 30));
        assert_eq!(AutoscalingForm::of(Some(&p)), f);
        let bad = AutoscalingForm {
            max: "lots".into(),
            ..f
        };
        assert_eq!(bad.policy().unwrap_err(), BadField("max"));
    }

    #[test]
    fn images_offered_bases_first_each_once() {
        let image = |reference: &str, base: bool| ContainerImage {
            reference: reference.into(),
            name: reference.split(':').next().unwrap().into(),
            tag: "latest".into(),
            account_id: String::new(),
            size_bytes: 1,
            layers: vec![],
            base,
            created_at: Utc::now(),
        };
        let list = [
            image("web:v2", false),
            image("nuvem/busybox:latest", true),
            image("api:v1", false),
        ];
        assert_eq!(
            image_choices(&list),
            [
                "nuvem/busybox:latest",
                "nuvem/debian:12",
                "api:v1",
                "web:v2"
            ]
        );
    }

    #[test]
    fn logs_merge_in_time_order_without_repeats() {
        let t0 = Utc::now();
        let line = |s: i64, r: &str, text: &str| LogLine {
            at: t0 + chrono::Duration::seconds(s),
            replica: r.into(),
            line: text.into(),
        };
        let mut shown = vec![line(0, "r-a", "start"), line(2, "r-a", "get /")];
        // The next poll repeats the last line (`since` is that line's time) and brings one of
        // another replica logged in between.
        merge_logs(
            &mut shown,
            vec![line(1, "r-b", "start"), line(2, "r-a", "get /")],
        );
        assert_eq!(log_text(&shown), "r-a | start\nr-b | start\nr-a | get /");
        assert_eq!(logs_since(&shown), Some(t0 + chrono::Duration::seconds(2)));
        assert_eq!(logs_since(&[]), None);
        let many: Vec<LogLine> = (0..MAX_LOG_LINES as i64 + 5)
            .map(|i| line(10 + i, "r-a", "x"))
            .collect();
        merge_logs(&mut shown, many);
        assert_eq!(shown.len(), MAX_LOG_LINES);
        assert_eq!(
            shown[0].at,
            t0 + chrono::Duration::seconds(15),
            "the oldest go"
        );
    }

    #[test]
    fn sizes_and_cpu_as_shown() {
        assert_eq!(bytes(812), "812 B");
        assert_eq!(bytes(2_000_000), "1.9 MiB");
        assert_eq!(bytes(3 << 30), "3.0 GiB");
        assert_eq!(cpu_percent(Some(12.345)), "12.3 %");
        assert_eq!(cpu_percent(None), "—");
    }
}
