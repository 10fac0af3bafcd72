//! Renders each page on one thread, start to end of its body.
//!
//! Why: on tokio's multi-threaded runtime a Leptos 0.8 page's resources
//! resolve on one worker while its `<Suspense>` boundaries wait on another,
//! and the handshake between them (a task set, an effect that re-subscribes
//! on every run, wakers) has lost wake-ups upstream (leptos-rs/leptos#4851,
//! #4673, #4647; leptos#4853 in 0.8.23, which we use, closed two such
//! windows). Every one of these races needs two threads touching the same
//! reactive node at the same instant. Here a page's render, the resources
//! and effects it spawns (`tokio::spawn` lands on the current runtime) and
//! the polling of its body all run on one current-thread runtime, so between
//! two `.await`s nothing else touches them and there is no window to lose a
//! wake-up in. The server functions' database and Cal.com calls still await
//! I/O as before. (The stalled pages our own tests saw had another cause,
//! route discovery in a process that serves several apps: see
//! `commands::serve::page_routes`.) `stall_guard` stays outside as the net
//! that, with both, should never catch anything.

use std::sync::OnceLock;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot};
use tokio_util::task::LocalPoolHandle;

/// Chunks a render may run ahead of a slow reader: enough to keep the render
/// busy, few enough that a stalled reader holds little memory.
const CHUNKS_AHEAD: usize = 16;

/// The process's render threads, one per core: rendering is CPU work, and
/// every page awaits its I/O without holding its thread.
fn pool() -> &'static LocalPoolHandle {
    static POOL: OnceLock<LocalPoolHandle> = OnceLock::new();
    POOL.get_or_init(|| {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        LocalPoolHandle::new(threads)
    })
}

type Chunk = Result<Bytes, axum::Error>;

/// Middleware (`from_fn`) for the routes that render pages.
pub async fn render_on_one_thread(request: Request, next: Next) -> Response {
    let (head_tx, head_rx) = oneshot::channel();
    let (body_tx, body_rx) = mpsc::channel::<Chunk>(CHUNKS_AHEAD);
    // Dropping the join handle detaches the render; it stops by itself when
    // the reader goes away (the sends below fail).
    drop(pool().spawn_pinned(move || render(request, next, head_tx, body_tx)));
    match head_rx.await {
        Ok(parts) => {
            let chunks = futures_util::stream::unfold(body_rx, |mut rx| async move { Some((rx.recv().await?, rx)) });
            Response::from_parts(parts, Body::from_stream(chunks))
        }
        // The render ended without an answer: it panicked, and the panic is
        // in the log with its message.
        Err(_) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "calsync could not render this page; please try again").into_response()
        }
    }
}

async fn render(
    request: Request,
    next: Next,
    head_tx: oneshot::Sender<axum::http::response::Parts>,
    body_tx: mpsc::Sender<Chunk>,
) {
    let (parts, body) = next.run(request).await.into_parts();
    if head_tx.send(parts).is_err() {
        return;
    }
    let mut body = body.into_data_stream();
    while let Some(chunk) = body.next().await {
        if body_tx.send(chunk).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    fn thread_name() -> String {
        format!("{:?}", std::thread::current().id())
    }

    /// Where the handler ran and where each chunk of its body was made.
    async fn where_it_ran() -> Body {
        let handler = thread_name();
        let chunks = futures_util::stream::iter(0..3).then(move |_| {
            let handler = handler.clone();
            async move {
                tokio::task::yield_now().await;
                Ok::<_, std::io::Error>(Bytes::from(format!("{handler}={};", thread_name())))
            }
        });
        Body::from_stream(chunks)
    }

    async fn panicking_render() -> &'static str {
        panic!("a broken render")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_page_and_its_whole_body_are_made_on_one_thread_off_the_server_workers() {
        let app = Router::new()
            .route("/page", get(where_it_ran))
            .route("/panics", get(panicking_render))
            .layer(axum::middleware::from_fn(render_on_one_thread));
        let request = || Request::builder().uri("/page").body(Body::empty()).unwrap();
        let response = app.clone().oneshot(request()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        let made: Vec<&str> = body.split(';').filter(|s| !s.is_empty()).collect();
        assert_eq!(made.len(), 3, "{body}");
        for pair in &made {
            let (handler, chunk) = pair.split_once('=').unwrap();
            assert_eq!(handler, chunk, "every chunk on the handler's thread: {body}");
            assert_ne!(handler, thread_name(), "not on the caller's thread: {body}");
        }

        let request = Request::builder().uri("/panics").body(Body::empty()).unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR, "a panicking render still gets an answer");
    }
}
