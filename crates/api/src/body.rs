//! JSON request bodies: size cap (413), content type (415), syntax with line and column
//! (400), and the shape with a pointer to what is wrong (400).

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;

/// A body parsed as `T`.
pub struct JsonBody<T>(pub T);

/// `{"data": T}`, the envelope single objects travel in.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataEnvelope<T> {
    pub data: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let limit = state.config.body_limit;
        let too_large = || {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("The request body is larger than the limit of {limit} bytes"),
            )
        };
        if let Some(content_type) = request.headers().get(header::CONTENT_TYPE) {
            let essence = content_type
                .to_str()
                .unwrap_or("")
                .split(';')
                .next()
                .unwrap_or("")
                .trim();
            let is_json = essence.eq_ignore_ascii_case("application/json")
                || (essence.starts_with("application/") && essence.ends_with("+json"));
            if !is_json {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    format!("The body must be JSON (Content-Type: application/json), not '{essence}'"),
                ));
            }
        }
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let limited = http_body_util::Limited::new(request.into_body(), limit);
        let bytes = match limited.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
            Err(_) => return Err(ApiError::bad_request("The request body could not be read")),
        };
        parse(&bytes).map(JsonBody)
    }
}

/// Parses a body: first as JSON (syntax errors carry line and column), then as `T`
/// (shape errors carry a JSON pointer).
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("The request needs a JSON body"));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "The body is not valid JSON: {} (line {}, column {})",
            strip_position(&e.to_string()),
            e.line(),
            e.column()
        ))
    })?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let pointer = pointer_of(e.path());
        let detail = strip_position(&e.inner().to_string());
        ApiError::pointer(pointer, detail)
    })
}

/// `data.groups[1]` → `/data/groups/1`.
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } => pointer.push_str(&format!("/{}", key.replace('~', "~0").replace('/', "~1"))),
            Segment::Enum { variant } => pointer.push_str(&format!("/{variant}")),
            Segment::Unknown => {}
        }
    }
    if pointer.is_empty() {
        "/".to_owned()
    } else {
        pointer
    }
}

/// serde appends " at line 1 column 5" to its messages; we report positions our own way.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Deserializes a field that may be absent (`None`), `null` (`Some(None)`) or a value.
pub fn nullable<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde::Deserialize::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Thing {
        #[allow(dead_code)]
        name: String,
        #[allow(dead_code)]
        #[serde(default)]
        tags: Vec<String>,
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err = parse::<Thing>(b"{\n  \"name\": ,\n}").unwrap_err();
        let text = format!("{err:?}");
        assert!(text.contains("line 2, column 11"), "{text}");
    }

    #[test]
    fn shape_errors_point_at_the_field() {
        let err = parse::<DataEnvelope<Thing>>(br#"{"data": {"name": "x", "tags": ["a", 3]}}"#).unwrap_err();
        let text = format!("{err:?}");
        assert!(text.contains("/data/tags/1"), "{text}");
    }

    #[test]
    fn unknown_fields_are_named() {
        let err = parse::<DataEnvelope<Thing>>(br#"{"data": {"name": "x", "colour": "red"}}"#).unwrap_err();
        let text = format!("{err:?}");
        assert!(text.contains("unknown field `colour`"), "{text}");
    }
}
