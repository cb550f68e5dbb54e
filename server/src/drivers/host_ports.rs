//! What the host itself listens on, and the address port forwards are published on, read from
//! `/proc` (no root needed).

use std::net::Ipv4Addr;

/// Whether some process of the host has a socket bound to local `port` (TCP: listening; UDP:
/// bound), on any address. Nuvem refuses to forward such a port: the forward would capture
/// that service's connections.
pub fn listening(protocol: &str, port: u16) -> bool {
    let (files, state): (&[&str], &str) = match protocol {
        "udp" => (&["/proc/net/udp", "/proc/net/udp6"], "07"),
        _ => (&["/proc/net/tcp", "/proc/net/tcp6"], "0A"),
    };
    files.iter().any(|f| {
        std::fs::read_to_string(f)
            .map(|text| table_has_port(&text, port, state))
            .unwrap_or(false)
    })
}

/// `/proc/net/tcp` lines: `sl local_address rem_address st ...`, addresses as `HEX:PORT`.
fn table_has_port(text: &str, port: u16, state: &str) -> bool {
    text.lines().skip(1).any(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        cols.len() > 3
            && cols[3] == state
            && cols[1]
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
                == Some(port)
    })
}

/// The IPv4 address of the interface of the default route (what other machines reach this host
/// on), if there is one.
pub fn default_route_address() -> Option<Ipv4Addr> {
    let routes = std::fs::read_to_string("/proc/net/route").ok()?;
    let iface = routes.lines().skip(1).find_map(|l| {
        let cols: Vec<&str> = l.split_whitespace().collect();
        (cols.len() > 2 && cols[1] == "00000000").then(|| cols[0].to_owned())
    })?;
    let out = super::run("ip", &["-4", "-o", "addr", "show", "dev", &iface]).ok()?;
    out.split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)
        .and_then(|a| a.split('/').next())
        .and_then(|a| a.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_listening_sockets() {
        let sample = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n   1: 0100007F:4E20 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 2 1\n";
        assert!(table_has_port(sample, 8080, "0A"));
        assert!(
            !table_has_port(sample, 20000, "0A"),
            "an established socket is no listener"
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(listening("tcp", port));
        drop(listener);
        assert!(!listening("tcp", port));
    }
}
