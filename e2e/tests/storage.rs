//! `cloudctl s3` end to end: the built `nuvem-server` on the real S3 engine (SeaweedFS) and the
//! built `cloudctl`, signed in with an access key profile, as a student uses them.

use std::io::{BufRead, BufReader};
use std::path::Path;
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
        .args(["--s3-website-listen", "127.0.0.1:0"])
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
    directories_move_and_sync(&cli, home.path(), &bucket);
    s3(&["rb", &bucket]);
    assert!(!s3(&["ls"]).contains(&bucket));
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `sync` both ways (only what changed, `--delete`), `cp --recursive`, `mv`, a multipart
/// upload and download, and `website`; leaves the bucket empty.
fn directories_move_and_sync(cli: &Cli, home: &Path, bucket: &str) {
    let s3 = |args: &[&str]| {
        let mut all = vec!["--profile", "keyed", "s3"];
        all.extend(args);
        cli.ok(&all)
    };
    let site = home.join("site");
    std::fs::create_dir_all(site.join("css")).unwrap();
    std::fs::write(site.join("index.html"), "<h1>hi</h1>").unwrap();
    std::fs::write(site.join("css/style.css"), "h1 {}").unwrap();
    std::fs::write(site.join("old.txt"), "old").unwrap();
    let site_s = site.to_string_lossy().into_owned();
    let remote = format!("s3://{bucket}/site");

    let up = s3(&["sync", &site_s, &remote]);
    assert_eq!(up.matches("upload:").count(), 3, "{up}");
    assert!(up.contains(&format!("{remote}/css/style.css")), "{up}");
    let again = s3(&["sync", &site_s, &remote]);
    assert!(
        !again.contains("upload:"),
        "nothing changed, nothing sent: {again}"
    );
    std::fs::write(site.join("index.html"), "<h1>hello, world</h1>").unwrap();
    std::fs::remove_file(site.join("old.txt")).unwrap();
    std::fs::write(site.join("new.txt"), "new").unwrap();
    let changed = s3(&["sync", &site_s, &remote, "--delete"]);
    assert_eq!(changed.matches("upload:").count(), 2, "{changed}");
    assert!(
        changed.contains(&format!("{remote}/index.html"))
            && changed.contains(&format!("{remote}/new.txt")),
        "{changed}"
    );
    assert!(
        changed.contains(&format!("delete: {remote}/old.txt")),
        "{changed}"
    );
    let listed = s3(&["ls", &format!("{remote}/")]);
    assert!(
        !listed.contains("old.txt") && listed.contains("site/css/style.css"),
        "{listed}"
    );

    // And back down: the same files, and a second sync copies nothing.
    let copy = home.join("site-copy");
    let copy_s = copy.to_string_lossy().into_owned();
    let down = s3(&["sync", &remote, &copy_s]);
    assert_eq!(down.matches("download:").count(), 3, "{down}");
    for f in ["index.html", "css/style.css", "new.txt"] {
        assert_eq!(read(&copy.join(f)), read(&site.join(f)), "{f}");
    }
    let again = s3(&["sync", &remote, &copy_s]);
    assert!(!again.contains("download:"), "{again}");

    // The website of the synced folder: on, shown with its URL, off.
    let on = s3(&[
        "website",
        bucket,
        "--index-document",
        "index.html",
        "--error-document",
        "404.html",
    ]);
    assert!(
        on.contains("404.html") && on.contains(".s3-website.localhost:"),
        "{on}"
    );
    assert!(
        on.contains("403 until the bucket policy"),
        "the bucket is not public: {on}"
    );
    assert!(s3(&["website", bucket]).contains("index.html"));
    s3(&["website", bucket, "--off"]);
    let none = cli.run(&["--profile", "keyed", "s3", "website", bucket], None);
    assert!(!none.status.success(), "the website is off");
    let message = String::from_utf8_lossy(&none.stderr);
    assert!(message.contains("no website configuration"), "{message}");

    // cp --recursive, up and down.
    let up = s3(&["cp", "--recursive", &site_s, &format!("s3://{bucket}/copy")]);
    assert_eq!(up.matches("upload:").count(), 3, "{up}");
    let back = home.join("copy-back");
    let down = s3(&[
        "cp",
        "-r",
        &format!("s3://{bucket}/copy/"),
        &back.to_string_lossy(),
    ]);
    assert_eq!(down.matches("download:").count(), 3, "{down}");
    assert_eq!(read(&back.join("css/style.css")), "h1 {}");

    // mv: a file up (the local file goes), an object to another key (the source goes), and a
    // prefix to another prefix.
    let note = home.join("note.txt");
    std::fs::write(&note, "moved").unwrap();
    s3(&[
        "mv",
        &note.to_string_lossy(),
        &format!("s3://{bucket}/notes/"),
    ]);
    assert!(!note.exists(), "mv removes the local source");
    s3(&[
        "mv",
        &format!("s3://{bucket}/notes/note.txt"),
        &format!("s3://{bucket}/archive/note.txt"),
    ]);
    let listed = s3(&["ls", &format!("s3://{bucket}/")]);
    assert!(
        listed.contains("archive/note.txt") && !listed.contains("notes/note.txt"),
        "{listed}"
    );
    let moved = s3(&[
        "mv",
        "--recursive",
        &format!("s3://{bucket}/copy"),
        &format!("s3://{bucket}/moved"),
    ]);
    assert_eq!(moved.matches("move:").count(), 3, "{moved}");
    let listed = s3(&["ls", &format!("s3://{bucket}/")]);
    assert!(
        listed.contains("moved/css/style.css") && !listed.contains("copy/"),
        "{listed}"
    );

    // 20 MiB: uploaded in parts and downloaded, streamed, byte for byte.
    let big = home.join("big.bin");
    let data: Vec<u8> = (0..20 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&big, &data).unwrap();
    s3(&[
        "cp",
        &big.to_string_lossy(),
        &format!("s3://{bucket}/big.bin"),
    ]);
    let big_back = home.join("big-back.bin");
    s3(&[
        "cp",
        &format!("s3://{bucket}/big.bin"),
        &big_back.to_string_lossy(),
    ]);
    assert!(
        std::fs::read(&big_back).unwrap() == data,
        "the 20 MiB round trip differs"
    );
    let listed = s3(&["ls", &format!("s3://{bucket}/big.bin")]);
    assert!(listed.contains(&data.len().to_string()), "{listed}");

    // An empty directory synced with --delete empties the bucket.
    let empty = home.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let emptied = s3(&[
        "sync",
        &empty.to_string_lossy(),
        &format!("s3://{bucket}"),
        "--delete",
    ]);
    assert!(emptied.contains("delete:"), "{emptied}");
    let listed = s3(&["ls", &format!("s3://{bucket}")]);
    assert!(
        !listed.contains(".txt") && !listed.contains("big.bin"),
        "{listed}"
    );
}
