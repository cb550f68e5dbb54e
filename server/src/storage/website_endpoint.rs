//! The website endpoint (`--s3-website-listen`): a bucket's objects served as a static website to
//! anonymous GET and HEAD, path-style (`http://HOST:PORT/<bucket>/<key>`) or virtual-host style
//! (`http://<bucket>.s3-website.<domain>:PORT/<key>`). A path ending in `/` is the folder's index
//! document; a key that does not exist is the error document with status 404 (a plain page
//! without one). Only what the bucket policy lets anonymous callers `s3:GetObject` is served —
//! the same evaluation as on the S3 endpoint — else 403. Bodies stream from the engine.

use std::sync::Arc;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::{DateTime, DateTimeFormat};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use hyper::body::Incoming;
use nuvem_api::s3 as api;
use s3s::{Body, HttpError, HttpResponse};

use super::Storage;
use super::access::{Denied, KnownBucket};
use super::listener::Listener;
use super::meter::RequestClass;
use super::website::{WebsiteBase, website_of};

impl Storage {
    /// Binds `listen` for the static websites of every bucket that has website settings; sites
    /// are also reached as `<bucket>.s3-website.<domain>`.
    pub async fn serve_websites(&self, listen: &str, domain: &str) -> anyhow::Result<Listener> {
        let domain = domain.to_ascii_lowercase();
        let sites = Arc::new(Sites {
            storage: self.clone(),
            suffix: format!(".s3-website.{domain}"),
        });
        let listener = Listener::start(listen, "S3 website endpoint", move |req| {
            let sites = sites.clone();
            async move { Ok::<_, HttpError>(sites.answer(req).await) }
        })
        .await?;
        let _ = self.website_base.set(WebsiteBase {
            domain,
            port: listener.addr.port(),
        });
        Ok(listener)
    }
}

struct Sites {
    storage: Storage,
    /// `.s3-website.<domain>`: a host ending in it names the bucket before it.
    suffix: String,
}

/// What a request asks for.
struct Wanted {
    bucket: String,
    /// The object key, percent-decoded; empty for the site's root.
    key: String,
    /// What the client sent as the path, for redirects.
    path: String,
}

/// One answer of the engine for an object.
enum Fetched {
    Served(HttpResponse),
    NotModified(HeaderMap),
    Denied(String),
    Missing,
    /// A status the engine answered with (412, 416) and its S3 code.
    Refused(StatusCode, String),
    Failed(String),
}

/// Request headers passed to the engine, so browsers' caches and range requests work.
#[derive(Default)]
struct Conditions {
    range: Option<String>,
    if_match: Option<String>,
    if_none_match: Option<String>,
    if_modified_since: Option<DateTime>,
    if_unmodified_since: Option<DateTime>,
}

impl Conditions {
    fn of(headers: &HeaderMap) -> Conditions {
        let text = |name: header::HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let date = |name: header::HeaderName| {
            text(name).and_then(|t| DateTime::from_str(&t, DateTimeFormat::HttpDate).ok())
        };
        Conditions {
            range: text(header::RANGE),
            if_match: text(header::IF_MATCH),
            if_none_match: text(header::IF_NONE_MATCH),
            if_modified_since: date(header::IF_MODIFIED_SINCE),
            if_unmodified_since: date(header::IF_UNMODIFIED_SINCE),
        }
    }
}

impl Sites {
    async fn answer(&self, req: http::Request<Incoming>) -> HttpResponse {
        let request_id = uuid::Uuid::new_v4().simple().to_string();
        let (method, path) = (req.method().clone(), req.uri().path().to_owned());
        let mut resp = self.respond(&req, &request_id).await;
        let status = resp.status().as_u16();
        if resp.status().is_success() || resp.status().is_redirection() {
            tracing::debug!(request_id, %method, path, status, "website request");
        } else {
            tracing::info!(request_id, %method, path, status, "website request");
        }
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            resp.headers_mut().insert("x-amz-request-id", value);
        }
        resp
    }

    async fn respond(&self, req: &http::Request<Incoming>, request_id: &str) -> HttpResponse {
        let head = req.method() == Method::HEAD;
        if req.method() != Method::GET && !head {
            let mut resp = page(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "a website answers only GET and HEAD; change objects through the S3 endpoint",
                request_id,
                false,
            );
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return resp;
        }
        let wanted = match self.wanted(req, request_id, head) {
            Ok(w) => w,
            Err(resp) => return *resp,
        };
        // `/<bucket>` alone: its links are relative to `/<bucket>/`, as a folder's are.
        if wanted.key.is_empty() && !wanted.path.ends_with('/') {
            return redirect(&format!("{}/", wanted.path));
        }
        let known = match self.storage.known_bucket(&wanted.bucket).await {
            Ok(Some(known)) => known,
            Ok(None) => {
                let msg = format!("the bucket '{}' does not exist", wanted.bucket);
                return page(
                    StatusCode::NOT_FOUND,
                    "NoSuchBucket",
                    &msg,
                    request_id,
                    head,
                );
            }
            Err(e) => {
                tracing::error!(error = %e, "website: bucket lookup failed");
                return unavailable(request_id, head);
            }
        };
        let row = &known.row;
        let Some(site) = website_of(row) else {
            let msg = format!(
                "the bucket '{}' has no website configuration (set one with `cloudctl s3 website`)",
                row.name
            );
            return page(
                StatusCode::NOT_FOUND,
                "NoSuchWebsiteConfiguration",
                &msg,
                request_id,
                head,
            );
        };
        let is_folder = wanted.key.is_empty() || wanted.key.ends_with('/');
        let key = if is_folder {
            format!("{}{}", wanted.key, site.index_document)
        } else {
            wanted.key.clone()
        };
        let conditions = Conditions::of(req.headers());
        match self.fetch(&known, &key, head, &conditions).await {
            Fetched::Served(resp) => resp,
            Fetched::NotModified(headers) => {
                let mut resp = http::Response::new(Body::empty());
                *resp.status_mut() = StatusCode::NOT_MODIFIED;
                *resp.headers_mut() = headers;
                resp
            }
            Fetched::Denied(msg) => self
                .error_document(&known, &site, StatusCode::FORBIDDEN, "AccessDenied", &msg)
                .await
                .unwrap_or_else(|| {
                    page(
                        StatusCode::FORBIDDEN,
                        "AccessDenied",
                        &msg,
                        request_id,
                        head,
                    )
                }),
            Fetched::Missing => {
                // `docs` without its slash, when `docs/<index>` exists: AWS redirects to the
                // folder, so that the page's relative links resolve.
                if !is_folder {
                    let index = format!("{key}/{}", site.index_document);
                    if let Fetched::Served(_) = self
                        .fetch(&known, &index, true, &Conditions::default())
                        .await
                    {
                        return redirect(&format!("{}/", wanted.path));
                    }
                }
                let msg = format!("the key '{key}' does not exist");
                self.error_document(&known, &site, StatusCode::NOT_FOUND, "NoSuchKey", &msg)
                    .await
                    .unwrap_or_else(|| {
                        page(StatusCode::NOT_FOUND, "NoSuchKey", &msg, request_id, head)
                    })
            }
            Fetched::Refused(status, code) => page(status, &code, &code, request_id, head),
            Fetched::Failed(e) => {
                tracing::warn!(error = %e, "website: the engine failed");
                unavailable(request_id, head)
            }
        }
    }

    /// The bucket and key a request names, by its host or else its path (or the page that
    /// says why it names none).
    fn wanted(
        &self,
        req: &http::Request<Incoming>,
        request_id: &str,
        head: bool,
    ) -> Result<Wanted, Box<HttpResponse>> {
        let path = req.uri().path().to_owned();
        let Ok(decoded) = percent_encoding::percent_decode_str(&path).decode_utf8() else {
            return Err(Box::new(page(
                StatusCode::BAD_REQUEST,
                "InvalidURI",
                "the path is not valid UTF-8 once percent-decoded",
                request_id,
                head,
            )));
        };
        let decoded = decoded.into_owned();
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        let name = host.rsplit_once(':').map_or(host.as_str(), |(n, _)| n);
        let rest = decoded.strip_prefix('/').unwrap_or(&decoded);
        if let Some(bucket) = name
            .strip_suffix(self.suffix.as_str())
            .filter(|b| !b.is_empty())
        {
            return Ok(Wanted {
                bucket: bucket.to_owned(),
                key: rest.to_owned(),
                // Virtual-host style: the site's root is `/` itself.
                path: if path.is_empty() { "/".into() } else { path },
            });
        }
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            let hint = format!(
                "name a bucket: http://{host}/<bucket>/ or http://<bucket>{}/",
                self.suffix
            );
            return Err(Box::new(page(
                StatusCode::NOT_FOUND,
                "NoSuchBucket",
                &hint,
                request_id,
                head,
            )));
        }
        Ok(Wanted {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            path,
        })
    }

    /// An object, if anonymous callers may read it, from the engine (streamed).
    async fn fetch(&self, known: &KnownBucket, key: &str, head: bool, c: &Conditions) -> Fetched {
        let row = &known.row;
        let resource = api::object_nrn(&row.name, key);
        match self
            .storage
            .decide(None, known, "s3:GetObject", &resource)
            .await
        {
            Ok(()) => {}
            Err(Denied::Refused(msg)) => return Fetched::Denied(msg),
            Err(Denied::NoSuchBucket(_)) => return Fetched::Missing,
            Err(Denied::Failed(e)) => return Fetched::Failed(e.to_string()),
        }
        let engine = &self.storage.engine;
        let answer = if head {
            engine
                .head_object()
                .bucket(&row.name)
                .key(key)
                .set_range(c.range.clone())
                .set_if_match(c.if_match.clone())
                .set_if_none_match(c.if_none_match.clone())
                .set_if_modified_since(c.if_modified_since)
                .set_if_unmodified_since(c.if_unmodified_since)
                .send()
                .await
                .map(|o| Object::of_head(o, key))
                .map_err(|e| failure_of(&e))
        } else {
            engine
                .get_object()
                .bucket(&row.name)
                .key(key)
                .set_range(c.range.clone())
                .set_if_match(c.if_match.clone())
                .set_if_none_match(c.if_none_match.clone())
                .set_if_modified_since(c.if_modified_since)
                .set_if_unmodified_since(c.if_unmodified_since)
                .send()
                .await
                .map(|o| Object::of_get(o, key))
                .map_err(|e| failure_of(&e))
        };
        match answer {
            Ok(object) => {
                let sent = if head { 0 } else { object.length };
                self.storage
                    .meter
                    .request(&row.name, RequestClass::Tier2, sent);
                Fetched::Served(object.response())
            }
            Err(fetched) => {
                if matches!(fetched, Fetched::NotModified(_) | Fetched::Refused(..)) {
                    self.storage
                        .meter
                        .request(&row.name, RequestClass::Tier2, 0);
                }
                fetched
            }
        }
    }

    /// The bucket's error document with `status`, when it has one that anonymous callers may
    /// read; `None`: the caller answers with a plain page.
    async fn error_document(
        &self,
        known: &KnownBucket,
        site: &api::BucketWebsite,
        status: StatusCode,
        code: &str,
        message: &str,
    ) -> Option<HttpResponse> {
        let key = site.error_document.as_deref()?;
        match self.fetch(known, key, false, &Conditions::default()).await {
            Fetched::Served(mut resp) => {
                *resp.status_mut() = status;
                tracing::debug!(code, message, "website: answered with the error document");
                Some(resp)
            }
            _ => None,
        }
    }
}

/// What the engine said of an object that was not served.
fn failure_of<E: ProvideErrorMetadata + std::fmt::Debug>(
    e: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> Fetched {
    let status = e.raw_response().map(|r| r.status().as_u16());
    match status {
        Some(404) => Fetched::Missing,
        Some(304) => {
            let mut headers = HeaderMap::new();
            if let Some(etag) = e
                .raw_response()
                .and_then(|r| r.headers().get("etag"))
                .and_then(|v| HeaderValue::from_str(v).ok())
            {
                headers.insert(header::ETAG, etag);
            }
            Fetched::NotModified(headers)
        }
        Some(412) => Fetched::Refused(StatusCode::PRECONDITION_FAILED, "PreconditionFailed".into()),
        Some(416) => Fetched::Refused(StatusCode::RANGE_NOT_SATISFIABLE, "InvalidRange".into()),
        _ => Fetched::Failed(format!(
            "{}: {}",
            e.code().unwrap_or("no error code"),
            e.message().unwrap_or("no message")
        )),
    }
}

/// An object's headers and body as the engine gave them.
struct Object {
    length: u64,
    headers: HeaderMap,
    partial: bool,
    body: Body,
}

impl Object {
    fn build(key: &str, length: Option<i64>, fields: Fields<'_>, body: Body) -> Object {
        let mut headers = HeaderMap::new();
        let mut put = |name: header::HeaderName, value: Option<&str>| {
            if let Some(v) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
                headers.insert(name, v);
            }
        };
        // An object stored without a type is guessed from its name, so pages render.
        let guessed = mime_guess::from_path(key).first_raw();
        put(header::CONTENT_TYPE, fields.content_type.or(guessed));
        put(header::ETAG, fields.etag);
        put(header::CACHE_CONTROL, fields.cache_control);
        put(header::CONTENT_ENCODING, fields.content_encoding);
        put(header::CONTENT_LANGUAGE, fields.content_language);
        put(header::CONTENT_DISPOSITION, fields.content_disposition);
        put(header::CONTENT_RANGE, fields.content_range);
        let modified = fields
            .last_modified
            .and_then(|t| t.fmt(DateTimeFormat::HttpDate).ok());
        put(header::LAST_MODIFIED, modified.as_deref());
        put(header::ACCEPT_RANGES, Some("bytes"));
        let length = length.unwrap_or(0).max(0) as u64;
        headers.insert(header::CONTENT_LENGTH, length.into());
        Object {
            length,
            headers,
            partial: fields.content_range.is_some(),
            body,
        }
    }

    fn of_get(o: aws_sdk_s3::operation::get_object::GetObjectOutput, key: &str) -> Object {
        let fields = Fields {
            content_type: o.content_type(),
            etag: o.e_tag(),
            cache_control: o.cache_control(),
            content_encoding: o.content_encoding(),
            content_language: o.content_language(),
            content_disposition: o.content_disposition(),
            content_range: o.content_range(),
            last_modified: o.last_modified(),
        };
        let length = o.content_length();
        // Built before the body is taken: the fields borrow the output.
        let mut object = Object::build(key, length, fields, Body::empty());
        object.body = Body::http_body(o.body.into_inner());
        object
    }

    fn of_head(o: aws_sdk_s3::operation::head_object::HeadObjectOutput, key: &str) -> Object {
        let fields = Fields {
            content_type: o.content_type(),
            etag: o.e_tag(),
            cache_control: o.cache_control(),
            content_encoding: o.content_encoding(),
            content_language: o.content_language(),
            content_disposition: o.content_disposition(),
            content_range: o.content_range(),
            last_modified: o.last_modified(),
        };
        Object::build(key, o.content_length(), fields, Body::empty())
    }

    fn response(self) -> HttpResponse {
        let mut resp = http::Response::new(self.body);
        *resp.status_mut() = if self.partial {
            StatusCode::PARTIAL_CONTENT
        } else {
            StatusCode::OK
        };
        *resp.headers_mut() = self.headers;
        resp
    }
}

/// The object headers a site passes on.
struct Fields<'a> {
    content_type: Option<&'a str>,
    etag: Option<&'a str>,
    cache_control: Option<&'a str>,
    content_encoding: Option<&'a str>,
    content_language: Option<&'a str>,
    content_disposition: Option<&'a str>,
    content_range: Option<&'a str>,
    last_modified: Option<&'a DateTime>,
}

fn redirect(location: &str) -> HttpResponse {
    let mut resp = http::Response::new(Body::empty());
    *resp.status_mut() = StatusCode::FOUND;
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

fn unavailable(request_id: &str, head: bool) -> HttpResponse {
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "ServiceUnavailable",
        "the storage engine is unavailable; retry in a moment",
        request_id,
        head,
    )
}

/// A plain HTML error page, as S3's website endpoints answer: status, code, message, request id.
fn page(
    status: StatusCode,
    code: &str,
    message: &str,
    request_id: &str,
    head: bool,
) -> HttpResponse {
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    let text = format!(
        "<html>\n<head><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n<ul>\n<li>Code: {}</li>\n<li>Message: {}</li>\n<li>RequestId: {request_id}</li>\n</ul>\n<hr/>\n</body>\n</html>\n",
        escape(code),
        escape(message)
    );
    let length = text.len();
    let mut resp = http::Response::new(if head {
        Body::empty()
    } else {
        Body::from(text)
    });
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CONTENT_LENGTH, length.into());
    resp
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
