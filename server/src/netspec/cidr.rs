//! IPv4 blocks: parsing with messages a student can act on, and the arithmetic of subnets.

use std::fmt;
use std::net::Ipv4Addr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    network: u32,
    prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n`; the address must be the block's first address (10.0.1.0/24, not
    /// 10.0.1.5/24), as AWS requires.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (addr, prefix) = text.split_once('/').ok_or_else(|| {
            format!("'{text}' is not a CIDR block: write it as address/prefix, e.g. 10.64.0.0/16")
        })?;
        let addr: Ipv4Addr = addr
            .parse()
            .map_err(|_| format!("'{addr}' in '{text}' is not an IPv4 address"))?;
        let prefix: u8 = prefix.parse().ok().filter(|p| *p <= 32).ok_or_else(|| {
            format!("'/{prefix}' in '{text}' is not a prefix length from 0 to 32")
        })?;
        let cidr = Cidr::new(u32::from(addr), prefix);
        if cidr.network != u32::from(addr) {
            return Err(format!(
                "'{text}' has host bits set: the block starting there is {cidr}"
            ));
        }
        Ok(cidr)
    }

    /// The block of `prefix` bits containing `addr`.
    pub fn new(addr: u32, prefix: u8) -> Cidr {
        Cidr {
            network: addr & Self::mask_of(prefix),
            prefix,
        }
    }

    fn mask_of(prefix: u8) -> u32 {
        if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - prefix)
        }
    }

    pub fn prefix(self) -> u8 {
        self.prefix
    }

    pub fn network(self) -> Ipv4Addr {
        Ipv4Addr::from(self.network)
    }

    pub fn netmask(self) -> Ipv4Addr {
        Ipv4Addr::from(Self::mask_of(self.prefix))
    }

    pub fn size(self) -> u64 {
        1u64 << (32 - self.prefix)
    }

    pub fn broadcast(self) -> Ipv4Addr {
        Ipv4Addr::from(self.network | !Self::mask_of(self.prefix))
    }

    /// The `n`-th address of the block (0 is the network address).
    pub fn nth(self, n: u64) -> Option<Ipv4Addr> {
        (n < self.size()).then(|| Ipv4Addr::from(self.network + n as u32))
    }

    pub fn contains(self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & Self::mask_of(self.prefix) == self.network
    }

    /// Whether `other` lies entirely inside this block.
    pub fn covers(self, other: Cidr) -> bool {
        other.prefix >= self.prefix && self.contains(other.network())
    }

    pub fn overlaps(self, other: Cidr) -> bool {
        self.covers(other) || other.covers(self)
    }

    /// The blocks of `prefix` bits inside this one, in order.
    pub fn blocks(self, prefix: u8) -> impl Iterator<Item = Cidr> {
        let count = if prefix >= self.prefix {
            1u64 << (prefix - self.prefix)
        } else {
            0
        };
        let step = 1u64 << (32 - prefix.min(32));
        (0..count).map(move |i| Cidr::new(self.network + (i * step) as u32, prefix))
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network(), self.prefix)
    }
}

/// AWS reserves the first four addresses of a subnet (network, router, DNS, future) and the last.
pub const RESERVED_AT_START: u64 = 4;
pub const RESERVED_AT_END: u64 = 1;

/// Addresses of a subnet that interfaces may get.
pub fn usable(subnet: Cidr) -> impl Iterator<Item = Ipv4Addr> {
    (RESERVED_AT_START..subnet.size().saturating_sub(RESERVED_AT_END))
        .filter_map(move |n| subnet.nth(n))
}

/// The host's address in a subnet: the first after the network address.
pub fn gateway(subnet: Cidr) -> Ipv4Addr {
    subnet.nth(1).unwrap_or(subnet.network())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_arithmetic() {
        let c = Cidr::parse("10.64.0.0/16").unwrap();
        assert_eq!(c.to_string(), "10.64.0.0/16");
        assert_eq!(c.size(), 65536);
        assert!(
            Cidr::parse("10.64.0.5/16")
                .unwrap_err()
                .contains("host bits")
        );
        assert!(
            Cidr::parse("10.64.0.0")
                .unwrap_err()
                .contains("address/prefix")
        );
        assert!(
            Cidr::parse("10.64.0.300/24")
                .unwrap_err()
                .contains("not an IPv4")
        );
        assert!(Cidr::parse("10.64.0.0/33").unwrap_err().contains("prefix"));
        let s = Cidr::parse("10.64.1.0/28").unwrap();
        assert!(c.covers(s) && !s.covers(c) && c.overlaps(s));
        assert!(!s.overlaps(Cidr::parse("10.64.1.16/28").unwrap()));
        assert_eq!(gateway(s).to_string(), "10.64.1.1");
        let u: Vec<_> = usable(s).map(|a| a.to_string()).collect();
        assert_eq!(u.first().map(String::as_str), Some("10.64.1.4"));
        assert_eq!(u.last().map(String::as_str), Some("10.64.1.14"));
        assert_eq!(u.len(), 11);
        let blocks: Vec<_> = Cidr::parse("10.64.0.0/22")
            .unwrap()
            .blocks(24)
            .map(|b| b.to_string())
            .collect();
        assert_eq!(
            blocks,
            [
                "10.64.0.0/24",
                "10.64.1.0/24",
                "10.64.2.0/24",
                "10.64.3.0/24"
            ]
        );
        assert_eq!(s.netmask().to_string(), "255.255.255.240");
        assert_eq!(s.broadcast().to_string(), "10.64.1.15");
    }
}
