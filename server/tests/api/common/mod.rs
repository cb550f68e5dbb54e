//! Test harness: a real `nuvem-server` on a loopback port, on a real SQLite file or a fresh database
//! in a real PostgreSQL server (`NUVEM_TEST_POSTGRES_URL`, started by `infra/test.sh`), with the
//! simulated host network or the real one (bridges, dnsmasq, iptables; needs root).

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use nuvem_sdk::{Client, Credentials};
use nuvem_server::config::{Config, HypervisorDriver, NetworkDriver};
use nuvem_server::drivers::{Drivers, SimDrivers};
use nuvem_server::server::{self, Running};
use sea_orm::{ConnectionTrait, Database};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct Cloud {
    server: Option<Running>,
    pub admin: Client,
    pub admin_password: String,
    pub backend: Backend,
    pub network: NetworkDriver,
    pub hypervisor: HypervisorDriver,
    pub images_dir: std::path::PathBuf,
    /// The address pool of this server's VPCs (distinct per test server on the host).
    pub pool: String,
    /// The PostgreSQL database of this test (None: SQLite in the data directory).
    pub database_url: Option<String>,
    /// The simulated twins the server runs on, when both drivers are simulated.
    sims: Option<SimDrivers>,
    dir: Option<tempfile::TempDir>,
}

/// The PostgreSQL server for tests; `None` means skip (never in CI, where it is an error). The tests
/// that use it are `#[ignore]`d, so a plain `cargo test` lists them as ignored; `infra/test.sh`
/// runs them with `--include-ignored`.
pub fn postgres_url() -> Option<String> {
    match std::env::var("NUVEM_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(url) => Some(url),
        None if in_ci() => {
            panic!("NUVEM_TEST_POSTGRES_URL must be set in CI (infra/test.sh starts PostgreSQL)")
        }
        None => {
            eprintln!(
                "SKIPPED on PostgreSQL: NUVEM_TEST_POSTGRES_URL is not set (infra/test.sh starts a server and sets it)"
            );
            None
        }
    }
}

/// The S3 engine of the tests (`NUVEM_TEST_S3_ENGINE`: the engine file `infra/seaweedfs.sh start`
/// prints; `infra/test.sh` starts one); `None` means skip, never in CI, where it is an error.
pub fn s3_engine(test: &str) -> Option<std::path::PathBuf> {
    match std::env::var("NUVEM_TEST_S3_ENGINE")
        .ok()
        .filter(|f| !f.is_empty())
    {
        Some(file) => Some(file.into()),
        None if in_ci() => {
            panic!(
                "{test}: NUVEM_TEST_S3_ENGINE must be set in CI (infra/test.sh starts SeaweedFS)"
            )
        }
        None => {
            eprintln!(
                "SKIPPED {test}: NUVEM_TEST_S3_ENGINE is not set (run: export NUVEM_TEST_S3_ENGINE=$(infra/seaweedfs.sh start /tmp/nuvem-test-s3))"
            );
            None
        }
    }
}

/// The directory holding the `aws` CLI and the `python` with boto3 (`infra/seaweedfs.sh install`).
pub fn s3_clients_bin() -> std::path::PathBuf {
    std::env::var("NUVEM_TEST_S3_CLIENTS")
        .ok()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "/opt/nuvem/s3-clients/bin".to_owned())
        .into()
}

/// The one definition of "in CI": `CI=true` (set by `.ci/run` and defaulted by `infra/test.sh`).
/// There, a test that cannot run fails instead of skipping. `e2e/src/lib.rs` has an identical
/// copy (`nuvem_e2e::in_ci`); keep the two the same.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Whether the real host network can be used here (root, `ip`, `iptables`, `dnsmasq`). Tests that
/// call it are `#[ignore = "needs root …"]`; when they are run anyway, a missing piece is a skip
/// outside CI and a failure in CI.
pub fn real_network_available(test: &str) -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false);
    let tools = ["/usr/sbin/ip", "/usr/sbin/iptables", "/usr/sbin/dnsmasq"]
        .iter()
        .all(|p| {
            std::path::Path::new(p).exists()
                || std::path::Path::new(&p.replace("/usr", "")).exists()
        });
    match (root && tools, in_ci()) {
        (true, _) => true,
        (false, true) => {
            panic!("{test}: CI must run as root with ip, iptables and dnsmasq (infra/install.sh)")
        }
        (false, false) => {
            eprintln!(
                "SKIPPED {test}: needs root and ip/iptables/dnsmasq (run infra/test.sh as root)"
            );
            false
        }
    }
}

/// Creates an empty database for one test, so tests never see each other's rows.
pub async fn fresh_postgres_database(admin_url: &str) -> String {
    let name = format!("nuvem_test_{}", unique());
    let db = Database::connect(admin_url)
        .await
        .expect("connect to the test PostgreSQL");
    db.execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create a test database");
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b)
        .unwrap_or(admin_url);
    format!("{base}/{name}")
}

fn unique() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}{:x}", nanos, std::process::id())
}

/// A distinct /16 per test server of this process, inside the default pool.
fn next_pool() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    format!("10.{}.0.0/16", 64 + (n % 64))
}

impl Cloud {
    /// Starts a server on the simulated network; `None` when the backend is not available here
    /// (PostgreSQL outside CI).
    pub async fn start(backend: Backend) -> Option<Cloud> {
        Self::start_with(backend, NetworkDriver::Simulated).await
    }

    pub async fn start_with(backend: Backend, network: NetworkDriver) -> Option<Cloud> {
        Self::start_configured(backend, |c| c.network_driver = network).await
    }

    /// Real network and real libvirt/QEMU, with the built images of `images_dir`.
    pub async fn start_with_vms(images_dir: &std::path::Path, cpu_ratio: f64) -> Cloud {
        let images = images_dir.to_owned();
        Self::start_configured(Backend::Sqlite, move |c| {
            c.network_driver = NetworkDriver::Linux;
            c.hypervisor = HypervisorDriver::Libvirt;
            c.images_dir = images;
            c.cpu_ratio = Some(cpu_ratio);
        })
        .await
        .expect("sqlite is always available")
    }

    pub async fn start_configured(
        backend: Backend,
        adjust: impl FnOnce(&mut Config),
    ) -> Option<Cloud> {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(fresh_postgres_database(&postgres_url()?).await),
        };
        let pool = next_pool();
        let mut config = Config::for_tests(dir.path(), url.clone());
        config.vpc_pool = pool.clone();
        adjust(&mut config);
        let (network, hypervisor, images_dir) = (
            config.network_driver,
            config.hypervisor,
            config.images_dir.clone(),
        );
        // Fully simulated, the test keeps the twins to reach into them (`Cloud::sims`).
        let (server, sims) = match (network, hypervisor) {
            (NetworkDriver::Simulated, HypervisorDriver::Simulated) => {
                let (drivers, sims) = Drivers::simulated();
                let server = server::start_with_drivers(config, drivers).await;
                (server, Some(sims))
            }
            _ => (server::start(config).await, None),
        };
        let server = server.expect("server starts");
        let admin_password = server
            .generated_admin_password()
            .expect("a fresh server creates admin")
            .to_owned();
        let admin = login(&server.url(), "admin", "root", &admin_password).await;
        Some(Cloud {
            server: Some(server),
            admin,
            admin_password,
            backend,
            network,
            hypervisor,
            images_dir,
            pool,
            database_url: url,
            sims,
            dir: Some(dir),
        })
    }

    /// A server with object storage on the test S3 engine; `None`: skip (see [`s3_engine`]).
    pub async fn start_with_s3(test: &str) -> Option<Cloud> {
        let engine = s3_engine(test)?;
        Self::start_configured(Backend::Sqlite, move |c| c.s3_engine_file = Some(engine)).await
    }

    /// `http://127.0.0.1:PORT` of the server's S3 endpoint.
    pub fn s3_url(&self) -> String {
        self.server().s3_url().expect("object storage is on")
    }

    /// `http://127.0.0.1:PORT` of the server's static-website endpoint.
    pub fn s3_website_url(&self) -> String {
        self.server()
            .s3_website_url()
            .expect("object storage is on")
    }

    /// The simulated network and hypervisor the server runs on, to inject failures and guest
    /// events.
    pub fn sims(&self) -> &SimDrivers {
        self.sims
            .as_ref()
            .expect("the test runs on the simulated network and hypervisor")
    }

    pub fn server(&self) -> &Running {
        self.server.as_ref().expect("running")
    }

    pub fn url(&self) -> String {
        self.server().url()
    }

    pub fn data_dir(&self) -> &std::path::Path {
        self.dir.as_ref().expect("data dir").path()
    }

    /// A client with no credentials.
    pub fn anonymous(&self) -> Client {
        Client::builder()
            .endpoint(self.url())
            .credentials(Credentials::Anonymous)
            .build()
            .unwrap()
    }

    pub async fn login(&self, account: &str, user: &str, password: &str) -> Client {
        login(&self.url(), account, user, password).await
    }

    /// Registers a kernel-initrd image from dummy files in the import directory (for the
    /// simulated hypervisor): public when `account` is `None`. Returns its id.
    pub async fn fake_image(&self, name: &str, account: Option<&str>) -> String {
        let dir = self.data_dir().join("import").join("fake-image");
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["vmlinuz", "initrd.img"] {
            std::fs::write(dir.join(f), b"simulated").unwrap();
        }
        let body = serde_json::json!({"name": name, "format": "kernel-initrd",
            "public": account.is_none(), "account": account,
            "kernel_path": dir.join("vmlinuz"), "initrd_path": dir.join("initrd.img")});
        self.admin
            .import_image(&serde_json::from_value(body).unwrap())
            .await
            .unwrap()
            .id
    }

    /// Creates an account and returns a client signed in as its root user.
    pub async fn account(&self, name: &str) -> Client {
        let pw = format!("{name}-root-password");
        self.admin
            .create_account(name, Some(&pw))
            .await
            .expect("create account");
        self.login(name, "root", &pw).await
    }

    /// Creates an IAM user with a password in the account of `root` and signs in as it.
    pub async fn user(&self, root: &Client, account: &str, name: &str) -> Client {
        let pw = format!("{name}-password");
        root.create_user(name, Some(&pw))
            .await
            .expect("create user");
        self.login(account, name, &pw).await
    }

    /// Stops the server (the host network stays, as on a real restart) and hands back its data.
    async fn stop_keeping_network(mut self) -> tempfile::TempDir {
        self.network = NetworkDriver::Simulated;
        self.hypervisor = HypervisorDriver::Simulated;
        self.server.take().expect("running").stop().await;
        self.dir.take().expect("data dir")
    }

    /// Stops the server and removes what it made on the host.
    pub async fn stop(mut self) -> tempfile::TempDir {
        self.teardown_network();
        self.server.take().expect("running").stop().await;
        self.dir.take().expect("data dir")
    }

    fn teardown_network(&self) {
        if let (Some(s), HypervisorDriver::Libvirt) = (&self.server, self.hypervisor)
            && let Err(e) = s.nuvem.compute.teardown_host_blocking()
        {
            eprintln!("removing the test domains failed: {e}");
        }
        if let (Some(s), NetworkDriver::Linux) = (&self.server, self.network)
            && let Err(e) = s.nuvem.vpc.teardown_host_blocking()
        {
            eprintln!("tearing down the test network failed: {e}");
        }
    }

    /// Stops the server and starts a new one on the same data directory and database.
    pub async fn restart(self) -> (Running, tempfile::TempDir) {
        self.restart_after(|_| {}).await
    }

    /// Stops the server (leaving the host network as it is), runs `between` with the data
    /// directory, as a crash or an operator might, then starts a new server on the same data.
    pub async fn restart_after(
        self,
        between: impl FnOnce(&std::path::Path),
    ) -> (Running, tempfile::TempDir) {
        self.restart_with(between, |_| {}).await
    }

    /// Restarts on the same data, with the configuration adjusted.
    pub async fn restart_configured(
        self,
        adjust: impl FnOnce(&mut Config),
    ) -> (Running, tempfile::TempDir) {
        self.restart_with(|_| {}, adjust).await
    }

    async fn restart_with(
        self,
        between: impl FnOnce(&std::path::Path),
        adjust: impl FnOnce(&mut Config),
    ) -> (Running, tempfile::TempDir) {
        let url = self.database_url.clone();
        let (network, pool, hypervisor, images) = (
            self.network,
            self.pool.clone(),
            self.hypervisor,
            self.images_dir.clone(),
        );
        let dir = self.stop_keeping_network().await;
        between(dir.path());
        let mut config = Config::for_tests(dir.path(), url);
        config.network_driver = network;
        config.vpc_pool = pool;
        config.hypervisor = hypervisor;
        config.images_dir = images;
        adjust(&mut config);
        let server = server::start(config).await.expect("server restarts");
        (server, dir)
    }
}

impl Drop for Cloud {
    /// A failed test still leaves the host clean.
    fn drop(&mut self) {
        self.teardown_network();
    }
}

pub async fn login(url: &str, account: &str, user: &str, password: &str) -> Client {
    let anon = Client::builder()
        .endpoint(url)
        .credentials(Credentials::Anonymous)
        .build()
        .unwrap();
    let session = anon.login(account, user, password).await.expect("login");
    Client::builder()
        .endpoint(url)
        .credentials(Credentials::session(session.token))
        .build()
        .unwrap()
}

/// Runs each listed `async fn(Backend)` test on SQLite and on PostgreSQL. The PostgreSQL variants
/// are ignored in a plain `cargo test` (they need a server); `infra/test.sh` includes them.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs PostgreSQL: run infra/test.sh"]
                async fn $name() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            )*
        }
    };
}
