//! Static website hosting on the real engine: settings through the API and the `aws` CLI, and the
//! website endpoint serving index and error documents to anonymous callers only while the bucket
//! policy allows public reads.

use nuvem_api::ErrorCode;
use nuvem_api::s3::BucketWebsite;
use serde_json::json;

use crate::common::Cloud;
use crate::storage::{Key, aws_ok, aws_refused, bucket, key_of};

async fn put(endpoint: &str, key: &Key, target: &str, body: &str) {
    let dir = tempfile::tempdir().unwrap();
    // The CLI guesses the Content-Type from the file name, as it does for real sites.
    let name = target.rsplit('/').next().unwrap_or("body");
    let file = dir.path().join(name);
    std::fs::write(&file, body).unwrap();
    aws_ok(
        endpoint,
        key,
        &["s3", "cp", "--no-progress", &file.to_string_lossy(), target],
    )
    .await;
}

/// An anonymous GET (or HEAD) that follows no redirect: status, headers, body.
async fn fetch(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
) -> (u16, reqwest::header::HeaderMap, String) {
    let resp = client.request(method, &url).send().await.expect("website");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

fn site(index: &str, error: Option<&str>) -> BucketWebsite {
    BucketWebsite {
        index_document: index.to_owned(),
        error_document: error.map(str::to_owned),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the SeaweedFS engine: run infra/test.sh"]
async fn websites_are_served_anonymously_only_while_the_policy_allows() {
    let Some(cloud) =
        Cloud::start_with_s3("websites_are_served_anonymously_only_while_the_policy_allows").await
    else {
        return;
    };
    let (s3, web) = (cloud.s3_url(), cloud.s3_website_url());
    let a = cloud.account("site-a").await;
    let b = cloud.account("site-b").await;
    let key = key_of(&a, "root").await;
    let name = bucket("site");
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: &str| fetch(&plain, reqwest::Method::GET, format!("{web}/{name}{path}"));

    a.create_bucket(&name).await.unwrap();
    put(
        &s3,
        &key,
        &format!("s3://{name}/index.html"),
        "<h1>home</h1>",
    )
    .await;
    put(
        &s3,
        &key,
        &format!("s3://{name}/error.html"),
        "<h1>lost</h1>",
    )
    .await;
    put(
        &s3,
        &key,
        &format!("s3://{name}/docs/index.html"),
        "<h1>docs</h1>",
    )
    .await;
    put(
        &s3,
        &key,
        &format!("s3://{name}/style.css"),
        "h1 { color: red }",
    )
    .await;

    // No website settings yet: the endpoint says so, the API too.
    let (status, _, body) = get("/").await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("NoSuchWebsiteConfiguration"), "{body}");
    let err = a.get_bucket_website(&name).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NotFound));
    assert!(err.to_string().contains("website"), "{err}");
    assert_eq!(a.get_bucket(&name).await.unwrap().website_url, None);

    // Bad settings are refused with a reason; another account may not set them.
    for (bad, needle) in [
        (site("", None), "empty"),
        (site("pages/index.html", None), "'/'"),
        (site("index.html", Some("")), "error document"),
    ] {
        let err = a.put_bucket_website(&name, &bad).await.unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::InvalidRequest), "{bad:?}");
        assert!(err.to_string().contains(needle), "{bad:?}: {err}");
    }
    let err = b
        .put_bucket_website(&name, &site("index.html", None))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::AccessDenied));

    // The `aws` CLI sets them over S3, and reads them back.
    aws_ok(
        &s3,
        &key,
        &[
            "s3",
            "website",
            &format!("s3://{name}"),
            "--index-document",
            "index.html",
            "--error-document",
            "error.html",
        ],
    )
    .await;
    let shown = aws_ok(
        &s3,
        &key,
        &["s3api", "get-bucket-website", "--bucket", &name],
    )
    .await;
    assert!(
        shown.contains("index.html") && shown.contains("error.html"),
        "{shown}"
    );
    assert_eq!(
        a.get_bucket_website(&name).await.unwrap(),
        site("index.html", Some("error.html"))
    );
    let url = a.get_bucket(&name).await.unwrap().website_url.expect("url");
    let port = web.rsplit(':').next().unwrap();
    assert_eq!(url, format!("http://{name}.s3-website.localhost:{port}/"));

    // Without a policy granting anonymous reads, nothing is served: 403, a plain page (the
    // error document is not readable either).
    let (status, _, body) = get("/").await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("AccessDenied") && !body.contains("lost"),
        "{body}"
    );

    let public = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": "*", "Action": "s3:GetObject", "Resource": format!("nrn:nuvem:s3:::{name}/*")}]});
    a.put_bucket_policy(&name, public).await.unwrap();
    let before = a.storage_usage().await.unwrap();
    let tier2_before = before
        .items
        .iter()
        .find(|u| u.bucket == name)
        .unwrap()
        .requests_tier2;

    let (status, headers, body) = get("/").await;
    assert_eq!((status, body.as_str()), (200, "<h1>home</h1>"));
    assert_eq!(headers["content-type"], "text/html");
    // Browsers' caches and ranges go through to the engine.
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let cached = plain
        .get(format!("{web}/{name}/"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
    let part = plain
        .get(format!("{web}/{name}/index.html"))
        .header("range", "bytes=4-7")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.text().await.unwrap(), "home");
    let (status, headers, _) = get("").await;
    assert_eq!(status, 302, "the bucket root is the folder /{name}/");
    assert_eq!(headers["location"], format!("/{name}/"));
    let (status, headers, _) = get("/docs").await;
    assert_eq!(status, 302, "a folder without its slash is redirected");
    assert_eq!(headers["location"], format!("/{name}/docs/"));
    let (status, _, body) = get("/docs/").await;
    assert_eq!((status, body.as_str()), (200, "<h1>docs</h1>"));
    let (status, headers, body) = get("/no/such/page.html").await;
    assert_eq!((status, body.as_str()), (404, "<h1>lost</h1>"));
    assert_eq!(headers["content-type"], "text/html");
    let (status, headers, body) = fetch(
        &plain,
        reqwest::Method::HEAD,
        format!("{web}/{name}/style.css"),
    )
    .await;
    assert_eq!((status, body.as_str()), (200, ""));
    assert_eq!(headers["content-type"], "text/css");
    assert_eq!(headers["content-length"], "17");
    let (status, headers, _) = fetch(&plain, reqwest::Method::POST, format!("{web}/{name}/")).await;
    assert_eq!(status, 405);
    assert_eq!(headers["allow"], "GET, HEAD");

    // Virtual-host style: <bucket>.s3-website.<domain> names the bucket, `/` is its index.
    let addr: std::net::SocketAddr = web.trim_start_matches("http://").parse().unwrap();
    let by_host = reqwest::Client::builder()
        .resolve(&format!("{name}.s3-website.localhost"), addr)
        .build()
        .unwrap();
    let (status, _, body) = fetch(&by_host, reqwest::Method::GET, url.clone()).await;
    assert_eq!((status, body.as_str()), (200, "<h1>home</h1>"));
    let (status, _, body) = fetch(&by_host, reqwest::Method::GET, format!("{url}docs/")).await;
    assert_eq!((status, body.as_str()), (200, "<h1>docs</h1>"));

    // The website's GETs are the bucket's requests, with their bytes out.
    let after = a.storage_usage().await.unwrap();
    let used = after.items.iter().find(|u| u.bucket == name).unwrap();
    assert!(
        used.requests_tier2 >= tier2_before + 6,
        "{tier2_before} -> {used:?}"
    );
    assert!(used.bytes_out >= 13, "{used:?}");

    // A Deny for one folder wins over the public Allow; the error document still answers.
    let partly = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": format!("nrn:nuvem:s3:::{name}/*")},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
         "Resource": format!("nrn:nuvem:s3:::{name}/docs/*")}]});
    a.put_bucket_policy(&name, partly).await.unwrap();
    let (status, _, body) = get("/docs/").await;
    assert_eq!((status, body.as_str()), (403, "<h1>lost</h1>"));
    let (status, _, body) = get("/").await;
    assert_eq!((status, body.as_str()), (200, "<h1>home</h1>"));

    // Removing the policy closes the site at once.
    a.delete_bucket_policy(&name).await.unwrap();
    let (status, _, body) = get("/").await;
    assert_eq!(status, 403, "{body}");
    let (status, _, body) = get("/no/such/page.html").await;
    assert_eq!(status, 403, "{body}");

    // Other buckets: one that does not exist, one without website settings.
    let (status, _, body) =
        fetch(&plain, reqwest::Method::GET, format!("{web}/{name}-none/")).await;
    assert_eq!(status, 404);
    assert!(body.contains("NoSuchBucket"), "{body}");
    let other = bucket("no-site");
    a.create_bucket(&other).await.unwrap();
    let (status, _, body) = fetch(&plain, reqwest::Method::GET, format!("{web}/{other}/")).await;
    assert_eq!(status, 404);
    assert!(body.contains("NoSuchWebsiteConfiguration"), "{body}");
    aws_refused(
        &s3,
        &key,
        &["s3api", "get-bucket-website", "--bucket", &other],
        "NoSuchWebsiteConfiguration",
    )
    .await;

    // Turned off: the settings are gone, the objects stay.
    a.delete_bucket_website(&name).await.unwrap();
    let (status, _, body) = get("/").await;
    assert_eq!(status, 404);
    assert!(body.contains("NoSuchWebsiteConfiguration"), "{body}");
    assert_eq!(a.get_bucket(&name).await.unwrap().website_url, None);
    aws_ok(
        &s3,
        &key,
        &["s3", "rm", "--recursive", &format!("s3://{name}")],
    )
    .await;
    a.delete_bucket(&name).await.unwrap();
    a.delete_bucket(&other).await.unwrap();
}
