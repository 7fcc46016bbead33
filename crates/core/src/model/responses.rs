//! The OpenAI Responses API: request body and stream events.

use std::collections::VecDeque;

use serde_json::{Value, json};

use super::sse::SseEvent;
use super::{ModelError, ModelErrorKind, ModelRequest, ResponseEvent, ResponseItem};
use tern_protocol::v2::TokenUsageBreakdown;

/// The JSON body of `POST /responses`. Instructions travel in `input` as a developer message,
/// as the reference implementation sends them.
pub(super) fn request_body(request: &ModelRequest) -> Value {
    let mut body = json!({
        "model": request.model,
        "input": request.input,
        "tools": request.tools,
        "tool_choice": "auto",
        "parallel_tool_calls": true,
        "store": false,
        "stream": true,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": request.thread_id,
    });
    let mut reasoning = serde_json::Map::new();
    if let Some(effort) = &request.reasoning_effort {
        reasoning.insert("effort".into(), json!(effort));
    }
    match request.reasoning_summary {
        Some(tern_protocol::v2::ReasoningSummary::None) => {}
        Some(summary) => {
            reasoning.insert("summary".into(), json!(summary));
        }
        None => {
            reasoning.insert("summary".into(), json!("auto"));
        }
    }
    body["reasoning"] = Value::Object(reasoning);
    if let Some(schema) = &request.output_schema {
        body["text"] = json!({
            "format": {"type": "json_schema", "name": "output", "strict": true, "schema": schema}
        });
    }
    body
}

/// Decodes one SSE event into zero or more [`ResponseEvent`]s.
pub(super) fn decode_event(
    event: &SseEvent,
    out: &mut VecDeque<ResponseEvent>,
) -> Result<(), ModelError> {
    let Ok(data) = serde_json::from_str::<Value>(&event.data) else {
        tracing::debug!(event = %event.event, "ignoring an SSE event whose data is not JSON");
        return Ok(());
    };
    // Providers send the type in the data; `event:` lines are optional.
    let kind = data["type"].as_str().unwrap_or(&event.event);
    let text = |key: &str| data[key].as_str().unwrap_or_default().to_owned();
    let index = |key: &str| data[key].as_i64().unwrap_or(0);
    match kind {
        "response.output_item.added" => {
            if let Some(item) = item_of(&data) {
                out.push_back(ResponseEvent::OutputItemAdded(item));
            }
        }
        "response.output_item.done" => {
            if let Some(item) = item_of(&data) {
                out.push_back(ResponseEvent::OutputItemDone(item));
            }
        }
        "response.output_text.delta" => out.push_back(ResponseEvent::OutputTextDelta {
            item_id: text("item_id"),
            delta: text("delta"),
        }),
        "response.reasoning_summary_part.added" => {
            out.push_back(ResponseEvent::ReasoningSummaryPartAdded {
                item_id: text("item_id"),
                summary_index: index("summary_index"),
            });
        }
        "response.reasoning_summary_text.delta" => {
            out.push_back(ResponseEvent::ReasoningSummaryTextDelta {
                item_id: text("item_id"),
                summary_index: index("summary_index"),
                delta: text("delta"),
            });
        }
        "response.reasoning_text.delta" => out.push_back(ResponseEvent::ReasoningTextDelta {
            item_id: text("item_id"),
            content_index: index("content_index"),
            delta: text("delta"),
        }),
        "response.completed" => out.push_back(ResponseEvent::Completed {
            response_id: data["response"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            usage: usage_of(&data["response"]["usage"]),
        }),
        "response.failed" | "error" => {
            let error = if data["response"]["error"].is_object() {
                &data["response"]["error"]
            } else {
                &data["error"]
            };
            let message = error["message"].as_str().unwrap_or("the response failed");
            let kind = match error["code"].as_str() {
                Some("context_length_exceeded") => ModelErrorKind::ContextWindowExceeded,
                Some("insufficient_quota") => ModelErrorKind::QuotaExceeded,
                _ => ModelErrorKind::ResponseFailed,
            };
            return Err(ModelError {
                kind,
                message: format!("stream disconnected before completion: {message}"),
                details: Some(event.data.clone()),
            });
        }
        _ => {}
    }
    Ok(())
}

/// The `item` of an output item event, when it is a kind we model.
fn item_of(data: &Value) -> Option<ResponseItem> {
    match serde_json::from_value::<ResponseItem>(data["item"].clone()) {
        Ok(ResponseItem::Other) | Err(_) => None,
        Ok(item) => Some(item),
    }
}

/// The `usage` object of `response.completed`.
pub(super) fn usage_of(usage: &Value) -> Option<TokenUsageBreakdown> {
    if !usage.is_object() {
        return None;
    }
    let int = |value: &Value| value.as_i64().unwrap_or(0);
    let input = int(&usage["input_tokens"]);
    let output = int(&usage["output_tokens"]);
    Some(TokenUsageBreakdown {
        input_tokens: input,
        cached_input_tokens: int(&usage["input_tokens_details"]["cached_tokens"]),
        cache_write_input_tokens: 0,
        output_tokens: output,
        reasoning_output_tokens: int(&usage["output_tokens_details"]["reasoning_tokens"]),
        total_tokens: usage["total_tokens"].as_i64().unwrap_or(input + output),
    })
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    fn decode(data: &Value) -> Result<Vec<ResponseEvent>, ModelError> {
        let mut out = VecDeque::new();
        decode_event(
            &SseEvent {
                event: "message".into(),
                data: data.to_string(),
            },
            &mut out,
        )?;
        Ok(out.into_iter().collect())
    }

    #[test]
    fn text_and_completion_events_decode() {
        assert_eq!(
            decode(&json!({"type": "response.output_text.delta", "item_id": "m1", "delta": "Hi"}))
                .unwrap(),
            [ResponseEvent::OutputTextDelta {
                item_id: "m1".into(),
                delta: "Hi".into()
            }]
        );
        assert_eq!(
            decode(&json!({"type": "response.completed", "response": {"id": "r1", "usage": {
                "input_tokens": 10, "input_tokens_details": {"cached_tokens": 4},
                "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 2}, "total_tokens": 15}}}))
            .unwrap(),
            [ResponseEvent::Completed {
                response_id: "r1".into(),
                usage: Some(TokenUsageBreakdown {
                    total_tokens: 15,
                    input_tokens: 10,
                    cached_input_tokens: 4,
                    cache_write_input_tokens: 0,
                    output_tokens: 5,
                    reasoning_output_tokens: 2,
                }),
            }]
        );
    }

    #[test]
    fn a_failed_response_is_an_error_with_the_providers_message() {
        let error =
            decode(&json!({"type": "response.failed", "response": {"error": {"message": "boom"}}}))
                .unwrap_err();
        assert_eq!(error.kind, ModelErrorKind::ResponseFailed);
        assert_eq!(error.message, "stream disconnected before completion: boom");
    }
}
