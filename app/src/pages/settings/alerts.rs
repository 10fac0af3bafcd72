//! The settings page's alert rules: one form per rule (what it watches,
//! how often it may push, on which channels) and the alert webhook.

use crate::components::post_form::PostForm;
use leptos::prelude::*;

use crate::rpc::answer::answer;

use super::{loaded, outcome, Field, Status};
use crate::rpc::alerts::{get_alert_settings, AlertSettings, RuleLine, SaveAlertRule, SaveAlertWebhook};

#[component]
pub fn AlertsSection() -> impl IntoView {
    let settings = answer(|| (), |_| get_alert_settings());
    view! {
        <section class="card" id="alerts" aria-labelledby="alerts-title">
            <h2 id="alerts-title">"Alert rules"</h2>
            <p class="muted">
                "The in-app feed always shows everything. These rules decide what is also pushed by email and to the alert webhook: "
                "at most once per rule per period (what comes in between arrives as one digest), and a recovery notice when the condition clears."
            </p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    loaded(settings.await, |initial: AlertSettings| view! {
                        <div class="alert-rules" data-testid="alert-rules">
                            {initial.rules.clone().into_iter().map(|rule| view! { <RuleForm rule/> }).collect_view()}
                        </div>
                        <WebhookForm initial/>
                    })
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn RuleForm(rule: RuleLine) -> impl IntoView {
    let save = ServerAction::<SaveAlertRule>::new();
    let saved =
        outcome(save, |r: &RuleLine| if r.enabled { format!("Saved: {}.", r.label) } else { "Saved: off.".to_owned() });
    let (form, saved_id): (&'static str, &'static str) = match rule.rule.as_str() {
        "first_failure" => ("alert-first_failure", "alert-first_failure-saved"),
        "retries_used_up" => ("alert-retries_used_up", "alert-retries_used_up-saved"),
        _ => ("alert-open_over", "alert-open_over-saved"),
    };
    let threshold = RwSignal::new(rule.threshold.to_string());
    let throttle = RwSignal::new(rule.throttle_minutes.to_string());
    let check = move |name: &'static str, label: &'static str, on: bool| {
        let id = format!("{form}-{name}");
        view! {
            <label class="checkbox" for=id.clone()>
                <input type="checkbox" id=id.clone() name=name data-testid=id.clone() checked=on/>
                " "{label}
            </label>
        }
    };
    let state_class = if rule.state == "Quiet" { "muted" } else { "badge badge-failed" };
    view! {
        <PostForm action=save attr:class="alert-rule" attr:data-testid=form>
            <input type="hidden" name="rule" value=rule.rule.clone()/>
            <fieldset>
                <legend>{rule.label.clone()}</legend>
                <p class="alert-state">
                    <span class=state_class data-testid=format!("{form}-state")>{rule.state.clone()}</span>
                    {(rule.held > 0).then(|| format!(" · {} held for the next digest", rule.held))}
                </p>
                {check("enabled", "On", rule.enabled)}
                <div class="settings-form">
                    {rule.uses_threshold.then(|| view! {
                        <Field form label="More open issues than" name="threshold" kind="number" value=threshold outcome=saved/>
                    })}
                    <Field form label="At most one push per (minutes)" name="throttle_minutes" kind="number" value=throttle outcome=saved
                        hint="0 pushes every event; up to 1440 (a day)"/>
                </div>
                {check("by_email", "Email admins", rule.by_email)}
                {check("by_webhook", "Post to the alert webhook", rule.by_webhook)}
                <div class="action-row">
                    <button type="submit" class="button small" data-testid=format!("{form}-save") disabled=move || save.pending().get()>
                        "Save rule"
                    </button>
                </div>
            </fieldset>
        </PostForm>
        <Status outcome=saved testid=saved_id/>
    }
}

#[component]
fn WebhookForm(initial: AlertSettings) -> impl IntoView {
    let save = ServerAction::<SaveAlertWebhook>::new();
    let saved = outcome(save, |s: &AlertSettings| {
        if s.webhook_url.is_empty() {
            "Saved: no alert webhook.".to_owned()
        } else {
            "Saved: alerts are posted there.".to_owned()
        }
    });
    let url = RwSignal::new(initial.webhook_url.clone());
    let secret = RwSignal::new(String::new());
    // A saved secret is only in the database now: clear the write-only input.
    Effect::new(move || {
        if let Some(Ok(_)) = save.value().get() {
            secret.set(String::new());
        }
    });
    let secret_hint = if initial.has_webhook_secret {
        "A secret is set; leave empty to keep it. Each post carries X-Calsync-Signature: t=…,v1=HMAC-SHA256(secret, \"t.body\")."
    } else {
        "At least 16 characters; the receiver checks X-Calsync-Signature: t=…,v1=HMAC-SHA256(secret, \"t.body\")."
    };
    view! {
        <h3>"Alert webhook"</h3>
        <p class="muted" data-testid="alert-webhook-counts">
            {format!(
                "{} waiting · {} delivered · {} given up (each is retried for about four hours)",
                initial.webhooks_pending, initial.webhooks_sent, initial.webhooks_failed
            )}
        </p>
        <PostForm action=save>
            <div class="settings-form">
                <Field form="alert-webhook" label="URL (Slack incoming webhook, a CRM)" name="url" value=url outcome=saved
                    placeholder="https://hooks.slack.com/services/…" hint="Leave empty to stop posting"/>
                <Field form="alert-webhook" label="Signing secret" name="secret" kind="password" value=secret outcome=saved hint=secret_hint/>
                <div class="action-row">
                    <button type="submit" class="button" data-testid="save-alert-webhook" disabled=move || save.pending().get()>
                        "Save webhook"
                    </button>
                </div>
            </div>
        </PostForm>
        <Status outcome=saved testid="alert-webhook-saved"/>
    }
}
