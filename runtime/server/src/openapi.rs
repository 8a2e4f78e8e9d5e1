//! The OpenAPI document at `GET /openapi.json`. Paths, methods and
//! parameters come from the handlers' `#[utoipa::path]` annotations (see
//! [`crate::router`]); this module adds what every operation shares: the
//! document's header, the bearer key, and OpenAI's error responses.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, ResponseBuilder};
use utoipa::{OpenApi as _, ToSchema};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "jan",
        description = "A local-first assistants runtime that speaks the OpenAI API: models, chat completions, embeddings, assistants, threads, messages, runs and run steps."
    ),
    servers((url = "http://127.0.0.1:1337", description = "jan serve's default address")),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail))
)]
struct Base;

/// The document before the routes are added.
pub fn base() -> OpenApi {
    Base::openapi()
}

/// Adds the security scheme and the error responses every operation can
/// give, once the routes are in.
pub fn finish(mut api: OpenApi) -> OpenApi {
    api.info.version = env!("CARGO_PKG_VERSION").to_string();
    if let Some(components) = api.components.as_mut() {
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "Needed only when the server runs with --api-key or JAN_API_KEY",
                    ))
                    .build(),
            ),
        );
    }
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(crate::error::ErrorBody::name())))
                    .build(),
            )
            .build()
    };
    for item in api.paths.paths.values_mut() {
        for op in [&mut item.get, &mut item.post, &mut item.delete]
            .into_iter()
            .flatten()
        {
            add_errors(op, &error);
        }
    }
    api
}

fn add_errors(op: &mut Operation, error: &dyn Fn(&str) -> utoipa::openapi::Response) {
    for (code, what) in [
        ("400", "Invalid request (OpenAI's error JSON)"),
        ("401", "Missing or wrong API key"),
        ("404", "Unknown id, or an id that is not well-formed"),
        ("413", "Request body over 8 MiB"),
    ] {
        op.responses
            .responses
            .entry(code.to_string())
            .or_insert_with(|| error(what).into());
    }
}
