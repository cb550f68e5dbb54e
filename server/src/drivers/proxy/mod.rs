//! Load balancers: one HAProxy process (master-worker mode, as OpenStack Octavia runs it) serves
//! every load balancer of the host, configured from [`Frontend`]s and reloaded without dropping
//! connections (SIGUSR2 to the master). Its runtime API gives the live stats. A simulated twin
//! records what it was given, for fast tests. Methods are blocking: call them off the workers.

mod real;
mod sim;

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use super::DriverResult;

pub use real::Haproxy;
pub use sim::SimProxy;

/// One target of a load balancer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    /// Its name in HAProxy and in the stats: `r-…` or `i-…`.
    pub name: String,
    pub address: Ipv4Addr,
    pub port: u16,
}

/// One load balancer: a listener and its target group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frontend {
    /// The load balancer's id (`lb-…`): the frontend's and backend's name.
    pub id: String,
    /// Where it listens.
    pub binds: Vec<(Ipv4Addr, u16)>,
    pub backends: Vec<Backend>,
    /// An HTTP path to check, or a TCP connect when `None`.
    pub health_path: Option<String>,
    pub interval_seconds: u32,
    pub rise: u32,
    pub fall: u32,
}

/// A target's live numbers, from `show stat`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerStats {
    pub frontend: String,
    pub server: String,
    /// `UP`, `DOWN`, `MAINT`, `no check`, `UP 1/2`, ...
    pub status: String,
    pub sessions_current: u64,
    pub sessions_total: u64,
    pub requests_total: u64,
    pub errors: u64,
}

pub trait LoadBalancerProxy: Send + Sync + 'static {
    /// Makes the proxy serve exactly `frontends` (stops it when there are none); true when
    /// something changed. Reloads keep established connections.
    fn apply(&self, frontends: &[Frontend]) -> DriverResult<bool>;
    /// Every target's live numbers (empty when the proxy is not running).
    fn stats(&self) -> DriverResult<Vec<ServerStats>>;
    /// Whether a listener on `port` could be opened by the proxy now (nothing else holds it).
    fn port_free(&self, address: Ipv4Addr, port: u16) -> bool {
        std::net::TcpListener::bind((address, port)).is_ok()
    }
}

/// The configuration for `frontends` (the same input gives the same text, so an unchanged set
/// does not reload). `admin_socket` is the runtime API's socket.
pub fn render(frontends: &[Frontend], admin_socket: &str) -> String {
    let mut c = String::new();
    let _ = writeln!(
        c,
        "# Written by Nuvem: one frontend and backend per load balancer. Do not edit.\n\
         global\n    stats socket {admin_socket} mode 600 level admin\n    maxconn 4096\n\n\
         defaults\n    mode http\n    timeout connect 2s\n    timeout client 30s\n    \
         timeout server 30s\n    timeout check 2s\n    option redispatch\n    retries 3\n    \
         retry-on conn-failure empty-response response-timeout\n"
    );
    let mut sorted = frontends.to_vec();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    for f in &sorted {
        let _ = writeln!(c, "frontend {}", f.id);
        for (addr, port) in &f.binds {
            let _ = writeln!(c, "    bind {addr}:{port}");
        }
        let _ = writeln!(c, "    default_backend {}\n", f.id);
        let _ = writeln!(c, "backend {}\n    balance roundrobin", f.id);
        if let Some(path) = &f.health_path {
            let _ = writeln!(
                c,
                "    option httpchk GET {path}\n    http-check expect status 200-399"
            );
        }
        let mut backends = f.backends.clone();
        backends.sort_by(|a, b| a.name.cmp(&b.name));
        // A target HAProxy has just been given starts at the edge of its threshold: one failed
        // first check (the app not listening yet) takes it out, and with only `inter` it would
        // need `rise` whole intervals to come back (4 s at 2 s × 2, measured). A target that is
        // down or changing state is therefore checked every 500 ms; healthy ones every `inter`.
        for b in &backends {
            let _ = writeln!(
                c,
                "    server {} {}:{} check inter {}s fastinter 500ms downinter 500ms rise {} fall {}",
                b.name, b.address, b.port, f.interval_seconds, f.rise, f.fall
            );
        }
        c.push('\n');
    }
    c
}

/// Parses `show stat` (CSV with a `# ` header) into the servers' rows.
pub fn parse_stats(csv: &str) -> Vec<ServerStats> {
    let mut lines = csv.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let cols: Vec<&str> = header.trim_start_matches("# ").split(',').collect();
    let at = |name: &str| cols.iter().position(|c| *c == name);
    let (Some(px), Some(sv), Some(st)) = (at("pxname"), at("svname"), at("status")) else {
        return Vec::new();
    };
    let num = |fields: &[&str], name: &str| -> u64 {
        at(name)
            .and_then(|i| fields.get(i))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            let fields: Vec<&str> = l.split(',').collect();
            let server = (*fields.get(sv)?).to_owned();
            if server == "FRONTEND" || server == "BACKEND" {
                return None;
            }
            let responses: u64 = ["hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx"]
                .iter()
                .map(|c| num(&fields, c))
                .sum();
            Some(ServerStats {
                frontend: (*fields.get(px)?).to_owned(),
                server,
                status: (*fields.get(st)?).to_owned(),
                sessions_current: num(&fields, "scur"),
                sessions_total: num(&fields, "stot"),
                requests_total: responses,
                errors: num(&fields, "econ") + num(&fields, "eresp"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lb() -> Frontend {
        Frontend {
            id: "lb-1".into(),
            binds: vec![(Ipv4Addr::LOCALHOST, 8081)],
            backends: vec![
                Backend {
                    name: "r-b".into(),
                    address: Ipv4Addr::new(10, 0, 1, 6),
                    port: 8080,
                },
                Backend {
                    name: "r-a".into(),
                    address: Ipv4Addr::new(10, 0, 1, 5),
                    port: 8080,
                },
            ],
            health_path: Some("/healthz".into()),
            interval_seconds: 2,
            rise: 2,
            fall: 2,
        }
    }

    #[test]
    fn the_configuration_is_stable_and_checks_health() {
        let text = render(&[lb()], "/run/x.sock");
        assert!(text.contains("bind 127.0.0.1:8081"));
        assert!(text.contains("option httpchk GET /healthz"));
        let a = text.find(
            "server r-a 10.0.1.5:8080 check inter 2s fastinter 500ms downinter 500ms rise 2 fall 2",
        );
        let b = text.find("server r-b 10.0.1.6:8080");
        assert!(a.is_some() && a < b, "{text}");
        let mut reordered = lb();
        reordered.backends.reverse();
        assert_eq!(text, render(&[reordered], "/run/x.sock"));
    }

    #[test]
    fn stats_rows_of_servers_only() {
        let csv = "# pxname,svname,scur,stot,econ,eresp,status,hrsp_2xx,hrsp_5xx\n\
                   lb-1,FRONTEND,0,9,,,OPEN,9,0\n\
                   lb-1,r-a,1,5,0,0,UP,4,1\n\
                   lb-1,BACKEND,0,9,0,0,UP,9,0\n";
        let s = parse_stats(csv);
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].server.as_str(), s[0].status.as_str()), ("r-a", "UP"));
        assert_eq!((s[0].sessions_total, s[0].requests_total), (5, 5));
    }
}
