//! Starting and stopping the server: data directory, database, keys, the operator account, and
//! the HTTP listener. Used by `main`, the integration tests and the benchmarks alike.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use actix_web::{HttpServer, web};
use anyhow::Context;

use crate::Nuvem;
use crate::billing::Billing;
use crate::compute::{Compute, ComputeConfig};
use crate::config::{Config, HypervisorDriver, NetworkDriver};
use crate::drivers::Drivers;
use crate::drivers::hypervisor::{Libvirt, SimHypervisor};
use crate::drivers::net::{LinuxNetwork, SimNetwork};
use crate::http::{self, metrics::Metrics};
use crate::iam::{Bootstrap, Iam, SessionPolicy, crypto::Keys};
use crate::platform::Platform;
use crate::reconcile::Reconcilers;
use crate::saga::{SagaReconciler, Sagas};
use crate::store::Store;
use crate::vpc::Vpc;

/// The file holding the operator's first password, as Jenkins' `initialAdminPassword`.
pub const INITIAL_ADMIN_PASSWORD_FILE: &str = "initial-admin-password";

/// A started server.
pub struct Running {
    pub addr: SocketAddr,
    pub nuvem: Nuvem,
    /// What this start did about the operator account.
    pub bootstrap: Bootstrap,
    pub data_dir: PathBuf,
    /// Nuvem's S3 endpoint, when object storage is on.
    pub s3: Option<crate::storage::Listener>,
    /// The static-website endpoint, when object storage is on.
    pub s3_website: Option<crate::storage::Listener>,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// The generated operator password, when this start created the operator account with one.
    pub fn generated_admin_password(&self) -> Option<&str> {
        match &self.bootstrap {
            Bootstrap::CreatedWithGeneratedPassword(pw) => Some(pw),
            _ => None,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://host:port` of the S3 endpoint, when object storage is on.
    pub fn s3_url(&self) -> Option<String> {
        self.s3.as_ref().map(|s| s.url())
    }

    /// `http://host:port` of the static-website endpoint, when object storage is on.
    pub fn s3_website_url(&self) -> Option<String> {
        self.s3_website.as_ref().map(|s| s.url())
    }

    /// Stops accepting, lets requests in flight finish, and waits.
    pub async fn stop(mut self) {
        stop_listeners(self.s3.take(), self.s3_website.take()).await;
        self.nuvem.reconcilers.shutdown();
        self.nuvem.compute.shutdown();
        self.handle.stop(true).await;
        let _ = self.task.await;
        release(&self.nuvem).await;
    }

    /// Runs until the server stops (SIGINT/SIGTERM trigger a graceful stop).
    pub async fn wait(mut self) -> anyhow::Result<()> {
        self.task.await??;
        stop_listeners(self.s3.take(), self.s3_website.take()).await;
        self.nuvem.reconcilers.shutdown();
        self.nuvem.compute.shutdown();
        release(&self.nuvem).await;
        Ok(())
    }
}

/// Stops object storage's listeners (the S3 and website endpoints), when it is on.
async fn stop_listeners(
    s3: Option<crate::storage::Listener>,
    site: Option<crate::storage::Listener>,
) {
    for listener in [s3, site].into_iter().flatten() {
        listener.stop().await;
    }
}

/// Lets go of what outlives the HTTP server: the saga registry (whose recovery closures hold the
/// services, and so the store) and the database pool, closed for every clone of it — a process
/// that starts many servers (the tests) would otherwise keep each one's connections.
async fn release(nuvem: &Nuvem) {
    nuvem.sagas.forget_kinds();
    nuvem.store.close().await;
}

fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(text.as_bytes())
}

/// The data directory, created if missing and (re)set to root's alone — 0700, or 0710 with the
/// guests' QEMU group when real guests run, so that QEMU can reach its files below it (each of
/// which keeps its own, narrower mode). A world-writable directory (/tmp) is refused, not chmod'ed.
fn prepare_data_dir(config: &Config) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = &config.data_dir;
    if let Ok(meta) = std::fs::metadata(dir)
        && meta.permissions().mode() & 0o002 != 0
    {
        anyhow::bail!(
            "the data directory {} is writable by every user; choose a directory of its own (e.g. /var/lib/nuvem)",
            dir.display()
        );
    }
    let group = match config.hypervisor {
        HypervisorDriver::Libvirt => Some(
            crate::drivers::hypervisor::qemu_user()
                .context(
                    "libvirt's unprivileged QEMU user (libvirt-qemu) is missing: install libvirt (infra/install.sh), or start with --hypervisor simulated",
                )?
                .gid,
        ),
        HypervisorDriver::Simulated => None,
    };
    let mode = if group.is_some() { 0o710 } else { 0o700 };
    crate::drivers::private_dir(dir, mode, group)
        .with_context(|| format!("cannot prepare the data directory {}", dir.display()))?;
    Ok(())
}

/// The file of a SQLite database URL (`sqlite://PATH?…` or `sqlite:PATH`), unless in memory.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:") && !url.contains("mode=memory"))
        .then(|| PathBuf::from(path))
}

/// Creates the SQLite file with mode 0600 before SQLite opens it (SQLite gives its -wal and -shm
/// files the database file's mode), and narrows the modes of existing ones.
fn prepare_sqlite(url: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let Some(db) = sqlite_file(url) else {
        return Ok(());
    };
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&db)
        .with_context(|| format!("cannot create the database file {}", db.display()))?;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let f = PathBuf::from(format!("{}{suffix}", db.display()));
        if f.exists() {
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("cannot chmod {}", f.display()))?;
        }
    }
    Ok(())
}

/// The drivers the configuration names: the host's own (Linux, libvirt) or the simulated twins.
async fn configured_drivers(config: &Config) -> anyhow::Result<Drivers> {
    use crate::config::ContainerEngineDriver;
    use crate::drivers::containers::{ContainerEngine, Docker, SimEngine};
    use crate::drivers::proxy::{Haproxy, LoadBalancerProxy, SimProxy};
    let containers: Option<Arc<dyn ContainerEngine>> = match config.container_engine {
        ContainerEngineDriver::Docker => match Docker::connect().await {
            Ok(d) => Some(Arc::new(d)),
            Err(e) => {
                tracing::warn!(error = %e, "container apps are off: dockerd does not answer (start it with infra/daemons.sh start)");
                None
            }
        },
        ContainerEngineDriver::Simulated => Some(Arc::new(SimEngine::default())),
        ContainerEngineDriver::Off => None,
    };
    let proxy: Arc<dyn LoadBalancerProxy> = match config.container_engine {
        ContainerEngineDriver::Docker => Arc::new(Haproxy::new(&config.data_dir)?),
        _ => Arc::new(SimProxy::default()),
    };
    Ok(Drivers {
        net: match config.network_driver {
            NetworkDriver::Linux => Arc::new(LinuxNetwork::new(&config.data_dir)?),
            NetworkDriver::Simulated => Arc::new(SimNetwork::default()),
        },
        hypervisor: match config.hypervisor {
            HypervisorDriver::Libvirt => Arc::new(Libvirt::new(&config.libvirt_uri)),
            HypervisorDriver::Simulated => Arc::new(SimHypervisor::default()),
        },
        containers,
        proxy,
    })
}

/// How long an idle client connection is kept open: longer than any client keeps one idle.
const SERVER_KEEP_ALIVE_SECS: u64 = 120;

/// Starts a server on the drivers its configuration names.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    start_on(config, None).await
}

/// Starts a server on drivers built by the caller: a test keeps the simulated twins of
/// [`Drivers::simulated`] to reach into them. They should be the kinds `config` names (which
/// decides, for one, whether the data directory is opened to QEMU's group).
pub async fn start_with_drivers(config: Config, drivers: Drivers) -> anyhow::Result<Running> {
    start_on(config, Some(drivers)).await
}

/// `None`: the drivers the configuration names, built once the data directory is ready for them.
async fn start_on(config: Config, drivers: Option<Drivers>) -> anyhow::Result<Running> {
    prepare_data_dir(&config)?;
    prepare_sqlite(&config.database_url)?;
    let store = Store::connect(&config.database_url)
        .await
        .with_context(|| format!("cannot open the database {}", redact(&config.database_url)))?;
    let keys = Arc::new(Keys::load(&config.data_dir).context("cannot load the keys")?);
    crate::drivers::private_dir(&config.data_dir.join("keys"), 0o700, None)?;
    let iam = Iam::new(
        store.clone(),
        keys,
        SessionPolicy {
            default_ttl_seconds: config.session_ttl_seconds,
            throttle: config.sign_in_throttle,
            hashing_threads: 0,
            hashing_queue: config.hashing_queue,
        },
        config.quotas,
    );
    let bootstrap = iam
        .bootstrap_operator(config.admin_password.clone())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Bootstrap::CreatedWithGeneratedPassword(pw) = &bootstrap {
        let path = config.data_dir.join(INITIAL_ADMIN_PASSWORD_FILE);
        write_private(&path, &format!("{pw}\n"))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let drivers = match drivers {
        Some(d) => d,
        None => configured_drivers(&config).await?,
    };
    // Multi-step operations of every service, with their progress in the database.
    let sagas = Sagas::new(store.clone());
    // One hook for every service's usage events; metering writes each to its ledger.
    let usage = crate::usage::Usage::default();
    let billing = Billing::start(
        store.clone(),
        iam.clone(),
        config.billing_currency,
        config.price_file.as_deref(),
    )
    .await
    .context("cannot start metering")?;
    usage.subscribe(Arc::new(billing.clone()));
    let forward_address = config
        .port_forward_address
        .or_else(crate::drivers::host_ports::default_route_address)
        .unwrap_or(std::net::Ipv4Addr::LOCALHOST);
    tracing::info!(address = %forward_address, ports = ?config.port_forward_ports, "port forwards are published here");
    let vpc = Vpc::new(
        store.clone(),
        iam.clone(),
        drivers.net,
        &config.data_dir,
        &config.vpc_pool,
        crate::vpc::PortForwardPolicy {
            address: forward_address,
            ports: config.port_forward_ports,
        },
        Platform {
            sagas: sagas.clone(),
            usage: usage.clone(),
        },
    )?;
    let compute = Compute::new(
        store.clone(),
        iam.clone(),
        vpc.clone(),
        drivers.hypervisor,
        &config.data_dir,
        ComputeConfig {
            images_dir: config.images_dir.clone(),
            cpu_ratio: config.cpu_ratio,
            accelerator: config.accelerator,
            libvirt_uri: config.libvirt_uri.clone(),
            image_import_dir: config.image_import_dir.clone(),
        },
        Platform {
            sagas: sagas.clone(),
            usage: usage.clone(),
        },
    );
    billing.register(Arc::new(compute.clone()));
    billing.register(Arc::new(vpc.clone()));
    let storage = match &config.s3_engine_file {
        Some(file) => {
            let engine = crate::storage::EngineConfig::load(file)?;
            tracing::info!(engine = %engine.endpoint, "object storage on, with this S3 engine");
            Some(crate::storage::Storage::new(
                store.clone(),
                iam.clone(),
                &engine,
                Platform {
                    sagas: sagas.clone(),
                    usage: usage.clone(),
                },
            ))
        }
        None => {
            tracing::info!(
                "object storage off: no S3 engine file (start one with infra/seaweedfs.sh start)"
            );
            None
        }
    };
    let apps = drivers.containers.clone().map(|engine| {
        crate::apps::Apps::new(
            store.clone(),
            iam.clone(),
            vpc.clone(),
            engine,
            drivers.proxy.clone(),
            crate::apps::ListenerPolicy {
                address: forward_address,
                ports: config.load_balancer_ports,
            },
            Platform {
                sagas: sagas.clone(),
                usage: usage.clone(),
            },
        )
    });
    if let Some(a) = &apps {
        sagas.register::<crate::apps::deploy::CreateSaga>(a.clone());
        sagas.register::<crate::apps::deploy::DeleteSaga>(a.clone());
        sagas.register::<crate::apps::RolloutSaga>(a.clone());
    }
    sagas.register::<crate::vpc::change::NetworkChange>(vpc.clone());
    sagas.register::<crate::compute::launch::LaunchSaga>(compute.clone());
    sagas.register::<crate::account_deletion::AccountDeletion>(crate::account_deletion::Services {
        iam: iam.clone(),
        vpc: vpc.clone(),
        compute: compute.clone(),
        storage: storage.clone(),
    });
    compute
        .start()
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the compute service ({e}); is libvirtd running (infra/daemons.sh)? Or start with --hypervisor simulated"))?;
    // The host is made to match the database before the first request: after a crash, a reboot
    // or a kill -9, bridges, DHCP, firewall and guests come back as the database says. Then each
    // reconciler runs on its own timer.
    let mut loops: Vec<Arc<dyn crate::reconcile::Reconciler>> = vec![
        Arc::new(vpc.clone()),
        Arc::new(SagaReconciler(sagas.clone())),
        Arc::new(compute.clone()),
        Arc::new(billing.clone()),
    ];
    if let Some(s) = &storage {
        loops.push(Arc::new(s.clone()));
    }
    if let Some(a) = &apps {
        loops.push(Arc::new(a.clone()));
    }
    let reconcilers = Reconcilers::new(loops);
    reconcilers.run_or_fail("vpc").await.map_err(|e| {
        anyhow::anyhow!(
            "cannot set up the host network ({e}); run as root, or start with --network-driver simulated"
        )
    })?;
    // Launches and other operations a crash interrupted are unwound or finished first.
    reconcilers
        .run_or_fail("sagas")
        .await
        .map_err(|e| anyhow::anyhow!("cannot finish the operations a restart interrupted ({e})"))?;
    reconcilers.run_or_fail("compute").await.map_err(|e| {
        anyhow::anyhow!("cannot reconcile the guests with libvirt ({e}); is libvirtd running (infra/daemons.sh)? Or start with --hypervisor simulated")
    })?;
    // With the guests' real state known, the ledger is continued or closed from it: whatever
    // ran while the server was down is billed, nothing twice.
    reconcilers
        .run_or_fail("billing")
        .await
        .map_err(|e| anyhow::anyhow!("cannot reconcile the usage ledger ({e})"))?;
    if storage.is_some() {
        // Buckets the engine lost are made again before the S3 endpoint takes requests.
        reconcilers.run_or_fail("storage").await.map_err(|e| {
            anyhow::anyhow!(
                "cannot reach the S3 engine ({e}); is it running (infra/seaweedfs.sh start)?"
            )
        })?;
    }
    if apps.is_some() {
        // Replicas that died while the server was down are back, and the balancers match the
        // database, before the first request.
        reconcilers
            .run_or_fail("apps")
            .await
            .map_err(|e| anyhow::anyhow!("cannot reconcile the container apps ({e}); is dockerd running (infra/daemons.sh start)? Or start with --container-engine off"))?;
    }
    reconcilers.start();
    let (s3, s3_website) = match &storage {
        Some(s) => (
            Some(s.serve_s3(&config.s3_listen, &config.s3_domain).await?),
            Some(
                s.serve_websites(&config.s3_website_listen, &config.s3_domain)
                    .await?,
            ),
        ),
        None => (None, None),
    };
    let nuvem = Nuvem {
        store,
        iam,
        vpc,
        compute,
        billing,
        storage,
        apps,
        usage,
        sagas,
        reconcilers,
    };
    let data = web::Data::new(nuvem.clone());
    let metrics = web::Data::new(Metrics::new());
    let console = web::Data::new(http::ConsoleFiles(config.console_dir.clone()));
    let mut server =
        HttpServer::new(move || http::app(data.clone(), metrics.clone(), console.clone()))
            .shutdown_timeout(10)
            // Clients keep idle connections (reqwest 90 s by default, the SDK 30 s). A server that
            // closes an idle one first races a request sent on it at that moment, and the client
            // sees "connection closed before message completed" (actix's default is 5 s).
            .keep_alive(std::time::Duration::from_secs(SERVER_KEEP_ALIVE_SECS));
    if let Some(n) = config.workers {
        server = server.workers(n);
    }
    let server = server
        .bind(&config.listen)
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = *server.addrs().first().context("no listening address")?;
    let server = server.run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    Ok(Running {
        addr,
        nuvem,
        bootstrap,
        data_dir: config.data_dir,
        s3,
        s3_website,
        handle,
        task,
    })
}

/// Hides a password in a database URL for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
