//! The REST API over real HTTP, on SQLite and PostgreSQL: authentication,
//! tenant isolation, validation (422 naming each field), idempotent create,
//! paging, the OpenAPI document, and a property test that random input
//! never causes a 5xx or a write.

mod support;

use chrono::Utc;
use engine::domain::OrgId;
use engine::on_both_backends;
use engine::store::{NewOrganization, Store};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use support::spawn_app as serve;

struct Tenant {
    id: OrgId,
    token: String,
}

async fn tenant(store: &Store, slug: &str) -> Tenant {
    let new = NewOrganization { slug: slug.into(), name: format!("{slug} GmbH"), time_zone: chrono_tz::Europe::Berlin };
    let org = store.create_organization(&new, Utc::now()).await.unwrap();
    let issued = store
        .create_api_token(org.id, &engine::domain::TokenName::parse("crm").unwrap(), None, Utc::now())
        .await
        .unwrap();
    Tenant { id: org.id, token: issued.secret }
}

struct Api {
    base: String,
    client: Client,
}

struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Api {
    async fn new(store: &Store) -> Api {
        // No connection reuse: a server that refuses a body (413, 415) may close
        // the connection, and a pooled client would then fail the next request.
        let base = serve(store.clone()).await;
        let client = Client::builder().pool_max_idle_per_host(0).build().unwrap();
        Api { base, client }
    }

    async fn send(&self, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        reply(request.send().await.unwrap()).await
    }

    async fn raw(&self, method: Method, path: &str, token: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body);
        reply(request.send().await.unwrap()).await
    }
}

async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: not JSON: {text:?}"));
    Reply { status, headers, body }
}

fn booking(external_id: Option<&str>) -> Value {
    let mut body = json!({
        "customer_name": "Tom Klein",
        "customer_email": "tom.klein@example.com",
        "customer_phone": "+49 123 456789",
        "service": "Hairstyling - Herrenschnitt",
        "starts_at": "2025-10-13T10:00:00+02:00",
        "ends_at": "2025-10-13T10:45:00+02:00",
        "time_zone": "Europe/Berlin",
        "source": "retell",
    });
    if let Some(id) = external_id {
        body["external_id"] = json!(id);
    }
    body
}

/// Rows in the tables a request could write to, across all organizations.
async fn row_counts(store: &Store) -> (i64, i64) {
    let count = |table: &'static str| async move {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        sqlx::query_scalar::<_, i64>(&sql).fetch_one(store.pool()).await.unwrap()
    };
    (count("appointments").await, count("sync_events").await)
}

fn fields(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert_eq!(reply.body["error"], "invalid_input");
    let mut names: Vec<String> =
        reply.body["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap().to_owned()).collect();
    names.sort();
    names
}

on_both_backends!(each_endpoint_works_for_its_organization, |db| async move {
    let store = &db.store;
    let a = tenant(store, "a").await;
    let api = Api::new(store).await;
    let t = Some(a.token.as_str());

    let created = api.send(Method::POST, "/api/v1/appointments", t, Some(&booking(Some("crm-1")))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let body = &created.body;
    assert_eq!(body["starts_at"], "2025-10-13T08:00:00Z");
    assert_eq!(body["source"], "retell");
    assert_eq!(body["status"], "scheduled");
    assert_eq!(body["sync"]["status"], "pending");
    assert!(body["sync"]["next_verification_at"].is_string(), "due for its first verification");
    let id = body["id"].as_i64().unwrap();
    let events = store.appointment_events(a.id, engine::domain::AppointmentId(id)).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor, "api token crm");

    let defaulted = json!({"customer_name": "Ana", "service": "Schnitt",
        "starts_at": "2025-10-14T09:00:00Z", "ends_at": "2025-10-14T09:30:00Z"});
    let second = api.send(Method::POST, "/api/v1/appointments", t, Some(&defaulted)).await;
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(second.body["source"], "api");
    assert_eq!(second.body["time_zone"], "Europe/Berlin");

    let got = api.send(Method::GET, &format!("/api/v1/appointments/{id}"), t, None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["customer_name"], "Tom Klein");

    let listed = api.send(Method::GET, "/api/v1/appointments?sync_status=pending&q=KLEIN", t, None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["next_cursor"], Value::Null);
    let by_date = api.send(Method::GET, "/api/v1/appointments?from=2025-10-14&to=2025-10-14", t, None).await;
    assert_eq!(by_date.body["data"][0]["customer_name"], "Ana");
    assert_eq!(by_date.body["data"].as_array().unwrap().len(), 1);
    let review = api.send(Method::GET, "/api/v1/appointments?requires_review=true", t, None).await;
    assert_eq!(review.body["data"].as_array().unwrap().len(), 0);

    let patched = api
        .send(Method::PATCH, &format!("/api/v1/appointments/{id}"), t,
            Some(&json!({"starts_at": "2025-10-13T11:00:00+02:00", "ends_at": "2025-10-13T11:45:00+02:00", "customer_phone": null})))
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["starts_at"], "2025-10-13T09:00:00Z");
    assert_eq!(patched.body["customer_phone"], Value::Null);
    assert_eq!(patched.body["customer_name"], "Tom Klein", "untouched fields stay");
    assert_eq!(patched.body["sync"]["status"], "verification_pending");
    let events = store.appointment_events(a.id, engine::domain::AppointmentId(id)).await.unwrap();
    assert_eq!(events.len(), 2);
    assert!(events[0].detail.as_deref().unwrap().contains("starts_at"), "{:?}", events[0].detail);

    let counts = row_counts(store).await;
    let same = api
        .send(
            Method::PATCH,
            &format!("/api/v1/appointments/{id}"),
            t,
            Some(&json!({"service": "Hairstyling - Herrenschnitt"})),
        )
        .await;
    assert_eq!(same.status, StatusCode::OK);
    assert_eq!(row_counts(store).await, counts, "a patch that changes nothing writes nothing");

    let before = Utc::now();
    let verified = api.send(Method::POST, &format!("/api/v1/appointments/{id}/verify"), t, None).await;
    assert_eq!(verified.status, StatusCode::ACCEPTED, "{}", verified.body);
    let due: chrono::DateTime<Utc> = verified.body["sync"]["next_verification_at"].as_str().unwrap().parse().unwrap();
    assert!(due >= before - chrono::Duration::seconds(1) && due <= Utc::now());
    assert!(store.count_due(a.id, Utc::now()).await.unwrap() >= 1);

    let summary = api.send(Method::GET, "/api/v1/sync/summary", t, None).await;
    assert_eq!(summary.status, StatusCode::OK);
    assert_eq!(summary.body["by_status"]["pending"], 1);
    assert_eq!(summary.body["by_status"]["verification_pending"], 1);
    assert_eq!(summary.body["total"], 2);
    assert_eq!(summary.body["open_issues"]["DATA_MISMATCH"], 0);
});

fn every_route(id: i64) -> Vec<(Method, String)> {
    vec![
        (Method::POST, "/api/v1/appointments".into()),
        (Method::GET, "/api/v1/appointments".into()),
        (Method::GET, format!("/api/v1/appointments/{id}")),
        (Method::PATCH, format!("/api/v1/appointments/{id}")),
        (Method::POST, format!("/api/v1/appointments/{id}/verify")),
        (Method::GET, "/api/v1/sync/summary".into()),
    ]
}

on_both_backends!(every_route_needs_a_live_token, |db| async move {
    let store = &db.store;
    let a = tenant(store, "a").await;
    let api = Api::new(store).await;
    let created = api.send(Method::POST, "/api/v1/appointments", Some(&a.token), Some(&booking(None))).await;
    let id = created.body["id"].as_i64().unwrap();
    let token_id = store.api_tokens(a.id).await.unwrap()[0].id;
    let revoked = store
        .create_api_token(a.id, &engine::domain::TokenName::parse("old").unwrap(), None, Utc::now())
        .await
        .unwrap();
    store.revoke_api_token(a.id, revoked.token.id, None, Utc::now()).await.unwrap();
    let unknown = engine::api_token::generate();
    let counts = row_counts(store).await;
    for (method, path) in every_route(id) {
        for token in [None, Some("nonsense"), Some(unknown.as_str()), Some(revoked.secret.as_str())] {
            let r = api.send(method.clone(), &path, token, Some(&booking(None))).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{method} {path} with {token:?}");
            assert_eq!(r.body["error"], "unauthorized");
            assert!(r.headers["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
        }
    }
    assert_eq!(row_counts(store).await, counts);
    assert!(store.api_tokens(a.id).await.unwrap().iter().any(|t| t.id == token_id && t.last_used_at.is_some()));
});

on_both_backends!(organizations_never_see_each_other, |db| async move {
    let store = &db.store;
    let (a, b) = (tenant(store, "a").await, tenant(store, "b").await);
    let api = Api::new(store).await;
    let theirs =
        api.send(Method::POST, "/api/v1/appointments", Some(&b.token), Some(&booking(Some("shared-id")))).await;
    let id = theirs.body["id"].as_i64().unwrap();
    let counts = row_counts(store).await;
    let t = Some(a.token.as_str());

    let with_id = |id: i64| {
        every_route(id).into_iter().filter(|(_, p)| p.starts_with("/api/v1/appointments/")).collect::<Vec<_>>()
    };
    for ((method, path), (_, missing)) in with_id(id).into_iter().zip(with_id(999_999)) {
        let r = api.send(method.clone(), &path, t, Some(&json!({"service": "Stolen"}))).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}: {}", r.body);
        assert_eq!(r.body["error"], "not_found");
        let nothing = api.send(method.clone(), &missing, t, Some(&json!({"service": "x"}))).await;
        assert_eq!(nothing.body, r.body, "another org's and a missing appointment look alike");
    }
    assert_eq!(row_counts(store).await, counts, "nothing written to B's appointment");

    let list = api.send(Method::GET, "/api/v1/appointments", t, None).await;
    assert_eq!(list.body["data"], json!([]));
    let summary = api.send(Method::GET, "/api/v1/sync/summary", t, None).await;
    assert_eq!(summary.body["total"], 0);
    assert_eq!(summary.body["by_status"]["pending"], 0);

    // The same external_id in another organization is a different appointment.
    let mine = api.send(Method::POST, "/api/v1/appointments", t, Some(&booking(Some("shared-id")))).await;
    assert_eq!(mine.status, StatusCode::CREATED);
    assert_ne!(mine.body["id"].as_i64().unwrap(), id);
});

on_both_backends!(a_repeated_external_id_returns_the_first_appointment, |db| async move {
    let store = &db.store;
    let a = tenant(store, "a").await;
    let api = Api::new(store).await;
    let t = Some(a.token.as_str());
    let first = api.send(Method::POST, "/api/v1/appointments", t, Some(&booking(Some("crm-7")))).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let counts = row_counts(store).await;
    let mut changed = booking(Some("crm-7"));
    changed["customer_name"] = json!("Someone Else");
    for body in [booking(Some("crm-7")), changed] {
        let again = api.send(Method::POST, "/api/v1/appointments", t, Some(&body)).await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(again.body["id"], first.body["id"]);
        assert_eq!(again.body["customer_name"], "Tom Klein", "the existing one, unchanged");
    }
    assert_eq!(row_counts(store).await, counts);
});

on_both_backends!(bad_input_is_422_naming_each_field_and_writes_nothing, |db| async move {
    let store = &db.store;
    let a = tenant(store, "a").await;
    let api = Api::new(store).await;
    let t = a.token.as_str();
    let created = api.send(Method::POST, "/api/v1/appointments", Some(t), Some(&booking(None))).await;
    let id = created.body["id"].as_i64().unwrap();
    let counts = row_counts(store).await;

    let with = |changes: Value| {
        let mut body = booking(None);
        for (k, v) in changes.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (with(json!({"ends_at": "2025-10-13T09:00:00+02:00"})), vec!["ends_at"]),
        (with(json!({"time_zone": "Mars/Olympus"})), vec!["time_zone"]),
        (with(json!({"customer_email": "not-an-email"})), vec!["customer_email"]),
        (with(json!({"status": "maybe"})), vec!["status"]),
        (with(json!({"source": "fax"})), vec!["source"]),
        (with(json!({"service": "x".repeat(201)})), vec!["service"]),
        (with(json!({"customer_name": "n".repeat(5000)})), vec!["customer_name"]),
        (with(json!({"starts_at": "2025-10-13T10:00:00"})), vec!["starts_at"]),
        (with(json!({"colour": "red"})), vec!["colour"]),
        (json!({}), vec!["customer_name", "ends_at", "service", "starts_at"]),
        (json!([1, 2]), vec!["body"]),
        (
            with(json!({"ends_at": "2025-10-13T09:00:00+02:00", "time_zone": "Nowhere", "customer_email": "@"})),
            vec!["customer_email", "ends_at", "time_zone"],
        ),
    ];
    for (body, expected) in &cases {
        let r = api.send(Method::POST, "/api/v1/appointments", Some(t), Some(body)).await;
        assert_eq!(fields(&r), *expected, "POST {body}");
    }
    let patch_cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({"ends_at": "2025-10-13T09:00:00+02:00"}), vec!["ends_at"]),
        (json!({"time_zone": "Mars/Olympus", "status": "maybe"}), vec!["status", "time_zone"]),
        (json!({"customer_name": null}), vec!["customer_name"]),
        (json!({"external_id": "new", "source": "api"}), vec!["external_id", "source"]),
        (json!("text"), vec!["body"]),
    ];
    for (body, expected) in &patch_cases {
        let r = api.send(Method::PATCH, &format!("/api/v1/appointments/{id}"), Some(t), Some(body)).await;
        assert_eq!(fields(&r), *expected, "PATCH {body}");
    }

    let malformed =
        api.raw(Method::POST, "/api/v1/appointments", t, "application/json", b"{\"customer_name\": ".to_vec()).await;
    assert_eq!(fields(&malformed), ["body"]);
    let form =
        api.raw(Method::POST, "/api/v1/appointments", t, "application/x-www-form-urlencoded", b"a=b".to_vec()).await;
    assert_eq!(form.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(form.body["error"], "unsupported_media_type");
    let huge = api.raw(Method::POST, "/api/v1/appointments", t, "application/json", vec![b' '; 3 * 1024 * 1024]).await;
    assert!(huge.status.is_client_error(), "{}", huge.status);

    for (query, field) in [
        ("sync_status=lost", "sync_status"),
        ("requires_review=maybe", "requires_review"),
        ("from=yesterday", "from"),
        ("from=2025-10-14&to=2025-10-13", "to"),
        ("limit=201", "limit"),
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("cursor=nope", "cursor"),
        ("colour=red", "query"),
        ("q=a&q=b", "query"),
    ] {
        let r = api.send(Method::GET, &format!("/api/v1/appointments?{query}"), Some(t), None).await;
        assert_eq!(fields(&r), [field], "{query}");
    }
    let q = "q=".to_owned() + &"z".repeat(201);
    assert_eq!(fields(&api.send(Method::GET, &format!("/api/v1/appointments?{q}"), Some(t), None).await), ["q"]);
    for path in
        ["/api/v1/appointments/abc", "/api/v1/appointments/1.5/verify", "/api/v1/appointments/99999999999999999999"]
    {
        let r = api.send(Method::GET, path, Some(t), None).await;
        let r = if path.ends_with("verify") { api.send(Method::POST, path, Some(t), None).await } else { r };
        assert_eq!(fields(&r), ["id"], "{path}");
    }
    let unknown = api.send(Method::GET, "/api/v1/nothing/here", Some(t), None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let wrong_method = api.send(Method::DELETE, &format!("/api/v1/appointments/{id}"), Some(t), None).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.body["error"], "method_not_allowed");

    assert_eq!(row_counts(store).await, counts, "no invalid request wrote anything");
});

on_both_backends!(lists_page_through_everything_once, |db| async move {
    let store = &db.store;
    let a = tenant(store, "a").await;
    let api = Api::new(store).await;
    let t = Some(a.token.as_str());
    for day in 10..15 {
        let mut body = booking(None);
        // Two appointments at the same instant exercise the id tie-break.
        let hour = if day == 12 { 10 } else { 9 };
        body["starts_at"] = json!(format!("2025-10-{day}T{hour:02}:00:00Z"));
        body["ends_at"] = json!(format!("2025-10-{day}T{hour:02}:30:00Z"));
        api.send(Method::POST, "/api/v1/appointments", t, Some(&body)).await;
        if day == 12 {
            api.send(Method::POST, "/api/v1/appointments", t, Some(&body)).await;
        }
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/appointments?limit=2".to_owned();
    loop {
        let page = api.send(Method::GET, &path, t, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let data = page.body["data"].as_array().unwrap();
        assert!(data.len() <= 2);
        seen.extend(data.iter().map(|a| a["id"].as_i64().unwrap()));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/appointments?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (6, 6), "{seen:?}");
});

on_both_backends!(the_openapi_document_lists_every_path, |db| async move {
    let api = Api::new(&db.store).await;
    let doc = api.send(Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc.body["paths"].as_object().unwrap();
    let expected = [
        ("/api/v1/appointments", vec!["get", "post"]),
        ("/api/v1/appointments/{id}", vec!["get", "patch"]),
        ("/api/v1/appointments/{id}/verify", vec!["post"]),
        ("/api/v1/sync/summary", vec!["get"]),
    ];
    assert_eq!(paths.len(), expected.len(), "{:?}", paths.keys().collect::<Vec<_>>());
    for (path, methods) in expected {
        let item = paths.get(path).unwrap_or_else(|| panic!("{path} missing"));
        for method in methods {
            let op = &item[method];
            assert!(op["responses"]["401"].is_object(), "{method} {path} documents 401");
            assert_eq!(op["security"][0]["bearer"], json!([]), "{method} {path}");
        }
    }
    assert_eq!(doc.body["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let statuses = &doc.body["components"]["schemas"]["SyncBody"]["properties"]["status"]["enum"];
    assert_eq!(statuses.as_array().unwrap().len(), 6, "{statuses}");
});

mod random_input {
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    use super::*;

    const FIELDS: &[&str] = &[
        "customer_name",
        "customer_email",
        "customer_phone",
        "service",
        "starts_at",
        "ends_at",
        "time_zone",
        "status",
        "source",
        "calcom_booking_uid",
        "calcom_event_type_id",
        "external_id",
    ];

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
            ".{0,40}".prop_map(Value::from),
            "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([+-][0-9]{2}:[0-9]{2}|Z)?".prop_map(Value::from),
            Just(Value::from("x".repeat(300))),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// A valid booking with some fields replaced by random values or removed.
    fn mutated_booking() -> impl Strategy<Value = Value> {
        prop::collection::vec((prop::sample::select(FIELDS), prop::option::of(json_value())), 1..4).prop_map(
            |changes| {
                let mut body = booking(None);
                for (field, value) in changes {
                    match value {
                        Some(v) => body[field] = v,
                        None => {
                            body.as_object_mut().unwrap().remove(field);
                        }
                    }
                }
                body
            },
        )
    }

    fn query() -> impl Strategy<Value = String> {
        let key = prop_oneof![
            prop::sample::select(vec!["sync_status", "requires_review", "from", "to", "q", "cursor", "limit"])
                .prop_map(str::to_owned),
            "[a-z_]{1,8}",
        ];
        let value = "[-a-zA-Z0-9_.:+%&=~ ]{0,30}";
        prop::collection::vec((key, value), 0..4)
            .prop_map(|pairs| pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&"))
    }

    fn id() -> impl Strategy<Value = String> {
        prop_oneof!["-?[0-9]{1,22}", "[-a-zA-Z0-9._~%]{1,24}"]
    }

    fn sample<S: Strategy>(runner: &mut TestRunner, strategy: &S) -> S::Value {
        strategy.new_tree(runner).unwrap().current()
    }

    on_both_backends!(random_requests_never_fail_the_server_or_write_when_rejected, |db| async move {
        let store = &db.store;
        let a = tenant(store, "a").await;
        let api = Api::new(store).await;
        let t = a.token.as_str();
        let created = api.send(Method::POST, "/api/v1/appointments", Some(t), Some(&booking(None))).await;
        let existing = created.body["id"].as_i64().unwrap();
        let mut runner = TestRunner::default();
        let bodies = prop_oneof![json_value(), mutated_booking()];
        for case in 0..120 {
            let counts = row_counts(store).await;
            let body = sample(&mut runner, &bodies);
            let raw_id = sample(&mut runner, &id());
            let (method, path, payload) = match case % 5 {
                0 | 1 => (Method::POST, "/api/v1/appointments".to_owned(), Some(body)),
                2 => (Method::PATCH, format!("/api/v1/appointments/{existing}"), Some(body)),
                3 => (Method::GET, format!("/api/v1/appointments?{}", sample(&mut runner, &query())), None),
                _ => {
                    let verb = if case % 2 == 0 { Method::PATCH } else { Method::GET };
                    (verb, format!("/api/v1/appointments/{raw_id}"), Some(body))
                }
            };
            let r = match &payload {
                Some(body) if method != Method::GET => api.send(method.clone(), &path, Some(t), Some(body)).await,
                _ => api.send(method.clone(), &path, Some(t), None).await,
            };
            let input = format!("{method} {path} {}", payload.map(|p| p.to_string()).unwrap_or_default());
            assert!(!r.status.is_server_error(), "{} for {input}: {}", r.status, r.body);
            if r.status.is_client_error() {
                assert_eq!(row_counts(store).await, counts, "rejected ({}) yet wrote: {input}", r.status);
                assert!(r.body["error"].is_string(), "{input}: {}", r.body);
            }
        }
        // Raw bytes that are not JSON at all.
        for _ in 0..20 {
            let counts = row_counts(store).await;
            let bytes = sample(&mut runner, &prop::collection::vec(any::<u8>(), 0..200));
            let r = api.raw(Method::POST, "/api/v1/appointments", t, "application/json", bytes).await;
            assert!(r.status.is_client_error(), "{}", r.status);
            assert_eq!(row_counts(store).await, counts);
        }
    });
}

/// `calsync api-token create|list|revoke` end to end through the binary.
#[tokio::test]
async fn the_api_token_cli_prints_the_token_once_and_revokes() {
    let db = engine::testing::TestDb::new(engine::store::Backend::Sqlite).await;
    let org = tenant(&db.store, "salon").await;
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_calsync"))
            .args(args)
            .env("DATABASE_URL", &db.url)
            .env_remove("CALSYNC_SECRET_KEY")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, created) = run(&["api-token", "create", "--org", "salon", "--name", "booking bot"]);
    assert!(ok, "{created}");
    assert!(created.contains("will not be shown again"), "{created}");
    let secret =
        created.split_whitespace().find(|w| engine::api_token::is_well_formed(w)).expect("token printed").to_owned();
    let live = db.store.authenticate_api_token(&secret, Utc::now()).await.unwrap().unwrap();
    assert_eq!(live.name, "booking bot");

    let (ok, listed) = run(&["api-token", "list", "--org", "salon"]);
    assert!(ok && listed.contains("booking bot") && listed.contains(&live.prefix), "{listed}");
    assert!(!listed.contains(&secret), "list never shows the secret");

    let (ok, revoked) = run(&["api-token", "revoke", "--org", "salon", "--id", &live.id.to_string()]);
    assert!(ok, "{revoked}");
    assert!(db.store.authenticate_api_token(&secret, Utc::now()).await.unwrap().is_none());
    let (ok, missing) = run(&["api-token", "revoke", "--org", "salon", "--id", "9999"]);
    assert!(!ok && missing.contains("--id"), "{missing}");
    let (ok, no_org) = run(&["api-token", "list", "--org", "nope"]);
    assert!(!ok && no_org.contains("--org"), "{no_org}");
    let actions: Vec<String> =
        db.store.audit_log(org.id, 10).await.unwrap().into_iter().map(|e| e.action.to_string()).collect();
    assert_eq!(actions, ["api_token.revoke", "api_token.create", "api_token.create"]);
}

/// A file name no other test uses, even running at the same time in this
/// process (each backend's copy of a test runs in parallel).
fn import_file(what: &str) -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("calsync-import-{}-{n}-{what}.jsonl", std::process::id()))
}

// The REST API and `calsync import` take appointments in one format and
// refuse the same bad values in the same words (one validation, one
// operation), and the import writes nothing when any line is bad.
on_both_backends!(the_api_and_the_import_refuse_the_same_appointments_in_the_same_words, |db| async move {
    use std::io::Write;
    let org = tenant(&db.store, "salon").await;
    let api = Api::new(&db.store).await;
    let mut bad_values = Vec::new();
    for (field, value) in [
        ("customer_name", json!("")),
        ("starts_at", json!("tomorrow at ten")),
        ("ends_at", json!("2025-10-13T09:00:00+02:00")),
        ("time_zone", json!("Mars/Olympus")),
        ("status", json!("maybe")),
        ("customer_email", json!("not an email")),
    ] {
        let mut body = booking(Some("ext-1"));
        body[field] = value;
        bad_values.push((field, body));
    }
    for (field, body) in bad_values {
        let r = api.send(Method::POST, "/api/v1/appointments", Some(&org.token), Some(&body)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {}", r.body);
        let fields = r.body["fields"].as_array().cloned().unwrap_or_default();
        assert!(!fields.is_empty(), "{field}: {}", r.body);

        let file = import_file(field);
        let mut f = std::fs::File::create(&file).unwrap();
        writeln!(f, "{}", booking(Some("good-1"))).unwrap();
        writeln!(f, "{body}").unwrap();
        drop(f);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_calsync"))
            .args(["import", "--org", "salon", file.to_str().unwrap()])
            .env("DATABASE_URL", &db.url)
            .env_remove("CALSYNC_SECRET_KEY")
            .output()
            .unwrap();
        std::fs::remove_file(&file).ok();
        let said = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        assert!(!out.status.success(), "{field}: the import accepted it");
        assert!(said.starts_with("error: FILE: nothing imported; line 2: "), "{field}: {said}");
        for f in &fields {
            let words = format!("{} ({})", f["field"].as_str().unwrap(), f["message"].as_str().unwrap());
            assert!(said.contains(&words), "{field}: the import does not say {words:?}: {said}");
        }
    }
    assert_eq!(row_counts(&db.store).await, (0, 0), "neither the API nor the import wrote anything");

    // A good file imports each new appointment once; a second run skips them.
    let file = import_file("good");
    let lines = [booking(Some("a-1")), booking(Some("a-2")), booking(Some("a-1"))];
    std::fs::write(&file, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let import = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_calsync"))
            .args(["import", "--org", "salon", file.to_str().unwrap()])
            .env("DATABASE_URL", &db.url)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    assert_eq!(import(), "imported 2 appointments, skipped 1 already present (same external_id)");
    assert_eq!(import(), "imported 0 appointments, skipped 3 already present (same external_id)");
    std::fs::remove_file(&file).ok();
    assert_eq!(row_counts(&db.store).await, (2, 2), "two appointments, each with its 'created' entry");
});
