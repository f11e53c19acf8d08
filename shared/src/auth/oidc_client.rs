//! Browser sign-in through the identity provider: the authorization-code
//! flow with PKCE (RFC 7636, S256 only) and a nonce. EMMA sends the browser
//! to the provider's authorization endpoint with a fresh `state`, `nonce`
//! and code challenge, and redeems the code it gets back at the token
//! endpoint with the matching verifier. The ID token that comes back is
//! checked like a bearer token ([`super::oidc::OidcVerifier`]), for this
//! client and this nonce.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use url::Url;

use super::oidc::OidcError;
use crate::adapters::fetch;

/// The scopes EMMA asks for: the subject, the address and the name.
pub const SCOPES: &str = "openid email profile";
/// Token answers longer than this are refused unread.
const MAX_TOKEN_RESPONSE_BYTES: usize = 64 * 1024;

/// Where the provider's endpoints are and who EMMA is to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoClientSettings {
    pub authorization_url: Url,
    /// EMMA's client id at the provider; ID tokens must name it as `aud`.
    pub client_id: String,
    /// Where the provider sends the browser back (registered with it).
    pub redirect_uri: Url,
}

/// The secrets of one sign-in in progress: `state` ties the answer to the
/// browser that started it, `nonce` the ID token to this sign-in, and the
/// code verifier the code to EMMA.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingSignIn {
    pub state: String,
    pub nonce: String,
    pub code_verifier: String,
}

impl std::fmt::Debug for PendingSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PendingSignIn(..)")
    }
}

impl PendingSignIn {
    /// Fresh random values, 32 bytes each, base64url.
    pub fn generate() -> Self {
        Self {
            state: random_token(),
            nonce: random_token(),
            code_verifier: random_token(),
        }
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random source works");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The S256 code challenge of a verifier: base64url(SHA-256(verifier)).
pub fn code_challenge(code_verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(code_verifier.as_bytes()))
}

/// The parameters of an authorization request, as the provider reads them
/// from the query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct AuthorizationRequest {
    pub response_type: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: String,
    pub nonce: String,
    pub code_challenge: String,
    pub code_challenge_method: String,
}

/// A code to redeem at the token endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct CodeGrant {
    pub code: String,
    pub redirect_uri: String,
    pub client_id: String,
    pub code_verifier: String,
}

impl std::fmt::Debug for CodeGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeGrant")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// The provider's token endpoint: a code in, an ID token (not yet
/// checked) out.
#[async_trait]
pub trait TokenEndpoint: Send + Sync {
    async fn redeem(&self, grant: &CodeGrant) -> Result<String, OidcError>;
}

/// The browser sign-in client: builds authorization requests and redeems
/// codes.
pub struct SsoClient {
    settings: SsoClientSettings,
    token_endpoint: std::sync::Arc<dyn TokenEndpoint>,
}

impl std::fmt::Debug for SsoClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoClient")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl SsoClient {
    pub fn new(
        settings: SsoClientSettings,
        token_endpoint: std::sync::Arc<dyn TokenEndpoint>,
    ) -> Result<Self, OidcError> {
        if settings.client_id.is_empty() {
            return Err(OidcError::InvalidSettings("the client id is empty"));
        }
        super::oidc::check_jwks_url(&settings.authorization_url)
            .map_err(|_| OidcError::InvalidSettings("the authorization URL is not https"))?;
        Ok(Self {
            settings,
            token_endpoint,
        })
    }

    pub fn settings(&self) -> &SsoClientSettings {
        &self.settings
    }

    /// Where to send the browser to sign in for `pending`.
    pub fn authorization_url(&self, pending: &PendingSignIn) -> Url {
        let mut url = self.settings.authorization_url.clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", self.settings.redirect_uri.as_str())
            .append_pair("scope", SCOPES)
            .append_pair("state", &pending.state)
            .append_pair("nonce", &pending.nonce)
            .append_pair("code_challenge", &code_challenge(&pending.code_verifier))
            .append_pair("code_challenge_method", "S256");
        url
    }

    /// Redeems `code` with the verifier of `pending`; answers the ID token.
    pub async fn redeem(&self, code: &str, pending: &PendingSignIn) -> Result<String, OidcError> {
        let grant = CodeGrant {
            code: code.to_owned(),
            redirect_uri: self.settings.redirect_uri.to_string(),
            client_id: self.settings.client_id.clone(),
            code_verifier: pending.code_verifier.clone(),
        };
        self.token_endpoint.redeem(&grant).await
    }
}

/// A provider's token endpoint over HTTPS; with a client secret it
/// authenticates as `client_secret_basic`, without one as a public client
/// (PKCE alone).
pub struct HttpTokenEndpoint {
    url: Url,
    client_secret: Option<SecretString>,
    client: reqwest::Client,
}

impl HttpTokenEndpoint {
    pub fn new(url: Url, client_secret: Option<SecretString>) -> Result<Self, OidcError> {
        super::oidc::check_jwks_url(&url)
            .map_err(|_| OidcError::InvalidSettings("the token URL is not https"))?;
        let client = fetch::client(Duration::from_secs(10), false)
            .map_err(|e| OidcError::TokenEndpointUnavailable(e.to_string()))?;
        Ok(Self {
            url,
            client_secret,
            client,
        })
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct TokenRefusal {
    error: Option<String>,
}

#[async_trait]
impl TokenEndpoint for HttpTokenEndpoint {
    async fn redeem(&self, grant: &CodeGrant) -> Result<String, OidcError> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", &grant.code)
            .append_pair("redirect_uri", &grant.redirect_uri)
            .append_pair("client_id", &grant.client_id)
            .append_pair("code_verifier", &grant.code_verifier)
            .finish();
        let authorization = self.client_secret.as_ref().map(|secret| {
            let secret = secret.expose_secret();
            // RFC 6749 §2.3.1: both parts form-encoded before base64.
            let encode =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let pair = format!("{}:{}", encode(&grant.client_id), encode(secret));
            format!("Basic {}", STANDARD.encode(pair))
        });
        let (status, bytes) = fetch::post_form_limited(
            &self.client,
            &self.url,
            body,
            authorization.as_deref(),
            MAX_TOKEN_RESPONSE_BYTES,
        )
        .await
        .map_err(|e| OidcError::TokenEndpointUnavailable(e.to_string()))?;
        if status.is_client_error() {
            let reason = serde_json::from_slice::<TokenRefusal>(&bytes)
                .ok()
                .and_then(|r| r.error)
                .filter(|e| e.len() <= 64 && e.bytes().all(|b| b.is_ascii_graphic()))
                .unwrap_or_else(|| format!("HTTP {status}"));
            return Err(OidcError::CodeRefused(reason));
        }
        if !status.is_success() {
            return Err(OidcError::TokenEndpointUnavailable(format!(
                "HTTP {status}"
            )));
        }
        serde_json::from_slice::<TokenAnswer>(&bytes)
            .ok()
            .and_then(|a| a.id_token)
            .ok_or_else(|| {
                OidcError::TokenEndpointUnavailable("the answer carries no id_token".to_owned())
            })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use super::*;

    struct Unused;

    #[async_trait]
    impl TokenEndpoint for Unused {
        async fn redeem(&self, _grant: &CodeGrant) -> Result<String, OidcError> {
            unreachable!("not redeemed here")
        }
    }

    fn client() -> SsoClient {
        SsoClient::new(
            SsoClientSettings {
                authorization_url: "https://idp.example.test/authorize?tenant=sk"
                    .parse()
                    .unwrap(),
                client_id: "emma".into(),
                redirect_uri: "https://emma.example.test/anmelden/sso/rueckkehr"
                    .parse()
                    .unwrap(),
            },
            Arc::new(Unused),
        )
        .unwrap()
    }

    #[test]
    fn the_code_challenge_is_the_rfc_7636_s256_of_the_verifier() {
        // The example of RFC 7636, appendix B.
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn the_authorization_url_carries_state_nonce_and_an_s256_challenge() {
        let pending = PendingSignIn::generate();
        let url = client().authorization_url(&pending);
        let query: HashMap<String, String> = url.query_pairs().into_owned().collect();

        assert_eq!(url.host_str(), Some("idp.example.test"));
        assert_eq!(query["tenant"], "sk", "the configured query is kept");
        assert_eq!(query["response_type"], "code");
        assert_eq!(query["client_id"], "emma");
        assert_eq!(
            query["redirect_uri"],
            "https://emma.example.test/anmelden/sso/rueckkehr"
        );
        assert_eq!(query["scope"], SCOPES);
        assert_eq!(query["state"], pending.state);
        assert_eq!(query["nonce"], pending.nonce);
        assert_eq!(
            query["code_challenge"],
            code_challenge(&pending.code_verifier)
        );
        assert_eq!(query["code_challenge_method"], "S256");
        assert!(
            !url.as_str().contains(&pending.code_verifier),
            "the verifier never leaves EMMA"
        );
    }

    #[test]
    fn each_sign_in_gets_its_own_secrets() {
        let a = PendingSignIn::generate();
        let b = PendingSignIn::generate();
        assert_ne!(a.state, b.state);
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.code_verifier, b.code_verifier);
        assert_ne!(a.state, a.nonce);
        assert_eq!(a.code_verifier.len(), 43, "within RFC 7636's 43..=128");
    }

    #[test]
    fn a_plain_http_authorization_endpoint_off_loopback_is_refused() {
        let settings = SsoClientSettings {
            authorization_url: "http://idp.example.test/authorize".parse().unwrap(),
            client_id: "emma".into(),
            redirect_uri: "https://emma.example.test/cb".parse().unwrap(),
        };
        assert!(matches!(
            SsoClient::new(settings, Arc::new(Unused)),
            Err(OidcError::InvalidSettings(_))
        ));
    }

    /// A token endpoint on loopback that answers `answer` with `status` and
    /// reports what it was sent.
    async fn token_server(
        status: u16,
        answer: serde_json::Value,
    ) -> (
        Url,
        tokio::sync::mpsc::UnboundedReceiver<(Option<String>, String)>,
    ) {
        use axum::http::HeaderMap;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let router = axum::Router::new().route(
            "/token",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let tx = tx.clone();
                let answer = answer.clone();
                async move {
                    let authorization = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    tx.send((authorization, body)).unwrap();
                    (
                        axum::http::StatusCode::from_u16(status).unwrap(),
                        axum::Json(answer),
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (format!("http://{address}/token").parse().unwrap(), rx)
    }

    fn grant() -> CodeGrant {
        CodeGrant {
            code: "the-code".into(),
            redirect_uri: "https://emma.example.test/cb".into(),
            client_id: "emma web".into(),
            code_verifier: "the-verifier".into(),
        }
    }

    #[tokio::test]
    async fn the_http_token_endpoint_posts_the_grant_with_basic_client_authentication() {
        let (url, mut sent) = token_server(200, serde_json::json!({"id_token": "a.b.c"})).await;
        let endpoint = HttpTokenEndpoint::new(url, Some(SecretString::from("s3cret:/+"))).unwrap();

        let id_token = endpoint.redeem(&grant()).await.unwrap();

        assert_eq!(id_token, "a.b.c");
        let (authorization, body) = sent.recv().await.unwrap();
        // RFC 6749 §2.3.1: id and secret form-encoded, then base64.
        let expected = STANDARD.encode("emma+web:s3cret%3A%2F%2B");
        assert_eq!(authorization, Some(format!("Basic {expected}")));
        let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(form["grant_type"], "authorization_code");
        assert_eq!(form["code"], "the-code");
        assert_eq!(form["redirect_uri"], "https://emma.example.test/cb");
        assert_eq!(form["client_id"], "emma web");
        assert_eq!(form["code_verifier"], "the-verifier");
    }

    #[tokio::test]
    async fn a_public_client_sends_no_authorization_header() {
        let (url, mut sent) = token_server(200, serde_json::json!({"id_token": "a.b.c"})).await;
        let endpoint = HttpTokenEndpoint::new(url, None).unwrap();

        endpoint.redeem(&grant()).await.unwrap();

        assert_eq!(sent.recv().await.unwrap().0, None);
    }

    #[tokio::test]
    async fn a_refused_code_is_a_refusal_and_a_broken_endpoint_is_not() {
        let (url, _sent) = token_server(400, serde_json::json!({"error": "invalid_grant"})).await;
        let refused = HttpTokenEndpoint::new(url, None)
            .unwrap()
            .redeem(&grant())
            .await
            .unwrap_err();
        assert_eq!(refused, OidcError::CodeRefused("invalid_grant".into()));
        assert!(refused.is_refusal());

        let (url, _sent) = token_server(502, serde_json::json!({})).await;
        let broken = HttpTokenEndpoint::new(url, None)
            .unwrap()
            .redeem(&grant())
            .await
            .unwrap_err();
        assert!(
            matches!(broken, OidcError::TokenEndpointUnavailable(_)),
            "{broken:?}"
        );
        assert!(!broken.is_refusal());

        let (url, _sent) = token_server(200, serde_json::json!({"access_token": "x"})).await;
        let without = HttpTokenEndpoint::new(url, None)
            .unwrap()
            .redeem(&grant())
            .await
            .unwrap_err();
        assert!(
            matches!(without, OidcError::TokenEndpointUnavailable(_)),
            "{without:?}"
        );
    }
}
