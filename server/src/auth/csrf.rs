//! Cross-site request forgery: a state-changing request that carries our
//! cookie must come from our own pages. Browsers say where a request comes
//! from in `Origin` (and `Sec-Fetch-Site`), which a page on another site
//! cannot forge. SameSite=Lax cookies already stop most of this; the check
//! also covers older browsers and same-site (sibling subdomain) attackers.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The origins our pages are served from: the public URL and the address
/// we listen on.
#[derive(Debug, Clone)]
pub struct Origins(Arc<Vec<String>>);

impl Origins {
    /// The public URL's origin and the listen address's; a loopback listen
    /// address under both its spellings (`localhost` and `127.0.0.1`/`[::1]`),
    /// since a browser on the same machine may be pointed at either.
    pub fn new(public_url: &str, addr: SocketAddr) -> Origins {
        let mut list = vec![origin_of(public_url), format!("http://{addr}")];
        if addr.ip().is_loopback() {
            list.push(format!("http://localhost:{}", addr.port()));
            list.push(format!("http://127.0.0.1:{}", addr.port()));
            list.push(format!("http://[::1]:{}", addr.port()));
        }
        if let Some(spelled) = loopback_twin(&list[0]) {
            list.push(spelled);
        }
        list.sort();
        list.dedup();
        Origins(Arc::new(list))
    }

    fn allows(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        self.0.contains(&origin)
    }
}

/// The other spelling of a loopback origin: `localhost` for `127.0.0.1`, and back.
fn loopback_twin(origin: &str) -> Option<String> {
    if let Some(rest) = origin.strip_prefix("http://localhost") {
        Some(format!("http://127.0.0.1{rest}"))
    } else {
        origin.strip_prefix("http://127.0.0.1").map(|rest| format!("http://localhost{rest}"))
    }
}

/// `scheme://host[:port]` of a URL, lower-cased.
fn origin_of(url: &str) -> String {
    let lower = url.to_ascii_lowercase();
    let (scheme, rest) = lower.split_once("://").unwrap_or(("http", &lower));
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    format!("{scheme}://{host}")
}

/// The check as one route group needs it. The groups say which requests
/// it covers (`server::router`): the REST API and webhooks authenticate
/// otherwise and are not behind it at all.
#[derive(Debug, Clone)]
pub struct CsrfGuard {
    origins: Origins,
    /// Checked even without a cookie: the login and logout forms, against
    /// login CSRF (signing a victim into the attacker's account).
    without_cookie: bool,
}

impl CsrfGuard {
    /// Requests that carry our cookie: everything a signed-in browser does.
    pub fn with_cookie(origins: Origins) -> CsrfGuard {
        CsrfGuard { origins, without_cookie: false }
    }

    /// Every state-changing request, cookie or not.
    pub fn always(origins: Origins) -> CsrfGuard {
        CsrfGuard { origins, without_cookie: true }
    }

    fn covers(&self, request: &Request) -> bool {
        let changes_state = matches!(*request.method(), Method::POST | Method::PUT | Method::PATCH | Method::DELETE);
        changes_state && (self.without_cookie || request.headers().contains_key(header::COOKIE))
    }
}

pub async fn same_origin_only(State(guard): State<CsrfGuard>, request: Request, next: Next) -> Response {
    if guard.covers(&request) && !is_same_origin(&guard.origins, &request) {
        tracing::warn!(path = request.uri().path(), "cross-site request refused");
        return (StatusCode::FORBIDDEN, "Cross-site request refused.").into_response();
    }
    next.run(request).await
}

fn is_same_origin(origins: &Origins, request: &Request) -> bool {
    let headers = request.headers();
    if let Some(origin) = headers.get(header::ORIGIN) {
        return origin.to_str().is_ok_and(|o| origins.allows(o));
    }
    // No Origin (older browsers, non-browser clients): refuse only what the
    // browser itself calls cross-site.
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => matches!(site, "same-origin" | "none"),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loopback_address_is_allowed_under_both_spellings() {
        let origins = Origins::new("http://127.0.0.1:3000", "127.0.0.1:3000".parse().unwrap());
        assert!(origins.allows("http://localhost:3000"));
        assert!(origins.allows("http://127.0.0.1:3000"));
        assert!(!origins.allows("http://localhost:3001"), "another port is another origin");
        let origins = Origins::new("http://localhost:8080", "0.0.0.0:8080".parse().unwrap());
        assert!(origins.allows("http://127.0.0.1:8080"), "the public URL's twin");
        assert!(!origins.allows("http://evil.example"));
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let origins = Origins::new("https://Sync.Example.com/", "127.0.0.1:3000".parse().unwrap());
        assert!(origins.allows("https://sync.example.com"));
        assert!(origins.allows("http://127.0.0.1:3000"));
        assert!(!origins.allows("http://sync.example.com"));
        assert!(!origins.allows("https://evil.example"));
        assert!(!origins.allows("null"));
    }
}
