//! Fetching small documents from the internet (an identity provider's key
//! set, SNS's signing certificate): a client that never follows redirects
//! and gives up after a timeout, and a GET that stops reading past a size
//! limit instead of buffering whatever a server sends.

use std::time::Duration;

use url::Url;

/// Why a fetch failed; the text never carries the URL's query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Unavailable(String),
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
}

/// A client for small fetches: no redirects, a total timeout, and (with
/// `https_only`) no plain http.
pub fn client(timeout: Duration, https_only: bool) -> Result<reqwest::Client, FetchError> {
    reqwest::Client::builder()
        .https_only(https_only)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .map_err(|e| FetchError::Unavailable(e.to_string()))
}

/// GETs `url` and returns its body, refusing anything but a 2xx answer and
/// any body over `max_bytes` (checked while reading).
pub async fn get_limited(
    client: &reqwest::Client,
    url: &Url,
    accept: &str,
    max_bytes: usize,
) -> Result<Vec<u8>, FetchError> {
    let unavailable = |e: reqwest::Error| FetchError::Unavailable(e.without_url().to_string());
    let mut response = client
        .get(url.clone())
        .header(reqwest::header::ACCEPT, accept)
        .send()
        .await
        .map_err(unavailable)?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError::Unavailable(format!("HTTP {status}")));
    }
    read_limited(&mut response, max_bytes).await
}

/// POSTs a form (`application/x-www-form-urlencoded`) with an optional
/// `Authorization` header and returns the status and the body, whatever
/// the status, refusing any body over `max_bytes`.
pub async fn post_form_limited(
    client: &reqwest::Client,
    url: &Url,
    form: String,
    authorization: Option<&str>,
    max_bytes: usize,
) -> Result<(reqwest::StatusCode, Vec<u8>), FetchError> {
    let mut request = client
        .post(url.clone())
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(reqwest::header::ACCEPT, "application/json")
        .body(form);
    if let Some(authorization) = authorization {
        request = request.header(reqwest::header::AUTHORIZATION, authorization);
    }
    let mut response = request
        .send()
        .await
        .map_err(|e| FetchError::Unavailable(e.without_url().to_string()))?;
    let status = response.status();
    let body = read_limited(&mut response, max_bytes).await?;
    Ok((status, body))
}

/// Reads the body, stopping as soon as it passes `max_bytes`.
async fn read_limited(
    response: &mut reqwest::Response,
    max_bytes: usize,
) -> Result<Vec<u8>, FetchError> {
    if response
        .content_length()
        .is_some_and(|n| n > max_bytes as u64)
    {
        return Err(FetchError::TooLarge(max_bytes));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| FetchError::Unavailable(e.without_url().to_string()))?
    {
        if body.len() + chunk.len() > max_bytes {
            return Err(FetchError::TooLarge(max_bytes));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
