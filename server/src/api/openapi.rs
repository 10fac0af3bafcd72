//! The OpenAPI document's frame: title, bearer security scheme, tags. The
//! paths and schemas come from the handlers' `#[utoipa::path]` attributes,
//! collected by `utoipa_axum::routes!` as the router is built, so a route
//! cannot exist without being documented.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
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
