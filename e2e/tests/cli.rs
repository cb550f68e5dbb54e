//! End to end, as a user would: the built `nuvem-server` binary on a loopback port and the built
//! `cloudctl` (and the SDK example) against it, configured only through files and environment.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// `target/debug` (or release), where cargo put the binaries this test runs.
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>")
        .to_owned()
}

fn binary(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.exists(),
        "{} is missing: build the workspace binaries first (`cargo build --workspace --bins --examples`, as infra/test.sh does)",
        path.display()
    );
    path
}

const ADMIN_PASSWORD: &str = "e2e-admin-password";

struct Server {
    child: Child,
    url: String,
    _data: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let data = tempfile::tempdir().unwrap();
        let mut child = Command::new(binary("nuvem-server"))
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data.path())
            .env("NUVEM_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("NUVEM_LOG", "warn")
            .env("NUVEM_WORKERS", "2")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start nuvem-server");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = loop {
            assert!(
                Instant::now() < deadline,
                "nuvem-server did not announce its URL"
            );
            let line = lines.next().expect("server output").unwrap();
            if let Some(rest) = line.strip_prefix("Nuvem is running at ") {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            url,
            _data: data,
        }
    }

    /// SIGTERM, then wait for a clean exit.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "nuvem-server exited with {status} after SIGTERM"
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nuvem-server did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Runs `cloudctl` with its own config file; no ambient credentials leak in.
struct Cli {
    config: PathBuf,
    _home: tempfile::TempDir,
}

impl Cli {
    fn new() -> Cli {
        let home = tempfile::tempdir().unwrap();
        Cli {
            config: home.path().join("config.toml"),
            _home: home,
        }
    }

    fn run(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(binary("cloudctl"));
        cmd.args(args)
            .env("NUVEM_CONFIG_FILE", &self.config)
            .env_remove("NUVEM_ENDPOINT")
            .env_remove("NUVEM_PROFILE")
            .env_remove("NUVEM_ACCESS_KEY_ID")
            .env_remove("NUVEM_SECRET_ACCESS_KEY")
            .env_remove("NUVEM_SESSION_TOKEN")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("run cloudctl");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin, &[]);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(
            out.status.success(),
            "cloudctl {args:?} failed:\n{stdout}\n{stderr}"
        );
        stdout.into_owned()
    }

    fn json(&self, args: &[&str], stdin: Option<&str>) -> Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        let text = self.ok(&all, stdin);
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("cloudctl {args:?}: not JSON ({e}): {text}"))
    }

    /// Runs and expects failure; returns stderr.
    fn fails(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin, &[]);
        assert!(
            !out.status.success(),
            "cloudctl {args:?} should have failed"
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

#[test]
#[ignore = "needs root (the server's default drivers: real network, libvirt): run infra/test.sh"]
fn cloudctl_drives_iam_end_to_end() {
    if !nuvem_e2e::is_root() {
        assert!(!nuvem_e2e::in_ci(), "CI must run the cloudctl test as root");
        eprintln!("SKIPPED cloudctl_drives_iam_end_to_end: needs root (run infra/test.sh as root)");
        return;
    }
    let server = Server::start();
    let cli = Cli::new();
    let url = server.url.as_str();

    // The operator signs in; the session lands in the profile.
    let out = cli.ok(
        &[
            "--endpoint",
            url,
            "login",
            "--account",
            "admin",
            "--password-stdin",
        ],
        Some(ADMIN_PASSWORD),
    );
    assert!(out.contains("Signed in as root in account admin"), "{out}");
    let config = std::fs::read_to_string(&cli.config).unwrap();
    assert!(
        config.contains("[profiles.default]") && config.contains("session_token"),
        "{config}"
    );
    let me = cli.json(&["whoami"], None);
    assert_eq!(
        (me["account_name"].as_str(), me["is_operator"].as_bool()),
        (Some("admin"), Some(true))
    );
    assert!(cli.ok(&["health"], None).contains("ok"));

    // A class account, created by the operator, with a generated root password.
    let created = cli.json(&["account", "create", "turma-a"], None);
    let root_pw = created["generated_root_password"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(cli.ok(&["account", "list"], None).contains("turma-a"));

    // The class's root, in a second profile.
    let teacher = ["--profile", "teacher"];
    let args = [
        &teacher[..],
        &[
            "--endpoint",
            url,
            "login",
            "-a",
            "turma-a",
            "--password-stdin",
        ],
    ]
    .concat();
    cli.ok(&args, Some(&root_pw));
    fn t<'a>(more: &[&'a str]) -> Vec<&'a str> {
        [&["--profile", "teacher"][..], more].concat()
    }
    cli.ok(
        &t(&["iam", "user", "create", "alice", "--password-stdin"]),
        Some("alice-password"),
    );
    cli.ok(&t(&["iam", "user", "create", "bob"]), None);
    let policy_file = cli._home.path().join("readers.json");
    std::fs::write(
        &policy_file,
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["iam:List*", "iam:Get*"], "Resource": "*"}]}"#,
    )
    .unwrap();
    let pf = policy_file.to_str().unwrap();
    assert!(
        cli.ok(&["iam", "policy", "validate", "--document", pf], None)
            .contains("valid")
    );
    cli.ok(
        &t(&[
            "iam",
            "policy",
            "create",
            "readers",
            "--document",
            pf,
            "--description",
            "read-only",
        ]),
        None,
    );
    cli.ok(&t(&["iam", "group", "create", "students"]), None);
    cli.ok(&t(&["iam", "group", "add-user", "students", "alice"]), None);
    cli.ok(
        &t(&["iam", "group", "attach-policy", "students", "readers"]),
        None,
    );
    let group = cli.json(&t(&["iam", "group", "get", "students"]), None);
    assert_eq!(group["members"], serde_json::json!(["alice"]));
    assert_eq!(group["policies"], serde_json::json!(["readers"]));
    let table = cli.ok(&t(&["iam", "user", "list"]), None);
    assert!(
        table.contains("alice") && table.contains("bob") && table.contains("NAME"),
        "{table}"
    );

    // Alice gets an access key and uses it through a configured profile.
    let key = cli.json(&t(&["iam", "access-key", "create", "alice"]), None);
    let (id, secret) = (
        key["access_key_id"].as_str().unwrap(),
        key["secret_access_key"].as_str().unwrap(),
    );
    cli.ok(
        &[
            "--profile",
            "alice",
            "--endpoint",
            url,
            "configure",
            "--access-key-id",
            id,
            "--secret-stdin",
        ],
        Some(secret),
    );
    let alice = cli.json(&["--profile", "alice", "whoami"], None);
    assert_eq!(
        (alice["user"].as_str(), alice["auth_method"].as_str()),
        (Some("alice"), Some("access-key"))
    );
    let users = cli.json(&["--profile", "alice", "iam", "user", "list"], None);
    assert_eq!(users.as_array().unwrap().len(), 3);

    // Alice may read but not delete: non-zero exit and the API's message.
    let err = cli.fails(
        &["--profile", "alice", "iam", "user", "delete", "bob"],
        None,
    );
    assert!(
        err.contains("not allowed to iam:DeleteUser") && err.contains("AccessDenied"),
        "{err}"
    );
    // She may not manage accounts either.
    let err = cli.fails(&["--profile", "alice", "account", "list"], None);
    assert!(err.contains("operator"), "{err}");
    // ... and the error names the profile signed in to the operator account.
    assert!(
        err.contains("`account list` is for the operator: run it with --profile default"),
        "{err}"
    );

    // The same key from the environment, as the AWS CLI reads AWS_ACCESS_KEY_ID.
    let out = cli.run(
        &["whoami", "-o", "json"],
        None,
        &[
            ("NUVEM_ENDPOINT", url),
            ("NUVEM_ACCESS_KEY_ID", id),
            ("NUVEM_SECRET_ACCESS_KEY", secret),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"alice\""));

    // The SDK example runs against the same server with the teacher's key.
    let teacher_key = cli.json(&t(&["iam", "access-key", "create", "root"]), None);
    let example = bin_dir().join("examples").join("quickstart");
    if example.exists() {
        let out = Command::new(&example)
            .env("NUVEM_CONFIG_FILE", &cli.config)
            .env("NUVEM_ENDPOINT", url)
            .env(
                "NUVEM_ACCESS_KEY_ID",
                teacher_key["access_key_id"].as_str().unwrap(),
            )
            .env(
                "NUVEM_SECRET_ACCESS_KEY",
                teacher_key["secret_access_key"].as_str().unwrap(),
            )
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("and may not delete"), "{text}");
    } else {
        panic!(
            "the SDK example was not built at {}: infra/test.sh builds it",
            example.display()
        );
    }

    // Disable the key: alice's profile stops working with a clear message.
    cli.ok(&t(&["iam", "access-key", "disable", "alice", id]), None);
    let err = cli.fails(&["--profile", "alice", "whoami"], None);
    assert!(err.contains("disabled"), "{err}");

    // Bad input and bad places.
    let err = cli.fails(&t(&["iam", "user", "create", "bad name"]), None);
    assert!(
        err.contains("InvalidRequest") && err.contains("' '"),
        "{err}"
    );
    std::fs::write(&policy_file, r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "iam:Nope", "Resource": "*"}}"#).unwrap();
    let err = cli.fails(&["iam", "policy", "validate", "--document", pf], None);
    assert!(err.contains("matches no iam action"), "{err}");
    let err = cli.fails(&["--endpoint", "http://127.0.0.1:9", "whoami"], None);
    assert!(err.contains("cannot reach Nuvem"), "{err}");
    let err = cli.fails(&["--profile", "nobody", "whoami"], None);
    assert!(err.contains("profile 'nobody'"), "{err}");
    let err = cli.fails(
        &[
            "--endpoint",
            url,
            "login",
            "-a",
            "turma-a",
            "--password-stdin",
        ],
        Some("wrong-password"),
    );
    assert!(err.contains("sign-in failed"), "{err}");

    // The tenant sees its quotas; the operator raises one.
    let quotas = cli.json(&["account", "quotas"], None);
    assert!(
        quotas["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["name"] == "vpcs" && q["limit"] == 5),
        "{quotas}"
    );

    // Sign out: the default profile no longer has a session, and the session itself has ended on
    // the server (a copy of the token is refused too).
    let config = std::fs::read_to_string(&cli.config).unwrap();
    let token = config
        .split("[profiles.default]")
        .nth(1)
        .and_then(|section| section.lines().find(|l| l.starts_with("session_token")))
        .and_then(|l| l.split('"').nth(1))
        .expect("the default profile holds a session token")
        .to_owned();
    let out = cli.ok(&["logout"], None);
    assert!(out.contains("ended on the server"), "{out}");
    let err = cli.fails(&["whoami"], None);
    assert!(err.contains("Unauthenticated"), "{err}");
    let copy = cli.run(&["whoami"], None, &[("NUVEM_SESSION_TOKEN", &token)]);
    assert!(!copy.status.success());
    let err = String::from_utf8_lossy(&copy.stderr);
    assert!(err.contains("signed out"), "{err}");

    // Completions for a shell.
    assert!(cli.ok(&["completions", "bash"], None).contains("cloudctl"));

    // SIGTERM stops the server cleanly.
    server.stop();
}
