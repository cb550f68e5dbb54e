//! `cloudctl s3` end to end: the built `nuvem-server` on the real S3 engine (SeaweedFS) and the
//! built `cloudctl`, signed in with an access key profile, as a student uses them.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nuvem_e2e::{Cli, PASSWORD, bin, in_ci};

/// The engine file of the test engine (`infra/test.sh` sets it), or skip outside CI.
fn engine(test: &str) -> Option<String> {
    match std::env::var("NUVEM_TEST_S3_ENGINE")
        .ok()
        .filter(|f| !f.is_empty())
    {
        Some(f) => Some(f),
        None => {
            assert!(
                !in_ci(),
                "{test}: CI must set NUVEM_TEST_S3_ENGINE (infra/test.sh)"
            );
            eprintln!("SKIPPED {test}: NUVEM_TEST_S3_ENGINE is not set (infra/seaweedfs.sh start)");
            None
        }
    }
}

/// Kills the server when the test ends, passed or failed.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
#[ignore = "needs the SeaweedFS engine: run infra/test.sh"]
fn cloudctl_s3_makes_buckets_and_moves_objects() {
    let Some(engine) = engine("cloudctl_s3_makes_buckets_and_moves_objects") else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(bin("nuvem-server"))
        .args(["--listen", "127.0.0.1:0", "--s3-listen", "127.0.0.1:0"])
        .args(["--network-driver", "simulated", "--hypervisor", "simulated"])
        .args(["--s3-engine-file", &engine, "--data-dir"])
        .arg(data.path())
        .env("NUVEM_ADMIN_PASSWORD", PASSWORD)
        .env("NUVEM_LOG", "warn")
        .env("NUVEM_WORKERS", "2")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start nuvem-server");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let _server = Killed(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    let url = loop {
        assert!(Instant::now() < deadline, "no URL announced");
        let line = lines.next().expect("server output").unwrap();
        if let Some(rest) = line.strip_prefix("Nuvem is running at ") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
    let cli = Cli {
        config: home.path().join("config.toml"),
        url,
    };
    let out = cli.run(
        &[
            "--profile",
            "admin",
            "login",
            "--account",
            "admin",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = cli.json(&["--profile", "admin", "iam", "access-key", "create", "root"]);
    let id = key["access_key_id"].as_str().unwrap();
    let out = cli.run(
        &[
            "--profile",
            "keyed",
            "configure",
            "--access-key-id",
            id,
            "--secret-stdin",
        ],
        Some(key["secret_access_key"].as_str().unwrap()),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s3 = |args: &[&str]| {
        let mut all = vec!["--profile", "keyed", "s3"];
        all.extend(args);
        cli.ok(&all)
    };

    let bucket = format!("e2e-cli-{}", std::process::id());
    s3(&["mb", &bucket]);
    let file = home.path().join("report.txt");
    let body = "quarterly numbers\n".repeat(10_000);
    std::fs::write(&file, &body).unwrap();
    let up = s3(&[
        "cp",
        &file.to_string_lossy(),
        &format!("s3://{bucket}/docs/"),
    ]);
    assert!(
        up.contains(&format!("s3://{bucket}/docs/report.txt")),
        "{up}"
    );
    let listed = s3(&["ls"]);
    assert!(
        listed.contains(&bucket) && listed.contains(&body.len().to_string()),
        "{listed}"
    );
    let objects = s3(&["ls", &format!("s3://{bucket}/docs/")]);
    assert!(objects.contains("docs/report.txt"), "{objects}");

    let back = home.path().join("back.txt");
    s3(&[
        "cp",
        &format!("s3://{bucket}/docs/report.txt"),
        &back.to_string_lossy(),
    ]);
    assert_eq!(std::fs::read_to_string(&back).unwrap(), body);
    let url = s3(&[
        "presign",
        &format!("s3://{bucket}/docs/report.txt"),
        "--expires-in",
        "60",
    ]);
    let fetched = Command::new("curl")
        .args(["-fsS", url.trim()])
        .output()
        .expect("curl");
    assert!(fetched.status.success());
    assert_eq!(String::from_utf8_lossy(&fetched.stdout), body);

    std::fs::write(
        home.path().join("policy.json"),
        format!(
            r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": "*",
            "Action": "s3:GetObject", "Resource": "nrn:nuvem:s3:::{bucket}/*"}}]}}"#
        ),
    )
    .unwrap();
    s3(&[
        "policy",
        "put",
        &bucket,
        "--file",
        &home.path().join("policy.json").to_string_lossy(),
    ]);
    assert!(s3(&["policy", "get", &bucket]).contains("s3:GetObject"));
    assert!(s3(&["ls"]).contains("yes"), "the bucket shows as public");
    s3(&["policy", "delete", &bucket]);

    let refused = cli.run(&["--profile", "keyed", "s3", "rb", &bucket], None);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not empty"));
    s3(&["rm", &format!("s3://{bucket}/docs/report.txt")]);
    s3(&["rb", &bucket]);
    assert!(!s3(&["ls"]).contains(&bucket));
}
