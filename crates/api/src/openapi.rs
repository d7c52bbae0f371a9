//! The OpenAPI 3.1 document, generated from the handlers' annotations and the resources'
//! filter specs, so it cannot drift from what the server does; and the docs page that
//! renders it with no external script.

use crate::error::ErrorBody;
use cairn_domain::filter::{FieldKind, ResourceSpec, MAX_LIMIT};
use cairn_domain::identity::{GROUP_SPEC, PERMISSION_SPEC, ROLE_SPEC, USER_SPEC};
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, Required};
use utoipa::{Modify, OpenApi as _};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Cairn Public API v2",
        description = "Threat intelligence over HTTP: the EclecticIQ-style Public API v2. \
            Authenticate with `Authorization: Bearer <token>`. Lists take `limit` (1..=1000), `offset`, \
            `sort` (`-` for descending), `attributes` (dot paths to keep), `data=false` (count only) and \
            `filter[<op><field>]=<value>` (repeat a key for OR; `>`, `>=`, `<`, `<=` on times; `!` for not; \
            text matches with `*` wildcards, `\"quoted\"` exactly, otherwise contains, ignoring case). \
            Errors are `{\"errors\": [{status, title, detail, source}]}`."
    ),
    components(schemas(ErrorBody)),
    tags(
        (name = "entities", description = "Intelligence objects, taxonomies and tags"),
        (name = "observables", description = "Typed values: IPs, domains, hashes…"),
        (name = "relationships", description = "Typed links between entities"),
        (name = "sources", description = "Where intelligence comes from"),
        (name = "identity", description = "Users, groups, roles, permissions and tokens"),
        (name = "compatibility", description = "Older paths integrations still call"),
        (name = "operations", description = "Probes and metrics")
    )
)]
pub struct ApiDoc;

/// The filter spec of each list endpoint.
const LISTS: &[(&str, ResourceSpec)] = &[
    ("/api/v2/sources", cairn_domain::source::SPEC),
    ("/api/v2/users", USER_SPEC),
    ("/api/v2/groups", GROUP_SPEC),
    ("/api/v2/roles", ROLE_SPEC),
    ("/api/v2/permissions", PERMISSION_SPEC),
    ("/private/groups", GROUP_SPEC),
    ("/api/v2/entities", cairn_domain::entity::SPEC),
    ("/api/v2/observables", cairn_domain::observable::SPEC),
    ("/api/v2/relationships", cairn_domain::relationship::SPEC),
    ("/api/v2/taxonomies", cairn_domain::taxonomy::SPEC),
    ("/api/v2/tags", cairn_domain::taxonomy::TAG_SPEC),
];

/// Adds what every operation shares: bearer security, the error responses, and the list
/// parameters of list endpoints.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, api: &mut OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        for (path, item) in api.paths.paths.iter_mut() {
            let public = !path.starts_with("/api/v2") && !path.starts_with("/private");
            let list = LISTS.iter().find(|(p, _)| p == path).map(|(_, spec)| spec);
            let has_id = path.contains('{');
            for (method, operation) in [
                ("get", item.get.as_mut()),
                ("post", item.post.as_mut()),
                ("put", item.put.as_mut()),
                ("patch", item.patch.as_mut()),
                ("delete", item.delete.as_mut()),
            ] {
                let Some(operation) = operation else { continue };
                if public {
                    continue;
                }
                operation.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
                let has_body = operation.request_body.is_some();
                if method == "get" {
                    if let Some(spec) = list {
                        list_parameters(operation, spec);
                    }
                }
                let mut errors = vec![
                    (
                        "401",
                        "No token, or a token that is malformed, unknown, expired or revoked",
                    ),
                    ("403", "The token's user lacks the permission this needs"),
                    ("500", "A fault on the server; nothing was changed"),
                ];
                if has_body || list.is_some() {
                    errors.push(("400", "Bad input: every problem is listed with a pointer or parameter"));
                }
                if has_id {
                    errors.push(("404", "No such object, or one you cannot see"));
                }
                if has_body {
                    errors.push(("409", "Conflicts with something that exists (e.g. a name taken)"));
                    errors.push(("413", "The body is over the size limit"));
                    errors.push(("415", "The body is not JSON"));
                }
                for (status, description) in errors {
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| {
                            ResponseBuilder::new()
                                .description(description)
                                .content(
                                    "application/json",
                                    ContentBuilder::new()
                                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                                        .build(),
                                )
                                .build()
                                .into()
                        });
                }
            }
        }
    }
}

fn query_parameter(name: &str, description: &str, schema_type: Type) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(ObjectBuilder::new().schema_type(schema_type)))
        .build()
}

fn list_parameters(operation: &mut Operation, spec: &ResourceSpec) {
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    parameters.push(query_parameter(
        "limit",
        &format!("Page size, 1 to {MAX_LIMIT} (default 100)"),
        Type::Integer,
    ));
    parameters.push(query_parameter(
        "offset",
        "How many matches to skip (default 0)",
        Type::Integer,
    ));
    parameters.push(query_parameter(
        "sort",
        &format!("Comma-separated fields, `-` for descending: {}", spec.sorts.join(", ")),
        Type::String,
    ));
    parameters.push(query_parameter(
        "attributes",
        "Comma-separated dot paths to keep in each item",
        Type::String,
    ));
    parameters.push(query_parameter(
        "data",
        "`false`: answer only the counts",
        Type::Boolean,
    ));
    for field in spec.filters {
        let (description, schema_type) = match field.kind {
            FieldKind::Text => (
                "Text: `*` wildcards, `\"quoted\"` exact, otherwise contains (ignoring case)".to_owned(),
                Type::String,
            ),
            FieldKind::Keyword => ("Exact text".to_owned(), Type::String),
            FieldKind::Enum(values) => (format!("One of: {}", values.join(", ")), Type::String),
            FieldKind::Uuid => ("A UUID or the object's URL".to_owned(), Type::String),
            FieldKind::IntegerId => ("An integer id or the object's URL".to_owned(), Type::String),
            FieldKind::Time => (
                "RFC 3339 time; also `filter[>…]`, `>=`, `<`, `<=`".to_owned(),
                Type::String,
            ),
            FieldKind::Boolean => ("true or false".to_owned(), Type::Boolean),
        };
        let description = format!("{description}. Repeat for OR; `filter[!{}]` negates.", field.name);
        parameters.push(query_parameter(
            &format!("filter[{}]", field.name),
            &description,
            schema_type,
        ));
    }
}

/// The document as JSON.
pub fn document(api: &OpenApi) -> String {
    api.to_pretty_json().unwrap_or_else(|_| "{}".to_owned())
}

/// The base document, before the routes add their paths.
pub fn base() -> OpenApi {
    ApiDoc::openapi()
}

/// Completes the document once every route has added its path.
pub fn finish(api: &mut OpenApi) {
    Conventions.modify(api);
}

/// The docs page: one self-contained HTML file, no external script or style.
pub const DOCS_HTML: &str = include_str!("docs.html");
