//! How browsers may keep the build's files (`/pkg/`: the WASM bundle, its
//! split page files, the script and the stylesheet). Their names are fixed
//! across builds, and the split page files only work with the main bundle
//! of their own build (wasm-split checks this), so a browser that kept an
//! old `calsync.wasm` by heuristic caching after an upgrade could fail to
//! open a page. `no-cache` makes it ask every time; an unchanged file is
//! answered 304 from its `Last-Modified`, so this costs a round trip, not
//! the download.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// Middleware (`from_fn`) for the router that serves the site's files.
pub async fn revalidate_build_files(request: Request, next: Next) -> Response {
    let build_file = request.uri().path().starts_with("/pkg/");
    let mut response = next.run(request).await;
    if build_file {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    fn app() -> Router {
        Router::new()
            .route("/pkg/calsync.wasm", get(|| async { "wasm" }))
            .route("/appointments", get(|| async { "page" }))
            .layer(axum::middleware::from_fn(revalidate_build_files))
    }

    async fn cache_control(path: &str) -> Option<String> {
        let request = Request::builder().uri(path).body(Body::empty()).unwrap();
        let response = app().oneshot(request).await.unwrap();
        response.headers().get(header::CACHE_CONTROL).map(|v| v.to_str().unwrap().to_owned())
    }

    #[tokio::test]
    async fn build_files_are_revalidated_and_pages_are_left_alone() {
        assert_eq!(cache_control("/pkg/calsync.wasm").await.as_deref(), Some("no-cache"));
        assert_eq!(cache_control("/appointments").await, None);
    }
}
