//! The actix-web application: routes, the authentication extractor, request ids, the mapping of
//! extractor errors to the API's error body, OpenAPI, Swagger UI and `/metrics`.

pub mod apps;
pub mod auth;
pub mod billing;
pub mod ec2;
mod error;
pub mod extract;
pub mod iam;
pub mod metrics;
pub mod ops;
pub mod s3;
pub mod vpc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, get, web};
use tracing_actix_web::{RequestId, TracingLogger};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::Nuvem;
use crate::error::Error;

/// Largest JSON body the API accepts.
pub const MAX_JSON_BODY: usize = 64 * 1024;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served (empty outside a request).
pub fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

/// Makes the request id (assigned by `TracingLogger`, which logs it on every line of the request)
/// visible to error bodies, and returns it to the client in `x-request-id`.
async fn request_id_scope<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.to_string())
        .unwrap_or_default();
    let mut res = REQUEST_ID.scope(id.clone(), next.call(req)).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(res)
}

fn json_error(err: actix_web::error::JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    match err {
        E::OverflowKnownLength { length, limit } => Error::PayloadTooLarge(format!(
            "the request body has {length} bytes; the limit is {limit}"
        )),
        E::Overflow { limit } => {
            Error::PayloadTooLarge(format!("the request body is larger than {limit} bytes"))
        }
        E::ContentType => Error::invalid(
            "the request body must be JSON, sent with 'Content-Type: application/json'",
        ),
        E::Deserialize(e) if e.is_data() => Error::invalid(format!(
            "the request body does not match what this call expects: {e}"
        )),
        E::Deserialize(e) => Error::invalid(format!("the request body is not valid JSON: {e}")),
        other => Error::invalid(format!("the request body could not be read: {other}")),
    }
    .into()
}

fn path_error(err: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    Error::invalid(format!("the URL path is not valid: {err}")).into()
}

fn query_error(err: actix_web::error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    Error::invalid(format!("the query string is not valid: {err}")).into()
}

/// The methods a path answers: the OpenAPI document's, plus the few routes it does not describe.
/// Empty for a path that does not exist.
pub fn declared_methods(path: &str) -> Vec<&'static str> {
    type Route = (Vec<String>, Vec<&'static str>);
    static ROUTES: std::sync::OnceLock<Vec<Route>> = std::sync::OnceLock::new();
    let segments = |p: &str| -> Vec<String> {
        p.trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let routes = ROUTES.get_or_init(|| {
        let mut routes: Vec<Route> = openapi()
            .paths
            .paths
            .iter()
            .map(|(p, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ]
                .into_iter()
                .filter_map(|(m, declared)| declared.then_some(m))
                .collect();
                (segments(p), methods)
            })
            .collect();
        for p in ["/", "/metrics", "/openapi.json", "/docs"] {
            routes.push((segments(p), vec!["GET"]));
        }
        routes
    });
    let path = segments(path);
    let mut methods: Vec<&'static str> = Vec::new();
    for (template, declared) in routes {
        let matches = template.len() == path.len()
            && template
                .iter()
                .zip(&path)
                .all(|(t, s)| t == s || (t.starts_with('{') && t.ends_with('}')));
        if matches {
            for m in declared {
                if !methods.contains(m) {
                    methods.push(m);
                }
            }
        }
    }
    methods
}

/// Anything no route took: 405 with `Allow` on a path that exists with other methods, else 404.
async fn no_route(req: HttpRequest) -> HttpResponse {
    use actix_web::ResponseError;
    let allowed = declared_methods(req.path());
    if allowed.is_empty() {
        return Error::NotFound(format!(
            "there is no API call {} {}; the API is described at /docs",
            req.method(),
            req.path()
        ))
        .error_response();
    }
    let allow = allowed.join(", ");
    let mut res = Error::MethodNotAllowed(format!(
        "{} does not answer {}; it answers {allow} (see /docs)",
        req.path(),
        req.method()
    ))
    .error_response();
    if let Ok(v) = HeaderValue::from_str(&allow) {
        res.headers_mut().insert(actix_web::http::header::ALLOW, v);
    }
    res
}

/// The Content-Security-Policy of every response. The console is WebAssembly started by a
/// same-origin module script (`/console/boot.js`, no inline script), styled by its own CSS, and
/// talks only to this origin.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

/// Browser protections on every response: the CSP above, no framing (clickjacking), no MIME
/// sniffing, no Referer leaving the console.
async fn security_headers<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    use actix_web::http::header;
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    Ok(res)
}

/// Liveness and database reachability.
#[utoipa::path(tag = "meta", responses((status = 200, body = nuvem_api::Health)), security(()))]
#[get("/healthz")]
pub async fn healthz(nuvem: web::Data<Nuvem>) -> HttpResponse {
    let (ok, database) = match nuvem.store.ping().await {
        Ok(()) => (true, format!("{}: ok", nuvem.store.backend_name())),
        Err(e) => (false, format!("{}: {e}", nuvem.store.backend_name())),
    };
    let body = nuvem_api::Health {
        status: if ok { "ok" } else { "degraded" }.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        database,
    };
    if ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A session token from POST /v1/auth/login (password) or POST /v1/auth/session (access key).",
                    ))
                    .build(),
            ),
        );
    }
}

/// What the OpenAPI document says besides its operations: info, the security scheme, the shared
/// schemas and the tags. The operations (with the schemas they use) are collected from the routes
/// as [`operations`] registers them; [`openapi`] is the whole document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Nuvem API", description = "A teaching cloud with the AWS model on one host."),
    modifiers(&BearerAuth),
    components(schemas(nuvem_api::ErrorBody, nuvem_api::ErrorCode)),
    tags(
        (name = "meta", description = "Health"),
        (name = "auth", description = "Sign-in, sessions, identity"),
        (name = "accounts", description = "Accounts (tenants), operator only"),
        (name = "iam", description = "Users, groups, policies, access keys"),
        (name = "ec2", description = "Images, instance types, key pairs, instances, hosts"),
        (name = "vpc", description = "VPCs, subnets, security groups, interfaces, port forwards, trace"),
        (name = "ops", description = "Operating the platform: reconcilers (operator only)"),
        (name = "billing", description = "Metering and pay-as-you-go: prices, bills, budgets, the demo clock, CapEx/OpEx"),
        (name = "s3", description = "Object storage: buckets, bucket policies, usage (objects go through the S3 endpoint)"),
        (name = "apps", description = "Container apps: images, apps, replicas, scaling, logs, events, internals"),
        (name = "elb", description = "Load balancers: listeners, targets and their health (HAProxy)"),
    )
)]
pub struct ApiDoc;

/// Registers every API operation, once: actix routes it and `utoipa-actix-web` adds its
/// `#[utoipa::path]` to the OpenAPI document.
fn operations(cfg: &mut ServiceConfig) {
    cfg.service(healthz)
        .configure(iam::routes)
        .configure(vpc::routes)
        .configure(ec2::routes)
        .configure(ops::routes)
        .configure(billing::routes)
        .configure(s3::routes)
        .configure(apps::routes);
}

/// The OpenAPI document of the whole API: [`ApiDoc`] with the operations [`operations`]
/// registers (collected on an app that is never served). `docs/openapi.json` is this, checked in.
pub fn openapi() -> utoipa::openapi::OpenApi {
    actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(operations)
        .split_for_parts()
        .1
}

/// The OpenAPI document as pretty JSON with a trailing newline (the checked-in form).
pub fn openapi_json() -> String {
    let mut s = openapi().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}

/// Where the built console is (its `index.html`, `style.css`, `pkg/`).
#[derive(Clone)]
pub struct ConsoleFiles(pub std::path::PathBuf);

const CONSOLE_MISSING: &str = "<!doctype html><meta charset=utf-8><title>Nuvem</title>\
<h1>Nuvem</h1><p>The API is running: see <a href=/docs>/docs</a>. The web console is not built on \
this server: run <code>infra/build-console.sh</code> (or <code>infra/up.sh</code>).</p>";

/// `/`: the console's page, or a note on how to build it.
async fn console_index(files: web::Data<ConsoleFiles>) -> HttpResponse {
    match std::fs::read_to_string(files.0.join("index.html")) {
        Ok(html) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(_) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(CONSOLE_MISSING),
    }
}

/// Builds the application with its middleware (outermost last).
pub fn app(
    nuvem: web::Data<Nuvem>,
    metrics: web::Data<metrics::Metrics>,
    console: web::Data<ConsoleFiles>,
) -> actix_web::App<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let dir = console.0.clone();
    actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .app_data(nuvem)
        .app_data(metrics)
        .app_data(console)
        .app_data(
            web::JsonConfig::default()
                .limit(MAX_JSON_BODY)
                .error_handler(json_error),
        )
        .app_data(web::PathConfig::default().error_handler(path_error))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .configure(operations)
        .map(|app| {
            app.service(
                web::resource("/")
                    .route(web::get().to(console_index))
                    .default_service(web::to(no_route)),
            )
            .service(actix_files::Files::new("/console", dir))
            .service(
                web::resource("/metrics")
                    .route(web::get().to(metrics::endpoint))
                    .default_service(web::to(no_route)),
            )
        })
        // Swagger UI and /openapi.json serve the document collected so far: ApiDoc + operations.
        .openapi_service(|api| {
            utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", api)
        })
        .map(|app| {
            app.service(
                web::resource("/docs")
                    .route(web::get().to(|| async {
                        HttpResponse::Found()
                            .insert_header(("location", "/docs/"))
                            .finish()
                    }))
                    .default_service(web::to(no_route)),
            )
        })
        .default_service(web::to(no_route))
        .into_app()
        .wrap(from_fn(request_id_scope))
        .wrap(from_fn(security_headers))
        .wrap(from_fn(metrics::record))
        .wrap(TracingLogger::<NuvemRootSpan>::new())
}

/// The root span of every request: `TracingLogger`'s default fields plus the principal, filled in
/// once the caller is authenticated.
pub struct NuvemRootSpan;

impl tracing_actix_web::RootSpanBuilder for NuvemRootSpan {
    fn on_request_start(request: &ServiceRequest) -> tracing::Span {
        tracing_actix_web::root_span!(request, principal = tracing::field::Empty)
    }

    fn on_request_end<B: MessageBody>(
        span: tracing::Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
