//! The OpenAPI document's frame: title, bearer security scheme, tags. The
//! paths and schemas come from the handlers' `#[utoipa::path]` attributes,
//! collected by `utoipa_axum::routes!` as the router is built, so a route
//! cannot exist without being documented.

use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::RefOr;
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "calsync REST API",
        description = "Record appointments and follow their verification against Cal.com. \
            Authenticate with an organization's API token: `Authorization: Bearer csk_…` \
            (create one with `calsync api-token create`). Errors are JSON: \
            `{\"error\": code, \"message\": text, \"fields\": [{\"field\", \"message\"}]}`."
    ),
    modifiers(&BearerToken),
    tags(
        (name = "appointments", description = "The organization's appointments"),
        (name = "sync", description = "Verification against Cal.com"),
    )
)]
pub struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("csk_ followed by 40 characters")
                    .description(Some("An organization's API token"))
                    .build(),
            ),
        );
    }
}

/// What only the whole document can carry, added once the routes have put
/// their paths in: links from a created appointment to the operations on
/// it, and the list's rule between parameters.
pub fn finish(doc: &mut utoipa::openapi::OpenApi) {
    let prefix = super::PREFIX;
    if let Some(create) = doc.paths.paths.get_mut(&format!("{prefix}/appointments")).and_then(|p| p.post.as_mut()) {
        for status in ["201", "200"] {
            if let Some(RefOr::T(response)) = create.responses.responses.get_mut(status) {
                for (name, operation_id, what) in [
                    ("getAppointment", "getAppointment", "Read the appointment"),
                    ("updateAppointment", "updateAppointment", "Change the appointment"),
                    ("verifyAppointment", "verifyAppointment", "Queue the appointment for verification"),
                ] {
                    let link = LinkBuilder::new()
                        .operation_id(operation_id)
                        .parameter("id", "$response.body#/id")
                        .description(what)
                        .build();
                    response.links.insert(name.to_owned(), RefOr::T(link));
                }
            }
        }
    }
    if let Some(list) = doc.paths.paths.get_mut(&format!("{prefix}/appointments")).and_then(|p| p.get.as_mut()) {
        let rules = ExtensionsBuilder::new().add("x-calsync-rules", super::appointments::list_rules()).build();
        list.extensions.get_or_insert_with(Default::default).merge(rules);
    }
}

#[cfg(test)]
mod tests {
    use engine::appointments::{KNOWN_FIELDS, LIMITS};
    use serde_json::Value;

    fn schemas() -> Value {
        let doc = serde_json::to_value(super::super::document()).unwrap();
        doc["components"]["schemas"].clone()
    }

    /// The documented lengths are the engine's, and the documented fields are
    /// the ones it reads: documentation and validation cannot drift apart.
    #[test]
    fn request_schemas_state_the_engine_limits_and_fields() {
        let schemas = schemas();
        let limits = [
            ("customer_name", Some(LIMITS.name)),
            ("customer_email", Some(LIMITS.email)),
            ("customer_phone", Some(LIMITS.phone)),
            ("service", Some(LIMITS.service)),
            ("external_id", Some(LIMITS.external_id)),
            ("calcom_booking_uid", Some(LIMITS.booking_uid)),
        ];
        let nothing: &[&str] = &[];
        for (name, fixed) in [("CreateAppointment", nothing), ("PatchAppointment", &["external_id", "source"])] {
            let schema = &schemas[name];
            assert_eq!(schema["additionalProperties"], Value::Bool(false), "{name}");
            let mut documented: Vec<&str> =
                schema["properties"].as_object().unwrap().keys().map(|k| k.as_str()).collect();
            let mut expected: Vec<&str> = KNOWN_FIELDS.iter().copied().filter(|f| !fixed.contains(f)).collect();
            documented.sort();
            expected.sort();
            assert_eq!(documented, expected, "{name}");
            for (field, limit) in limits.iter().filter(|(f, _)| !fixed.contains(f)) {
                let max = schema["properties"][field]["maxLength"].as_u64().map(|n| n as usize);
                assert_eq!(max, *limit, "{name}.{field}");
            }
            let rules = &schema["x-calsync-rules"];
            assert_eq!(rules[1]["seconds"], LIMITS.max_duration_hours * 3600, "{name}: {rules}");
        }
        let limit = &super::super::document();
        let limit = serde_json::to_value(limit).unwrap();
        let params = limit["paths"]["/api/v1/appointments"]["get"]["parameters"].as_array().unwrap().clone();
        let limit = params.iter().find(|p| p["name"] == "limit").unwrap();
        assert_eq!(limit["schema"]["maximum"], super::super::appointments::MAX_LIMIT);
    }
}
