//! The JSON-RPC 2.0 envelope as the app-server protocol uses it.
//!
//! Wire rules, which differ from strict JSON-RPC in two ways the reference implementation set:
//! output never carries `"jsonrpc": "2.0"` (input may, and it is ignored), and every server
//! notification carries an `emittedAtMs` member beside `method` and `params`.
//!
//! Parsing is two-staged so that a bad line gets the most precise error: text that is not JSON
//! at all is a parse error (`-32700`); JSON that is not a request, notification or response is an
//! invalid request (`-32600`), echoing the `id` when one can be recovered. Method names and params
//! are decoded later, by the method tables in [`crate::methods`].
//!
//! This module does no I/O.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use ts_rs::TS;

/// A request id: an integer or a string, echoed back with its JSON type unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, TS)]
#[serde(untagged)]
pub enum RequestId {
    /// A string id, echoed as a string.
    String(String),
    /// An integer id (signed 64-bit), echoed as an integer.
    Integer(i64),
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::String(id) => write!(f, "{id:?}"),
            Self::Integer(id) => write!(f, "{id}"),
        }
    }
}

/// JSON-RPC error codes tern answers with.
pub mod error_code {
    /// The line is not JSON.
    pub const PARSE_ERROR: i64 = -32700;
    /// JSON, but not a valid request object; also the code of the handshake and experimental
    /// gates, as in the reference implementation.
    pub const INVALID_REQUEST: i64 = -32600;
    /// No such method.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// The params do not decode into the method's params type.
    pub const INVALID_PARAMS: i64 = -32602;
    /// A failure on our side: a bug, or an I/O error the client could not have prevented.
    pub const INTERNAL_ERROR: i64 = -32603;
    /// The server's processing queue is full; the request was not run.
    pub const SERVER_OVERLOADED: i64 = -32001;
}

/// The `error` member of an error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpcError {
    /// One of [`error_code`].
    pub code: i64,
    /// What was wrong, for a person to read.
    pub message: String,
    /// Machine-readable detail, when there is some (for invalid params: the field path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

impl RpcError {
    /// An error without `data`.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// `-32600` with the given message.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(error_code::INVALID_REQUEST, message)
    }

    /// `-32603` with the given message.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(error_code::INTERNAL_ERROR, message)
    }

    /// The `-32001` answer to a request the server had no room to queue.
    pub fn overloaded() -> Self {
        Self::new(
            error_code::SERVER_OVERLOADED,
            "Server overloaded; retry later.",
        )
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for RpcError {}

/// One message read from a client, with params left undecoded.
#[derive(Debug)]
pub enum IncomingMessage {
    /// `{id, method, params?}`: expects a response.
    Request {
        id: RequestId,
        method: String,
        params: Option<Box<RawValue>>,
    },
    /// `{method, params?}`: no response.
    Notification {
        method: String,
        params: Option<Box<RawValue>>,
    },
    /// `{id, result}`: the client's answer to a server-initiated request.
    Response {
        id: RequestId,
        result: Box<RawValue>,
    },
    /// `{id, error}`: the client's refusal of a server-initiated request.
    Error { id: RequestId, error: RpcError },
}

/// A line that is not a message we can act on, and the error to answer it with.
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidMessage {
    /// The id to echo: `None` (sent as `null`) when none could be recovered.
    pub id: Option<RequestId>,
    pub error: RpcError,
}

/// The members of any message, before we know which kind it is.
#[derive(Deserialize)]
struct RawMessage {
    /// Kept raw so that `"id": null` (invalid) is told apart from no id (a notification).
    #[serde(default, deserialize_with = "present")]
    id: Option<Box<RawValue>>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    params: Option<Box<RawValue>>,
    /// Raw for the same reason: `"result": null` is a valid answer.
    #[serde(default, deserialize_with = "present")]
    result: Option<Box<RawValue>>,
    #[serde(default)]
    error: Option<RpcError>,
}

impl IncomingMessage {
    /// Parses one line (without its newline).
    pub fn parse(line: &str) -> Result<Self, InvalidMessage> {
        let parse_error = |err: &serde_json::Error| InvalidMessage {
            id: None,
            error: RpcError::new(
                error_code::PARSE_ERROR,
                format!("parse error: {}", message_of(err)),
            ),
        };
        // Serde would read a struct from a positional array; a message must be an object.
        if !line.trim_start().starts_with('{') {
            return Err(match serde_json::from_str::<serde::de::IgnoredAny>(line) {
                Err(err) if err.is_syntax() || err.is_eof() => parse_error(&err),
                _ => InvalidMessage {
                    id: None,
                    error: RpcError::invalid_request(
                        "invalid request: a message must be a JSON object",
                    ),
                },
            });
        }
        let raw: RawMessage = match serde_json::from_str(line) {
            Ok(raw) => raw,
            Err(err) if err.is_syntax() || err.is_eof() => return Err(parse_error(&err)),
            Err(err) => {
                return Err(InvalidMessage {
                    id: recover_id(line),
                    error: RpcError::invalid_request(format!(
                        "invalid request: {}",
                        message_of(&err)
                    )),
                });
            }
        };
        let id = match raw.id.as_deref().map(parse_id).transpose() {
            Ok(id) => id,
            Err(found) => {
                return Err(InvalidMessage {
                    id: None,
                    error: RpcError::invalid_request(format!(
                        "invalid request: `id` must be an integer or a string, found {found}"
                    )),
                });
            }
        };
        match (id, raw.method, raw.result, raw.error) {
            (Some(id), Some(method), None, None) => Ok(Self::Request {
                id,
                method,
                params: raw.params,
            }),
            (None, Some(method), None, None) => Ok(Self::Notification {
                method,
                params: raw.params,
            }),
            (Some(id), None, Some(result), None) => Ok(Self::Response { id, result }),
            (Some(id), None, None, Some(error)) => Ok(Self::Error { id, error }),
            (id, ..) => Err(InvalidMessage {
                id,
                error: RpcError::invalid_request(
                    "invalid request: expected a request {id, method, params?}, a notification \
                     {method, params?} or a response {id, result | error}",
                ),
            }),
        }
    }
}

/// A `serde_json` error without its "at line L column C" suffix: the client sent one line, and
/// a position inside it is noise next to the reason.
pub(crate) fn message_of(err: &serde_json::Error) -> String {
    let message = err.to_string();
    let position = format!(" at line {} column {}", err.line(), err.column());
    message
        .strip_suffix(&position)
        .unwrap_or(&message)
        .to_owned()
}

/// Wraps whatever JSON is present, `null` included; a missing member stays `None`.
fn present<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<Box<RawValue>>, D::Error> {
    Box::<RawValue>::deserialize(de).map(Some)
}

/// Decodes an `id` member, or names the JSON it found instead.
fn parse_id(raw: &RawValue) -> Result<RequestId, String> {
    serde_json::from_str(raw.get()).map_err(|_| raw.get().chars().take(40).collect())
}

/// Best effort: the id of a JSON object whose other members are malformed.
fn recover_id(line: &str) -> Option<RequestId> {
    #[derive(Deserialize)]
    struct IdOnly {
        id: RequestId,
    }
    serde_json::from_str::<IdOnly>(line).ok().map(|m| m.id)
}

/// A response or error ready to write: `{"id":…,"result":…}` or `{"id":…,"error":…}`.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum OutgoingResponse {
    Result {
        id: RequestId,
        result: Box<RawValue>,
    },
    Error {
        /// `null` when the request's id could not be read.
        id: Option<RequestId>,
        error: RpcError,
    },
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;
    use serde_json::json;

    use super::*;

    fn check(line: &str, expected: &serde_json::Value) {
        let actual = match IncomingMessage::parse(line) {
            Ok(IncomingMessage::Request { id, method, params }) => json!({
                "request": {"id": id, "method": method, "params": params.map(|p| p.get().to_owned())}
            }),
            Ok(IncomingMessage::Notification { method, params }) => json!({
                "notification": {"method": method, "params": params.map(|p| p.get().to_owned())}
            }),
            Ok(IncomingMessage::Response { id, result }) => {
                json!({"response": {"id": id, "result": result.get()}})
            }
            Ok(IncomingMessage::Error { id, error }) => {
                json!({"error": {"id": id, "error": error}})
            }
            Err(InvalidMessage { id, error }) => json!({"invalid": {"id": id, "code": error.code}}),
        };
        assert_eq!(&actual, expected, "line: {line}");
    }

    #[test]
    fn requests_keep_their_id_type_and_raw_params() {
        check(
            r#"{"id":1,"method":"a/b","params":{"x":1}}"#,
            &json!({"request": {"id": 1, "method": "a/b", "params": "{\"x\":1}"}}),
        );
        check(
            r#"{"jsonrpc":"2.0","id":"abc","method":"a/b"}"#,
            &json!({"request": {"id": "abc", "method": "a/b", "params": null}}),
        );
        check(
            r#"{"id":-5,"method":"m","params":null}"#,
            &json!({"request": {"id": -5, "method": "m", "params": null}}),
        );
    }

    #[test]
    fn notifications_and_responses_are_told_apart() {
        check(
            r#"{"method":"initialized"}"#,
            &json!({"notification": {"method": "initialized", "params": null}}),
        );
        check(
            r#"{"id":0,"result":{"decision":"accept"}}"#,
            &json!({"response": {"id": 0, "result": "{\"decision\":\"accept\"}"}}),
        );
        check(
            r#"{"id":0,"result":null}"#,
            &json!({"response": {"id": 0, "result": "null"}}),
        );
        check(
            r#"{"id":3,"error":{"code":-1,"message":"no"}}"#,
            &json!({"error": {"id": 3, "error": {"code": -1, "message": "no"}}}),
        );
    }

    #[test]
    fn bad_lines_get_the_precise_code_and_any_recoverable_id() {
        check(
            "not json",
            &json!({"invalid": {"id": null, "code": -32700}}),
        );
        check(
            r#"{"id":1,"method":"#,
            &json!({"invalid": {"id": null, "code": -32700}}),
        );
        check("[1,2,3]", &json!({"invalid": {"id": null, "code": -32600}}));
        check(
            r#"[1,"initialize"]"#,
            &json!({"invalid": {"id": null, "code": -32600}}),
        );
        check("[1,", &json!({"invalid": {"id": null, "code": -32700}}));
        check("42", &json!({"invalid": {"id": null, "code": -32600}}));
        check(
            r#"{"id":9}"#,
            &json!({"invalid": {"id": 9, "code": -32600}}),
        );
        check(
            r#"{"id":9,"method":5}"#,
            &json!({"invalid": {"id": 9, "code": -32600}}),
        );
        check(
            r#"{"id":13.5,"method":"m"}"#,
            &json!({"invalid": {"id": null, "code": -32600}}),
        );
        check(
            r#"{"id":null,"method":"m"}"#,
            &json!({"invalid": {"id": null, "code": -32600}}),
        );
        check(
            r#"{"id":1,"method":"m","result":{}}"#,
            &json!({"invalid": {"id": 1, "code": -32600}}),
        );
    }

    #[test]
    fn outgoing_responses_carry_no_jsonrpc_member() {
        let ok = OutgoingResponse::Result {
            id: RequestId::String("x".into()),
            result: serde_json::value::to_raw_value(&json!({})).unwrap(),
        };
        assert_eq!(
            serde_json::to_string(&ok).unwrap(),
            r#"{"id":"x","result":{}}"#
        );
        let err = OutgoingResponse::Error {
            id: None,
            error: RpcError::overloaded(),
        };
        assert_eq!(
            serde_json::to_string(&err).unwrap(),
            r#"{"id":null,"error":{"code":-32001,"message":"Server overloaded; retry later."}}"#
        );
    }
}
