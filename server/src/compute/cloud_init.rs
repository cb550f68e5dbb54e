//! What reaches a guest's NoCloud seed from users: their SSH public keys (checked strictly on
//! import) and the `meta-data` YAML, where every value is a double-quoted, escaped scalar.

use base64::Engine;

/// The OpenSSH public key types a key pair may have.
pub const KEY_TYPES: [&str; 7] = [
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

/// Checks an imported public key: exactly `<known type> <base64> [comment]`, no `authorized_keys`
/// options (`command="…"`, `from=…`), no control characters anywhere, and a base64 blob that
/// decodes and names the same type as the line does. Returns (type, the key line as stored).
pub fn parse_public_key(line: &str) -> Result<(String, String), String> {
    let line = line.strip_suffix('\n').unwrap_or(line).trim_matches(' ');
    if let Some(c) = line.chars().find(|c| c.is_control()) {
        return Err(format!(
            "public_key must be one line without control characters (found U+{:04X})",
            c as u32
        ));
    }
    let mut parts = line.splitn(3, ' ');
    let (key_type, blob, comment) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().map(|c| c.trim_matches(' ')),
    );
    if !KEY_TYPES.contains(&key_type) {
        return Err(format!(
            "public_key must start with its type, one of {} (options such as command=\"…\" are not accepted)",
            KEY_TYPES.join(", ")
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(blob)
        .map_err(|_| "public_key: the key after the type is not base64".to_owned())?;
    let embedded = bytes
        .get(..4)
        .map(|n| u32::from_be_bytes([n[0], n[1], n[2], n[3]]) as usize)
        .and_then(|n| bytes.get(4..4 + n));
    if embedded != Some(key_type.as_bytes()) {
        return Err(format!(
            "public_key: the key's data is not a {key_type} key (its type does not match)"
        ));
    }
    let stored = match comment.filter(|c| !c.is_empty()) {
        Some(c) => format!("{key_type} {blob} {c}"),
        None => format!("{key_type} {blob}"),
    };
    Ok((key_type.to_owned(), stored))
}

/// `s` as a YAML double-quoted scalar: backslash and quote escaped, control characters and the
/// characters YAML treats as line breaks as `\uXXXX`, so a value never ends its line.
pub fn yaml_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The NoCloud `meta-data` of an instance.
pub fn meta_data(instance_id: &str, hostname: &str, public_key: Option<&str>) -> String {
    let mut s = format!(
        "instance-id: {}\nlocal-hostname: {}\n",
        yaml_quote(instance_id),
        yaml_quote(hostname)
    );
    if let Some(k) = public_key {
        s.push_str(&format!("public-keys:\n  - {}\n", yaml_quote(k.trim())));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED25519: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMBhf1bKvoflQqXUf+2hXJMgkSoHmdAEAg1L5bzVMJrp";

    #[test]
    fn yaml_values_cannot_leave_their_scalar() {
        assert_eq!(yaml_quote("i-1234"), "\"i-1234\"");
        assert_eq!(yaml_quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(
            yaml_quote("x\nruncmd: [reboot]\r\u{1b}\u{2028}"),
            "\"x\\nruncmd: [reboot]\\r\\u001B\\u2028\""
        );
        assert_eq!(yaml_quote("olá: #1"), "\"olá: #1\"");
        let md = meta_data("i-1", "web\nx: y", Some(&format!("{ED25519} me@host")));
        assert_eq!(
            md,
            format!(
                "instance-id: \"i-1\"\nlocal-hostname: \"web\\nx: y\"\npublic-keys:\n  - \"{ED25519} me@host\"\n"
            )
        );
    }

    #[test]
    fn public_keys_are_checked_strictly() {
        let (t, stored) = parse_public_key(&format!("{ED25519} alice@laptop\n")).unwrap();
        assert_eq!(t, "ssh-ed25519");
        assert_eq!(stored, format!("{ED25519} alice@laptop"));
        assert_eq!(parse_public_key(ED25519).unwrap().1, ED25519);
        for bad in [
            format!("command=\"/bin/sh\" {ED25519}"),
            format!("{ED25519} me\rruncmd"),
            format!("{ED25519} me\u{1b}[2J"),
            format!("{ED25519}\nssh-ed25519 AAAA"),
            ED25519.replace("ssh-ed25519", "ssh-rsa"),
            "ssh-ed25519 not-base64!".into(),
            "ssh-ed25519".into(),
            "ssh-dss AAAAB3NzaC1kc3M= x".into(),
            "garbage".into(),
            String::new(),
        ] {
            assert!(parse_public_key(&bad).is_err(), "accepted {bad:?}");
        }
    }
}
