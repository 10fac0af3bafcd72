//! What the browser sees and asks: the page shell, routes, pages, components
//! and the server functions (`rpc`) they call. Server-only code sits behind
//! `feature = "ssr"`; the browser build gets the same types without it.

pub mod components;
#[cfg(feature = "ssr")]
pub mod context;
pub mod error;
pub mod pages;
pub mod rpc;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser, once the app has hydrated: the mark
    // browser tests wait for before they look for errors or click.
    Effect::new(|_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="leptos" href="/pkg/calsync.css"/>
        <Title text="calsync"/>
        <Router>
            <components::layout::Header/>
            <main class="page">
                <Routes fallback=pages::not_found::NotFound>
                    <Route path=path!("/") view=pages::dashboard::DashboardPage/>
                    <Route path=path!("/login") view=pages::login::LoginPage/>
                    <Route path=path!("/audit") view=pages::audit::AuditPage/>
                    <Route path=path!("/appointments") view=pages::appointments::AppointmentsPage/>
                    <Route path=path!("/appointments/:id") view=pages::review::AppointmentReviewPage/>
                    <Route path=path!("/review") view=pages::queue::ReviewQueuePage/>
                    <Route path=path!("/runs") view=pages::runs::RunsPage/>
                    <Route path=path!("/deliveries") view=pages::deliveries::DeliveriesPage/>
                    <Route path=path!("/sync-health") view=pages::metrics::MetricsPage/>
                    <Route path=path!("/notifications") view=pages::notifications::NotificationsPage/>
                    <Route path=path!("/account") view=pages::account::AccountPage/>
                    <Route path=path!("/settings") view=pages::settings::SettingsPage/>
                </Routes>
            </main>
        </Router>
    }
}
