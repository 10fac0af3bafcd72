//! Every page is a lazy route: its code (view, server-function calls and the
//! decoding of their answers) is split out of the main WASM bundle and
//! loaded when the page is first shown, so a visit downloads the shared
//! framework plus the one page it opens (see docs/benchmarks.md, "WASM").
//! The server renders the same view without splitting.
//!
//! `data()` is empty on purpose: it is compiled into the main bundle, so a
//! page's resources are created in its own (split) view instead, which keeps
//! their server-function calls and answer decoding out of the main bundle.
//! The price is on client-side navigation only: a page's data starts
//! loading once its code has arrived, not alongside it (a first load has
//! both in the server's HTML already).

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

use crate::pages;

/// The pages anyone may open. The server puts every other page in its
/// signed-in area, which sends a visitor without a session to `/login`.
pub const OPEN_PAGES: &[&str] = &["/login"];

/// `lazy_page!(Route, path::to::PageComponent)`: a lazy route that renders
/// the page component.
macro_rules! lazy_page {
    ($route:ident, $page:path) => {
        #[derive(Debug)]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                $page().into_any()
            }
        }
    };
}

lazy_page!(Dashboard, pages::dashboard::DashboardPage);
lazy_page!(Login, pages::login::LoginPage);
lazy_page!(Audit, pages::audit::AuditPage);
lazy_page!(Appointments, pages::appointments::AppointmentsPage);
lazy_page!(AppointmentReview, pages::review::AppointmentReviewPage);
lazy_page!(ReviewQueue, pages::queue::ReviewQueuePage);
lazy_page!(Runs, pages::runs::RunsPage);
lazy_page!(Run, pages::run::RunPage);
lazy_page!(Deliveries, pages::deliveries::DeliveriesPage);
lazy_page!(Metrics, pages::metrics::MetricsPage);
lazy_page!(Notifications, pages::notifications::NotificationsPage);
lazy_page!(Account, pages::account::AccountPage);
lazy_page!(Settings, pages::settings::SettingsPage);
lazy_page!(ScheduleSettings, pages::settings::ScheduleSettingsPage);
lazy_page!(AlertSettings, pages::settings::AlertSettingsPage);
lazy_page!(UserSettings, pages::settings::UserSettingsPage);
lazy_page!(TokenSettings, pages::settings::TokenSettingsPage);
