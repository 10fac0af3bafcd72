//! The dashboard (seed "Dashboard Widget"): appointments per sync state,
//! when verification last ran and runs next, Cal.com's health, and "retry
//! all failed". It re-reads itself every few seconds.

use std::time::Duration;

use engine::domain::{Members, SyncStatus};
use leptos::prelude::*;

use crate::rpc::answer::answer;

use crate::components::confirm::planned;
use crate::components::confirm::ConfirmButton;
use crate::components::hydrated::use_hydrated;
use crate::components::icon::{Icon, IconKind};
use crate::components::outcome::BulkRunStarted;
use crate::components::status::{InfoTile, StatusTile};
use crate::components::ticker::use_ticker;
use crate::rpc::dashboard::{get_dashboard_summary, plan_retry_failed, retry_all_failed, ApiBudget, DashboardSummary};

/// How often the figures are re-read while the page is open.
const REFRESH_EVERY: Duration = Duration::from_secs(10);

#[component]
pub fn DashboardPage() -> impl IntoView {
    let retry = Action::new(|expected: &Members| retry_all_failed(*expected));
    // Owned by the page, like `asking`: the summary re-renders on polling.
    let plan: PlanAction = Action::new(|_: &()| plan_retry_failed());
    let poll = use_ticker(REFRESH_EVERY);
    let refreshes = RwSignal::new(0u32);
    let summary = answer(move || (poll.get(), refreshes.get(), retry.version().get()), |_| get_dashboard_summary());
    let refresh = move |_| refreshes.update(|n| *n += 1);
    let asking = RwSignal::new(false);
    let hydrated = use_hydrated();

    view! {
        <div class="dashboard">
            <div class="page-head">
                <h1>"Cal.com synchronization status"</h1>
                <button class="button" data-testid="refresh" disabled=move || !hydrated.get() on:click=refresh>
                    "Refresh"
                </button>
            </div>
            <p class="muted" data-testid="refresh-count">
                {move || match refreshes.get() {
                    0 => "Updates every 10 seconds.".to_owned(),
                    n => format!("Refreshed {n}× without reloading."),
                }}
            </p>
            <RetryOutcome retry/>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match summary.await {
                        Ok(summary) => view! { <Summary summary retry plan asking/> }.into_any(),
                        Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

/// Takes the count of failed appointments the admin confirmed.
type RetryAction = Action<Members, Result<crate::rpc::appointments::BulkStarted, crate::error::AppError>>;
type PlanAction = Action<(), Result<String, crate::error::AppError>>;

#[component]
fn RetryOutcome(retry: RetryAction) -> impl IntoView {
    let started = Signal::derive(move || retry.value().get());
    view! { <BulkRunStarted started testid="retry-all-result" error_testid="retry-all-error"/> }
}

#[component]
fn Summary(summary: DashboardSummary, retry: RetryAction, plan: PlanAction, asking: RwSignal<bool>) -> impl IntoView {
    let counts = summary.counts;
    let percent =
        counts.synced_percent().map(|p| format!("{p:.1}% sync")).unwrap_or_else(|| "No appointments yet".to_owned());
    let failed = summary.failed;
    let can_retry = summary.can_act && failed.count > 0;
    view! {
        <p class="muted" data-testid="org-name">{summary.organization.clone()}</p>
        <div class="tiles">
            <StatusTile status=SyncStatus::Synced count=counts.synced note=percent/>
            <StatusTile status=SyncStatus::Pending count=counts.pending note="Awaiting verification"/>
            <StatusTile status=SyncStatus::VerificationPending count=counts.verification_pending/>
            <StatusTile status=SyncStatus::Failed count=counts.failed note="Retried automatically">
                {can_retry.then(|| view! {
                    <ConfirmButton
                        label="Retry all"
                        question=format!("Verify all {} failed appointments again now?", failed.count)
                        testid="retry-all-failed"
                        asking
                        on_ask=Callback::new(move |()| { plan.dispatch(()); })
                        detail=planned(plan)
                        disabled=Signal::derive(move || retry.pending().get())
                        on_confirm=move || { retry.dispatch(failed); }
                    />
                }.into_any())}
            </StatusTile>
            <StatusTile status=SyncStatus::OrphanedLocal count=counts.orphaned_local/>
            <StatusTile status=SyncStatus::OrphanedCalcom count=counts.orphaned_calcom/>
            <InfoTile title="Open reviews" class="tile-review" testid="tile-review">
                <p class="count" data-testid="review-count">{summary.open_reviews}</p>
                <p class="note">
                    "Appointments and Cal.com-only bookings waiting for a person. "
                    <a href="/review" data-testid="review-link">"Open the review queue"</a>
                </p>
                {summary.oldest_review.clone().map(|oldest| view! {
                    <p class="note" data-testid="oldest-review">
                        {format!("The oldest has waited {}: ", oldest.age)}
                        <a href=oldest.href data-testid="oldest-review-link">"review it"</a>
                    </p>
                })}
                {(summary.regressions > 0).then(|| view! {
                    <p class="note" data-testid="regressions">{regressions_words(summary.regressions)}</p>
                })}
            </InfoTile>
        </div>
        <div class="tiles tiles-info">
            <InfoTile title="Last verification" testid="tile-last-verification">
                <p class="value" data-testid="last-verified">
                    {summary.last_verified.clone().unwrap_or_else(|| "Not yet".to_owned())}
                </p>
            </InfoTile>
            <NextCheck at=summary.next_check.clone() in_secs=summary.next_check_in_secs/>
            <InfoTile title="Cal.com" class=format!("health-{}", summary.health.key()) testid="tile-health">
                <p class="value" data-testid="health" data-health=summary.health.key()>
                    <Icon kind=health_icon(summary.health.key())/>
                    {summary.health.label()}
                </p>
                <p class="note" data-testid="health-detail">{summary.health_detail.clone()}</p>
                <p class="note" data-testid="webhook-health">
                    {summary.webhooks.clone()}" · "<a href="/deliveries">"Deliveries"</a>
                </p>
            </InfoTile>
            <ApiBudgetTile budget=summary.api_budget.clone()/>
        </div>
    }
}

/// Calls to Cal.com per minute over the last hour, as bars against the
/// key's limit (the top of the chart), with the figures in words.
#[component]
fn ApiBudgetTile(budget: ApiBudget) -> impl IntoView {
    let limit = f64::from(budget.limit.max(1));
    let bars = budget
        .per_minute
        .iter()
        .enumerate()
        .filter(|(_, calls)| **calls > 0)
        .map(|(i, calls)| {
            let height = (f64::from(*calls) / limit).min(1.0) * 20.0;
            view! {
                <rect x=i.to_string() y=format!("{:.2}", 20.0 - height) width="0.8" height=format!("{height:.2}")/>
            }
        })
        .collect_view();
    view! {
        <InfoTile title="Cal.com API budget" testid="tile-api-budget">
            <p class="value" data-testid="api-budget-peak">{format!("{} / {}", budget.peak, budget.limit)}</p>
            <p class="note">"Calls in the busiest minute of the last hour, against the key's limit per minute."</p>
            <svg class="budget-chart" viewBox="0 0 60 20" preserveAspectRatio="none" role="img"
                aria-label=budget.summary.clone() data-testid="api-budget-chart">
                <line x1="0" y1="0.2" x2="60" y2="0.2" class="budget-limit"/>
                {bars}
            </svg>
            <p class="note" data-testid="api-budget-summary">{budget.summary.clone()}</p>
        </InfoTile>
    }
}

/// The icon before the Cal.com health (the seed's "Status: [check] Healthy").
fn health_icon(key: &str) -> IconKind {
    match key {
        "healthy" => IconKind::Check,
        "degraded" => IconKind::Warning,
        "circuit_open" | "bad_api_key" => IconKind::Cross,
        _ => IconKind::Plug,
    }
}

/// The next scheduled cycle with a countdown that ticks in the browser.
#[component]
fn NextCheck(at: String, in_secs: i64) -> impl IntoView {
    let seconds = use_ticker(Duration::from_secs(1));
    let left = move || countdown((in_secs - seconds.get() as i64).max(0));
    view! {
        <InfoTile title="Next check" testid="tile-next-check">
            <p class="value" data-testid="next-check-countdown">{left}</p>
            <p class="note" data-testid="next-check-at">{at}</p>
        </InfoTile>
    }
}

/// "in 5 h 03 min", "in 4 min 09 s", "now".
fn countdown(secs: i64) -> String {
    match secs {
        0 => "now".to_owned(),
        1..=59 => format!("in {secs} s"),
        60..=3599 => format!("in {} min {:02} s", secs / 60, secs % 60),
        _ => format!("in {} h {:02} min", secs / 3600, (secs % 3600) / 60),
    }
}

/// "1 of them is a regression: closed before, back again."
fn regressions_words(n: i64) -> String {
    match n {
        1 => "1 of them is a regression: closed before, back again.".to_owned(),
        n => format!("{n} of them are regressions: closed before, back again."),
    }
}

#[cfg(test)]
mod tests {
    use super::{countdown, regressions_words};

    #[test]
    fn countdowns_read_naturally() {
        assert_eq!(countdown(0), "now");
        assert_eq!(countdown(42), "in 42 s");
        assert_eq!(countdown(249), "in 4 min 09 s");
        assert_eq!(countdown(5 * 3600 + 180), "in 5 h 03 min");
    }

    #[test]
    fn regressions_are_counted_in_words() {
        assert_eq!(regressions_words(1), "1 of them is a regression: closed before, back again.");
        assert_eq!(regressions_words(3), "3 of them are regressions: closed before, back again.");
    }
}
