//! The route table: every endpoint once, with its method and path template. The router is
//! built from it, and a test checks it against the OpenAPI document in both directions.

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::routing::{get, patch, post, MethodRouter};
use axum::Router;

use super::{
    admin, auth, calls, metrics, openapi, pages, patients, reports, simulator, staff_reports,
    AppState,
};

/// The largest request body accepted (a patients CSV file of some 20,000 rows).
pub const BODY_LIMIT: usize = 4 * 1024 * 1024;

/// Every route: method, path template (axum and OpenAPI share the `{param}` syntax), handler.
pub fn table() -> Vec<(&'static str, &'static str, MethodRouter<AppState>)> {
    vec![
        ("GET", "/", get(pages::root)),
        ("GET", "/staff", get(pages::staff_html)),
        ("GET", "/staff/staff.js", get(pages::staff_js)),
        ("GET", "/staff/staff-text.js", get(pages::staff_text_js)),
        ("GET", "/staff/staff-views.js", get(pages::staff_views_js)),
        ("GET", "/staff/style.css", get(pages::style_css)),
        ("GET", "/simulator", get(simulator::html)),
        ("GET", "/simulator/simulator.js", get(simulator::js)),
        ("GET", "/simulator/style.css", get(simulator::css)),
        ("GET", "/api/v1/simulator/ws", get(simulator::socket)),
        (
            "GET",
            "/api/v1/simulator/audio/{lang}/{file}",
            get(simulator::audio),
        ),
        ("GET", "/healthz", get(metrics::healthz)),
        ("GET", "/readyz", get(metrics::readyz)),
        ("GET", "/metrics", get(metrics::metrics)),
        ("GET", "/api/v1/openapi.json", get(openapi::document)),
        ("POST", "/api/v1/auth/token", post(auth::token)),
        ("POST", "/api/v1/auth/login", post(auth::cookie_login)),
        ("POST", "/api/v1/auth/logout", post(auth::logout)),
        ("GET", "/api/v1/auth/me", get(auth::me)),
        ("GET", "/api/v1/patients", get(patients::list)),
        ("POST", "/api/v1/patients", post(patients::create)),
        ("GET", "/api/v1/patients/export", get(patients::export)),
        ("POST", "/api/v1/patients/import", post(patients::import)),
        ("GET", "/api/v1/patients/{id}", get(patients::read)),
        ("PATCH", "/api/v1/patients/{id}", patch(patients::update)),
        ("GET", "/api/v1/patients/{id}/lock", get(patients::lock)),
        (
            "POST",
            "/api/v1/patients/{id}/unlock",
            post(patients::unlock),
        ),
        (
            "GET",
            "/api/v1/patients/{id}/reports",
            get(reports::patient_days),
        ),
        (
            "POST",
            "/api/v1/patients/{id}/reports",
            post(staff_reports::create_staff_report),
        ),
        ("GET", "/api/v1/patients/{id}/calls", get(calls::history)),
        ("POST", "/api/v1/patients/{id}/calls", post(calls::call_now)),
        ("GET", "/api/v1/reports/today", get(reports::today_list)),
        (
            "GET",
            "/api/v1/reports/non-reporters",
            get(reports::non_reporters),
        ),
        ("GET", "/api/v1/reports/export", get(reports::export)),
        ("GET", "/api/v1/calls/backlog", get(calls::backlog)),
        ("GET", "/api/v1/calls/active", get(calls::active)),
        ("GET", "/api/v1/admin/centres", get(admin::centres)),
        ("POST", "/api/v1/admin/centres", post(admin::create_centre)),
        ("GET", "/api/v1/admin/staff", get(admin::staff)),
        ("POST", "/api/v1/admin/staff", post(admin::create_staff)),
        (
            "PATCH",
            "/api/v1/admin/staff/{id}",
            patch(admin::update_staff),
        ),
        ("GET", "/api/v1/admin/audit", get(admin::audit)),
    ]
}

/// `(method, path)` of every route.
pub fn routes() -> Vec<(&'static str, &'static str)> {
    table().into_iter().map(|(m, p, _)| (m, p)).collect()
}

/// The router over `state`: every route of [`table`], request counting, no caching of
/// anything (responses carry personal data), and a body size limit.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for (_, path, handler) in table() {
        router = router.route(path, handler);
    }
    router
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::count_requests,
        ))
        .layer(axum::middleware::map_response(no_store))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

async fn no_store(mut response: axum::response::Response) -> axum::response::Response {
    let headers = response.headers_mut();
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
