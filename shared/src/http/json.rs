//! The request extractors of the API. A malformed JSON body is a 400 that
//! names the field (through serde_path_to_error), a body over the limit a
//! 413, anything but `application/json` a 415, and a malformed query string
//! a 400 — all as problem documents.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// The largest JSON body the API reads.
pub const MAX_JSON_BODY: usize = 1024 * 1024;

/// A JSON request body, parsed into `T`.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge {
                    limit: MAX_JSON_BODY,
                }
            } else {
                ApiError::bad_request("body", rejection.body_text())
            }
        })?;
        parse(&bytes).map(ApiJson)
    }
}

/// A query string, parsed into `T`.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Query::try_from_uri(&parts.uri)
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection| ApiError::bad_request("query", rejection.body_text()))
    }
}

/// Parses JSON, naming the field at fault: `email`, `contacts[2].name`, or
/// `body` when the document itself is broken.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let field = if path == "." || inner.is_syntax() || inner.is_eof() {
            "body".to_owned()
        } else {
            path
        };
        ApiError::bad_request(field, strip_position(&inner.to_string()))
    })?;
    deserializer
        .end()
        .map_err(|e| ApiError::bad_request("body", e))?;
    Ok(value)
}

/// serde_json appends " at line 1 column 17"; the field name says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EmailAddress;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        email: EmailAddress,
        first_name: Option<String>,
    }

    fn field_of(json: &str) -> (String, String) {
        match parse::<Body>(json.as_bytes()).unwrap_err() {
            ApiError::BadRequest { field, detail } => (field, detail),
            other => panic!("expected a bad request, got {other:?}"),
        }
    }

    #[test]
    fn an_invalid_address_names_the_email_field_and_the_reason() {
        let (field, detail) = field_of(r#"{"email": "nobody"}"#);
        assert_eq!(field, "email");
        assert_eq!(detail, "this is not a valid e-mail address");
    }

    #[test]
    fn a_wrong_type_names_its_field() {
        let (field, _) = field_of(r#"{"email": "a@example.de", "first_name": 7}"#);
        assert_eq!(field, "first_name");
    }

    #[test]
    fn a_missing_field_and_broken_json_say_so() {
        let (field, detail) = field_of(r#"{"first_name": "Erika"}"#);
        assert_eq!(field, "body");
        assert!(detail.contains("missing field `email`"), "{detail}");
        let (field, _) = field_of(r#"{"email": "a@example.de""#);
        assert_eq!(field, "body");
    }
}
