//! The whole HTTP application, as route groups that each carry the checks
//! they need, so no check decides by looking at a request's path:
//!
//! | group | routes | session | cross-site check | login |
//! |---|---|---|---|---|
//! | machine | `/healthz`, `/readyz`, `/metrics`, `/webhooks/…`, `/api/…` | none (their own token or signature) | none | — |
//! | forms | `POST /login`, `POST /logout` | yes | every request | — |
//! | open | the login page, server functions (which answer 401/403 themselves) | yes | with our cookie | attached if signed in |
//! | signed in | every other page, `/appointments.csv`, `/events`, unknown paths | yes | with our cookie | required (else to `/login`) |
//! | files | the build's and `public/`'s files (gzipped) | — | — | — |
//!
//! Every group but the live feed (`/events`, open by design) has the
//! request time limit; request ids and tracing wrap everything.

use std::sync::OnceLock;

use axum::middleware::{from_fn, from_fn_with_state};
use axum::Router;
use leptos::server_fn::axum::server_fn_paths;
use leptos_axum::{generate_route_list_with_exclusions, AxumRouteListing, LeptosRoutes};
use tower::Layer;
use tower_http::compression::{Compression, CompressionLayer, CompressionLevel};
use tower_http::services::ServeDir;

use crate::auth::{self, CsrfGuard, Origins};
use crate::http;
use crate::live;
use crate::state::AppState;

/// The app's pages (and, marked excluded, the server functions' paths, so
/// that registering pages does not register those too), found once per
/// process, before the first server exists.
///
/// Leptos finds them by rendering the app while a process-wide flag
/// (`SuppressResourceLoad`, set by leptos_router's `generate_route_list`)
/// turns every resource that starts loading into one that never finishes.
/// A page being rendered anywhere in the process at that instant keeps a
/// `<Suspense>` pending for good and its body stops after the chunks before
/// it. One server per process never meets this, but the tests and the bench
/// run many servers side by side in one process, each built while others
/// serve: that was the rare stalled page of issue 18. Found once, no page
/// can be rendering while it happens.
pub fn page_routes() -> &'static [AxumRouteListing] {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        let server_fns = server_fn_paths().map(|(path, _)| path.to_owned()).collect();
        generate_route_list_with_exclusions(app::App, Some(server_fns))
    })
}

/// The whole HTTP application. Separate from `run` so tests can drive it
/// without a socket.
pub fn build_app(state: AppState) -> Router {
    let origins = Origins::new(&state.public_url, state.leptos_options.site_addr);
    let browser = Router::new()
        .merge(forms(&origins))
        .merge(open(&state).layer(from_fn_with_state(CsrfGuard::with_cookie(origins.clone()), auth::same_origin_only)))
        .merge(signed_in(&state).layer(from_fn_with_state(CsrfGuard::with_cookie(origins), auth::same_origin_only)))
        .fallback_service(files(&state))
        .layer(from_fn(http::static_files::revalidate_build_files))
        .layer(auth::session_layer(&state));
    Router::new().merge(in_time(machine(&state))).merge(browser).with_state(state).layer(http::middleware())
}

/// Health, metrics, Cal.com's webhooks and the REST API: each authenticates
/// by its own token or signature, never by a cookie.
fn machine(state: &AppState) -> Router<AppState> {
    http::router(state.clone()).merge(crate::api::router())
}

/// The login and logout forms: checked for cross-site use even without a
/// cookie, against login CSRF.
fn forms(origins: &Origins) -> Router<AppState> {
    in_time(auth::routes().layer(from_fn_with_state(CsrfGuard::always(origins.clone()), auth::same_origin_only)))
}

/// The pages anyone may open and the server functions (registered with
/// them), with the signed-in account attached when there is one.
fn open(state: &AppState) -> Router<AppState> {
    let (pages, _) = partition_pages();
    in_time(leptos_routes(state, pages).layer(from_fn_with_state(state.clone(), auth::attach_user)))
}

/// Every other page, the CSV export and the live feed, and the "not found"
/// page for unknown paths: a visitor without a session is sent to log in.
fn signed_in(state: &AppState) -> Router<AppState> {
    let (_, pages) = partition_pages();
    let limited = in_time(
        leptos_routes(state, pages).route("/appointments.csv", axum::routing::get(http::export::appointments_csv)),
    );
    limited.merge(live::routes()).layer(from_fn_with_state(state.clone(), auth::require_login))
}

/// Files from the site root (the build's `/pkg/` and `public/`'s), for
/// anyone, gzipped for browsers that accept it (the WASM bundle is a
/// third of its size so; docs/benchmarks.md measures it this way); any
/// other path is the signed-in area's "not found" page (the browser
/// group's session layer wraps this fallback too).
fn files(state: &AppState) -> Compression<ServeDir<axum::routing::RouterIntoService<axum::body::Body>>> {
    let not_found = Router::new().fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell));
    let not_found = rendered(not_found).layer(from_fn_with_state(state.clone(), auth::require_login));
    let not_found = in_time(not_found).with_state(state.clone()).into_service();
    let files = ServeDir::new(&*state.leptos_options.site_root)
        .append_index_html_on_directories(false)
        .call_fallback_on_method_not_allowed(true)
        .fallback(not_found);
    // Best: the files change only with a build, and browsers revalidate
    // them (304) rather than download them again.
    CompressionLayer::new().gzip(true).quality(CompressionLevel::Best).layer(files)
}

/// The request time limit every group but the live feed carries.
fn in_time<S: Clone + Send + Sync + 'static>(routes: Router<S>) -> Router<S> {
    routes.layer(from_fn_with_state(http::timeout::REQUEST_LIMIT, http::timeout::answer_in_time))
}

/// The open pages and the signed-in ones. The server functions' excluded
/// entries (no methods) go with the signed-in pages, so they are registered
/// once, with the open ones.
fn partition_pages() -> (Vec<AxumRouteListing>, Vec<AxumRouteListing>) {
    page_routes()
        .iter()
        .cloned()
        .partition(|route| route.methods().next().is_some() && app::routes::OPEN_PAGES.contains(&route.path()))
}

/// Registers `pages` (rendered on the pinned render threads, cut if they
/// stall) and, unless `pages` marks them excluded, the server functions,
/// with the server functions' context.
fn leptos_routes(state: &AppState, pages: Vec<AxumRouteListing>) -> Router<AppState> {
    let context = state.server_context();
    let options = state.leptos_options.clone();
    rendered(Router::new().leptos_routes_with_context(
        state,
        pages,
        move || leptos::prelude::provide_context(context.clone()),
        move || app::shell(options.clone()),
    ))
}

/// Pages are rendered on the pinned render threads and cut if they stall.
fn rendered(pages: Router<AppState>) -> Router<AppState> {
    pages
        .layer(from_fn(http::render_threads::render_on_one_thread))
        .layer(from_fn_with_state(http::stall_guard::PAGE_STALL_LIMIT, http::stall_guard::cut_stalled_pages))
}
