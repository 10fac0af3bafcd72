//! The OpenAPI document as a contract, checked the way a schema-driven
//! fuzzer would: requests generated from the served /api/v1/openapi.json
//! alone (types, enums, lengths, patterns, formats, required lists, the
//! `x-calsync-rules` between fields, and the links from a created
//! appointment) are all accepted, and a request that breaks exactly one
//! documented constraint is refused with a 4xx naming the field.

mod support;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, SubsecRound, Utc};
use engine::on_both_backends;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};

const VALID_CREATES: usize = 120;
const VALID_LISTS: usize = 80;
/// Each round breaks every constraint once, in freshly drawn requests.
const VIOLATION_ROUNDS: usize = 3;

/// Values drawn from the document's schemas, from a seeded generator.
struct Gen {
    runner: TestRunner,
}

impl Gen {
    fn new() -> Gen {
        Gen { runner: TestRunner::deterministic() }
    }

    fn pick<S: Strategy>(&mut self, strategy: S) -> S::Value {
        strategy.new_tree(&mut self.runner).unwrap().current()
    }

    fn below(&mut self, n: usize) -> usize {
        self.pick(0..n.max(1))
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    fn choose<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A valid value for `schema`.
    fn value(&mut self, schema: &Value) -> Value {
        for key in ["oneOf", "anyOf"] {
            if let Some(branches) = schema[key].as_array() {
                let branch = self.choose(branches).clone();
                return self.value(&branch);
            }
        }
        if let Some(values) = schema["enum"].as_array() {
            return self.choose(values).clone();
        }
        let types = types(schema);
        let concrete: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
        if types.contains(&"null") && self.chance(8) {
            return Value::Null;
        }
        match *self.choose(&concrete) {
            "string" => Value::String(self.string(schema)),
            "integer" => json!(self.integer(schema)),
            "boolean" => json!(self.chance(2)),
            other => panic!("no generator for type {other}: {schema}"),
        }
    }

    fn integer(&mut self, schema: &Value) -> i64 {
        let min = schema["minimum"].as_i64().unwrap_or(-1_000_000);
        let max = schema["maximum"].as_i64().unwrap_or(1_000_000);
        match self.below(4) {
            0 => min,
            1 => max,
            _ => self.pick(min..=max),
        }
    }

    fn string(&mut self, schema: &Value) -> String {
        let min = schema["minLength"].as_u64().unwrap_or(0) as usize;
        let max = schema["maxLength"].as_u64().map(|n| n as usize).unwrap_or(64);
        match schema["format"].as_str() {
            Some("date-time") => {
                let t = self.instant();
                return self.date_time(t);
            }
            Some("date") => return self.instant().date_naive().format("%Y-%m-%d").to_string(),
            Some(other) => panic!("no generator for format {other}"),
            None => {}
        }
        let pattern = schema["pattern"].as_str().unwrap_or("^.*$");
        let re = regex::Regex::new(pattern).unwrap();
        let strategy = proptest::string::string_regex(unanchored(pattern)).unwrap();
        for _ in 0..200 {
            let mut s: String = self.pick(&strategy);
            // Repetitions in the patterns' whitespace padding run long; now
            // and then send the value without it, if that still matches.
            if self.chance(2) && re.is_match(s.trim()) {
                s = s.trim().to_owned();
            }
            let len = s.chars().count();
            if len < min || len > max {
                continue;
            }
            assert!(re.is_match(&s), "the generator strayed from {pattern}: {s:?}");
            // Now and then as long as the document allows.
            if self.chance(5) {
                if let Some(long) = self.grown(&s, max, &re) {
                    return long;
                }
            }
            return s;
        }
        panic!("nothing of {min}..={max} characters found for {pattern}");
    }

    /// `s` grown to `len` characters by repeating one of its characters in
    /// one place, if the result still matches `re`.
    fn grown(&mut self, s: &str, len: usize, re: &regex::Regex) -> Option<String> {
        let chars: Vec<char> = s.chars().collect();
        if chars.is_empty() || chars.len() >= len {
            return None;
        }
        for _ in 0..20 {
            let at = self.below(chars.len() + 1);
            let c = *self.choose(&chars);
            let mut grown: String = chars[..at].iter().collect();
            grown.extend(std::iter::repeat_n(c, len - chars.len()));
            grown.extend(&chars[at..]);
            if re.is_match(&grown) {
                return Some(grown);
            }
        }
        None
    }

    /// An instant anywhere RFC 3339 can write (years 0000 to 9999), mostly near now.
    fn instant(&mut self) -> DateTime<Utc> {
        let (from, to) = match self.below(10) {
            0 => (NaiveDate::from_ymd_opt(0, 1, 2).unwrap(), NaiveDate::from_ymd_opt(0, 3, 1).unwrap()),
            1 => (NaiveDate::from_ymd_opt(9999, 10, 1).unwrap(), NaiveDate::from_ymd_opt(9999, 11, 29).unwrap()),
            _ => (NaiveDate::from_ymd_opt(1970, 1, 1).unwrap(), NaiveDate::from_ymd_opt(2100, 1, 1).unwrap()),
        };
        let span = (to - from).num_seconds();
        let base = from.and_hms_opt(0, 0, 0).unwrap().and_utc();
        base + Duration::seconds(self.pick(0..span)) + Duration::nanoseconds(self.pick(0..1_000_000_000i64))
    }

    /// `t` as an RFC 3339 date-time with a random offset and precision; the
    /// offset keeps the written year within 0000..=9999.
    fn date_time(&mut self, t: DateTime<Utc>) -> String {
        let mut seconds = self.pick(-86_340..=86_340i32) / 60 * 60;
        if self.chance(3) {
            seconds = 0;
        }
        let local = t.with_timezone(&FixedOffset::east_opt(seconds).unwrap());
        let local = if (0..=9999).contains(&chrono::Datelike::year(&local)) {
            local
        } else {
            t.with_timezone(&FixedOffset::east_opt(-seconds).unwrap())
        };
        let digits = *self.choose(&[0usize, 0, 3, 3, 6, 9]);
        let mut text = local.format("%Y-%m-%dT%H:%M:%S").to_string();
        if digits > 0 {
            let nanos = format!("{:09}", local.timestamp_subsec_nanos());
            text.push('.');
            text.push_str(&nanos[..digits]);
        }
        if seconds == 0 && self.chance(2) {
            text.push('Z');
        } else {
            text.push_str(&local.format("%:z").to_string());
        }
        if self.chance(10) {
            text = text.to_lowercase(); // RFC 3339 allows `t` and `z`.
        }
        text
    }
}

fn types(schema: &Value) -> Vec<&str> {
    match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

/// proptest's regex generator takes no anchors; the document's patterns are
/// anchored at both ends.
fn unanchored(pattern: &str) -> &str {
    let inner = pattern.strip_prefix('^').and_then(|p| p.strip_suffix('$'));
    inner.unwrap_or_else(|| panic!("documented patterns are anchored: {pattern}"))
}

/// The instant an RFC 3339 date-time or a date (its midnight, UTC) stands for.
fn instant_of(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc).trunc_subsecs(3));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().map(|d| d.and_hms_opt(0, 0, 0).unwrap().and_utc())
}

fn is_date(text: &str) -> bool {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok() && !text.contains('T')
}

/// The document, and the operations in it by operationId.
struct Doc {
    doc: Value,
}

impl Doc {
    fn schema(&self, name: &str) -> &Value {
        &self.doc["components"]["schemas"][name]
    }

    /// The schema a `$ref` or inline schema stands for.
    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str() {
            Some(r) => self.schema(r.rsplit('/').next().unwrap()),
            None => schema,
        }
    }

    fn operation(&self, id: &str) -> (Method, String, &Value) {
        for (path, item) in self.doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if op["operationId"] == id {
                    return (method.to_uppercase().parse().unwrap(), path.clone(), op);
                }
            }
        }
        panic!("no operation {id}");
    }

    fn body_schema<'a>(&'a self, op: &'a Value) -> &'a Value {
        self.resolve(&op["requestBody"]["content"]["application/json"]["schema"])
    }
}

/// A JSON pointer into a response (`$response.body#/id`).
fn runtime(expression: &str, body: &Value) -> Value {
    let pointer = expression.strip_prefix("$response.body#").expect("a response body expression");
    body.pointer(pointer).cloned().unwrap_or_else(|| panic!("{expression} not in {body}"))
}

/// Makes `object` keep the `x-calsync-rules` of its schema. A rule's fields
/// travel together: when one is sent the other is too (a patch's result
/// must keep the rules, whatever the appointment held before).
fn keep_rules(g: &mut Gen, rules: &Value, object: &mut Map<String, Value>) {
    let Some(rules) = rules.as_array() else { return };
    let within = |field: &str| {
        rules.iter().find(|r| r["rule"] == "within" && r["field"] == field).and_then(|r| r["seconds"].as_i64())
    };
    for rule in rules.iter().filter(|r| r["rule"] == "after") {
        let (field, other) = (rule["field"].as_str().unwrap(), rule["other"].as_str().unwrap());
        if !object.contains_key(field) && !object.contains_key(other) {
            continue;
        }
        let other_text = match object.get(other).and_then(Value::as_str) {
            Some(text) => text.to_owned(),
            None => {
                let t = g.instant();
                g.date_time(t)
            }
        };
        let from = instant_of(&other_text).unwrap_or_else(|| panic!("{other}: {other_text:?}"));
        let as_date = object.get(field).and_then(Value::as_str).is_some_and(is_date);
        // A date stands for a whole day in the organization's zone: keep two days clear.
        let (least, most) = match within(field) {
            Some(seconds) => (Duration::milliseconds(1), Duration::seconds(seconds)),
            None => (Duration::days(2), Duration::days(30)),
        };
        let written = loop {
            let at = from + least + Duration::milliseconds(g.pick(0..=(most - least).num_milliseconds()));
            let written = if as_date { at.date_naive().format("%Y-%m-%d").to_string() } else { g.date_time(at) };
            // The written form may drop digits: keep it only if it still keeps the rule.
            let step = instant_of(&written).unwrap() - from;
            if as_date || (step >= least && step <= most) {
                break written;
            }
        };
        object.insert(field.to_owned(), json!(written));
        object.insert(other.to_owned(), json!(other_text));
    }
}

/// A valid body for `schema`: required properties always, others often.
fn body(g: &mut Gen, schema: &Value) -> Map<String, Value> {
    let required: Vec<&str> =
        schema["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let mut object = Map::new();
    for (name, property) in schema["properties"].as_object().unwrap() {
        if required.contains(&name.as_str()) || g.chance(2) {
            object.insert(name.clone(), g.value(property));
        }
    }
    keep_rules(g, &schema["x-calsync-rules"], &mut object);
    object
}

/// One way to break exactly one documented constraint of `property`.
fn violations(g: &mut Gen, name: &str, property: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let types = types(property);
    if !types.contains(&"string") {
        out.push(("a string where the type is not one".into(), json!("7")));
    }
    if !types.contains(&"integer") && !types.contains(&"number") {
        out.push(("a number where the type is not one".into(), json!(7)));
    }
    if !types.contains(&"null") {
        out.push(("null where it is not allowed".into(), Value::Null));
    }
    if let Some(values) = property["enum"].as_array() {
        let bad = json!("no-such-value");
        assert!(!values.contains(&bad));
        out.push(("a value outside the enum".into(), bad));
    }
    if let Some(min) = property["minimum"].as_i64() {
        out.push(("below the minimum".into(), json!(min - 1)));
    }
    if let Some(max) = property["maximum"].as_i64() {
        out.push(("above the maximum".into(), json!(max as u64 + 1)));
    }
    if property["format"] == "date-time" {
        let bad = *g.choose(&[
            "2025-10-13T10:00:00",
            "2025-10-13",
            "tomorrow",
            "2025-02-30T10:00:00Z",
            "2025-10-13T25:00:00Z",
            "2025-10-13T10:00:00+2:00",
            "13.10.2025 10:00",
        ]);
        out.push(("not an RFC 3339 date-time".into(), json!(bad)));
    }
    if let Some(pattern) = property["pattern"].as_str() {
        let re = regex::Regex::new(pattern).unwrap();
        let max = property["maxLength"].as_u64().unwrap_or(64) as usize;
        let min = property["minLength"].as_u64().unwrap_or(0) as usize;
        let tricky = [" ", "\t", "x\ny", "x\u{7f}", "\u{85}", "a b", "@", "a@b", "12", "ä", "x.y", "\u{1}", "1 a 2 3"];
        let candidates: Vec<String> = tricky
            .iter()
            .map(|s| s.to_string())
            .chain((0..30).map(|_| g.pick("[ -~\u{0}-\u{1f}\u{80}-\u{ff}\u{2028}\u{3000}]{1,12}")))
            .filter(|s| !re.is_match(s) && (min..=max).contains(&s.chars().count()))
            .collect();
        if !candidates.is_empty() {
            out.push((format!("not matching {pattern}"), json!(g.choose(&candidates).clone())));
        }
        if let Some(max) = property["maxLength"].as_u64() {
            let strategy = proptest::string::string_regex(unanchored(pattern)).unwrap();
            for _ in 0..50 {
                let s: String = g.pick(&strategy);
                if let Some(long) = g.grown(&s, max as usize + 1, &re) {
                    out.push(("longer than maxLength".into(), json!(long)));
                    break;
                }
            }
        }
    }
    let _ = name;
    out
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

struct Client {
    base: String,
    http: reqwest::Client,
    token: String,
}

impl Client {
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let query: Vec<String> = query.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        let url = match query.is_empty() {
            true => format!("{}{path}", self.base),
            false => format!("{}{path}?{}", self.base, query.join("&")),
        };
        let mut request = self.http.request(method, url).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: not JSON: {text:?}")))
    }
}

fn named(reply: &Value) -> Vec<String> {
    let fields = reply["fields"].as_array().cloned().unwrap_or_default();
    fields.iter().map(|f| f["field"].as_str().unwrap_or_default().to_owned()).collect()
}

/// Asserts a refusal that names `field` (or, for the query as a whole, says its name).
fn assert_refused(status: StatusCode, reply: &Value, field: &str, what: &str) {
    assert!(status.is_client_error(), "{what}: accepted ({status}) {reply}");
    let names = named(reply);
    let said = names.iter().any(|n| n == field) || reply.to_string().contains(&format!("`{field}`"));
    assert!(said, "{what}: {status} does not name {field}: {reply}");
}

on_both_backends!(requests_the_document_allows_are_accepted_and_others_refused, |db| async move {
    let world = support::world(db.store.clone()).await;
    let issued = world
        .store
        .create_api_token(world.org.id, &engine::domain::TokenName::parse("fuzz").unwrap(), None, Utc::now())
        .await
        .unwrap();
    let client = Client {
        base: world.base.clone(),
        http: reqwest::Client::builder().timeout(std::time::Duration::from_secs(60)).build().unwrap(),
        token: issued.secret,
    };
    let (status, doc) = client.send(Method::GET, "/api/v1/openapi.json", &[], None).await;
    assert_eq!(status, StatusCode::OK);
    let doc = Doc { doc };
    let mut g = Gen::new();

    let (create_method, create_path, create_op) = doc.operation("createAppointment");
    let create = doc.body_schema(create_op).clone();
    let links = create_op["responses"]["201"]["links"].as_object().expect("links on 201").clone();
    assert_eq!(links.len(), 3, "{links:?}");
    let (_, _, patch_op) = doc.operation("updateAppointment");
    let patch = doc.body_schema(patch_op).clone();

    // Valid creates, then every linked operation on what was created.
    let mut created = Vec::new();
    for _ in 0..VALID_CREATES {
        let new = Value::Object(body(&mut g, &create));
        let (status, reply) = client.send(create_method.clone(), &create_path, &[], Some(&new)).await;
        assert!(status == StatusCode::CREATED || status == StatusCode::OK, "refused {new}: {status} {reply}");
        if status != StatusCode::CREATED {
            continue;
        }
        for link in links.values() {
            let (method, path, _) = doc.operation(link["operationId"].as_str().unwrap());
            let mut path = path.clone();
            for (param, expression) in link["parameters"].as_object().unwrap() {
                let value = runtime(expression.as_str().unwrap(), &reply);
                path = path.replace(&format!("{{{param}}}"), &value.to_string());
            }
            let changes = (method == Method::PATCH).then(|| Value::Object(body(&mut g, &patch)));
            let (status, after) = client.send(method.clone(), &path, &[], changes.as_ref()).await;
            assert!(status.is_success(), "{method} {path} {changes:?} after {new}: {status} {after}");
        }
        created.push(reply);
    }
    assert!(created.len() > VALID_CREATES / 2, "most creates are new");

    // Valid lists, each parameter drawn from its schema, then followed by cursor.
    let (list_method, list_path, list_op) = doc.operation("listAppointments");
    let params = list_op["parameters"].as_array().unwrap().clone();
    let param_schema = |name: &str| params.iter().find(|p| p["name"] == name).unwrap()["schema"].clone();
    let as_text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    for _ in 0..VALID_LISTS {
        let mut query = Map::new();
        for p in &params {
            let name = p["name"].as_str().unwrap();
            if name != "cursor" && g.chance(3) {
                query.insert(name.to_owned(), g.value(&p["schema"]));
            }
        }
        keep_rules(&mut g, &list_op["x-calsync-rules"], &mut query);
        let pairs: Vec<(String, String)> = query.iter().map(|(k, v)| (k.clone(), as_text(v))).collect();
        let (status, page) = client.send(list_method.clone(), &list_path, &pairs, None).await;
        assert_eq!(status, StatusCode::OK, "{pairs:?}: {page}");
        if let Some(cursor) = page["next_cursor"].as_str() {
            let mut next = pairs.clone();
            next.push(("cursor".into(), cursor.into()));
            let (status, page) = client.send(list_method.clone(), &list_path, &next, None).await;
            assert_eq!(status, StatusCode::OK, "{next:?}: {page}");
        }
    }
    // A cursor drawn from its documented pattern is accepted too.
    for _ in 0..5 {
        let cursor = as_text(&g.value(&param_schema("cursor")));
        let (status, page) =
            client.send(list_method.clone(), &list_path, &[("cursor".into(), cursor.clone())], None).await;
        assert_eq!(status, StatusCode::OK, "{cursor}: {page}");
    }

    // One broken constraint at a time in an otherwise valid create or patch.
    let appointment_id = created[0]["id"].as_i64().unwrap();
    let patch_path = doc.operation("updateAppointment").1.replace("{id}", &appointment_id.to_string());
    let mut refused = 0;
    let targets = [(&create, &create_method, &create_path), (&patch, &Method::PATCH, &patch_path)];
    for (schema, method, path) in (0..VIOLATION_ROUNDS).flat_map(|_| targets) {
        let required: Vec<&str> =
            schema["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        for field in &required {
            let mut broken = body(&mut g, schema);
            broken.remove(*field);
            let (status, reply) = client.send(method.clone(), path, &[], Some(&Value::Object(broken))).await;
            assert_refused(status, &reply, field, &format!("{method} without required {field}"));
            refused += 1;
        }
        for (name, property) in schema["properties"].as_object().unwrap() {
            for (what, bad) in violations(&mut g, name, property) {
                let mut broken = body(&mut g, schema);
                broken.insert(name.clone(), bad.clone());
                let sent = Value::Object(broken);
                let (status, reply) = client.send(method.clone(), path, &[], Some(&sent)).await;
                assert_refused(status, &reply, name, &format!("{method} {name}: {what}: {bad} in {sent}"));
                refused += 1;
            }
        }
        if schema["additionalProperties"] == Value::Bool(false) {
            let mut broken = body(&mut g, schema);
            broken.insert("x_not_documented".into(), json!(1));
            let (status, reply) = client.send(method.clone(), path, &[], Some(&Value::Object(broken))).await;
            assert_refused(status, &reply, "x_not_documented", &format!("{method} with an undocumented field"));
            refused += 1;
        }
        for rule in schema["x-calsync-rules"].as_array().unwrap() {
            let (field, other) = (rule["field"].as_str().unwrap(), rule["other"].as_str().unwrap());
            let mut broken = body(&mut g, schema);
            let start = g.instant();
            let start = g.date_time(start);
            let from = instant_of(&start).unwrap();
            let seconds = rule["seconds"].as_i64().unwrap_or(0);
            let end = loop {
                let (at, broken_by): (DateTime<Utc>, fn(Duration, i64) -> bool) = match rule["rule"].as_str().unwrap() {
                    "after" => (from - Duration::milliseconds(g.pick(0..86_400_000i64)), |d, _| d <= Duration::zero()),
                    "within" => {
                        (from + Duration::seconds(seconds) + Duration::milliseconds(g.pick(1..3_600_000i64)), |d, s| {
                            d > Duration::seconds(s)
                        })
                    }
                    other => panic!("unknown rule {other}"),
                };
                let written = g.date_time(at);
                if broken_by(instant_of(&written).unwrap() - from, seconds) {
                    break written;
                }
            };
            broken.insert(other.into(), json!(start));
            broken.insert(field.into(), json!(end));
            let sent = Value::Object(broken);
            let (status, reply) = client.send(method.clone(), path, &[], Some(&sent)).await;
            assert_refused(status, &reply, field, &format!("{method} breaking {rule}: {sent}"));
            refused += 1;
        }
    }

    // One broken query parameter at a time.
    for p in &params {
        let name = p["name"].as_str().unwrap();
        let schema = &p["schema"];
        let mut bad: Vec<String> = Vec::new();
        match types(schema).first().copied() {
            Some("integer") => {
                bad.push((schema["minimum"].as_i64().unwrap() - 1).to_string());
                bad.push((schema["maximum"].as_i64().unwrap() + 1).to_string());
                bad.push("ten".into());
            }
            Some("boolean") => bad.push("maybe".into()),
            _ => {}
        }
        if schema["enum"].is_array() {
            bad.push("no-such-value".into());
        }
        if schema["oneOf"].is_array() {
            bad.extend(["13.10.2025".to_owned(), "2025-10-13T10:00:00".to_owned(), "2025-02-30".to_owned()]);
        }
        if let Some(pattern) = schema["pattern"].as_str() {
            let re = regex::Regex::new(pattern).unwrap();
            bad.extend(["x\u{1}y", "abc", "1.x", "\u{7f}"].iter().map(|s| s.to_string()).filter(|s| !re.is_match(s)));
        }
        if let Some(max) = schema["maxLength"].as_u64() {
            bad.push("x".repeat(max as usize + 1));
        }
        assert!(!bad.is_empty(), "no way to break {name}: {schema}");
        for value in bad {
            let pairs = [(name.to_owned(), value.clone())];
            let (status, reply) = client.send(list_method.clone(), &list_path, &pairs, None).await;
            assert_refused(status, &reply, name, &format!("{name}={value:?}"));
            refused += 1;
        }
    }
    let pairs = [("x_not_documented".to_owned(), "1".to_owned())];
    let (status, reply) = client.send(list_method.clone(), &list_path, &pairs, None).await;
    assert_refused(status, &reply, "x_not_documented", "an undocumented query parameter");
    for rule in list_op["x-calsync-rules"].as_array().unwrap() {
        let (field, other) = (rule["field"].as_str().unwrap(), rule["other"].as_str().unwrap());
        let at = g.instant();
        let (later, earlier) = (g.date_time(at), g.date_time(at - Duration::hours(1)));
        let pairs = [(other.to_owned(), later), (field.to_owned(), earlier)];
        let (status, reply) = client.send(list_method.clone(), &list_path, &pairs, None).await;
        assert_refused(status, &reply, field, &format!("breaking {rule}: {pairs:?}"));
    }

    // Path ids below the documented minimum.
    let (get_method, get_path, get_op) = doc.operation("getAppointment");
    let id_param = get_op["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "id").unwrap();
    let min = id_param["schema"]["minimum"].as_i64().expect("a minimum for ids");
    for id in [min - 1, min - 2, i64::MIN] {
        let (status, reply) =
            client.send(get_method.clone(), &get_path.replace("{id}", &id.to_string()), &[], None).await;
        assert_refused(status, &reply, "id", &format!("id {id}"));
    }
    assert!(refused > 100, "{refused} refusals checked");
});
