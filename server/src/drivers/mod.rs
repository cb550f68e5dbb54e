//! The only code that touches the host. Each driver is a trait with a real implementation (shell
//! commands against the kernel and daemons) and a simulated twin for fast unit tests. Drivers know
//! nothing of HTTP, IAM or accounts.

pub mod hypervisor;
pub mod keys;
pub mod net;
pub mod sim;

/// A host command failed; the message names the command and what it printed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DriverError(pub String);

pub type DriverResult<T> = Result<T, DriverError>;

/// Runs a command and returns its stdout; a failure carries the command line and stderr.
pub fn run(program: &str, args: &[&str]) -> DriverResult<String> {
    run_with_input(program, args, None)
}

pub fn run_with_input(program: &str, args: &[&str], input: Option<&str>) -> DriverResult<String> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let line = || format!("{program} {}", args.join(" "));
    let mut child = Command::new(program)
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| DriverError(format!("cannot run `{}`: {e}", line())))?;
    if let Some(text) = input {
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin
            .write_all(text.as_bytes())
            .map_err(|e| DriverError(format!("writing to `{}`: {e}", line())))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| DriverError(format!("waiting for `{}`: {e}", line())))?;
    if !out.status.success() {
        return Err(DriverError(format!(
            "`{}` failed ({}): {}",
            line(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
