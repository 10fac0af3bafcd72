//! The metrics page at /sync-health (seed "Key Metrics Dashboard", last 30 days): success
//! rate, verification time, issues resolved, manual reviews, and a 7-day
//! trend drawn as an SVG on the server (no chart library).

use leptos::prelude::*;

use crate::rpc::answer::answer;

use crate::rpc::metrics::{duration_label, get_sync_metrics, SyncMetrics, TrendDay, PERIOD_DAYS};

#[component]
pub fn MetricsPage() -> impl IntoView {
    let metrics = answer(|| (), |_| get_sync_metrics());
    view! {
        <div class="metrics">
            <div class="page-head">
                <h1>{format!("Sync health (last {PERIOD_DAYS} days)")}</h1>
            </div>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match metrics.await {
                        Ok(m) => view! { <Figures m/> }.into_any(),
                        Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

fn percent_label(p: Option<f64>) -> String {
    p.map(|p| format!("{p:.1}%")).unwrap_or_else(|| "–".to_owned())
}

#[component]
fn Figures(m: SyncMetrics) -> impl IntoView {
    let success = m.success_percent();
    view! {
        <dl class="figures">
            <div class="figure">
                <dt>"Sync success rate"</dt>
                <dd>
                    <div class="rate" role="img" aria-label=format!("Sync success rate {}", percent_label(success))>
                        <div class="rate-bar" style=format!("width: {:.1}%", success.unwrap_or(0.0))></div>
                    </div>
                    <strong data-testid="success-rate">{percent_label(success)}</strong>
                    <span class="muted">{format!(" of {} verifications", m.verifications)}</span>
                </dd>
            </div>
            <div class="figure">
                <dt>"Verification time"</dt>
                <dd data-testid="verification-time">
                    "Avg " <strong>{duration_label(m.avg_ms)}</strong>
                    " │ Max " <strong>{duration_label(m.max_ms)}</strong>
                    " │ Min " <strong>{duration_label(m.min_ms)}</strong>
                </dd>
            </div>
            <div class="figure">
                <dt>"Issues resolved"</dt>
                <dd data-testid="issues-resolved">
                    <strong>{format!("{} / {}", m.issues_resolved, m.issues_opened)}</strong>
                    {format!(" ({})", percent_label(m.resolved_percent()))}
                </dd>
            </div>
            <div class="figure">
                <dt>"Manual reviews"</dt>
                <dd data-testid="manual-reviews">
                    <a href="/review"><strong>{m.reviews_pending}</strong>" open reviews"</a>
                    " │ " <strong>{m.reviews_resolved}</strong>" resolved"
                </dd>
            </div>
        </dl>
        <section class="trend" aria-labelledby="trend-title">
            <h2 id="trend-title">"Trend (last 7 days)"</h2>
            <TrendChart days=m.trend/>
        </section>
    }
}

const WIDTH: f64 = 700.0;
const HEIGHT: f64 = 220.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 40.0;

/// One bar per day: its height is the share of verifications that found
/// the appointment in sync; a day without verifications has no bar.
#[component]
fn TrendChart(days: Vec<TrendDay>) -> impl IntoView {
    let slot = WIDTH / days.len().max(1) as f64;
    let plot = HEIGHT - TOP - BOTTOM;
    let summary = days
        .iter()
        .map(|d| format!("{} {}: {}", d.weekday, d.date, percent_label(d.success_percent())))
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <svg
            class="trend-chart"
            viewBox=format!("0 0 {WIDTH} {HEIGHT}")
            role="img"
            aria-label=format!("Daily sync success rate: {summary}")
            data-testid="trend-chart"
        >
            <line x1="0" y1=HEIGHT - BOTTOM x2=WIDTH y2=HEIGHT - BOTTOM class="axis"/>
            {days.into_iter().enumerate().map(|(i, day)| {
                let x = i as f64 * slot;
                let rate = day.success_percent();
                let height = rate.map(|r| plot * r / 100.0).unwrap_or(0.0);
                let class = match rate {
                    Some(r) if r >= 95.0 => "bar good",
                    Some(r) if r >= 80.0 => "bar fair",
                    Some(_) => "bar poor",
                    None => "bar none",
                };
                view! {
                    <g data-testid="trend-day" data-verifications=day.verifications>
                        <title>{format!("{} {}: {} of {} verifications synced", day.weekday, day.date, day.synced, day.verifications)}</title>
                        <rect class=class x=x + slot * 0.2 y=HEIGHT - BOTTOM - height width=slot * 0.6 height=height/>
                        <text class="rate-label" x=x + slot / 2.0 y=HEIGHT - BOTTOM - height - 6.0 text-anchor="middle">
                            {percent_label(rate)}
                        </text>
                        <text x=x + slot / 2.0 y=HEIGHT - BOTTOM + 16.0 text-anchor="middle">{day.weekday.clone()}</text>
                        <text class="muted" x=x + slot / 2.0 y=HEIGHT - BOTTOM + 32.0 text-anchor="middle">{day.date.clone()}</text>
                    </g>
                }
            }).collect_view()}
        </svg>
    }
}
