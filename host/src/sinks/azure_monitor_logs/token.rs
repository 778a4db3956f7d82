//! Access tokens from Microsoft Entra ID by the OAuth 2.0 client
//! credentials grant, cached until shortly before they expire.

use anyhow::{Context, bail};
use reqwest::header::HeaderValue;
use serde::Deserialize;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// A token is replaced once this little of its life is left: a request
/// made with it must arrive (and may be retried) before it expires, and
/// clocks drift. Five minutes, as Microsoft's client libraries refresh…
const REFRESH_BEFORE: Duration = Duration::from_secs(300);

/// …or, for a token issued for less than 50 minutes, a tenth of its life,
/// so a short-lived token is still used for most of it.
const REFRESH_FRACTION: u32 = 10;

/// What [`Tokens::rejected`] learnt of the cached token.
mod state {
    /// Nothing: the token is good until it expires.
    pub const GOOD: u8 = 0;
    /// The destination refused it (`401`): the next request gets a new one.
    pub const REFUSED: u8 = 1;
    /// The cached token was fetched because the last one was refused.
    pub const REPLACED: u8 = 2;
}

/// The client credentials and the token they bought last.
pub struct Tokens {
    endpoint: String,
    /// The form sent for a token, secret included: never printed.
    form: Vec<(&'static str, String)>,
    /// Held while a token is fetched, so that concurrent requests wait for
    /// that one instead of fetching their own.
    cached: Mutex<Option<Token>>,
    state: AtomicU8,
}

struct Token {
    /// `Bearer …`, marked sensitive.
    header: HeaderValue,
    /// When to fetch the next one.
    refresh_at: Instant,
}

/// The token endpoint's answer
/// (<https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow>).
#[derive(Deserialize)]
struct Granted {
    access_token: String,
    /// Seconds; some endpoints write it as a string.
    expires_in: serde_json::Value,
}

#[derive(Deserialize)]
struct Refused {
    error: Option<String>,
    error_description: Option<String>,
}

impl Tokens {
    pub fn new(endpoint: String, client_id: &str, client_secret: &str, scope: &str) -> Tokens {
        let form = vec![
            ("grant_type", "client_credentials".to_owned()),
            ("client_id", client_id.to_owned()),
            ("client_secret", client_secret.to_owned()),
            ("scope", scope.to_owned()),
        ];
        Tokens { endpoint, form, cached: Mutex::new(None), state: AtomicU8::new(state::GOOD) }
    }

    /// The `Authorization` header for the next request: the cached token,
    /// or a new one when it is near its end or was refused.
    pub async fn bearer(&self, client: &reqwest::Client) -> anyhow::Result<HeaderValue> {
        let mut cached = self.cached.lock().await;
        let refused = self.state.load(Ordering::SeqCst) == state::REFUSED;
        if let Some(token) = cached.as_ref()
            && !refused
            && Instant::now() < token.refresh_at
        {
            return Ok(token.header.clone());
        }
        *cached = None;
        let token = self.fetch(client).await?;
        let header = token.header.clone();
        *cached = Some(token);
        let _ = self.state.compare_exchange(state::REFUSED, state::REPLACED, Ordering::SeqCst, Ordering::SeqCst);
        Ok(header)
    }

    /// The destination refused the token it was sent (`401`). Returns
    /// whether to try again with a new one: yes, unless the token refused
    /// was itself fetched after a refusal (the credentials are fine for the
    /// token endpoint but not for this destination, and more tokens will
    /// not change that).
    pub fn rejected(&self) -> bool {
        self.state.swap(state::REFUSED, Ordering::SeqCst) != state::REPLACED
    }

    /// The destination took a request: its token is good.
    pub fn accepted(&self) {
        let _ = self.state.compare_exchange(state::REPLACED, state::GOOD, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// Ask the token endpoint for a token. The error says why (the
    /// endpoint's `error` and `error_description`), never the secret.
    async fn fetch(&self, client: &reqwest::Client) -> anyhow::Result<Token> {
        let what = || format!("getting a token from {}", self.endpoint);
        let asked = Instant::now();
        let response = client.post(&self.endpoint).form(&self.form).send().await.with_context(what)?;
        let status = response.status();
        let body = response.bytes().await.with_context(what)?;
        if !status.is_success() {
            let why = match serde_json::from_slice::<Refused>(&body) {
                Ok(Refused { error: Some(error), error_description }) => {
                    format!("{error}: {}", error_description.unwrap_or_default())
                }
                _ => String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned(),
            };
            bail!("{}: HTTP {status}: {}", what(), why.trim());
        }
        let granted: Granted =
            serde_json::from_slice(&body).with_context(|| format!("{}: the answer is not a token", what()))?;
        let lifetime = match &granted.expires_in {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::String(s) => s.parse().ok(),
            _ => None,
        }
        .map(Duration::from_secs)
        .with_context(|| format!("{}: `expires_in` is not a number of seconds", what()))?;
        let mut header = HeaderValue::from_str(&format!("Bearer {}", granted.access_token))
            .with_context(|| format!("{}: the token has characters a header cannot hold", what()))?;
        header.set_sensitive(true);
        let early = REFRESH_BEFORE.min(lifetime / REFRESH_FRACTION);
        // From when it was asked for: the endpoint counts from before it answered.
        Ok(Token { header, refresh_at: asked + lifetime - early })
    }
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens {{ endpoint: {:?}, client_secret: *** }}", self.endpoint)
    }
}
