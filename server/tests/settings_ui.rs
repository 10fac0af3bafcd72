//! The settings page's server functions over real HTTP on both databases:
//! each section read and changed by an admin (and audited), refused to
//! viewers and to other organizations, bad input rejected with nothing
//! changed, secrets never in a response, the last admin kept, tokens that
//! work until revoked, and "Test connection" against the Cal.com simulator.

mod support;

use calcom_sim::{spawn, SimConfig, SimHandle};
use chrono::Utc;
use engine::domain::{OrgId, Role, UserId};
use engine::on_both_backends;
use engine::secret_key::SecretKey;
use engine::secrets::{open, seal, Purpose};
use engine::store::{CalcomConnectionUpdate, NewAuditEntry, NewOrganization, NewUser, Organization, Store, StoreError};
use leptos::server_fn::ServerFn;
use reqwest::header::{AUTHORIZATION, COOKIE, ORIGIN};
use reqwest::{Client, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use support::session_cookie;

use app::rpc::alerts;
use app::rpc::settings as rpc;

const PASSWORD: &str = "correct horse battery";
const WEBHOOK_SECRET: &str = "whsec_do_not_leak_41";

fn key() -> SecretKey {
    SecretKey::from_bytes([5; 32])
}

struct World {
    store: Store,
    org: Organization,
    jane: UserId,
    sim: SimHandle,
    base: String,
    http: Client,
}

async fn org(store: &Store, slug: &str) -> Organization {
    let new = NewOrganization { slug: slug.into(), name: format!("Org {slug}"), time_zone: chrono_tz::Europe::Berlin };
    store.create_organization(&new, Utc::now()).await.unwrap()
}

async fn user(store: &Store, org: OrgId, email: &str, name: &str, role: Role) -> UserId {
    let password_hash = engine::password::hash(PASSWORD.into()).await.unwrap();
    let new = NewUser { email: email.into(), name: name.into(), role, password_hash };
    store.create_user(org, &new, Utc::now()).await.unwrap().id
}

async fn world(store: Store) -> World {
    engine::calcom::ensure_crypto_provider();
    let org = org(&store, "salon").await;
    let jane = user(&store, org.id, "jane@salon.de", "Jane Admin", Role::Admin).await;
    user(&store, org.id, "vic@salon.de", "Vic Viewer", Role::Viewer).await;
    let sim = spawn(SimConfig::default()).await.unwrap();
    let update = CalcomConnectionUpdate {
        base_url: Some(sim.base_url.clone()),
        api_key_sealed: Some(seal(&key(), Purpose::CalcomApiKey(org.id), sim.api_key().expose())),
        webhook_secret_sealed: Some(seal(&key(), Purpose::WebhookSecret(org.id), WEBHOOK_SECRET)),
        event_type_id: None,
    };
    store.update_calcom_connection(org.id, &update, Utc::now()).await.unwrap();

    let (_, base) = support::spawn_app_with(store.clone(), key(), |_| {}).await;
    World { store, org, jane, sim, base, http: support::client() }
}

/// A server function's answer: status and body as JSON text (to search for
/// secrets), decoded as the browser decodes it (`support::answer`).
struct Reply {
    status: StatusCode,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }

    fn ok(self) -> Value {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        self.json()
    }

    /// Asserts a field error naming `field`, a 422 on the wire (a typo is
    /// not a server fault).
    fn invalid(&self, field: &str) {
        assert_eq!(self.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", self.body);
        assert_eq!(self.json()["Invalid"]["field"], field, "{}", self.body);
    }
}

impl World {
    /// The page at `path` as `cookie`'s session sees it.
    async fn html(&self, cookie: &str, path: &str) -> String {
        let response = self.http.get(format!("{}{path}", self.base)).header(COOKIE, cookie).send().await.unwrap();
        response.text().await.unwrap()
    }

    async fn try_login(&self, email: &str, password: &str) -> Option<String> {
        let response = self
            .http
            .post(format!("{}/login", self.base))
            .header(ORIGIN, &self.base)
            .form(&[("email", email), ("password", password), ("next", "/")])
            .send()
            .await
            .unwrap();
        session_cookie(&response)
    }

    async fn login(&self, email: &str) -> String {
        self.try_login(email, PASSWORD).await.expect("a session cookie")
    }

    /// Calls a server function the way its form does (url-encoded).
    async fn rpc<F: ServerFn>(&self, cookie: &str, form: &[(&str, &str)]) -> Reply
    where
        F::Output: DeserializeOwned + Serialize,
        F::Error: DeserializeOwned + Serialize,
    {
        let response = self
            .http
            .post(format!("{}{}", self.base, F::PATH))
            .header(ORIGIN, &self.base)
            .header(COOKIE, cookie)
            .form(form)
            .send()
            .await
            .unwrap();
        let (status, value) = support::answer::<F>(response).await;
        Reply { status, body: value.to_string() }
    }

    async fn api_status(&self, token: &str) -> StatusCode {
        let response = self
            .http
            .get(format!("{}/api/v1/appointments", self.base))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        response.status()
    }

    async fn audit_actions(&self, org: OrgId) -> Vec<String> {
        self.store.audit_log(org, 100).await.unwrap().into_iter().map(|e| e.action.to_string()).collect()
    }
}

/// Everything a settings change could touch, to show that nothing did.
async fn snapshot(store: &Store, org: OrgId) -> (Organization, String, Vec<engine::store::User>, usize, usize) {
    let connection = format!("{:?}", store.calcom_connection(org).await.unwrap());
    let sealed = store.calcom_connection(org).await.unwrap();
    let secrets = format!("{connection}{:?}{:?}", sealed.api_key_sealed, sealed.webhook_secret_sealed);
    (
        store.organization(org).await.unwrap(),
        secrets,
        store.users(org).await.unwrap(),
        store.api_tokens(org).await.unwrap().len(),
        store.audit_log(org, 1000).await.unwrap().len(),
    )
}

on_both_backends!(admin_changes_the_calcom_connection_without_seeing_secrets, |db| async move {
    let w = world(db.store.clone()).await;
    let jane = w.login("jane@salon.de").await;
    let before = w.store.calcom_connection(w.org.id).await.unwrap();

    let read = w.rpc::<rpc::GetCalcomSettings>(&jane, &[]).await;
    let shown = read.json();
    assert_eq!(shown["base_url"], w.sim.base_url.as_str());
    assert_eq!(shown["has_api_key"], true);
    assert_eq!(shown["has_webhook_secret"], true);
    assert_eq!(shown["webhook_path"], "/webhooks/calcom/salon");

    // Empty secret fields keep the stored secrets.
    let url = format!("{}/", w.sim.base_url);
    let kept =
        w.rpc::<rpc::SaveCalcomSettings>(&jane, &[("base_url", &url), ("api_key", ""), ("webhook_secret", "")]).await;
    assert_eq!(kept.ok()["base_url"], w.sim.base_url.as_str(), "trailing slash trimmed");
    let after = w.store.calcom_connection(w.org.id).await.unwrap();
    assert_eq!(after.api_key_sealed, before.api_key_sealed);
    assert_eq!(after.webhook_secret_sealed, before.webhook_secret_sealed);

    // New secrets are sealed for this organization; no response carries them.
    let new_key = "cal_live_new_key_do_not_leak";
    let saved = w
        .rpc::<rpc::SaveCalcomSettings>(
            &jane,
            &[("base_url", &w.sim.base_url), ("api_key", new_key), ("webhook_secret", "whsec_new_do_not_leak")],
        )
        .await;
    let sealed = w.store.calcom_connection(w.org.id).await.unwrap();
    assert_eq!(
        open(&key(), Purpose::CalcomApiKey(w.org.id), sealed.api_key_sealed.as_deref().unwrap()).unwrap(),
        new_key
    );
    assert_eq!(
        open(&key(), Purpose::WebhookSecret(w.org.id), sealed.webhook_secret_sealed.as_deref().unwrap()).unwrap(),
        "whsec_new_do_not_leak"
    );
    let again = w.rpc::<rpc::GetCalcomSettings>(&jane, &[]).await;
    for reply in [&read, &saved, &again] {
        for secret in [new_key, "whsec_new_do_not_leak", WEBHOOK_SECRET, w.sim.api_key().expose()] {
            assert!(!reply.body.contains(secret), "secret in {}", reply.body);
        }
        for sealed in [&sealed.api_key_sealed, &sealed.webhook_secret_sealed, &before.api_key_sealed] {
            assert!(!reply.body.contains(sealed.as_deref().unwrap()), "sealed secret in {}", reply.body);
        }
    }
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let log = w.store.audit_log(w.org.id, 10).await.unwrap();
    let entry = log.iter().find(|e| e.action.as_str() == "settings.calcom").expect("audited");
    assert_eq!(entry.user_id, Some(w.jane));
    assert!(entry.detail.as_deref().unwrap().contains("API key, webhook secret"), "{entry:?}");
    assert!(!format!("{log:?}").contains(new_key));
});

on_both_backends!(test_connection_reports_ok_bad_key_and_unreachable, |db| async move {
    let w = world(db.store.clone()).await;
    let jane = w.login("jane@salon.de").await;

    let stored = w.rpc::<rpc::TestCalcomConnection>(&jane, &[("base_url", ""), ("api_key", "")]).await;
    assert!(stored.ok().get("Ok").is_some(), "stored credentials work");
    let entered = w
        .rpc::<rpc::TestCalcomConnection>(
            &jane,
            &[("base_url", &w.sim.base_url), ("api_key", w.sim.api_key().expose())],
        )
        .await;
    assert!(entered.ok().get("Ok").is_some());

    let wrong = w.rpc::<rpc::TestCalcomConnection>(&jane, &[("base_url", ""), ("api_key", "cal_wrong_key")]).await;
    let wrong = wrong.ok();
    assert!(matches!(wrong["BadApiKey"]["status"].as_u64(), Some(401 | 403)), "{wrong}");

    let down = w.rpc::<rpc::TestCalcomConnection>(&jane, &[("base_url", "http://127.0.0.1:1"), ("api_key", "")]).await;
    assert!(down.ok().get("Unreachable").is_some());

    w.rpc::<rpc::TestCalcomConnection>(&jane, &[("base_url", "ftp://nope"), ("api_key", "")]).await.invalid("base_url");
    // Testing changes nothing.
    let sealed = w.store.calcom_connection(w.org.id).await.unwrap();
    assert_eq!(
        open(&key(), Purpose::CalcomApiKey(w.org.id), sealed.api_key_sealed.as_deref().unwrap()).unwrap(),
        w.sim.api_key().expose()
    );
});

on_both_backends!(admin_changes_schedule_and_time_zone, |db| async move {
    let w = world(db.store.clone()).await;
    let jane = w.login("jane@salon.de").await;

    let read = w.rpc::<rpc::GetScheduleSettings>(&jane, &[]).await.ok();
    assert_eq!(read["time_zone"], "Europe/Berlin");
    assert_eq!(read["next_cycle"].as_array().unwrap().len(), 3);
    assert_eq!(read["next_comprehensive"].as_array().unwrap().len(), 3);

    let form = [
        ("time_zone", "America/New_York"),
        ("cycle_cron", " 0  */4 * * * "),
        ("comprehensive_cron", "30 1 * * *"),
        ("window_days_back", "14"),
        ("window_days_ahead", "90"),
    ];
    let saved = w.rpc::<rpc::SaveScheduleSettings>(&jane, &form).await.ok();
    assert_eq!(saved["cycle_cron"], "0 */4 * * *");
    assert!(saved["next_comprehensive"][0].as_str().unwrap().ends_with("01:30"), "{saved}");
    let org = w.store.organization(w.org.id).await.unwrap();
    assert_eq!(org.time_zone, chrono_tz::America::New_York);
    assert_eq!((org.cycle_cron.as_str(), org.comprehensive_cron.as_str()), ("0 */4 * * *", "30 1 * * *"));
    assert_eq!((org.window_days_back, org.window_days_ahead), (14, 90));
    assert!(w.audit_actions(w.org.id).await.contains(&"settings.schedule".to_owned()));
});

on_both_backends!(admin_sets_when_acknowledged_issues_are_brought_up_again, |db| async move {
    let w = world(db.store.clone()).await;
    let jane = w.login("jane@salon.de").await;
    let read = w.rpc::<rpc::GetQueueSettings>(&jane, &[]).await.ok();
    assert_eq!(read["ack_reminder_hours"], 24, "the documented default");
    for bad in ["", "ten", "-1", "721", "2.5"] {
        w.rpc::<rpc::SaveQueueSettings>(&jane, &[("ack_reminder_hours", bad)]).await.invalid("ack_reminder_hours");
    }
    assert_eq!(w.store.organization(w.org.id).await.unwrap().ack_reminder_hours, 24, "refused values change nothing");
    let saved = w.rpc::<rpc::SaveQueueSettings>(&jane, &[("ack_reminder_hours", " 48 ")]).await.ok();
    assert_eq!(saved["ack_reminder_hours"], 48);
    assert_eq!(w.store.organization(w.org.id).await.unwrap().ack_reminder_hours, 48);
    w.rpc::<rpc::SaveQueueSettings>(&jane, &[("ack_reminder_hours", "0")]).await.ok();
    assert_eq!(w.store.organization(w.org.id).await.unwrap().ack_reminder_hours, 0, "0 turns reminders off");
    assert_eq!(w.audit_actions(w.org.id).await.iter().filter(|a| *a == "settings.queue").count(), 2);
    let html = w.html(&jane, "/settings/schedule").await;
    assert!(html.contains("queue-ack_reminder_hours") && html.contains("save-queue"), "{html}");
});

on_both_backends!(admin_sets_alert_rules_and_the_signed_webhook_without_seeing_its_secret, |db| async move {
    let w = world(db.store.clone()).await;
    let jane = w.login("jane@salon.de").await;
    let read = w.rpc::<alerts::GetAlertSettings>(&jane, &[]).await.ok();
    let rules: Vec<&str> = read["rules"].as_array().unwrap().iter().map(|r| r["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["first_failure", "retries_used_up", "open_over"]);
    assert_eq!(read["rules"][1]["enabled"], true, "one email per issue by default");
    assert_eq!(read["rules"][2]["enabled"], false);

    let rule = |threshold: &'static str, throttle: &'static str| {
        [
            ("rule", "open_over"),
            ("enabled", "on"),
            ("threshold", threshold),
            ("throttle_minutes", throttle),
            ("by_webhook", "on"),
        ]
    };
    w.rpc::<alerts::SaveAlertRule>(&jane, &rule("0", "30")).await.invalid("threshold");
    w.rpc::<alerts::SaveAlertRule>(&jane, &rule("5", "1441")).await.invalid("throttle_minutes");
    w.rpc::<alerts::SaveAlertRule>(&jane, &[("rule", "everything"), ("throttle_minutes", "5")]).await.invalid("rule");
    let saved = w.rpc::<alerts::SaveAlertRule>(&jane, &rule(" 10 ", "30")).await.ok();
    assert_eq!(
        (saved["enabled"].clone(), saved["threshold"].clone(), saved["by_email"].clone()),
        (true.into(), 10.into(), false.into()),
        "{saved}"
    );
    // A rule without a threshold field keeps its threshold; an unchecked box is off.
    let off =
        w.rpc::<alerts::SaveAlertRule>(&jane, &[("rule", "first_failure"), ("throttle_minutes", "60")]).await.ok();
    assert_eq!(off["enabled"], false);

    w.rpc::<alerts::SaveAlertWebhook>(&jane, &[("url", "ftp://x"), ("secret", "0123456789abcdef")])
        .await
        .invalid("url");
    w.rpc::<alerts::SaveAlertWebhook>(&jane, &[("url", "https://hooks.example/a")]).await.invalid("secret");
    w.rpc::<alerts::SaveAlertWebhook>(&jane, &[("url", "https://hooks.example/a"), ("secret", "short")])
        .await
        .invalid("secret");
    let secret = "whsec_alerts_do_not_leak";
    let reply =
        w.rpc::<alerts::SaveAlertWebhook>(&jane, &[("url", "https://hooks.example/a"), ("secret", secret)]).await;
    assert!(!reply.body.contains(secret), "{}", reply.body);
    let shown = reply.ok();
    assert_eq!(
        (shown["webhook_url"].clone(), shown["has_webhook_secret"].clone()),
        ("https://hooks.example/a".into(), true.into())
    );
    let (_, sealed) = w.store.alert_webhook(w.org.id).await.unwrap();
    assert_eq!(open(&key(), Purpose::AlertWebhookSecret(w.org.id), &sealed.unwrap()).unwrap(), secret);
    // Changing the URL keeps the secret; an empty URL removes the webhook.
    w.rpc::<alerts::SaveAlertWebhook>(&jane, &[("url", "https://hooks.example/b")]).await.ok();
    let removed = w.rpc::<alerts::SaveAlertWebhook>(&jane, &[("url", "")]).await.ok();
    assert_eq!(removed["webhook_url"], "");

    let actions = w.audit_actions(w.org.id).await;
    assert_eq!(actions.iter().filter(|a| *a == "settings.alerts").count(), 2, "{actions:?}");
    assert_eq!(actions.iter().filter(|a| *a == "settings.alert_webhook").count(), 3, "{actions:?}");
    let html = w.html(&jane, "/settings/alerts").await;
    assert!(
        html.contains("alert-open_over-save") && html.contains("save-alert-webhook") && !html.contains(secret),
        "{html}"
    );
});

on_both_backends!(bad_input_is_a_field_error_and_changes_nothing, |db| async move {
    let w = world(db.store.clone()).await;
    let jane = w.login("jane@salon.de").await;
    let before = snapshot(&w.store, w.org.id).await;

    let good = [
        ("time_zone", "Europe/Berlin"),
        ("cycle_cron", "0 0,6,12,18 * * *"),
        ("comprehensive_cron", "0 0 * * *"),
        ("window_days_back", "30"),
        ("window_days_ahead", "60"),
    ];
    let bad_values = [
        ("time_zone", "Mars/Olympus"),
        ("cycle_cron", "every six hours"),
        ("comprehensive_cron", "0 0 31 2 *"),
        ("window_days_back", "0"),
        ("window_days_back", "ten"),
        ("window_days_ahead", "731"),
    ];
    for (field, value) in bad_values {
        let form: Vec<(&str, &str)> = good.iter().map(|&(k, v)| (k, if k == field { value } else { v })).collect();
        w.rpc::<rpc::SaveScheduleSettings>(&jane, &form).await.invalid(field);
    }
    for url in ["", "api.cal.com", "ftp://api.cal.com", "https://", "https://exa mple.com"] {
        w.rpc::<rpc::SaveCalcomSettings>(&jane, &[("base_url", url), ("api_key", "new"), ("webhook_secret", "new")])
            .await
            .invalid("base_url");
    }
    w.rpc::<rpc::InviteUser>(&jane, &[("name", "Ann"), ("email", "not-an-email"), ("role", "viewer")])
        .await
        .invalid("email");
    w.rpc::<rpc::InviteUser>(&jane, &[("name", " "), ("email", "ann@salon.de"), ("role", "viewer")])
        .await
        .invalid("name");
    w.rpc::<rpc::InviteUser>(&jane, &[("name", "Ann"), ("email", "ann@salon.de"), ("role", "root")])
        .await
        .invalid("role");
    let taken =
        w.rpc::<rpc::InviteUser>(&jane, &[("name", "Vic"), ("email", "VIC@salon.de"), ("role", "viewer")]).await;
    assert!(taken.json().get("Conflict").is_some(), "{}", taken.body);
    assert_eq!(taken.status, StatusCode::CONFLICT);
    w.rpc::<rpc::CreateApiToken>(&jane, &[("name", "  ")]).await.invalid("name");

    assert_eq!(snapshot(&w.store, w.org.id).await, before);
});

on_both_backends!(admin_invites_and_manages_users_but_never_the_last_admin, |db| async move {
    let w = world(db.store.clone()).await;
    let jane = w.login("jane@salon.de").await;

    let users = w.rpc::<rpc::ListUsers>(&jane, &[]).await.ok();
    let emails: Vec<&str> = users.as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["jane@salon.de", "vic@salon.de"]);
    assert_eq!(users[0]["is_me"], true);

    let invited = w
        .rpc::<rpc::InviteUser>(&jane, &[("name", "Bob Boss"), ("email", " Bob@Salon.de "), ("role", "viewer")])
        .await
        .ok();
    let password = invited["password"].as_str().unwrap().to_owned();
    let bob = invited["user"]["id"].as_i64().unwrap();
    assert_eq!(invited["user"]["email"], "bob@salon.de");
    assert_eq!(invited["user"]["role"], "viewer");
    assert!(w.try_login("bob@salon.de", &password).await.is_some(), "the one-time password works");
    assert!(!format!("{:?}", w.store.audit_log(w.org.id, 10).await.unwrap()).contains(&password));

    let bob_id = bob.to_string();
    let promoted = w.rpc::<rpc::ChangeUserRole>(&jane, &[("user_id", &bob_id), ("role", "admin")]).await.ok();
    assert_eq!(promoted["role"], "admin");
    let disabled = w.rpc::<rpc::SetUserEnabled>(&jane, &[("user_id", &bob_id), ("enabled", "false")]).await.ok();
    assert_eq!(disabled["disabled"], true);
    assert!(w.try_login("bob@salon.de", &password).await.is_none(), "a disabled account cannot log in");
    let enabled = w.rpc::<rpc::SetUserEnabled>(&jane, &[("user_id", &bob_id), ("enabled", "true")]).await.ok();
    assert_eq!(enabled["disabled"], false);
    let actions = w.audit_actions(w.org.id).await;
    for action in ["user.invite", "user.role", "user.disable", "user.enable"] {
        assert!(actions.contains(&action.to_owned()), "{action} in {actions:?}");
    }

    // Nobody demotes or disables themselves through the page.
    let me = w.jane.get().to_string();
    let own_role = w.rpc::<rpc::ChangeUserRole>(&jane, &[("user_id", &me), ("role", "viewer")]).await;
    assert!(own_role.json().get("Conflict").is_some(), "{}", own_role.body);
    let own_disable = w.rpc::<rpc::SetUserEnabled>(&jane, &[("user_id", &me), ("enabled", "false")]).await;
    assert!(own_disable.json().get("Conflict").is_some(), "{}", own_disable.body);

    // The store keeps the last active admin whoever asks: Bob is demoted,
    // then Jane cannot be.
    let demote = w.rpc::<rpc::ChangeUserRole>(&jane, &[("user_id", &bob_id), ("role", "viewer")]).await;
    assert_eq!(demote.status, StatusCode::OK, "{}", demote.body);
    let entry = NewAuditEntry {
        user_id: None,
        action: engine::domain::AuditAction::UserRole,
        target: None,
        detail: None,
        at: Utc::now(),
    };
    let last = w.store.set_user_role(w.org.id, w.jane, Role::Viewer, &entry).await;
    assert!(matches!(last, Err(StoreError::Conflict(ref m)) if m.contains("last active admin")), "{last:?}");
    let last = w.store.set_user_disabled(w.org.id, w.jane, true, &entry).await;
    assert!(matches!(last, Err(StoreError::Conflict(_))), "{last:?}");
    let jane_now = w.store.user(w.org.id, w.jane).await.unwrap();
    assert_eq!((jane_now.role, jane_now.disabled), (Role::Admin, false));
});

on_both_backends!(tokens_work_until_revoked, |db| async move {
    let w = world(db.store.clone()).await;
    let jane = w.login("jane@salon.de").await;

    let created = w.rpc::<rpc::CreateApiToken>(&jane, &[("name", "Retell agent")]).await.ok();
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["token"]["id"].as_i64().unwrap();
    assert!(secret.starts_with(created["token"]["prefix"].as_str().unwrap()));
    assert_eq!(w.api_status(&secret).await, StatusCode::OK);

    let listed = w.rpc::<rpc::ListApiTokens>(&jane, &[]).await;
    assert!(!listed.body.contains(&secret), "the secret is shown once only");
    let listed = listed.ok();
    assert_eq!(listed[0]["name"], "Retell agent");
    assert!(listed[0]["last_used"].is_string(), "{listed}");
    assert!(listed[0]["revoked"].is_null());

    let revoked = w.rpc::<rpc::RevokeApiToken>(&jane, &[("id", &id.to_string())]).await.ok();
    assert!(revoked["revoked"].is_string());
    assert_eq!(w.api_status(&secret).await, StatusCode::UNAUTHORIZED);
    let twice = w.rpc::<rpc::RevokeApiToken>(&jane, &[("id", &id.to_string())]).await;
    assert!(twice.json().get("Conflict").is_some(), "{}", twice.body);
    let actions = w.audit_actions(w.org.id).await;
    assert!(actions.contains(&"api_token.create".to_owned()) && actions.contains(&"api_token.revoke".to_owned()));
});

/// Every settings function with arguments that would change something.
async fn call_every_function(w: &World, cookie: &str, user_id: &str, token_id: &str) -> Vec<(&'static str, Reply)> {
    let url = w.sim.base_url.clone();
    let schedule = [
        ("time_zone", "Asia/Tokyo"),
        ("cycle_cron", "0 * * * *"),
        ("comprehensive_cron", "0 3 * * *"),
        ("window_days_back", "5"),
        ("window_days_ahead", "5"),
    ];
    vec![
        ("get_calcom", w.rpc::<rpc::GetCalcomSettings>(cookie, &[]).await),
        (
            "save_calcom",
            w.rpc::<rpc::SaveCalcomSettings>(
                cookie,
                &[("base_url", "https://evil.example"), ("api_key", "k"), ("webhook_secret", "s")],
            )
            .await,
        ),
        ("test_calcom", w.rpc::<rpc::TestCalcomConnection>(cookie, &[("base_url", &url), ("api_key", "")]).await),
        ("get_schedule", w.rpc::<rpc::GetScheduleSettings>(cookie, &[]).await),
        ("save_schedule", w.rpc::<rpc::SaveScheduleSettings>(cookie, &schedule).await),
        ("get_queue", w.rpc::<rpc::GetQueueSettings>(cookie, &[]).await),
        ("save_queue", w.rpc::<rpc::SaveQueueSettings>(cookie, &[("ack_reminder_hours", "1")]).await),
        ("list_users", w.rpc::<rpc::ListUsers>(cookie, &[]).await),
        (
            "invite",
            w.rpc::<rpc::InviteUser>(cookie, &[("name", "Eve"), ("email", "eve@evil.example"), ("role", "admin")])
                .await,
        ),
        ("change_role", w.rpc::<rpc::ChangeUserRole>(cookie, &[("user_id", user_id), ("role", "viewer")]).await),
        ("set_enabled", w.rpc::<rpc::SetUserEnabled>(cookie, &[("user_id", user_id), ("enabled", "false")]).await),
        ("list_tokens", w.rpc::<rpc::ListApiTokens>(cookie, &[]).await),
        ("create_token", w.rpc::<rpc::CreateApiToken>(cookie, &[("name", "evil")]).await),
        ("revoke_token", w.rpc::<rpc::RevokeApiToken>(cookie, &[("id", token_id)]).await),
        ("get_alerts", w.rpc::<alerts::GetAlertSettings>(cookie, &[]).await),
        (
            "save_alert_rule",
            w.rpc::<alerts::SaveAlertRule>(
                cookie,
                &[("rule", "open_over"), ("enabled", "on"), ("threshold", "1"), ("throttle_minutes", "0")],
            )
            .await,
        ),
        (
            "save_alert_webhook",
            w.rpc::<alerts::SaveAlertWebhook>(
                cookie,
                &[("url", "https://evil.example/hook"), ("secret", "0123456789abcdef")],
            )
            .await,
        ),
    ]
}

on_both_backends!(viewers_are_refused_and_nothing_changes, |db| async move {
    let w = world(db.store.clone()).await;
    let token = w
        .store
        .create_api_token(w.org.id, &engine::domain::TokenName::parse("crm").unwrap(), None, Utc::now())
        .await
        .unwrap();
    let viewer = w.login("vic@salon.de").await;
    let before = snapshot(&w.store, w.org.id).await;

    let jane = w.jane.get().to_string();
    for (name, reply) in call_every_function(&w, &viewer, &jane, &token.token.id.get().to_string()).await {
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{name}: {}", reply.body);
        assert!(reply.json().get("Forbidden").is_some() || reply.json() == "Forbidden", "{name}: {}", reply.body);
    }
    assert_eq!(snapshot(&w.store, w.org.id).await, before);

    // The page itself says so instead of showing forms.
    for tab in ["/settings", "/settings/tokens"] {
        let html = w.html(&viewer, tab).await;
        assert!(
            html.contains("settings-forbidden") && !html.contains("save-calcom") && !html.contains("create-token"),
            "{tab}: {html}"
        );
    }
});

on_both_backends!(another_organizations_admin_sees_and_changes_nothing_here, |db| async move {
    let w = world(db.store.clone()).await;
    let token = w
        .store
        .create_api_token(w.org.id, &engine::domain::TokenName::parse("crm").unwrap(), None, Utc::now())
        .await
        .unwrap();
    let other = org(&w.store, "barber").await;
    user(&w.store, other.id, "otto@barber.de", "Otto Other", Role::Admin).await;
    let otto = w.login("otto@barber.de").await;
    let before = snapshot(&w.store, w.org.id).await;

    let jane = w.jane.get().to_string();
    let replies = call_every_function(&w, &otto, &jane, &token.token.id.get().to_string()).await;
    for (name, reply) in &replies {
        for secret in [WEBHOOK_SECRET, w.sim.api_key().expose(), "salon.de", "/webhooks/calcom/salon"] {
            assert!(!reply.body.contains(secret), "{name} shows {secret}: {}", reply.body);
        }
        if ["change_role", "set_enabled", "revoke_token"].contains(name) {
            assert!(reply.json().get("NotFound").is_some(), "{name}: {}", reply.body);
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{name}");
        }
    }
    // Salon is untouched; what Otto saved went to his own organization.
    assert_eq!(snapshot(&w.store, w.org.id).await, before);
    assert_eq!(w.store.organization(other.id).await.unwrap().time_zone, chrono_tz::Asia::Tokyo);
    assert_eq!(w.store.calcom_connection(other.id).await.unwrap().base_url, "https://evil.example");
});

/// `calsync ARGS` on this database, with `stdin` as its standard input;
/// its error line (stderr, trimmed).
fn cli_error(url: &str, args: &[&str], stdin: &str) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let hex: String = key().as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_calsync"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("CALSYNC_SECRET_KEY", hex)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "calsync {args:?} accepted it");
    String::from_utf8_lossy(&out.stderr).trim().to_owned()
}

on_both_backends!(the_web_and_the_command_line_refuse_the_same_values_in_the_same_words, |db| async move {
    let w = world(db.store.clone()).await;
    let jane = w.login("jane@salon.de").await;
    let before = snapshot(&w.store, w.org.id).await;
    let slug = w.org.slug.clone();
    let message = |reply: &Reply| reply.json()["Invalid"]["message"].as_str().unwrap_or_default().to_owned();

    for email in ["not-an-email", "ann@localhost", "ann @salon.de", "@salon.de"] {
        let web = w.rpc::<rpc::InviteUser>(&jane, &[("name", "Ann"), ("email", email), ("role", "viewer")]).await;
        web.invalid("email");
        let args = ["admin", "create", "--org", &slug, "--email", email, "--name", "Ann"];
        let cli = cli_error(&db.url, &args, &format!("{PASSWORD}\n"));
        assert_eq!(cli, format!("error: --email: {}", message(&web)), "{email:?}");
    }
    for url in ["api.cal.com", "ftp://api.cal.com", "https://", "https://exa mple.com", "https://cal.example/?x"] {
        let form = [("base_url", url), ("api_key", "new"), ("webhook_secret", "new")];
        let web = w.rpc::<rpc::SaveCalcomSettings>(&jane, &form).await;
        web.invalid("base_url");
        let args = ["org", "set-calcom", "--org", &slug, "--base-url", url];
        let cli = cli_error(&db.url, &args, "cal_live_key\n");
        assert_eq!(cli, format!("error: --base-url: {}", message(&web)), "{url:?}");
    }
    for name in ["", "   ", "Ann\u{7}", &"a".repeat(201)] {
        let web =
            w.rpc::<rpc::InviteUser>(&jane, &[("name", name), ("email", "ann@salon.de"), ("role", "viewer")]).await;
        web.invalid("name");
        let args = ["admin", "create", "--org", &slug, "--email", "ann@salon.de", "--name", name];
        let cli = cli_error(&db.url, &args, &format!("{PASSWORD}\n"));
        assert_eq!(cli, format!("error: --name: {}", message(&web)), "{name:?}");
    }
    for role in ["owner", "", "Admins"] {
        let web = w.rpc::<rpc::InviteUser>(&jane, &[("name", "Ann"), ("email", "ann@salon.de"), ("role", role)]).await;
        web.invalid("role");
        let args = ["admin", "create", "--org", &slug, "--email", "ann@salon.de", "--name", "Ann", "--role", role];
        let cli = cli_error(&db.url, &args, &format!("{PASSWORD}\n"));
        assert_eq!(cli, format!("error: --role: {}", message(&web)), "{role:?}");
    }
    for name in ["", "  ", "bot\u{1b}", &"t".repeat(101)] {
        let web = w.rpc::<rpc::CreateApiToken>(&jane, &[("name", name)]).await;
        web.invalid("name");
        let cli = cli_error(&db.url, &["api-token", "create", "--org", &slug, "--name", name], "");
        assert_eq!(cli, format!("error: --name: {}", message(&web)), "{name:?}");
    }
    // A time zone is typed on the schedule form and when an organization
    // is created from the command line.
    for zone in ["Mars/Olympus", "CEST", ""] {
        let form = [
            ("time_zone", zone),
            ("cycle_cron", "0 0,6,12,18 * * *"),
            ("comprehensive_cron", "0 0 * * *"),
            ("window_days_back", "30"),
            ("window_days_ahead", "60"),
        ];
        let web = w.rpc::<rpc::SaveScheduleSettings>(&jane, &form).await;
        web.invalid("time_zone");
        let args = ["org", "create", "--slug", "mars", "--name", "Mars", "--time-zone", zone];
        let cli = cli_error(&db.url, &args, "");
        assert_eq!(cli, format!("error: --time-zone: {}", message(&web)), "{zone:?}");
    }
    assert_eq!(snapshot(&w.store, w.org.id).await, before, "nothing was created or changed");
    assert!(db.store.organization_by_slug("mars").await.is_err(), "no organization was created");
});
