//! Configuration: command-line flags, then `NUVEM_*` environment variables, then an optional TOML
//! file, then the embedded defaults (a SQLite file in the data directory).

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "/var/lib/nuvem";

/// Flags of `nuvem-server serve` (each also read from its environment variable).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// TOML configuration file (keys: listen, data_dir, database_url, log, session_ttl_seconds, workers, s3_listen, s3_website_listen, s3_engine_file, ...).
    #[arg(long, env = "NUVEM_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "NUVEM_LISTEN")]
    pub listen: Option<String>,
    /// Where Nuvem keeps its database, keys and guest files [default: /var/lib/nuvem].
    #[arg(long, env = "NUVEM_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite://PATH?mode=rwc or postgres://USER:PASS@HOST/DB [default: SQLite in the data dir].
    #[arg(long, env = "NUVEM_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Log filter, e.g. info or nuvem_server=debug [default: info].
    #[arg(long, env = "NUVEM_LOG")]
    pub log: Option<String>,
    /// Lifetime of a session token in seconds [default: 3600].
    #[arg(long, env = "NUVEM_SESSION_TTL_SECONDS")]
    pub session_ttl_seconds: Option<u32>,
    /// Host ports tenants may publish port forwards on, as FIRST-LAST [default: 20000-29999].
    #[arg(long, env = "NUVEM_PORT_FORWARD_PORTS")]
    pub port_forward_ports: Option<String>,
    /// The host address port forwards are published on [default: the address of the interface
    /// of the default route, else 127.0.0.1].
    #[arg(long, env = "NUVEM_PORT_FORWARD_ADDRESS")]
    pub port_forward_address: Option<String>,
    /// HTTP worker threads [default: one per core].
    #[arg(long, env = "NUVEM_WORKERS")]
    pub workers: Option<usize>,
    /// The address block every VPC must lie in [default: 10.64.0.0/10].
    #[arg(long, env = "NUVEM_VPC_POOL")]
    pub vpc_pool: Option<String>,
    /// `linux` (bridges, dnsmasq, iptables) or `simulated` (nothing touches the host; for
    /// development without root) [default: linux].
    #[arg(long, env = "NUVEM_NETWORK_DRIVER")]
    pub network_driver: Option<NetworkDriver>,
    /// `libvirt` (QEMU/KVM guests) or `simulated` (no guests; for development) [default: libvirt].
    #[arg(long, env = "NUVEM_HYPERVISOR")]
    pub hypervisor: Option<HypervisorDriver>,
    /// libvirt connection URI of this host [default: qemu:///system].
    #[arg(long, env = "NUVEM_LIBVIRT_URI")]
    pub libvirt_uri: Option<String>,
    /// Built guest images (one folder each, with image.json) [default: <data-dir>/images].
    #[arg(long, env = "NUVEM_IMAGES_DIR")]
    pub images_dir: Option<PathBuf>,
    /// vCPUs per host core: 1.0 pins one VM per core (the course), 4.0 is the commercial figure
    /// [default: 1.0].
    #[arg(long, env = "NUVEM_CPU_RATIO")]
    pub cpu_ratio: Option<f64>,
    /// `auto` (boot-test KVM, fall back to TCG), `kvm` or `tcg` [default: auto].
    #[arg(long, env = "NUVEM_ACCELERATOR")]
    pub accelerator: Option<String>,
    /// The built web console (infra/build-console.sh) [default: <data-dir>/console].
    #[arg(long, env = "NUVEM_CONSOLE_DIR")]
    pub console_dir: Option<PathBuf>,
    /// The only directory ImportImage copies host files from [default: <data-dir>/import].
    #[arg(long, env = "NUVEM_IMAGE_IMPORT_DIR")]
    pub image_import_dir: Option<PathBuf>,
    /// The currency bills are in unless a call asks for the other: USD or BRL [default: USD].
    #[arg(long, env = "NUVEM_BILLING_CURRENCY")]
    pub billing_currency: Option<String>,
    /// A TOML price file (`[[price]] sku, currency, unit_price`) applied at start: each price
    /// that differs from the catalog's becomes a change from then on.
    #[arg(long, env = "NUVEM_PRICES")]
    pub prices: Option<PathBuf>,
    /// Address of Nuvem's S3 endpoint [default: 127.0.0.1:9000].
    #[arg(long, env = "NUVEM_S3_LISTEN")]
    pub s3_listen: Option<String>,
    /// The S3 engine's file (TOML: endpoint, region, access_key, secret_key; 0600) [default:
    /// <data-dir>/s3-engine/engine.toml, written by infra/seaweedfs.sh; without it object storage
    /// is off].
    #[arg(long, env = "NUVEM_S3_ENGINE_FILE")]
    pub s3_engine_file: Option<PathBuf>,
    /// The domain of virtual-host-style S3 requests, `<bucket>.<domain>` [default: localhost,
    /// which resolves to the loopback address].
    #[arg(long, env = "NUVEM_S3_DOMAIN")]
    pub s3_domain: Option<String>,
    /// `docker` (dockerd on its local socket), `simulated` (for development) or `off`: container
    /// apps and load balancers [default: docker; off with a warning when dockerd does not answer].
    #[arg(long, env = "NUVEM_CONTAINER_ENGINE")]
    pub container_engine: Option<ContainerEngineDriver>,
    /// Host ports load balancers may listen on, as FIRST-LAST [default: 30000-30999].
    #[arg(long, env = "NUVEM_LOAD_BALANCER_PORTS")]
    pub load_balancer_ports: Option<String>,
    /// Address of the static-website endpoint: anonymous GET and HEAD of buckets with website
    /// settings, `/<bucket>/<key>` or `<bucket>.s3-website.<s3-domain>` [default: 127.0.0.1:9080].
    #[arg(long, env = "NUVEM_S3_WEBSITE_LISTEN")]
    pub s3_website_listen: Option<String>,
}

/// Which hypervisor driver the compute service uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum HypervisorDriver {
    Libvirt,
    Simulated,
}

/// Which container engine the apps service uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ContainerEngineDriver {
    Docker,
    Simulated,
    Off,
}

/// Which host-network driver the VPC service uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum NetworkDriver {
    Linux,
    Simulated,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    log: Option<String>,
    session_ttl_seconds: Option<u32>,
    port_forward_ports: Option<String>,
    port_forward_address: Option<String>,
    /// Default per-account quotas (`[quotas]`: vpcs = 5, instances = 20, ...).
    #[serde(default)]
    quotas: Option<crate::iam::quotas::QuotaDefaults>,
    workers: Option<usize>,
    vpc_pool: Option<String>,
    network_driver: Option<NetworkDriver>,
    hypervisor: Option<HypervisorDriver>,
    libvirt_uri: Option<String>,
    images_dir: Option<PathBuf>,
    cpu_ratio: Option<f64>,
    accelerator: Option<String>,
    console_dir: Option<PathBuf>,
    image_import_dir: Option<PathBuf>,
    billing_currency: Option<String>,
    prices: Option<PathBuf>,
    s3_listen: Option<String>,
    s3_engine_file: Option<PathBuf>,
    s3_domain: Option<String>,
    container_engine: Option<ContainerEngineDriver>,
    load_balancer_ports: Option<String>,
    s3_website_listen: Option<String>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub log: String,
    pub session_ttl_seconds: u32,
    /// Back-off after failed password sign-ins (not a flag: the defaults are the policy).
    pub sign_in_throttle: crate::iam::throttle::ThrottleLimits,
    /// Password checks that may wait for a hashing thread before sign-in answers 503.
    pub hashing_queue: usize,
    /// Default per-account quotas.
    pub quotas: crate::iam::quotas::QuotaDefaults,
    /// The host ports port forwards may use (inclusive).
    pub port_forward_ports: (u16, u16),
    /// The host address port forwards are published on (`None`: detect at start).
    pub port_forward_address: Option<std::net::Ipv4Addr>,
    pub workers: Option<usize>,
    pub vpc_pool: String,
    pub network_driver: NetworkDriver,
    pub hypervisor: HypervisorDriver,
    pub libvirt_uri: String,
    pub images_dir: PathBuf,
    /// `None`: keep the ratio the host has (the operator may have changed it live), 1.0 for a new
    /// host. Set: the host takes it at start.
    pub cpu_ratio: Option<f64>,
    /// `None`: detect.
    pub accelerator: Option<crate::drivers::hypervisor::Accelerator>,
    pub console_dir: PathBuf,
    /// Root password for the operator account on first start (`NUVEM_ADMIN_PASSWORD`, never a
    /// flag: flags are visible to every user in `ps`).
    pub admin_password: Option<String>,
    /// The only directory ImportImage reads host files from.
    pub image_import_dir: PathBuf,
    /// The currency of bills unless a call asks for another.
    pub billing_currency: nuvem_api::billing::Currency,
    /// The operator's price file, applied at start.
    pub price_file: Option<PathBuf>,
    /// Where Nuvem's S3 endpoint listens.
    pub s3_listen: String,
    /// The S3 engine's file; `None`: object storage is off.
    pub s3_engine_file: Option<PathBuf>,
    /// Requests to `<bucket>.<s3_domain>` are virtual-host style.
    pub s3_domain: String,
    pub container_engine: ContainerEngineDriver,
    /// The host ports load balancers may listen on (inclusive).
    pub load_balancer_ports: (u16, u16),
    /// Where the static-website endpoint listens.
    pub s3_website_listen: String,
}

pub const DEFAULT_LOAD_BALANCER_PORTS: &str = "30000-30999";

pub const DEFAULT_S3_LISTEN: &str = "127.0.0.1:9000";
pub const DEFAULT_S3_WEBSITE_LISTEN: &str = "127.0.0.1:9080";

/// Where `infra/seaweedfs.sh` keeps the embedded engine's file, under the data directory.
pub fn default_s3_engine_file(data_dir: &Path) -> PathBuf {
    data_dir.join("s3-engine").join("engine.toml")
}

pub const DEFAULT_PORT_FORWARD_PORTS: &str = "20000-29999";
pub const DEFAULT_HASHING_QUEUE: usize = 128;

/// `20000-29999` → (20000, 29999). Ports under 1024 are the host's own services.
pub fn parse_port_range(s: &str) -> anyhow::Result<(u16, u16)> {
    let bad = || anyhow::anyhow!("port_forward_ports must look like 20000-29999 (got {s:?})");
    let (a, b) = s.split_once('-').ok_or_else(bad)?;
    let (a, b): (u16, u16) = (
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    );
    if a < 1024 || a > b {
        anyhow::bail!(
            "port_forward_ports {s}: the first port must be 1024 or more and not above the last"
        );
    }
    Ok((a, b))
}

/// The SQLite URL of a data directory.
pub fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("nuvem.db").display())
}

impl Config {
    pub fn resolve(args: ServeArgs) -> anyhow::Result<Config> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!("cannot read the configuration file {}: {e}", path.display())
                })?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| anyhow::anyhow!("configuration file {}: {e}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let data_dir = args
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database_url = args
            .database_url
            .or(file.database_url)
            .unwrap_or_else(|| sqlite_url(&data_dir));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            anyhow::bail!(
                "database_url must start with sqlite: or postgres:// (got {database_url:?})"
            );
        }
        let session_ttl_seconds = args
            .session_ttl_seconds
            .or(file.session_ttl_seconds)
            .unwrap_or(3600);
        if !(60..=43_200).contains(&session_ttl_seconds) {
            anyhow::bail!("session_ttl_seconds must be between 60 and 43200");
        }
        let port_forward_ports = parse_port_range(
            args.port_forward_ports
                .or(file.port_forward_ports)
                .as_deref()
                .unwrap_or(DEFAULT_PORT_FORWARD_PORTS),
        )?;
        let port_forward_address = match args.port_forward_address.or(file.port_forward_address) {
            None => None,
            Some(a) if a == "auto" => None,
            Some(a) => Some(a.parse::<std::net::Ipv4Addr>().map_err(|_| {
                anyhow::anyhow!(
                    "port_forward_address must be an IPv4 address of this host (got {a:?})"
                )
            })?),
        };
        let cpu_ratio = args.cpu_ratio.or(file.cpu_ratio);
        if let Some(r) = cpu_ratio
            && let Err(e) = nuvem_api::ec2::check_cpu_ratio(r)
        {
            anyhow::bail!("cpu_ratio: {e}");
        }
        let accelerator = match args.accelerator.or(file.accelerator).as_deref() {
            None | Some("auto") => None,
            Some(a) => Some(
                crate::drivers::hypervisor::Accelerator::parse(a).ok_or_else(|| {
                    anyhow::anyhow!("accelerator must be auto, kvm or tcg (got {a:?})")
                })?,
            ),
        };
        let images_dir = args
            .images_dir
            .or(file.images_dir)
            .unwrap_or_else(|| data_dir.join("images"));
        let console_dir = args
            .console_dir
            .or(file.console_dir)
            .unwrap_or_else(|| data_dir.join("console"));
        let image_import_dir = args
            .image_import_dir
            .or(file.image_import_dir)
            .unwrap_or_else(|| data_dir.join("import"));
        let billing_currency = match args.billing_currency.or(file.billing_currency) {
            None => nuvem_api::billing::Currency::Usd,
            Some(c) => nuvem_api::billing::Currency::parse(&c).ok_or_else(|| {
                anyhow::anyhow!("billing_currency must be USD or BRL (got {c:?})")
            })?,
        };
        let s3_engine_file = match args.s3_engine_file.or(file.s3_engine_file) {
            Some(f) => Some(f),
            None => Some(default_s3_engine_file(&data_dir)).filter(|f| f.exists()),
        };
        Ok(Config {
            billing_currency,
            price_file: args.prices.or(file.prices),
            s3_listen: args
                .s3_listen
                .or(file.s3_listen)
                .unwrap_or_else(|| DEFAULT_S3_LISTEN.to_owned()),
            s3_engine_file,
            s3_domain: args
                .s3_domain
                .or(file.s3_domain)
                .unwrap_or_else(|| "localhost".to_owned()),
            container_engine: args
                .container_engine
                .or(file.container_engine)
                .unwrap_or(ContainerEngineDriver::Docker),
            load_balancer_ports: parse_port_range(
                args.load_balancer_ports
                    .as_deref()
                    .or(file.load_balancer_ports.as_deref())
                    .unwrap_or(DEFAULT_LOAD_BALANCER_PORTS),
            )
            .map_err(|e| anyhow::anyhow!("load_balancer_ports: {e}"))?,
            s3_website_listen: args
                .s3_website_listen
                .or(file.s3_website_listen)
                .unwrap_or_else(|| DEFAULT_S3_WEBSITE_LISTEN.to_owned()),
            image_import_dir,
            sign_in_throttle: Default::default(),
            hashing_queue: DEFAULT_HASHING_QUEUE,
            quotas: file.quotas.unwrap_or_default(),
            port_forward_ports,
            port_forward_address,
            console_dir,
            images_dir,
            cpu_ratio,
            accelerator,
            hypervisor: args
                .hypervisor
                .or(file.hypervisor)
                .unwrap_or(HypervisorDriver::Libvirt),
            libvirt_uri: args
                .libvirt_uri
                .or(file.libvirt_uri)
                .unwrap_or_else(|| "qemu:///system".to_owned()),
            listen: args
                .listen
                .or(file.listen)
                .unwrap_or_else(|| DEFAULT_LISTEN.to_owned()),
            data_dir,
            database_url,
            log: args.log.or(file.log).unwrap_or_else(|| "info".to_owned()),
            session_ttl_seconds,
            workers: args.workers.or(file.workers),
            vpc_pool: args
                .vpc_pool
                .or(file.vpc_pool)
                .unwrap_or_else(|| crate::vpc::DEFAULT_POOL.to_owned()),
            network_driver: args
                .network_driver
                .or(file.network_driver)
                .unwrap_or(NetworkDriver::Linux),
            admin_password: std::env::var("NUVEM_ADMIN_PASSWORD")
                .ok()
                .filter(|p| !p.is_empty()),
        })
    }

    /// A configuration for tests and benchmarks: loopback on a free port, the given data dir, the
    /// simulated network (tests of the real one choose `NetworkDriver::Linux` and a pool).
    pub fn for_tests(data_dir: &Path, database_url: Option<String>) -> Config {
        Config {
            listen: "127.0.0.1:0".to_owned(),
            data_dir: data_dir.to_owned(),
            database_url: database_url.unwrap_or_else(|| sqlite_url(data_dir)),
            log: "warn".to_owned(),
            session_ttl_seconds: 3600,
            sign_in_throttle: Default::default(),
            hashing_queue: DEFAULT_HASHING_QUEUE,
            quotas: Default::default(),
            port_forward_ports: (20000, 29999),
            port_forward_address: Some(std::net::Ipv4Addr::LOCALHOST),
            workers: Some(2),
            vpc_pool: crate::vpc::DEFAULT_POOL.to_owned(),
            network_driver: NetworkDriver::Simulated,
            hypervisor: HypervisorDriver::Simulated,
            libvirt_uri: "qemu:///system".to_owned(),
            images_dir: data_dir.join("images"),
            cpu_ratio: Some(1.0),
            accelerator: None,
            console_dir: data_dir.join("console"),
            admin_password: None,
            image_import_dir: data_dir.join("import"),
            billing_currency: nuvem_api::billing::Currency::Usd,
            price_file: None,
            s3_listen: "127.0.0.1:0".to_owned(),
            s3_engine_file: None,
            s3_domain: "localhost".to_owned(),
            container_engine: ContainerEngineDriver::Simulated,
            load_balancer_ports: (30000, 30999),
            s3_website_listen: "127.0.0.1:0".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_and_port_forwards_come_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nuvem.toml");
        std::fs::write(
            &file,
            "port_forward_ports = \"21000-21999\"\nport_forward_address = \"192.0.2.10\"\n[quotas]\nvpcs = 2\n",
        )
        .unwrap();
        let cfg = Config::resolve(ServeArgs {
            config: Some(file.clone()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(cfg.port_forward_ports, (21000, 21999));
        assert_eq!(
            cfg.port_forward_address,
            Some("192.0.2.10".parse().unwrap())
        );
        assert_eq!(cfg.quotas.vpcs, 2);
        assert_eq!(
            cfg.quotas.instances, 20,
            "unnamed quotas keep their defaults"
        );
        for bad in ["22-80", "30000-20000", "x"] {
            std::fs::write(&file, format!("port_forward_ports = \"{bad}\"\n")).unwrap();
            let err = Config::resolve(ServeArgs {
                config: Some(file.clone()),
                ..Default::default()
            })
            .unwrap_err();
            assert!(
                err.to_string().contains("port_forward_ports"),
                "{bad}: {err}"
            );
        }
        // The example file of infra/ is valid.
        let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/nuvem.example.toml");
        Config::resolve(ServeArgs {
            config: Some(example.into()),
            ..Default::default()
        })
        .unwrap();
    }

    #[test]
    fn flags_beat_file_beat_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nuvem.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9999\"\ndata_dir = \"/tmp/x\"\n",
        )
        .unwrap();
        let cfg = Config::resolve(ServeArgs {
            config: Some(file.clone()),
            data_dir: Some("/tmp/y".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(cfg.listen, "127.0.0.1:9999");
        assert_eq!(cfg.data_dir, PathBuf::from("/tmp/y"));
        assert_eq!(cfg.database_url, "sqlite:///tmp/y/nuvem.db?mode=rwc");
        assert_eq!(cfg.image_import_dir, PathBuf::from("/tmp/y/import"));
        std::fs::write(&file, "lisen = \"typo\"\n").unwrap();
        let err = Config::resolve(ServeArgs {
            config: Some(file),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }
}
