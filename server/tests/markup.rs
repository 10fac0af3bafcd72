//! Every page's server markup is a tree a browser builds as written.
//!
//! Hydration walks the DOM the browser's HTML parser built and expects the
//! elements the server wrote, in the same places. Markup that the parser
//! repairs (a `<div>` inside a `<p>` closes the paragraph, a `<tr>` straight
//! in a `<table>` gets a `<tbody>`, a link inside a link is split) renders
//! fine and then fails to hydrate: the buttons of that page never work. So
//! each page, with the demo's data (every state and error code), is parsed
//! twice, once as written (a plain tag stack) and once by html5ever, the
//! HTML5 parsing algorithm browsers implement, and the two trees must agree.

mod support;

use engine::domain::Role;
use engine::secret_key::SecretKey;
use engine::store::{AppointmentFilter, Backend};
use engine::testing::{within_limit, TestDb};
use reqwest::header::{COOKIE, ORIGIN};
use scraper::{ElementRef, Html, Node};
use server::demo::{prepare, DemoOptions};

/// Elements without an end tag.
const VOID: &[&str] =
    &["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"];
/// Elements whose content is text up to their end tag.
const RAW_TEXT: &[&str] = &["script", "style", "textarea", "title"];

/// An element and its element children, as a line per element with its
/// path, so a difference names where it is.
fn outline_as_written(html: &str) -> Result<Vec<String>, String> {
    let mut stack: Vec<String> = Vec::new();
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        rest = &rest[start..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            let end = comment.find("-->").ok_or("an unclosed comment")?;
            rest = &comment[end + 3..];
            continue;
        }
        if rest.starts_with("<!") {
            let end = rest.find('>').ok_or("an unclosed declaration")?;
            rest = &rest[end + 1..];
            continue;
        }
        let end = tag_end(rest).ok_or("an unclosed tag")?;
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim().to_ascii_lowercase();
            match stack.pop() {
                Some(open) if open == name => {}
                open => return Err(format!("</{name}> closes {open:?} at {}", stack.join(">"))),
            }
            continue;
        }
        let name: String =
            tag.chars().take_while(|c| !c.is_whitespace() && *c != '/').collect::<String>().to_ascii_lowercase();
        let path = if stack.is_empty() { name.clone() } else { format!("{}>{name}", stack.join(">")) };
        out.push(path);
        if VOID.contains(&name.as_str()) || tag.ends_with('/') {
            continue;
        }
        if RAW_TEXT.contains(&name.as_str()) {
            let close = format!("</{name}");
            let end = rest.to_ascii_lowercase().find(&close).ok_or("an unclosed raw-text element")?;
            rest = &rest[end..];
        }
        stack.push(name);
    }
    if !stack.is_empty() {
        return Err(format!("unclosed at the end: {}", stack.join(">")));
    }
    Ok(out)
}

/// Where a tag that starts at `text[0]` ends, skipping quoted attribute
/// values (which may hold `>`).
fn tag_end(text: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in text.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// The same outline, from the tree the HTML5 parsing algorithm builds.
fn outline_as_parsed(html: &str) -> Vec<String> {
    fn walk(element: ElementRef<'_>, path: &str, out: &mut Vec<String>) {
        let name = element.value().name();
        let here = if path.is_empty() { name.to_owned() } else { format!("{path}>{name}") };
        out.push(here.clone());
        for child in element.children() {
            if let Some(child) = ElementRef::wrap(child) {
                walk(child, &here, out);
            }
        }
    }
    let document = Html::parse_document(html);
    let mut out = Vec::new();
    for child in document.tree.root().children() {
        if let (Node::Element(_), Some(element)) = (child.value(), ElementRef::wrap(child)) {
            walk(element, "", &mut out);
        }
    }
    out
}

/// Fails with the first place where the browser's tree leaves the written one.
fn assert_parses_as_written(path: &str, html: &str) {
    // Streamed resources and chunks follow `</html>` as scripts; the parser
    // puts them at the end of the body, outside what hydrates.
    let html = html.rfind("</html>").map_or(html, |end| &html[..end + "</html>".len()]);
    let written = outline_as_written(html).unwrap_or_else(|e| panic!("{path}: the markup is not a tree: {e}"));
    let parsed = outline_as_parsed(html);
    if let Some(i) = (0..written.len().max(parsed.len())).find(|&i| written.get(i) != parsed.get(i)) {
        panic!(
            "{path}: a browser parses this page differently from how it was written, so it cannot hydrate.\n\
             written: {:?}\nparsed:  {:?}",
            written.get(i),
            parsed.get(i)
        );
    }
}

#[test]
fn the_checker_sees_what_browsers_repair() {
    let page = |body: &str| format!("<!DOCTYPE html><html><head><title>t</title></head><body>{body}</body></html>");
    for repaired in [
        "<p>Status: <span>ok</span><div>CODE</div></p>",
        "<table><tr><td>1</td></tr></table>",
        "<a href=\"/a\">one <a href=\"/b\">two</a></a>",
        "<ul><li>one<li>two</ul>",
    ] {
        let html = page(repaired);
        let differs = outline_as_written(&html).map(|w| w != outline_as_parsed(&html)).unwrap_or(true);
        assert!(differs, "{repaired} was not caught");
    }
    let fine = page(
        "<p>Status: <span class=\"badge\" title=\"a > b\">ok<!----></span><span class=\"code\"><code>X</code></span></p>\
         <table><tbody><tr><td><input name=\"x\"><br/></td></tr></tbody></table><script>if (a < b) {}</script>",
    );
    assert_eq!(outline_as_written(&fine).unwrap(), outline_as_parsed(&fine));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_with_the_demos_data_parses_as_written() {
    within_limit(async {
        let db = TestDb::new(Backend::Sqlite).await;
        let key = SecretKey::from_bytes([5; 32]);
        let (_, base) = support::spawn_app_with(db.store.clone(), key.clone(), |_| {}).await;
        let demo = prepare(&db.store, &key, &DemoOptions { calsync_url: base.clone(), sim_state: None }).await.unwrap();
        let http = support::client();

        let get = |path: String, cookie: Option<String>| {
            let (http, base) = (http.clone(), base.clone());
            async move {
                let mut request = http.get(format!("{base}{path}"));
                if let Some(cookie) = cookie {
                    request = request.header(COOKIE, cookie);
                }
                let response = request.send().await.unwrap();
                (response.status().as_u16(), response.text().await.unwrap())
            }
        };
        assert_parses_as_written("/login", &get("/login".into(), None).await.1);

        let appointments =
            db.store.list_appointments(demo.org.id, &AppointmentFilter::default(), None, 500).await.unwrap();
        assert!(appointments.len() > 10, "the demo has appointments in every state");
        // A run's own page: the demo's bulk retry (with a result filter) and a verification run.
        let runs = db.store.recent_runs(demo.org.id, 500).await.unwrap();
        let bulk = runs.iter().find(|r| r.kind == engine::store::RunKind::BulkRetry).expect("the demo's bulk retry");
        let verification = runs.iter().find(|r| r.kind != engine::store::RunKind::BulkRetry).expect("a run");
        let run_pages = [
            format!("/runs/{}", bulk.id),
            format!("/runs/{}?show=queued", bulk.id),
            format!("/runs/{}", verification.id),
        ];
        for account in &demo.accounts {
            let password = account.password.clone().unwrap();
            let response = http
                .post(format!("{base}/login"))
                .header(ORIGIN, &base)
                .form(&[("email", account.email.as_str()), ("password", &password), ("next", "/")])
                .send()
                .await
                .unwrap();
            let cookie = support::session_cookie(&response).expect("a session");
            let mut paths: Vec<String> = [
                "/",
                "/appointments",
                "/appointments?status=failed",
                "/review",
                "/runs",
                "/deliveries",
                "/sync-health",
                "/notifications",
                "/audit",
                "/account",
                "/settings",
                "/settings/schedule",
                "/settings/alerts",
                "/settings/users",
                "/settings/tokens",
                "/no-such-page",
            ]
            .map(String::from)
            .to_vec();
            paths.extend(run_pages.iter().cloned());
            paths.extend(appointments.iter().map(|a| format!("/appointments/{}", a.id)));
            for path in paths {
                let (status, html) = get(path.clone(), Some(cookie.clone())).await;
                // A viewer meets the admin-only pages as a refusal, itself a page.
                let expected = match path.as_str() {
                    "/no-such-page" => 404,
                    "/audit" if account.role == Role::Viewer => 403,
                    _ => 200,
                };
                assert_eq!(status, expected, "{path} as {:?}", account.role);
                assert_parses_as_written(&format!("{path} as {:?}", account.role), &html);
            }
            // One count of open reviews, whichever page shows it.
            let text = |html: &str, selector: &str| {
                let document = Html::parse_document(html);
                let selector = scraper::Selector::parse(selector).unwrap();
                document.select(&selector).map(|e| e.text().collect::<String>()).collect::<Vec<_>>()
            };
            let dashboard = text(&get("/".into(), Some(cookie.clone())).await.1, "[data-testid=review-count]");
            let queue =
                text(&get("/review".into(), Some(cookie.clone())).await.1, "[data-testid=review-queue] tbody tr");
            let metrics =
                text(&get("/sync-health".into(), Some(cookie.clone())).await.1, "[data-testid=manual-reviews] strong");
            assert!(queue.len() >= 5, "the demo has open reviews of every kind: {queue:?}");
            assert_eq!(dashboard, [queue.len().to_string()], "the dashboard counts what the queue lists");
            assert_eq!(metrics.first(), Some(&queue.len().to_string()), "the metrics page counts what the queue lists");
        }
        demo.sim.shutdown().await;
    })
    .await
}
