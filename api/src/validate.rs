//! Validation rules shared by the server (which enforces them) and the clients (which can check a
//! form before sending it). Each returns a message a student can act on.

/// Longest IAM user name (as AWS).
pub const MAX_USER_NAME: usize = 64;
/// Longest group or policy name (as AWS).
pub const MAX_GROUP_NAME: usize = 128;
pub const MAX_POLICY_NAME: usize = 128;
/// Account names are used at sign-in and later in host names: short, lowercase.
pub const MIN_ACCOUNT_NAME: usize = 3;
pub const MAX_ACCOUNT_NAME: usize = 63;
pub const MIN_PASSWORD: usize = 8;
pub const MAX_PASSWORD: usize = 128;
pub const MAX_DESCRIPTION: usize = 1000;
/// Largest policy document, in bytes of its JSON text (AWS: 6,144 for managed policies).
pub const MAX_POLICY_DOCUMENT: usize = 6144;

/// IAM user, group and policy names: letters, digits and `+=,.@_-`, as AWS allows.
pub fn iam_name(kind: &str, name: &str, max: usize) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("the {kind} name must not be empty"));
    }
    if name.chars().count() > max {
        return Err(format!(
            "the {kind} name is {} characters long; the limit is {max}",
            name.chars().count()
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "+=,.@_-".contains(*c)))
    {
        return Err(format!(
            "the {kind} name contains {bad:?}; use only letters, digits and + = , . @ _ -"
        ));
    }
    Ok(())
}

pub fn user_name(name: &str) -> Result<(), String> {
    iam_name("user", name, MAX_USER_NAME)
}

pub fn group_name(name: &str) -> Result<(), String> {
    iam_name("group", name, MAX_GROUP_NAME)
}

pub fn policy_name(name: &str) -> Result<(), String> {
    iam_name("policy", name, MAX_POLICY_NAME)
}

/// Account names: 3–63 characters of `a-z`, `0-9` and `-`, starting with a letter, not ending with
/// `-` (they may become DNS labels).
pub fn account_name(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if !(MIN_ACCOUNT_NAME..=MAX_ACCOUNT_NAME).contains(&len) {
        return Err(format!(
            "the account name must be {MIN_ACCOUNT_NAME} to {MAX_ACCOUNT_NAME} characters long (it is {len})"
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("the account name must start with a lowercase letter".into());
    }
    if name.ends_with('-') {
        return Err("the account name must not end with '-'".into());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "the account name contains {bad:?}; use only lowercase letters, digits and '-'"
        ));
    }
    Ok(())
}

pub fn password(password: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < MIN_PASSWORD {
        return Err(format!(
            "the password must have at least {MIN_PASSWORD} characters (it has {len})"
        ));
    }
    if len > MAX_PASSWORD {
        return Err(format!(
            "the password must have at most {MAX_PASSWORD} characters"
        ));
    }
    Ok(())
}

pub fn description(text: &str) -> Result<(), String> {
    if text.chars().count() > MAX_DESCRIPTION {
        return Err(format!(
            "the description is longer than {MAX_DESCRIPTION} characters"
        ));
    }
    Ok(())
}

/// Labels (names of VPCs, subnets and security groups; descriptions of rules): 1–255 characters
/// of letters, digits, spaces and `._-:/()#,@[]+=&;{}!$*`, as AWS allows for security groups.
pub fn label(kind: &str, text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err(format!("the {kind} must not be empty"));
    }
    if text.chars().count() > 255 {
        return Err(format!("the {kind} is longer than 255 characters"));
    }
    if let Some(bad) = text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(*c)))
    {
        return Err(format!(
            "the {kind} contains {bad:?}; use letters, digits, spaces and ._-:/()#,@[]+=&;{{}}!$*"
        ));
    }
    Ok(())
}

/// The fields that hold free text which may span lines: they may contain newlines, carriage
/// returns and tabs. Every other string of the API (names, ids, passwords, markers, CIDRs, paths)
/// is one line. These are top-level fields of request bodies (a policy's or group's
/// `description`, an instance's `user_data`, an imported `public_key`); further rules of the field
/// still apply (a security group's description is a label, which allows neither).
pub const MULTI_LINE_FIELDS: &[&str] = &["description", "user_data", "public_key"];

/// The name of a control character for a message: `NUL`, `tab`, `newline`, … or its code point.
fn control_name(c: char) -> String {
    let name = match c {
        '\0' => "NUL",
        '\t' => "a tab",
        '\n' => "a newline",
        '\r' => "a carriage return",
        '\u{1b}' => "ESC",
        '\u{7f}' => "DEL",
        _ => "a control character",
    };
    format!("{name} (U+{:04X})", c as u32)
}

/// No string the API accepts holds a control character (U+0000–U+001F, U+007F–U+009F): NUL cannot
/// be stored by PostgreSQL at all, and the others are invisible in the console and the CLI and
/// break logs, terminals and the host's configuration files. A `multi_line` field (see
/// [`MULTI_LINE_FIELDS`]) may hold `\n`, `\r` and `\t`, never the others. `what` names the value
/// for the message, e.g. "the field `name`" or "the path parameter `user`".
pub fn no_control_characters(what: &str, text: &str, multi_line: bool) -> Result<(), String> {
    let allowed = |c: char| multi_line && matches!(c, '\n' | '\r' | '\t');
    let Some((at, bad)) = text
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !allowed(*c))
    else {
        return Ok(());
    };
    let position = at + 1;
    let hint = if multi_line {
        "remove it (newlines and tabs are fine here, other control characters never are)"
    } else if matches!(bad, '\n' | '\r' | '\t') {
        "it must be a single line of text"
    } else {
        "remove it (control characters are never accepted)"
    };
    Err(format!(
        "{what} contains {} at character {position}; {hint}",
        control_name(bad)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(user_name("alice.smith@uni").is_ok());
        assert!(user_name("").is_err());
        assert!(user_name(&"a".repeat(65)).is_err());
        assert!(user_name("a b").unwrap_err().contains("' '"));
        assert!(user_name("joão").is_err());
        assert!(account_name("turma-2026").is_ok());
        assert!(account_name("Turma").is_err());
        assert!(account_name("ab").is_err());
        assert!(account_name("9lives").is_err());
        assert!(account_name("end-").is_err());
        assert!(password("short").is_err());
        assert!(password("long enough").is_ok());
    }

    #[test]
    fn control_characters() {
        let f = "the field `name`";
        assert!(no_control_characters(f, "plain 🦀 text", false).is_ok());
        let err = no_control_characters(f, "a\0b", false).unwrap_err();
        assert!(
            err.contains("`name`") && err.contains("NUL (U+0000)"),
            "{err}"
        );
        assert!(err.contains("character 2"), "{err}");
        assert!(
            no_control_characters(f, "a\nb", false)
                .unwrap_err()
                .contains("single line")
        );
        assert!(no_control_characters(f, "a\u{9b}b", false).is_err());
        assert!(no_control_characters(f, "a\u{7f}", true).is_err());
        assert!(no_control_characters(f, "#!/bin/sh\r\n\techo hi\n", true).is_ok());
        assert!(
            no_control_characters(f, "\0", true)
                .unwrap_err()
                .contains("NUL")
        );
    }
}
