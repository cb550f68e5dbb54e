//! SSH key pairs, through OpenSSH's `ssh-keygen`.

use super::{DriverError, DriverResult, run};

/// A new ed25519 key pair: (private key in OpenSSH format, public key line).
pub fn generate_ed25519(
    scratch: &std::path::Path,
    comment: &str,
) -> DriverResult<(String, String)> {
    super::private_dir(scratch, 0o700, None)?;
    let dir = tempfile_dir(scratch)?;
    let key = dir.join("id_ed25519");
    let k = key.display().to_string();
    let result = run(
        "ssh-keygen",
        &["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", &k],
    )
    .and_then(|_| {
        let private = std::fs::read_to_string(&key).map_err(|e| DriverError(e.to_string()))?;
        let public = std::fs::read_to_string(key.with_extension("pub"))
            .map_err(|e| DriverError(e.to_string()))?;
        Ok((private, public.trim().to_owned()))
    });
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// (key type, SHA256 fingerprint) of an OpenSSH public key line; an error if it is not one.
pub fn fingerprint(scratch: &std::path::Path, public_key: &str) -> DriverResult<(String, String)> {
    super::private_dir(scratch, 0o700, None)?;
    let dir = tempfile_dir(scratch)?;
    let file = dir.join("key.pub");
    let result = std::fs::write(&file, format!("{}\n", public_key.trim()))
        .map_err(|e| DriverError(e.to_string()))
        .and_then(|_| {
            run(
                "ssh-keygen",
                &["-l", "-E", "sha256", "-f", &file.display().to_string()],
            )
        });
    let _ = std::fs::remove_dir_all(&dir);
    let out = result?;
    let fp = out.split_whitespace().nth(1).unwrap_or_default().to_owned();
    let key_type = public_key
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    Ok((key_type, fp))
}

fn tempfile_dir(scratch: &std::path::Path) -> DriverResult<std::path::PathBuf> {
    use rand::Rng;
    let dir = scratch.join(format!("key-{:016x}", rand::thread_rng().r#gen::<u64>()));
    let mut b = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(&dir)
        .map_err(|e| DriverError(format!("cannot create {}: {e}", dir.display())))?;
    Ok(dir)
}
