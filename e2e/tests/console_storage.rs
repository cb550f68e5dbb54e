//! The console's Storage page in a real browser: headless Chromium through chromedriver against
//! the built `nuvem-server` serving the built console, with object storage on the real engine
//! (SeaweedFS, `NUVEM_TEST_S3_ENGINE`), on the simulated hypervisor and network (no root needed).
//!
//! A student makes a bucket, uploads a site's index page and, in a folder made there, a 3 MiB
//! file whose progress bar runs to the end; opens the folder and back by its breadcrumbs; asks
//! for a presigned link (refused until they have an access key, which the message says), and the
//! link, fetched with a plain HTTP client, gives back the file byte for byte; downloads it; edits
//! the bucket policy (broken JSON is caught as typed, a policy the server refuses shows its
//! message under the editor, a valid one is saved); makes the bucket public (a warning first,
//! then the badge); sets the website's documents and reads the site anonymously; deletes the
//! object, the folder and the bucket. Then the page in Português. The browser's log is read after
//! every step; screenshots go to `e2e/artifacts/`.

mod browser;

use std::path::Path;
use std::time::Duration;

use browser::*;
use fantoccini::Locator;

const POOL: &str = "10.127.0.0/16";

/// The S3 engine the test server runs, or why there is none.
fn engine() -> Result<String, &'static str> {
    std::env::var("NUVEM_TEST_S3_ENGINE")
        .ok()
        .filter(|f| !f.is_empty())
        .ok_or("needs the S3 engine in NUVEM_TEST_S3_ENGINE (infra/seaweedfs.sh start)")
}

/// The CSS of a row's button: `row` is `data-key`, `data-folder` or `data-bucket`.
fn action(row: &str, name: &str, what: &str) -> String {
    format!("tr[{row}=\"{name}\"] button[data-action=\"{what}\"]")
}

async fn attribute(c: &fantoccini::Client, css: &str, name: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .attr(name)
        .await
        .unwrap()
        .unwrap_or_default()
}

/// What a field holds now (a textarea's text is its `value`, not its content).
async fn value(c: &fantoccini::Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Waits until the field `css` holds `needle`.
async fn until_value(c: &fantoccini::Client, css: &str, needle: &str, secs: u64) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let v = value(c, css).await;
        if v.contains(needle) {
            return v;
        }
        if std::time::Instant::now() > deadline {
            shot(c, "failure").await;
            panic!("{css} never held {needle:?}; it holds {v:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Uploads `file` into the folder shown and waits until the progress bar is full and says so.
async fn upload(b: &Browser, file: &Path) {
    let c = &b.c;
    c.find(Locator::Css("#upload-file"))
        .await
        .unwrap()
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    click(c, "#upload-start").await;
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    until_text(c, "#upload-status", &format!("Uploaded {name}"), 60).await;
    assert_eq!(attribute(c, "#upload-status", "data-done").await, "true");
    let (value, max) = (
        attribute(c, "#upload-progress", "value").await,
        attribute(c, "#upload-progress", "max").await,
    );
    let size = std::fs::metadata(file).unwrap().len() as f64;
    assert_eq!(value.parse::<f64>().unwrap(), size, "the bar is full");
    assert_eq!(max.parse::<f64>().unwrap(), size);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium, the built console and the SeaweedFS engine: run infra/test.sh"]
async fn storage_in_a_real_browser() {
    let found = built_console().and_then(|console| Ok((console, engine()?)));
    let Some((console, engine)) = needs("the storage console test", found) else {
        return;
    };
    let files = tempfile::tempdir().unwrap();
    let flags = [
        "--s3-engine-file",
        &engine,
        "--s3-listen",
        "127.0.0.1:0",
        "--s3-website-listen",
        "127.0.0.1:0",
    ];
    let server = ConsoleServer::start(POOL, &console, &flags);
    let (cli, url) = (&server.cli, &server.url);

    // The files a student uploads: a site's index page and a 3 MiB file of varied bytes.
    let index = files.path().join("index.html");
    std::fs::write(&index, "<h1>Hello from a bucket</h1>\n").unwrap();
    let big_dir = files.path().join("up");
    std::fs::create_dir_all(&big_dir).unwrap();
    let big = big_dir.join("data.bin");
    let bytes: Vec<u8> = (0..3 * 1024 * 1024 + 5)
        .map(|i: usize| (i * 131 % 253) as u8)
        .collect();
    std::fs::write(&big, &bytes).unwrap();
    let bucket = format!("console-{}", std::process::id());

    let (_driver, port) = start_chromedriver();
    let profile = tempfile::tempdir().unwrap();
    let b = browser(port, profile.path()).await;
    let c = &b.c;
    c.goto(url).await.unwrap();
    b.sign_in().await;

    // The Storage tab: a bucket made with the form opens at once, empty.
    click(c, "#nav-storage").await;
    until_text(c, "#page-storage h1", "Buckets", 20).await;
    fill(c, "#new-bucket", "Bad_Name").await;
    click(c, "#create-bucket").await;
    until_text(c, "#bucket-error", "InvalidRequest", 20).await;
    b.log_is_clean("after a bad bucket name", &["status of 400"])
        .await;
    fill(c, "#new-bucket", &bucket).await;
    click(c, "#create-bucket").await;
    until_text(c, &format!("tr[data-bucket=\"{bucket}\"]"), &bucket, 20).await;
    until_text(c, "#bucket-detail h2", &bucket, 20).await;
    until_text(c, "#objects", "This folder is empty.", 20).await;
    // A new bucket has no policy and no website yet: both are asked for, and both are 404.
    b.log_is_clean("after making a bucket", &["status of 404"])
        .await;

    // Upload at the top, then make a folder, open it and upload there: the bar fills.
    upload(&b, &index).await;
    until_text(c, "tr[data-key=\"index.html\"]", "index.html", 20).await;
    fill(c, "#new-folder", "docs").await;
    click(c, "#create-folder").await;
    until_text(c, "#breadcrumbs", "docs", 20).await;
    until_text(c, "#objects", "This folder is empty.", 20).await;
    upload(&b, &big).await;
    until_text(c, "tr[data-key=\"docs/data.bin\"]", "3.0 MiB", 20).await;
    shot_at(c, "#bucket-detail", "storage-browser").await;
    // The breadcrumbs lead back up, and the folder opens from its row.
    click(c, "#breadcrumbs button[data-prefix=\"\"]").await;
    until_text(c, "tr[data-folder=\"docs/\"]", "docs/", 20).await;
    click(c, &action("data-folder", "docs/", "open")).await;
    until_text(c, "tr[data-key=\"docs/data.bin\"]", "data.bin", 20).await;
    // The bucket's row counts what it holds: the page, the folder's marker and the file.
    until_text(c, &format!("tr[data-bucket=\"{bucket}\"]"), "3.0 MiB", 20).await;
    b.log_is_clean("after the uploads", &[]).await;

    // A presigned link needs an access key of one's own: the message says so; with one, the
    // link works for anyone, and gives back the bytes.
    click(c, &action("data-key", "docs/data.bin", "link")).await;
    until_text(c, "#objects-error", "access key", 20).await;
    b.log_is_clean("presigning without a key", &["status of 409"])
        .await;
    let key = cli.json(&["iam", "access-key", "create", "root"]);
    let key_id = key["access_key_id"].as_str().unwrap();
    b.select("#link-expiry", "900").await;
    click(c, &action("data-key", "docs/data.bin", "link")).await;
    until_text(c, "#presigned", key_id, 20).await;
    let link = until_value(c, "#presigned-url", "X-Amz-Signature=", 20).await;
    assert!(link.contains("X-Amz-Expires=900"), "{link}");
    let fetched = reqwest::get(&link).await.unwrap();
    assert_eq!(fetched.status(), 200, "{link}");
    assert!(
        fetched.bytes().await.unwrap() == bytes,
        "the presigned link gives back other bytes"
    );
    // The download button hands the file to the browser without an error.
    click(c, &action("data-key", "docs/data.bin", "download")).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(count(c, "#objects-error").await, 0, "the download failed");
    b.log_is_clean("after the link and the download", &[]).await;

    // The policy editor: broken JSON is caught as typed (and not sent); a policy the server
    // refuses shows its message under the editor; a valid one is saved.
    fill(c, "#bucket-policy", "{\"Version\": \"2012-10-17\", ").await;
    until_text(c, "#bucket-policy-check", "JSON", 20).await;
    assert_eq!(attribute(c, "#save-policy", "disabled").await, "true");
    let no_principal = format!(
        "{{\"Version\": \"2012-10-17\", \"Statement\": [{{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"nrn:nuvem:s3:::{bucket}/*\"}}]}}"
    );
    fill(c, "#bucket-policy", &no_principal).await;
    until_text(c, "#bucket-policy-check", "Principal", 20).await;
    click(c, "#save-policy").await;
    until_text(c, "#bucket-policy-error", "InvalidRequest", 20).await;
    assert!(text(c, "#bucket-policy-error").await.contains("Principal"));
    b.log_is_clean("after a refused policy", &["status of 400"])
        .await;
    let shared = format!(
        "{{\"Version\": \"2012-10-17\", \"Statement\": [{{\"Sid\": \"Partner\", \"Effect\": \"Allow\", \"Principal\": {{\"Nuvem\": \"111122223333\"}}, \"Action\": \"s3:GetObject\", \"Resource\": \"nrn:nuvem:s3:::{bucket}/docs/*\"}}]}}"
    );
    fill(c, "#bucket-policy", &shared).await;
    until_text(c, "#bucket-policy-check", "Valid policy", 20).await;
    click(c, "#save-policy").await;
    until_text(c, "#bucket-policy-saved", "Saved", 20).await;
    until_value(c, "#bucket-policy", "Partner", 20).await;
    assert_eq!(
        count(c, &format!("tr[data-bucket=\"{bucket}\"] [data-public]")).await,
        0
    );

    // Public read: a warning first; cancelled, nothing changes; confirmed, the badge shows and
    // the partner's statement is still in the policy.
    click(c, "#public-switch").await;
    until_text(c, "#public-warning", "Anyone", 20).await;
    click(c, "#public-cancel").await;
    assert_eq!(count(c, "#public-warning").await, 0);
    click(c, "#public-switch").await;
    until_text(c, "#public-warning", "Anyone", 20).await;
    click(c, "#public-confirm").await;
    until_text(
        c,
        &format!("tr[data-bucket=\"{bucket}\"] [data-public]"),
        "Public",
        20,
    )
    .await;
    until_text(c, "#public-switch", "on", 20).await;
    let policy = until_value(c, "#bucket-policy", "NuvemConsolePublicRead", 20).await;
    assert!(policy.contains("Partner"), "{policy}");
    b.log_is_clean("after making the bucket public", &[]).await;

    // The website: its documents set with the form, its address shown, the site read with no
    // credentials at all.
    fill(c, "#website-index", "index.html").await;
    fill(c, "#website-error", "missing.html").await;
    click(c, "#save-website").await;
    let site = until_text(c, "#website-url", "s3-website", 20).await;
    shot_at(c, "#public-switch", "storage-settings").await;
    let site = reqwest::Url::parse(site.trim()).unwrap();
    let host = site.host_str().unwrap().to_owned();
    let port = site.port().unwrap();
    let anonymous = reqwest::Client::builder()
        .resolve(&host, std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .build()
        .unwrap();
    let page = anonymous.get(site.clone()).send().await.unwrap();
    assert_eq!(page.status(), 200, "{site}");
    assert_eq!(page.text().await.unwrap(), "<h1>Hello from a bucket</h1>\n");
    b.log_is_clean("after the website", &[]).await;

    // Deleting: the object (asked first), the emptied folder, the page, then the bucket.
    click(c, "#breadcrumbs button[data-prefix=\"docs/\"]").await;
    b.click_and_confirm(&action("data-key", "docs/data.bin", "delete"))
        .await;
    until_text(c, "#objects", "This folder is empty.", 20).await;
    click(c, "#breadcrumbs button[data-prefix=\"\"]").await;
    b.click_and_confirm(&action("data-folder", "docs/", "delete"))
        .await;
    until_gone(c, "#objects", "docs/", 20).await;
    b.click_and_confirm(&action("data-key", "index.html", "delete"))
        .await;
    until_text(c, "#objects", "This folder is empty.", 20).await;
    b.click_and_confirm(&format!("tr[data-bucket=\"{bucket}\"] button.danger"))
        .await;
    until_gone(c, "#buckets", &bucket, 20).await;
    assert!(
        reqwest::get(&link)
            .await
            .unwrap()
            .status()
            .is_client_error(),
        "the link of a deleted bucket's object still answers"
    );
    b.log_is_clean("after deleting everything", &[]).await;

    // The page in Português.
    b.select("#lang", "pt-BR").await;
    until_text(c, "#nav-storage", "Armazenamento", 20).await;
    until_text(c, "#page-storage p", "Armazenamento de objetos", 20).await;
    shot_at(c, "#page-storage", "storage-pt").await;
    b.select("#lang", "en").await;
    b.log_is_clean("in Português", &[]).await;
}
