//! The dashboard: appointments per sync state (seed "Dashboard Widget").

use engine::domain::SyncStatus;
use leptos::prelude::*;

use crate::components::status::StatusTile;
use crate::rpc::dashboard::{get_dashboard_summary, DashboardSummary};

#[component]
pub fn DashboardPage() -> impl IntoView {
    let summary = Resource::new(|| (), |_| get_dashboard_summary());
    let refreshes = RwSignal::new(0u32);
    let refresh = move |_| {
        refreshes.update(|n| *n += 1);
        summary.refetch();
    };

    view! {
        <div class="dashboard">
            <div class="page-head">
                <h1>"Cal.com synchronization status"</h1>
                <button class="button" data-testid="refresh" on:click=refresh>
                    "Refresh"
                </button>
            </div>
            <p class="muted" data-testid="refresh-count">
                {move || match refreshes.get() {
                    0 => "Counts as of page load.".to_owned(),
                    n => format!("Refreshed {n}× without reloading."),
                }}
            </p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match summary.await {
                        Ok(summary) => view! { <Summary summary/> }.into_any(),
                        Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn Summary(summary: DashboardSummary) -> impl IntoView {
    let org = summary.organization;
    let counts = summary.counts;
    let percent = counts
        .synced_percent()
        .map(|p| format!("{p:.1}% sync"))
        .unwrap_or_else(|| "No appointments yet".to_owned());
    view! {
        <p class="muted" data-testid="org-name">{org}</p>
        <div class="tiles">
            <StatusTile status=SyncStatus::Synced count=counts.synced note=percent/>
            <StatusTile status=SyncStatus::Pending count=counts.pending note="Awaiting verification"/>
            <StatusTile status=SyncStatus::VerificationPending count=counts.verification_pending/>
            <StatusTile status=SyncStatus::Failed count=counts.failed note="Retried automatically"/>
            <StatusTile status=SyncStatus::OrphanedLocal count=counts.orphaned_local/>
            <StatusTile status=SyncStatus::OrphanedCalcom count=counts.orphaned_calcom/>
        </div>
        <p data-testid="review-count">
            <strong>{counts.requires_review}</strong>" appointments need manual review."
        </p>
    }
}
