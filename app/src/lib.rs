//! What the browser sees and asks: the page shell, routes, pages, components
//! and the server functions (`rpc`) they call. Server-only code sits behind
//! `feature = "ssr"`; the browser build gets the same types without it.

pub mod components;
#[cfg(feature = "ssr")]
pub mod context;
pub mod error;
pub mod pages;
pub mod routes;
pub mod rpc;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use leptos_router::Lazy;

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
                    <Route path=path!("/") view={Lazy::<routes::Dashboard>::new()}/>
                    <Route path=path!("/login") view={Lazy::<routes::Login>::new()}/>
                    <Route path=path!("/audit") view={Lazy::<routes::Audit>::new()}/>
                    <Route path=path!("/appointments") view={Lazy::<routes::Appointments>::new()}/>
                    <Route path=path!("/appointments/:id") view={Lazy::<routes::AppointmentReview>::new()}/>
                    <Route path=path!("/review") view={Lazy::<routes::ReviewQueue>::new()}/>
                    <Route path=path!("/runs") view={Lazy::<routes::Runs>::new()}/>
                    <Route path=path!("/runs/:id") view={Lazy::<routes::Run>::new()}/>
                    <Route path=path!("/deliveries") view={Lazy::<routes::Deliveries>::new()}/>
                    <Route path=path!("/sync-health") view={Lazy::<routes::Metrics>::new()}/>
                    <Route path=path!("/notifications") view={Lazy::<routes::Notifications>::new()}/>
                    <Route path=path!("/account") view={Lazy::<routes::Account>::new()}/>
                    <Route path=path!("/settings") view={Lazy::<routes::Settings>::new()}/>
                    <Route path=path!("/settings/schedule") view={Lazy::<routes::ScheduleSettings>::new()}/>
                    <Route path=path!("/settings/alerts") view={Lazy::<routes::AlertSettings>::new()}/>
                    <Route path=path!("/settings/users") view={Lazy::<routes::UserSettings>::new()}/>
                    <Route path=path!("/settings/tokens") view={Lazy::<routes::TokenSettings>::new()}/>
                </Routes>
            </main>
        </Router>
    }
}
