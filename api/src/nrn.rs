//! Nuvem Resource Names: `nrn:nuvem:<service>:<account>:<type>/<name>`, the ARNs of Nuvem.

/// Builds the NRN of a resource, e.g. `nrn("iam", "123456789012", "user", "alice")`.
pub fn nrn(service: &str, account_id: &str, kind: &str, name: &str) -> String {
    format!("nrn:nuvem:{service}:{account_id}:{kind}/{name}")
}

/// The parts of an NRN (or of an NRN pattern with wildcards).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nrn<'a> {
    pub service: &'a str,
    pub account: &'a str,
    /// Everything after the account: `user/alice`.
    pub resource: &'a str,
}

/// Splits an NRN; `None` when it does not have the `nrn:nuvem:service:account:resource` shape.
pub fn parse(s: &str) -> Option<Nrn<'_>> {
    let mut parts = s.splitn(5, ':');
    if parts.next()? != "nrn" || parts.next()? != "nuvem" {
        return None;
    }
    let service = parts.next()?;
    let account = parts.next()?;
    let resource = parts.next()?;
    if service.is_empty() || resource.is_empty() {
        return None;
    }
    Some(Nrn {
        service,
        account,
        resource,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_parses() {
        let s = nrn("iam", "123456789012", "user", "alice");
        assert_eq!(s, "nrn:nuvem:iam:123456789012:user/alice");
        let p = parse(&s).expect("valid nrn");
        assert_eq!(p.service, "iam");
        assert_eq!(p.account, "123456789012");
        assert_eq!(p.resource, "user/alice");
        assert!(parse("arn:aws:iam::1:user/x").is_none());
        assert!(parse("nrn:nuvem:iam").is_none());
    }
}
