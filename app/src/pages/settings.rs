//! Settings for admins: the Cal.com connection, schedules and time zone,
//! alert rules, accounts, API tokens, and a link to the email preference.
//! One page (tab) per concern; each form loads and saves on its own, so a
//! mistake in one form never costs what was typed in another.

use crate::components::post_form::PostForm;
use engine::domain::Role;
use leptos::prelude::*;

use crate::rpc::answer::answer;

mod alerts;

use crate::components::confirm::ConfirmButton;
use crate::components::hydrated::use_hydrated;
use crate::error::AppError;
use crate::rpc::session::get_signed_in;
use crate::rpc::settings::{
    get_calcom_settings, get_queue_settings, get_schedule_settings, list_api_tokens, list_users, CalcomSettings,
    ChangeUserRole, CreateApiToken, CreatedToken, InviteUser, Invited, QueueSettings, RevokeApiToken,
    SaveCalcomSettings, SaveQueueSettings, SaveScheduleSettings, ScheduleSettings, SetUserEnabled,
    TestCalcomConnection, TokenLine, UserLine, DAYS_AHEAD, DAYS_BACK, REMINDER_HOURS,
};

/// What a form's last submission left: nothing yet, a confirmation, or an error.
type Outcome = Signal<Option<Result<String, AppError>>>;

/// The outcome of `action`, with `ok` wording its success.
fn outcome<A, O>(action: ServerAction<A>, ok: impl Fn(&O) -> String + Send + Sync + 'static) -> Outcome
where
    A: leptos::server_fn::ServerFn<Output = O, Error = AppError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().map(|result| result.map(|o| ok(&o))))
}

/// The message for `field` if the outcome is an error about that field.
fn field_message(outcome: Outcome, field: &'static str) -> Option<String> {
    match outcome.get() {
        Some(Err(AppError::Invalid { field: f, message })) if f == field => Some(message),
        _ => None,
    }
}

/// The settings are one page per concern, each its own route (and lazy
/// route: a visit loads the code of the one section it shows, not all
/// seven forms). The tabs link them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Calcom,
    Schedule,
    Alerts,
    Users,
    Tokens,
}

impl Tab {
    const ALL: [Tab; 5] = [Tab::Calcom, Tab::Schedule, Tab::Alerts, Tab::Users, Tab::Tokens];

    fn slug(self) -> &'static str {
        match self {
            Tab::Calcom => "calcom",
            Tab::Schedule => "schedule",
            Tab::Alerts => "alerts",
            Tab::Users => "users",
            Tab::Tokens => "tokens",
        }
    }

    /// The Cal.com connection, the first thing to set up, is `/settings` itself.
    fn href(self) -> String {
        match self {
            Tab::Calcom => "/settings".into(),
            tab => format!("/settings/{}", tab.slug()),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tab::Calcom => "Cal.com",
            Tab::Schedule => "Schedules and queue",
            Tab::Alerts => "Alerts",
            Tab::Users => "Users",
            Tab::Tokens => "API tokens",
        }
    }
}

/// `/settings`: the Cal.com connection.
#[component]
pub fn SettingsPage() -> impl IntoView {
    view! { <Settings tab=Tab::Calcom section=|| view! { <CalcomSection/> }.into_any()/> }
}

/// `/settings/schedule`: the verification schedules and the review queue's reminder.
#[component]
pub fn ScheduleSettingsPage() -> impl IntoView {
    view! { <Settings tab=Tab::Schedule section=|| view! { <ScheduleSection/> <QueueSection/> }.into_any()/> }
}

/// `/settings/alerts`: what is pushed by email and webhook.
#[component]
pub fn AlertSettingsPage() -> impl IntoView {
    view! { <Settings tab=Tab::Alerts section=|| view! { <alerts::AlertsSection/> }.into_any()/> }
}

/// `/settings/users`: accounts, and where each person's email preference lives.
#[component]
pub fn UserSettingsPage() -> impl IntoView {
    view! { <Settings tab=Tab::Users section=|| view! { <UsersSection/> <EmailNote/> }.into_any()/> }
}

/// `/settings/tokens`: REST API tokens.
#[component]
pub fn TokenSettingsPage() -> impl IntoView {
    view! { <Settings tab=Tab::Tokens section=|| view! { <TokensSection/> }.into_any()/> }
}

/// Every settings page: admins only, the tabs, then the page's `section`.
#[component]
fn Settings(tab: Tab, section: fn() -> AnyView) -> impl IntoView {
    let me = answer(|| (), |_| get_signed_in());
    view! {
        <h1>"Settings"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(user)) if user.role == Role::Admin => view! { <Tabs current=tab/> {section()} }.into_any(),
                    Ok(Some(_)) => view! {
                        <p class="error" role="alert" data-testid="settings-forbidden">
                            "Only admins can see and change settings."
                        </p>
                    }.into_any(),
                    Ok(None) => view! { <p class="error" role="alert">"Please log in."</p> }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Tabs(current: Tab) -> impl IntoView {
    view! {
        <nav class="settings-nav" aria-label="Settings sections">
            {Tab::ALL.map(|tab| view! {
                <a
                    href=tab.href()
                    aria-current=(tab == current).then_some("page")
                    data-testid=format!("settings-tab-{}", tab.slug())
                >
                    {tab.label()}
                </a>
            })}
        </nav>
    }
}

#[component]
fn EmailNote() -> impl IntoView {
    view! {
        <section class="card" id="email" aria-labelledby="email-title">
            <h2 id="email-title">"Email preferences"</h2>
            <p>
                "Which notifications reach you by email is set per person on "
                <a href="/account" data-testid="email-preference-link">"your account page"</a> "."
            </p>
        </section>
    }
}

/// A labelled text input bound to `value`, with its field error under it.
#[component]
fn Field(
    /// Which form: prefixes the input's id and test id, unique on the page.
    form: &'static str,
    label: &'static str,
    /// The server function's argument name; also the error's field.
    name: &'static str,
    value: RwSignal<String>,
    outcome: Outcome,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional, into)] hint: String,
    #[prop(optional)] placeholder: &'static str,
) -> impl IntoView {
    let id = format!("{form}-{name}");
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let has_hint = !hint.is_empty();
    let described = move || {
        let mut ids = Vec::new();
        if has_hint {
            ids.push(hint_id.clone());
        }
        if field_message(outcome, name).is_some() {
            ids.push(error_id.clone());
        }
        ids.join(" ")
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id.clone()
                name=name
                type=kind
                placeholder=placeholder
                autocomplete="off"
                data-testid=id.clone()
                aria-invalid=move || field_message(outcome, name).is_some().to_string()
                aria-describedby=described
                // The attribute for the server-rendered page; `bind` once hydrated.
                value=value.get_untracked()
                bind:value=value
            />
            {has_hint.then(|| view! { <small class="muted" id=format!("{form}-{name}-hint")>{hint}</small> })}
            {move || field_message(outcome, name).map(|message| view! {
                <small class="field-error" id=format!("{form}-{name}-error") data-testid=format!("{form}-{name}-error")>
                    {message}
                </small>
            })}
        </div>
    }
}

/// The confirmation or the error of a form's last submission. Field errors
/// are shown at their field; this repeats them so a screen reader hears them.
#[component]
fn Status(outcome: Outcome, testid: &'static str) -> impl IntoView {
    view! { <crate::components::outcome::Outcome said=outcome testid error_testid=format!("{testid}-error")/> }
}

/// Shows a section's data once loaded, or why it could not be.
fn loaded<T, V: IntoView + 'static>(result: Result<T, AppError>, show: impl FnOnce(T) -> V) -> AnyView {
    match result {
        Ok(data) => show(data).into_any(),
        Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
    }
}

// --- Cal.com connection ---

#[component]
fn CalcomSection() -> impl IntoView {
    let settings = answer(|| (), |_| get_calcom_settings());
    view! {
        <section class="card" id="calcom" aria-labelledby="calcom-title">
            <h2 id="calcom-title">"Cal.com connection"</h2>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    loaded(settings.await, |initial| view! { <CalcomForm initial/> })
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn CalcomForm(initial: CalcomSettings) -> impl IntoView {
    let current = RwSignal::new(initial.clone());
    let base_url = RwSignal::new(initial.base_url);
    let api_key = RwSignal::new(String::new());
    let webhook_secret = RwSignal::new(String::new());
    let save = ServerAction::<SaveCalcomSettings>::new();
    let test = ServerAction::<TestCalcomConnection>::new();
    let hydrated = use_hydrated();
    let saved = outcome(save, |_: &CalcomSettings| "Cal.com connection saved.".to_owned());
    // A saved key is only in the database now: clear the write-only inputs.
    Effect::new(move || {
        if let Some(Ok(settings)) = save.value().get() {
            current.set(settings);
            api_key.set(String::new());
            webhook_secret.set(String::new());
        }
    });
    let tested: Outcome = Signal::derive(move || {
        test.value().get().map(|result| {
            result.and_then(|t| if t.is_ok() { Ok(t.message()) } else { Err(AppError::Conflict(t.message())) })
        })
    });
    let is_set = |set: bool| if set { "set" } else { "not set" };
    view! {
        <dl class="settings-facts">
            <dt>"API key"</dt>
            <dd data-testid="api-key-state">{move || is_set(current.get().has_api_key)}</dd>
            <dt>"Webhook secret"</dt>
            <dd data-testid="webhook-secret-state">{move || is_set(current.get().has_webhook_secret)}</dd>
            <dt>"Webhook URL path"</dt>
            <dd><code>{move || current.get().webhook_path}</code></dd>
        </dl>
        <form
            class="settings-form"
            on:submit=move |ev| {
                ev.prevent_default();
                save.dispatch(SaveCalcomSettings {
                    base_url: base_url.get_untracked(),
                    api_key: api_key.get_untracked(),
                    webhook_secret: webhook_secret.get_untracked(),
                });
            }
        >
            <Field form="calcom" label="Base URL" name="base_url" value=base_url outcome=saved placeholder="https://api.cal.com"/>
            <Field
                form="calcom"
                label="API key"
                name="api_key"
                kind="password"
                value=api_key
                outcome=saved
                hint="Write-only: never shown again. Leave empty to keep the current key."
            />
            <Field
                form="calcom"
                label="Webhook secret"
                name="webhook_secret"
                kind="password"
                value=webhook_secret
                outcome=saved
                hint="Write-only. Leave empty to keep the current secret."
            />
            <div class="action-row">
                <button type="submit" class="button" data-testid="save-calcom" disabled=move || save.pending().get()>
                    "Save connection"
                </button>
                <button
                    type="button"
                    class="button secondary"
                    data-testid="test-calcom"
                    disabled=move || !hydrated.get() || test.pending().get()
                    on:click=move |_| {
                        test.dispatch(TestCalcomConnection { base_url: base_url.get_untracked(), api_key: api_key.get_untracked() });
                    }
                >
                    {move || if test.pending().get() { "Testing…" } else { "Test connection" }}
                </button>
            </div>
            <p class="muted">"Test connection uses what is entered above, or else what is saved."</p>
        </form>
        <Status outcome=saved testid="calcom-saved"/>
        <Status outcome=tested testid="calcom-test"/>
    }
}

// --- Schedules and time zone ---

#[component]
fn ScheduleSection() -> impl IntoView {
    let settings = answer(|| (), |_| get_schedule_settings());
    view! {
        <section class="card" id="schedule" aria-labelledby="schedule-title">
            <h2 id="schedule-title">"Schedules and time zone"</h2>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    loaded(settings.await, |initial| view! { <ScheduleForm initial/> })
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn QueueSection() -> impl IntoView {
    let settings = answer(|| (), |_| get_queue_settings());
    view! {
        <section class="card" id="queue" aria-labelledby="queue-title">
            <h2 id="queue-title">"Review queue"</h2>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    loaded(settings.await, |initial| view! { <QueueForm initial/> })
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn QueueForm(initial: QueueSettings) -> impl IntoView {
    let save = ServerAction::<SaveQueueSettings>::new();
    let saved = outcome(save, |s: &QueueSettings| match s.ack_reminder_hours {
        0 => "Saved: no reminders.".to_owned(),
        h => format!("Saved: reminders after {h} h."),
    });
    let hours = RwSignal::new(initial.ack_reminder_hours.to_string());
    let hint = format!(
        "Hours an acknowledged issue may stay open before the feed brings it up again ({}–{}; 0 turns reminders off)",
        REMINDER_HOURS.start(),
        REMINDER_HOURS.end()
    );
    view! {
        <PostForm action=save>
            <div class="settings-form">
                <Field form="queue" label="Remind after (hours)" name="ack_reminder_hours" kind="number" value=hours outcome=saved hint/>
                <div class="action-row">
                    <button type="submit" class="button" data-testid="save-queue" disabled=move || save.pending().get()>
                        "Save"
                    </button>
                </div>
            </div>
        </PostForm>
        <Status outcome=saved testid="queue-saved"/>
    }
}

#[component]
fn ScheduleForm(initial: ScheduleSettings) -> impl IntoView {
    let save = ServerAction::<SaveScheduleSettings>::new();
    let saved = outcome(save, |_: &ScheduleSettings| "Schedule saved.".to_owned());
    let time_zone = RwSignal::new(initial.time_zone.clone());
    let cycle = RwSignal::new(initial.cycle_cron.clone());
    let comprehensive = RwSignal::new(initial.comprehensive_cron.clone());
    let back = RwSignal::new(initial.window_days_back.to_string());
    let ahead = RwSignal::new(initial.window_days_ahead.to_string());
    // What is in force: the last successful save's, else what was loaded.
    let current = Signal::derive(move || match save.value().get() {
        Some(Ok(settings)) => settings,
        _ => initial.clone(),
    });
    let back_hint = format!("{}–{} days", DAYS_BACK.start(), DAYS_BACK.end());
    let ahead_hint = format!("{}–{} days", DAYS_AHEAD.start(), DAYS_AHEAD.end());
    view! {
        <PostForm action=save>
            <div class="settings-form">
                <Field form="schedule" label="Time zone" name="time_zone" value=time_zone outcome=saved hint="IANA name, e.g. Europe/Berlin"/>
                <Field
                    form="schedule"
                    label="Verification cycle (cron)"
                    name="cycle_cron"
                    value=cycle
                    outcome=saved
                    hint="Minute hour day month weekday, in the time zone above; e.g. 0 0,6,12,18 * * *"
                />
                <Field
                    form="schedule"
                    label="Comprehensive check (cron)"
                    name="comprehensive_cron"
                    value=comprehensive
                    outcome=saved
                    hint="e.g. 0 0 * * * for daily at midnight"
                />
                <Field form="schedule" label="Comprehensive window: days back" name="window_days_back" kind="number" value=back outcome=saved hint=back_hint/>
                <Field form="schedule" label="Comprehensive window: days ahead" name="window_days_ahead" kind="number" value=ahead outcome=saved hint=ahead_hint/>
                <div class="action-row">
                    <button type="submit" class="button" data-testid="save-schedule" disabled=move || save.pending().get()>
                        "Save schedule"
                    </button>
                </div>
            </div>
        </PostForm>
        <Status outcome=saved testid="schedule-saved"/>
        <div class="next-runs">
            <NextRuns title="Next verification cycles" runs=Signal::derive(move || current.get().next_cycle) testid="next-cycle"/>
            <NextRuns
                title="Next comprehensive checks"
                runs=Signal::derive(move || current.get().next_comprehensive)
                testid="next-comprehensive"
            />
        </div>
    }
}

#[component]
fn NextRuns(title: &'static str, runs: Signal<Vec<String>>, testid: &'static str) -> impl IntoView {
    view! {
        <div>
            <h3>{title}</h3>
            <ol data-testid=testid>
                {move || runs.get().into_iter().map(|run| view! { <li>{run}</li> }).collect_view()}
            </ol>
        </div>
    }
}

// --- Users ---

#[component]
fn UsersSection() -> impl IntoView {
    let invite = ServerAction::<InviteUser>::new();
    let change_role = ServerAction::<ChangeUserRole>::new();
    let set_enabled = ServerAction::<SetUserEnabled>::new();
    let users = answer(
        move || (invite.version().get(), change_role.version().get(), set_enabled.version().get()),
        |_| list_users(),
    );
    let role_changed =
        outcome(change_role, |u: &UserLine| format!("{} is now {}.", u.name, u.role.label().to_lowercase()));
    let enabled_changed = outcome(set_enabled, |u: &UserLine| {
        format!("{} is {}.", u.name, if u.disabled { "disabled" } else { "enabled" })
    });
    view! {
        <section class="card" id="users" aria-labelledby="users-title">
            <h2 id="users-title">"Users"</h2>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    loaded(users.await, |users| view! { <UserTable users change_role set_enabled/> })
                })}
            </Transition>
            <Status outcome=role_changed testid="role-changed"/>
            <Status outcome=enabled_changed testid="enabled-changed"/>
            <InviteForm invite/>
        </section>
    }
}

#[component]
fn UserTable(
    users: Vec<UserLine>,
    change_role: ServerAction<ChangeUserRole>,
    set_enabled: ServerAction<SetUserEnabled>,
) -> impl IntoView {
    let busy = Signal::derive(move || change_role.pending().get() || set_enabled.pending().get());
    view! {
        <div class="table-wrap">
            <table data-testid="users">
                <thead>
                    <tr><th>"Name"</th><th>"Email"</th><th>"Role"</th><th>"Created"</th><th>"Actions"</th></tr>
                </thead>
                <tbody>
                    {users.into_iter().map(|u| view! { <UserRow user=u change_role set_enabled busy/> }.into_any()).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn UserRow(
    user: UserLine,
    change_role: ServerAction<ChangeUserRole>,
    set_enabled: ServerAction<SetUserEnabled>,
    busy: Signal<bool>,
) -> impl IntoView {
    let id = user.id;
    let other_role = if user.role == Role::Admin { Role::Viewer } else { Role::Admin };
    let role_label = format!("Make {}", other_role.label().to_lowercase());
    let (enable_label, enable) = if user.disabled { ("Enable", true) } else { ("Disable", false) };
    let status = if user.disabled { " (disabled)" } else { "" };
    view! {
        <tr data-testid=format!("user-{}", user.email)>
            <td data-label="Name">{user.name.clone()}{user.is_me.then_some(" (you)")}</td>
            <td data-label="Email">{user.email.clone()}</td>
            <td data-label="Role" data-testid="user-role-cell">{user.role.label()}{status}</td>
            <td data-label="Created" class="nowrap">{user.created.clone()}</td>
            <td class="actions">
                {(!user.is_me).then(|| view! {
                    <ConfirmButton
                        label=role_label.clone()
                        question=format!("{} {}?", role_label, user.name)
                        class="small secondary"
                        testid=format!("role-{id}")
                        disabled=busy
                        on_confirm=move || { change_role.dispatch(ChangeUserRole { user_id: id, role: other_role.as_str().into() }); }
                    />
                    <ConfirmButton
                        label=enable_label
                        question=format!("{enable_label} the account of {}?", user.name)
                        class=if enable { "small secondary" } else { "small danger" }
                        testid=format!("enable-{id}")
                        disabled=busy
                        on_confirm=move || { set_enabled.dispatch(SetUserEnabled { user_id: id, enabled: enable }); }
                    />
                }.into_any())}
            </td>
        </tr>
    }
}

#[component]
fn InviteForm(invite: ServerAction<InviteUser>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let invited: Outcome =
        outcome(invite, |i: &Invited| format!("{} can now log in as {}.", i.user.name, i.user.email));
    Effect::new(move || {
        if let Some(Ok(_)) = invite.value().get() {
            name.set(String::new());
            email.set(String::new());
        }
    });
    view! {
        <h3>"Invite a user"</h3>
        <p class="muted">
            "calsync creates the account with a generated password and shows it to you once. "
            "Pass it on to the person securely; calsync does not send it by email."
        </p>
        <PostForm action=invite>
            <div class="settings-form">
                <Field form="invite" label="Name" name="name" value=name outcome=invited/>
                <Field form="invite" label="Email" name="email" kind="email" value=email outcome=invited/>
                <div class="field">
                    <label for="invite-role">"Role"</label>
                    <select id="invite-role" name="role" data-testid="invite-role">
                        <option value="viewer" selected=true>"Viewer"</option>
                        <option value="admin">"Admin"</option>
                    </select>
                </div>
                <div class="action-row">
                    <button type="submit" class="button" data-testid="invite" disabled=move || invite.pending().get()>
                        "Invite"
                    </button>
                </div>
            </div>
        </PostForm>
        <Status outcome=invited testid="invited"/>
        {move || invite.value().get().and_then(Result::ok).map(|done| view! {
            <ShownOnce
                what="Initial password"
                secret=done.password
                testid="invited-password"
                note="Shown only now. Give it to them securely; they log in with their email and this password."
            />
        })}
    }
}

/// A secret the server will never send again.
#[component]
fn ShownOnce(what: &'static str, secret: String, testid: &'static str, note: &'static str) -> impl IntoView {
    view! {
        <div class="shown-once" role="status">
            <strong>{what} ": "</strong>
            <code data-testid=testid>{secret}</code>
            <p class="muted">{note}</p>
        </div>
    }
}

// --- API tokens ---

#[component]
fn TokensSection() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = answer(move || (create.version().get(), revoke.version().get()), |_| list_api_tokens());
    let name = RwSignal::new(String::new());
    let created = outcome(create, |t: &CreatedToken| format!("Token “{}” created.", t.token.name));
    let revoked = outcome(revoke, |t: &TokenLine| format!("Token “{}” revoked: it no longer works.", t.name));
    Effect::new(move || {
        if let Some(Ok(_)) = create.value().get() {
            name.set(String::new());
        }
    });
    view! {
        <section class="card" id="tokens" aria-labelledby="tokens-title">
            <h2 id="tokens-title">"API tokens"</h2>
            <p class="muted">"For the REST API (" <code>"/api/v1"</code> "): send " <code>"Authorization: Bearer <token>"</code> "."</p>
            <PostForm action=create>
                <div class="settings-form inline">
                    <Field form="token" label="Token name" name="name" value=name outcome=created placeholder="e.g. Retell agent"/>
                    <div class="action-row">
                        <button type="submit" class="button" data-testid="create-token" disabled=move || create.pending().get()>
                            "Create token"
                        </button>
                    </div>
                </div>
            </PostForm>
            <Status outcome=created testid="token-created"/>
            {move || create.value().get().and_then(Result::ok).map(|done| view! {
                <ShownOnce
                    what="New token"
                    secret=done.secret
                    testid="token-secret"
                    note="Copy it now: it is stored only as a hash and will not be shown again."
                />
            })}
            <Status outcome=revoked testid="token-revoked"/>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    loaded(tokens.await, |tokens| view! { <TokenTable tokens revoke/> })
                })}
            </Transition>
        </section>
    }
}

#[component]
fn TokenTable(tokens: Vec<TokenLine>, revoke: ServerAction<RevokeApiToken>) -> impl IntoView {
    if tokens.is_empty() {
        return view! { <p class="muted" data-testid="no-tokens">"No API tokens yet."</p> }.into_any();
    }
    let busy = Signal::derive(move || revoke.pending().get());
    view! {
        <div class="table-wrap">
            <table data-testid="tokens">
                <thead>
                    <tr><th>"Name"</th><th>"Token"</th><th>"Created"</th><th>"Last used"</th><th>"Status"</th><th></th></tr>
                </thead>
                <tbody>
                    {tokens.into_iter().map(|t| {
                        let id = t.id;
                        let live = t.revoked.is_none();
                        view! {
                            <tr data-testid=format!("token-{}", t.name)>
                                <td data-label="Name">{t.name.clone()}</td>
                                <td data-label="Token"><code>{t.prefix.clone()} "…"</code></td>
                                <td data-label="Created" class="nowrap">{t.created.clone()}</td>
                                <td data-label="Last used" class="nowrap">{t.last_used.clone().unwrap_or_else(|| "never".into())}</td>
                                <td data-label="Status" data-testid="token-status">
                                    {t.revoked.clone().map(|at| format!("revoked {at}")).unwrap_or_else(|| "active".into())}
                                </td>
                                <td class="actions">
                                    {live.then(|| view! {
                                        <ConfirmButton
                                            label="Revoke"
                                            question=format!("Revoke “{}”? Clients using it stop working at once.", t.name)
                                            class="small danger"
                                            testid=format!("revoke-{id}")
                                            disabled=busy
                                            on_confirm=move || { revoke.dispatch(RevokeApiToken { id }); }
                                        />
                                    }.into_any())}
                                </td>
                            </tr>
                        }
                        .into_any()
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
