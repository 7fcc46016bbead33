//! Model clients: one request per sampling step, streamed back as [`ResponseEvent`]s.
//!
//! Two wire APIs map onto the same events: the OpenAI Responses API ([`responses`]) and
//! OpenAI-style Chat Completions ([`chat`], for Ollama, vLLM, llama.cpp, LM Studio). The turn loop
//! above sees no difference.
//!
//! Failures: a request that cannot connect, or gets 429 or 5xx, is retried here with
//! exponential backoff and jitter (honouring `Retry-After`), up to the provider's
//! `request_max_retries`, without telling anyone. A stream that breaks off after it started is
//! reported as [`ModelError`] with [`ModelErrorKind::StreamDisconnected`]; the turn loop decides
//! whether to retry it (and tells the client).

mod chat;
mod item;
mod responses;
mod sse;

use std::collections::VecDeque;
use std::time::Duration;

pub use item::{ContentItem, FunctionOutput, ReasoningText, ResponseItem};
use tern_protocol::v2::{CodexErrorInfo, ReasoningSummary, TokenUsageBreakdown, TurnError};

use crate::config::{ModelProvider, WireApi};
use sse::SseDecoder;

/// What one sampling step sends to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRequest {
    pub model: String,
    /// The whole conversation as the model sees it, instructions first.
    pub input: Vec<ResponseItem>,
    pub reasoning_effort: Option<String>,
    pub reasoning_summary: Option<ReasoningSummary>,
    /// JSON Schema the final answer must follow.
    pub output_schema: Option<serde_json::Value>,
    /// Tools offered to the model, in the Responses API's shape.
    pub tools: Vec<serde_json::Value>,
    /// The thread id: cache key and the `session-id`/`thread-id` headers.
    pub thread_id: String,
    pub turn_id: String,
}

/// One event of a streamed response.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseEvent {
    /// An output item began (a message or reasoning); carries its id and kind.
    OutputItemAdded(ResponseItem),
    /// More text of the message `item_id`.
    OutputTextDelta { item_id: String, delta: String },
    /// A reasoning summary part began.
    ReasoningSummaryPartAdded { item_id: String, summary_index: i64 },
    /// More text of a reasoning summary part.
    ReasoningSummaryTextDelta {
        item_id: String,
        summary_index: i64,
        delta: String,
    },
    /// More raw reasoning text.
    ReasoningTextDelta {
        item_id: String,
        content_index: i64,
        delta: String,
    },
    /// An output item is complete.
    OutputItemDone(ResponseItem),
    /// The response is complete.
    Completed {
        response_id: String,
        usage: Option<TokenUsageBreakdown>,
    },
}

/// What went wrong talking to the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ModelError {
    pub kind: ModelErrorKind,
    /// For a person: what happened.
    pub message: String,
    /// The provider's own words (response body), when there were some.
    pub details: Option<String>,
}

/// The kinds of [`ModelError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelErrorKind {
    /// No connection could be made (refused, DNS, TLS).
    Connect,
    /// The provider answered with an error status.
    Http { status: u16 },
    /// 429 (or 5xx) until the retries ran out.
    RetriesExhausted { status: u16 },
    /// The stream broke off, went silent past the idle timeout, or ended without completing.
    StreamDisconnected,
    /// The provider reported the response as failed.
    ResponseFailed,
    /// The context window is full.
    ContextWindowExceeded,
    /// The account's quota is used up.
    QuotaExceeded,
}

impl ModelError {
    fn new(kind: ModelErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            details: None,
        }
    }

    /// Whether the turn loop may try the whole request again.
    pub fn is_stream_retryable(&self) -> bool {
        matches!(self.kind, ModelErrorKind::StreamDisconnected)
    }

    /// The error as clients see it in `error` notifications and failed turns.
    pub fn to_turn_error(&self) -> TurnError {
        let info = match self.kind {
            ModelErrorKind::Connect => CodexErrorInfo::ResponseStreamConnectionFailed {
                http_status_code: None,
            },
            ModelErrorKind::Http { status: 400 } => CodexErrorInfo::BadRequest,
            ModelErrorKind::Http { status } if status >= 500 => CodexErrorInfo::InternalServerError,
            ModelErrorKind::Http { status } => CodexErrorInfo::HttpConnectionFailed {
                http_status_code: Some(status),
            },
            ModelErrorKind::RetriesExhausted { status } if status >= 500 => {
                CodexErrorInfo::InternalServerError
            }
            ModelErrorKind::RetriesExhausted { status } => {
                CodexErrorInfo::ResponseTooManyFailedAttempts {
                    http_status_code: Some(status),
                }
            }
            ModelErrorKind::StreamDisconnected => CodexErrorInfo::ResponseStreamDisconnected {
                http_status_code: None,
            },
            ModelErrorKind::ResponseFailed => CodexErrorInfo::Other,
            ModelErrorKind::ContextWindowExceeded => CodexErrorInfo::ContextWindowExceeded,
            ModelErrorKind::QuotaExceeded => CodexErrorInfo::UsageLimitExceeded,
        };
        TurnError {
            message: self.message.clone(),
            codex_error_info: Some(info),
            additional_details: self.details.clone(),
        }
    }
}

/// Talks to one provider.
#[derive(Debug, Clone)]
pub struct ModelClient {
    http: reqwest::Client,
    provider: ModelProvider,
    /// `originator` header: the client's `clientInfo.name`.
    originator: String,
    user_agent: String,
}

/// The first retry waits this long; each further one twice as long.
const BACKOFF_BASE: Duration = Duration::from_millis(200);
/// No single wait is longer than this, whatever `Retry-After` says.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

impl ModelClient {
    pub fn new(
        http: reqwest::Client,
        provider: ModelProvider,
        originator: String,
        user_agent: String,
    ) -> Self {
        Self {
            http,
            provider,
            originator,
            user_agent,
        }
    }

    pub fn provider(&self) -> &ModelProvider {
        &self.provider
    }

    /// Sends the request and returns the open stream, retrying connection failures, 429 and
    /// 5xx as the provider allows.
    pub async fn stream(&self, request: &ModelRequest) -> Result<ResponseStream, ModelError> {
        let (path, body) = match self.provider.wire_api {
            WireApi::Responses => ("responses", responses::request_body(request)),
            WireApi::Chat => ("chat/completions", chat::request_body(request)),
        };
        let body = serde_json::to_vec(&body).map_err(|err| {
            ModelError::new(
                ModelErrorKind::ResponseFailed,
                format!("cannot encode the request: {err}"),
            )
        })?;
        let url = self.url(path);
        let mut attempt = 0;
        loop {
            let outcome = self.send_once(&url, request, body.clone()).await;
            let (error, retry_after) = match outcome {
                Ok(response) => {
                    return Ok(ResponseStream::new(
                        response,
                        self.provider.wire_api,
                        self.provider.stream_idle_timeout,
                    ));
                }
                Err(failure) => failure,
            };
            let retryable = match error.kind {
                ModelErrorKind::Connect => true,
                ModelErrorKind::Http { status } => status == 429 || status >= 500,
                _ => false,
            };
            if !retryable {
                return Err(error);
            }
            if attempt >= self.provider.request_max_retries {
                return Err(match error.kind {
                    ModelErrorKind::Http { status: 429 }
                        if self.provider.request_max_retries > 0 =>
                    {
                        ModelError {
                            kind: ModelErrorKind::RetriesExhausted { status: 429 },
                            message: "exceeded retry limit, last status: 429 Too Many Requests"
                                .to_owned(),
                            details: error.details,
                        }
                    }
                    _ => error,
                });
            }
            attempt += 1;
            let delay = retry_after
                .unwrap_or_else(|| backoff(attempt))
                .min(MAX_BACKOFF);
            tracing::debug!(attempt, ?delay, error = %error, "retrying the model request");
            tokio::time::sleep(delay).await;
        }
    }

    fn url(&self, path: &str) -> String {
        let mut url = format!("{}/{path}", self.provider.base_url.trim_end_matches('/'));
        let mut separator = '?';
        for (key, value) in &self.provider.query_params {
            url.push(separator);
            url.push_str(key);
            url.push('=');
            url.push_str(value);
            separator = '&';
        }
        url
    }

    /// One HTTP attempt: the response if its status is a success, else the error and the
    /// server's `Retry-After`.
    async fn send_once(
        &self,
        url: &str,
        request: &ModelRequest,
        body: Vec<u8>,
    ) -> Result<reqwest::Response, (ModelError, Option<Duration>)> {
        let mut builder = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("accept", "text/event-stream")
            .header("originator", &self.originator)
            .header("user-agent", &self.user_agent)
            .header("session-id", &request.thread_id)
            .header("thread-id", &request.thread_id)
            .header("x-client-request-id", &request.thread_id)
            .body(body);
        if let Some(key) = self.provider.api_key() {
            builder = builder.bearer_auth(key);
        }
        for (name, value) in &self.provider.http_headers {
            builder = builder.header(name, value);
        }
        for (name, var) in &self.provider.env_http_headers {
            if let Ok(value) = std::env::var(var) {
                builder = builder.header(name, value);
            }
        }
        let shown = redacted(url);
        let response = builder.send().await.map_err(|err| {
            let cause = error_chain(&err.without_url());
            let message = format!("cannot reach the model provider at {shown}: {cause}");
            (ModelError::new(ModelErrorKind::Connect, message), None)
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response.text().await.unwrap_or_default();
        Err((http_error(status, shown, body), retry_after))
    }
}

/// Classifies an error status and its body.
fn http_error(status: reqwest::StatusCode, url: &str, body: String) -> ModelError {
    let code = status.as_u16();
    let provider_message = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|value| {
            let error = value.get("error")?;
            let text = error
                .get("message")
                .and_then(|m| m.as_str())
                .map(str::to_owned);
            let code = error
                .get("code")
                .and_then(|c| c.as_str())
                .map(str::to_owned);
            Some((text, code))
        });
    let (text, error_code) = provider_message.unwrap_or((None, None));
    let kind = match (code, error_code.as_deref()) {
        (400, Some("context_length_exceeded")) => ModelErrorKind::ContextWindowExceeded,
        (429, Some("insufficient_quota")) => ModelErrorKind::QuotaExceeded,
        _ => ModelErrorKind::Http { status: code },
    };
    let reason = status.canonical_reason().unwrap_or("");
    let message = match text {
        Some(text) => format!("unexpected status {code} {reason}: {text}, url: {url}"),
        None => format!("unexpected status {code} {reason}, url: {url}"),
    };
    ModelError {
        kind,
        message,
        details: (!body.is_empty()).then_some(body),
    }
}

/// A URL fit for messages and logs: without its query string, which may hold a key
/// (`query_params`).
fn redacted(url: &str) -> &str {
    url.split_once('?').map_or(url, |(base, _)| base)
}

/// `error` and its sources, joined: reqwest's top-level message alone says little.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Exponential backoff with up to 10% jitter, for the `attempt`th retry (from 1).
pub(crate) fn backoff(attempt: u32) -> Duration {
    let base = BACKOFF_BASE.saturating_mul(1 << attempt.saturating_sub(1).min(16));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let jitter = base.mul_f64(f64::from(nanos % 1000) / 10_000.0);
    base + jitter
}

/// A streaming response being decoded into events.
pub struct ResponseStream {
    response: reqwest::Response,
    decoder: SseDecoder,
    wire: WireApi,
    chat: chat::ChatState,
    idle_timeout: Duration,
    pending: VecDeque<ResponseEvent>,
    done: bool,
}

impl ResponseStream {
    fn new(response: reqwest::Response, wire: WireApi, idle_timeout: Duration) -> Self {
        Self {
            response,
            decoder: SseDecoder::default(),
            wire,
            chat: chat::ChatState::default(),
            idle_timeout,
            pending: VecDeque::new(),
            done: false,
        }
    }

    /// The next event; `None` after [`ResponseEvent::Completed`]. A stream that ends or stalls
    /// before completing yields a [`ModelErrorKind::StreamDisconnected`] error.
    pub async fn next(&mut self) -> Option<Result<ResponseEvent, ModelError>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                if matches!(event, ResponseEvent::Completed { .. }) {
                    self.done = true;
                }
                return Some(Ok(event));
            }
            if self.done {
                return None;
            }
            let chunk = match tokio::time::timeout(self.idle_timeout, self.response.chunk()).await {
                Err(_) => {
                    self.done = true;
                    return Some(Err(ModelError::new(
                        ModelErrorKind::StreamDisconnected,
                        format!(
                            "stream disconnected before completion: idle for {} ms",
                            self.idle_timeout.as_millis()
                        ),
                    )));
                }
                Ok(Err(err)) => {
                    self.done = true;
                    return Some(Err(ModelError::new(
                        ModelErrorKind::StreamDisconnected,
                        format!(
                            "stream disconnected before completion: {}",
                            error_chain(&err)
                        ),
                    )));
                }
                Ok(Ok(None)) => {
                    self.done = true;
                    // Chat streams may end without `[DONE]`; what arrived is the response.
                    if self.wire == WireApi::Chat {
                        self.chat.finish(&mut self.pending);
                        if !self.pending.is_empty() {
                            continue;
                        }
                    }
                    return Some(Err(ModelError::new(
                        ModelErrorKind::StreamDisconnected,
                        "stream disconnected before completion: stream closed before the response completed",
                    )));
                }
                Ok(Ok(Some(chunk))) => chunk,
            };
            let mut events = Vec::new();
            self.decoder.feed(&chunk, &mut events);
            for event in events {
                let result = match self.wire {
                    WireApi::Responses => responses::decode_event(&event, &mut self.pending),
                    WireApi::Chat => self.chat.decode_event(&event, &mut self.pending),
                };
                if let Err(error) = result {
                    self.done = true;
                    self.pending.clear();
                    return Some(Err(error));
                }
            }
        }
    }
}
