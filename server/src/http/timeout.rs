//! A time limit on every request but the live feed's (`/events`, whose
//! stream is open by design; `server::router` leaves its group out): a handler that has not answered within the limit is abandoned
//! with 503, logged and counted, so no request can hang for good, whatever
//! hangs beneath it (a render that never yields its first chunk, a lock).
//! A body that stops moving after the answer began is the stall guard's.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Far beyond any request's normal time (milliseconds; an export of a
/// million rows starts streaming at once), short enough for a reader to wait.
pub const REQUEST_LIMIT: Duration = Duration::from_secs(30);

/// Middleware (`from_fn_with_state`, with the limit: [`REQUEST_LIMIT`]).
pub async fn answer_in_time(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::error!(%path, ?limit, "request not answered in time; abandoned");
            metrics::counter!("calsync_request_timeouts_total").increment(1);
            (StatusCode::SERVICE_UNAVAILABLE, "calsync could not answer this request in time; please try again")
                .into_response()
        }
    }
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
            .route("/hangs", get(std::future::pending::<&'static str>))
            .route("/answers", get(|| async { "in time" }))
            .layer(axum::middleware::from_fn_with_state(Duration::from_millis(50), answer_in_time))
    }

    #[tokio::test]
    async fn a_handler_that_never_answers_is_cut_with_503() {
        let request = Request::builder().uri("/hangs").body(Body::empty()).unwrap();
        let response = app().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[tokio::test]
    async fn a_handler_that_answers_in_time_is_untouched() {
        let request = Request::builder().uri("/answers").body(Body::empty()).unwrap();
        assert_eq!(app().oneshot(request).await.unwrap().status(), StatusCode::OK);
    }
}
