//! Many servers in one process, as the tests and the bench's fleet run them:
//! building one never stalls a page another is rendering (issue 18).

mod support;

use std::net::SocketAddr;

use engine::testing::TestDb;
use server::router::{build_app, page_routes};
use server::state::AppState;
use support::{key, world};

/// Each build used to find the app's routes again, with a process-wide
/// "resources never load" flag set meanwhile; a page another server was
/// rendering then kept a `<Suspense>` pending for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn building_servers_while_another_renders_pages_never_stalls_a_page() {
    let db = TestDb::new(engine::store::Backend::Sqlite).await;
    let w = world(db.store.clone()).await;
    let admin = w.login(support::ADMIN).await;

    let builds = tokio::task::spawn_blocking({
        let store = db.store.clone();
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        move || {
            for _ in 0..60 {
                drop(build_app(AppState::new(store.clone(), key(), "http://127.0.0.1:9", "target/site", addr)));
            }
        }
    });
    // The settings tabs, each with boundaries of its own resources (and the
    // header's), and what each shows only once its last one has loaded.
    let tabs = [
        ("/settings", "save-calcom"),
        ("/settings/schedule", "save-queue"),
        ("/settings/alerts", "alert-rules"),
        ("/settings/users", "users"),
        ("/settings/tokens", "no-tokens"),
    ];
    let mut pages = 0;
    while !builds.is_finished() || pages < 20 {
        for (path, last) in tabs {
            // `page` fails the test on a body that stops for 15 s.
            let (status, body) = w.page(&admin, path).await;
            assert_eq!(status, 200, "{path}");
            assert!(
                body.contains(&format!("data-testid=\"{last}\"")),
                "{path}: the whole page, its last section included"
            );
            pages += 1;
        }
    }
    builds.await.unwrap();
}

// Finding them renders the app, which spawns on the current runtime.
#[tokio::test]
async fn the_routes_are_found_once_per_process() {
    let first = page_routes();
    assert!(first.iter().any(|route| route.path() == "/settings"), "the settings page is routed");
    assert!(std::ptr::eq(first, page_routes()), "a second server reuses the routes found for the first");
}
