//! Cuts a streamed page whose body stops moving. Leptos 0.8 can, rarely and
//! under load, leave a server-rendered page unfinished for good: the headers
//! and first chunk go out, then nothing (leptos-rs/leptos#4647 and #4673,
//! open upstream). Without this the browser would wait on such a page
//! forever; with it the response ends with an error after `limit` without a
//! chunk, the stall is logged and counted, and a reload renders it again.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::{Stream, StreamExt};

/// Far longer than any page takes (they render in milliseconds), short
/// enough that a stalled one is ended while its reader is still there.
pub const PAGE_STALL_LIMIT: Duration = Duration::from_secs(30);

/// Middleware (`from_fn_with_state`) for routes that stream pages; never for
/// `/events`, whose stream is quiet by design.
pub async fn cut_stalled_pages(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let (parts, body) = next.run(request).await.into_parts();
    Response::from_parts(parts, Body::from_stream(guarded(body.into_data_stream(), limit, path)))
}

type Chunk = Result<Bytes, axum::Error>;

fn guarded(
    body: impl Stream<Item = Chunk> + Send + Unpin + 'static,
    limit: Duration,
    path: String,
) -> impl Stream<Item = Chunk> {
    futures_util::stream::unfold(Some((body, path)), move |state| async move {
        let (mut body, path) = state?;
        match tokio::time::timeout(limit, body.next()).await {
            Ok(Some(chunk)) => Some((chunk, Some((body, path)))),
            Ok(None) => None,
            Err(_) => {
                tracing::error!(%path, ?limit, "page render stalled; response ended (Leptos SSR stream hang)");
                metrics::counter!("calsync_page_render_stalls_total").increment(1);
                let stalled = std::io::Error::new(std::io::ErrorKind::TimedOut, "page render stalled");
                Some((Err(axum::Error::new(stalled)), None))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    /// One chunk, then silence, like a stalled render.
    fn stalling() -> Body {
        let first = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"<html>"))]);
        Body::from_stream(first.chain(futures_util::stream::pending()))
    }

    fn app(limit: Duration) -> Router {
        Router::new()
            .route("/stalls", get(|| async { stalling() }))
            .route("/ok", get(|| async { "<html></html>" }))
            .layer(axum::middleware::from_fn_with_state(limit, cut_stalled_pages))
    }

    #[tokio::test]
    async fn a_stalled_page_ends_with_an_error_and_a_whole_one_is_untouched() {
        let limit = Duration::from_millis(200);
        let request = || Request::builder().uri("/stalls").body(Body::empty()).unwrap();
        let response = app(limit).oneshot(request()).await.unwrap();
        let mut body = response.into_body().into_data_stream();
        assert_eq!(body.next().await.unwrap().unwrap(), Bytes::from_static(b"<html>"));
        let cut = tokio::time::timeout(limit * 10, body.next()).await.expect("the guard ended the stalled body");
        assert!(cut.is_some_and(|chunk| chunk.is_err()), "a stalled body ends with an error, not a clean end");

        let request = Request::builder().uri("/ok").body(Body::empty()).unwrap();
        let response = app(limit).oneshot(request).await.unwrap();
        let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        assert_eq!(body, Bytes::from_static(b"<html></html>"));
    }
}
