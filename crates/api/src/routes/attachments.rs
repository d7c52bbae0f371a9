//! `/api/v2/entity-attachments`: files attached to entities. Downloads are always served as
//! attachments, never rendered inline.

use crate::auth::Caller;
use crate::envelope::{self, Single};
use crate::error::ApiError;
use crate::links::{Collection, Links};
use crate::query;
use crate::routes::path_int;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cairn_domain::attachment::{clean_filename, Attachment};
use cairn_domain::permission::Permission;
use http_body_util::BodyExt;
use serde::Serialize;
use utoipa::ToSchema;

/// An attachment's metadata.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentDto {
    pub id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    /// Where its contents are downloaded.
    pub download: String,
    pub created_at: String,
}

impl AttachmentDto {
    fn from_domain(a: Attachment, links: &Links) -> Self {
        AttachmentDto {
            download: format!("{}/download", links.url(Collection::Attachments, a.id)),
            id: a.id,
            filename: a.filename,
            content_type: a.content_type,
            size: a.size,
            sha256: a.sha256,
            created_at: a.created_at.to_string(),
        }
    }
}

/// Upload a file: multipart field `file`, or the raw body with `?filename=`. It is visible to
/// you alone until an entity lists it in `attachments`; then it follows that entity.
#[utoipa::path(post, path = "/api/v2/entity-attachments", tag = "entities",
    params(("filename" = Option<String>, Query, description = "The file's name, when the body is the raw file")),
    request_body(content = Vec<u8>, description = "multipart/form-data with a `file` field, or the raw file", content_type = "multipart/form-data"),
    responses((status = 201, description = "The stored attachment", body = Single<AttachmentDto>)))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    request: Request,
) -> Result<Response, ApiError> {
    caller.require(Permission::modify("entities"))?;
    let limit = state.config.attachment_limit;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The file is larger than the limit of {limit} bytes"),
        )
    };
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    let (filename, content_type, content) = if is_multipart {
        let mut multipart = Multipart::from_request(request, &state)
            .await
            .map_err(|e| ApiError::bad_request(format!("The multipart body is not readable: {e}")))?;
        let mut found = None;
        while let Some(mut field) = multipart.next_field().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                ApiError::bad_request(format!("The multipart body is not readable: {e}"))
            }
        })? {
            if field.name() != Some("file") {
                continue;
            }
            let filename = field.file_name().unwrap_or("attachment").to_owned();
            let content_type = field.content_type().unwrap_or("application/octet-stream").to_owned();
            let mut content = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large()
                } else {
                    ApiError::bad_request(format!("The file could not be read: {e}"))
                }
            })? {
                if content.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                content.extend_from_slice(&chunk);
            }
            found = Some((filename, content_type, content));
            break;
        }
        found.ok_or_else(|| ApiError::bad_request("The multipart body has no field named 'file'"))?
    } else {
        let filename = query::pairs(request.uri().query())
            .into_iter()
            .find(|(k, _)| k == "filename")
            .map(|(_, v)| v)
            .ok_or_else(|| {
                ApiError::parameter(
                    "filename",
                    "Send the file as multipart field 'file', or name it with ?filename=",
                )
            })?;
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let content = match http_body_util::Limited::new(request.into_body(), limit).collect().await {
            Ok(collected) => collected.to_bytes().to_vec(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
            Err(_) => return Err(ApiError::bad_request("The file could not be read")),
        };
        (filename, content_type, content)
    };
    let filename = clean_filename(&filename).map_err(|d| ApiError::parameter("filename", d))?;
    let content_type = if content_type.len() <= 255 && content_type.is_ascii() {
        content_type
    } else {
        "application/octet-stream".to_owned()
    };
    let attachment = state
        .store
        .create_attachment(caller.user_id, &filename, &content_type, &content)
        .await?;
    Ok(envelope::single(
        StatusCode::CREATED,
        AttachmentDto::from_domain(attachment, &links),
    ))
}

/// An attachment's metadata.
#[utoipa::path(get, path = "/api/v2/entity-attachments/{id}", tag = "entities",
    params(("id" = i64, Path, description = "The attachment's id")),
    responses((status = 200, description = "The attachment", body = Single<AttachmentDto>)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    links: Links,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::read("entities"))?;
    let a = state
        .store
        .get_attachment(&caller.scope, caller.user_id, path_int(&id, Collection::Attachments)?)
        .await?;
    Ok(envelope::single(StatusCode::OK, AttachmentDto::from_domain(a, &links)))
}

/// Download an attachment's contents (always as a file to save, never shown inline).
#[utoipa::path(get, path = "/api/v2/entity-attachments/{id}/download", tag = "entities",
    params(("id" = i64, Path, description = "The attachment's id")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream")))]
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::read("entities"))?;
    let a = state
        .store
        .get_attachment(&caller.scope, caller.user_id, path_int(&id, Collection::Attachments)?)
        .await?;
    let content = state.store.attachment_content(&a).await?;
    // Types a browser would render as a page are served as opaque bytes.
    let lowered = a.content_type.to_ascii_lowercase();
    let renderable = ["html", "xml", "svg", "javascript", "ecmascript"]
        .iter()
        .any(|t| lowered.contains(t));
    let content_type = if renderable {
        "application/octet-stream"
    } else {
        a.content_type.as_str()
    };
    let ascii: String = a
        .filename
        .chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(&a.filename, percent_encoding::NON_ALPHANUMERIC);
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    let mut response = Response::new(Body::from(content));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(response.into_response())
}

/// The same download at the path older clients use.
#[utoipa::path(get, path = "/private/entity-attachments/{id}/download", tag = "compatibility",
    params(("id" = i64, Path, description = "The attachment's id")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream")))]
pub async fn private_download(state: State<AppState>, caller: Caller, id: Path<String>) -> Result<Response, ApiError> {
    download(state, caller, id).await
}
