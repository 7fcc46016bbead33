//! OpenAI-style Chat Completions (`wire_api = "chat"`): request body and stream events, mapped
//! onto the same [`ResponseEvent`]s as the Responses API.
//!
//! Chat streams carry no item ids or item boundaries, so this module makes them: the first
//! reasoning delta opens a reasoning item, the first content delta a message, and the end of
//! the stream (`finish_reason`, `[DONE]` or end of body) closes them, followed by the tool calls
//! assembled from their deltas by `index`. Reasoning arrives as `reasoning_content` (vLLM,
//! `DeepSeek`, llama.cpp) or `reasoning` (Ollama).

use std::collections::{BTreeMap, VecDeque};

use serde_json::{Value, json};

use super::sse::SseEvent;
use super::{
    ContentItem, ModelError, ModelErrorKind, ModelRequest, ReasoningText, ResponseEvent,
    ResponseItem,
};

/// The JSON body of `POST /chat/completions`.
pub(super) fn request_body(request: &ModelRequest) -> Value {
    let mut messages = Vec::new();
    for item in &request.input {
        match item {
            ResponseItem::Message { role, content, .. } => {
                // Many servers know no `developer` role; `system` means the same to them.
                let role = if role == "developer" {
                    "system"
                } else {
                    role.as_str()
                };
                messages.push(json!({"role": role, "content": chat_content(content)}));
            }
            ResponseItem::FunctionCall {
                call_id,
                name,
                arguments,
                ..
            } => messages.push(json!({
                "role": "assistant",
                "content": null,
                "tool_calls": [{
                    "id": call_id,
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }],
            })),
            ResponseItem::FunctionCallOutput { call_id, output } => messages.push(json!({
                "role": "tool",
                "tool_call_id": call_id,
                "content": output.text(),
            })),
            // Reasoning and hosted searches are the provider's own; chat servers do not take
            // them back.
            ResponseItem::Reasoning { .. }
            | ResponseItem::WebSearchCall { .. }
            | ResponseItem::Other => {}
        }
    }
    let tools: Vec<Value> = request
        .tools
        .iter()
        .filter(|tool| tool["type"] == "function")
        .map(|tool| {
            json!({
                "type": "function",
                "function": {
                    "name": tool["name"],
                    "description": tool["description"],
                    "parameters": tool["parameters"],
                },
            })
        })
        .collect();
    let mut body = json!({
        "model": request.model,
        "messages": messages,
        "stream": true,
        "stream_options": {"include_usage": true},
    });
    if !tools.is_empty() {
        body["tools"] = Value::Array(tools);
    }
    if let Some(effort) = &request.reasoning_effort {
        body["reasoning_effort"] = json!(effort);
    }
    if let Some(schema) = &request.output_schema {
        body["response_format"] = json!({
            "type": "json_schema",
            "json_schema": {"name": "output", "strict": true, "schema": schema},
        });
    }
    body
}

/// A message's content: a plain string when it is all text, else typed parts.
fn chat_content(content: &[ContentItem]) -> Value {
    if content
        .iter()
        .all(|part| !matches!(part, ContentItem::InputImage { .. }))
    {
        let text: String = content
            .iter()
            .filter_map(|part| match part {
                ContentItem::InputText { text } | ContentItem::OutputText { text } => {
                    Some(text.as_str())
                }
                ContentItem::InputImage { .. } => None,
            })
            .collect();
        return json!(text);
    }
    Value::Array(
        content
            .iter()
            .map(|part| match part {
                ContentItem::InputText { text } | ContentItem::OutputText { text } => {
                    json!({"type": "text", "text": text})
                }
                ContentItem::InputImage { image_url } => {
                    json!({"type": "image_url", "image_url": {"url": image_url}})
                }
            })
            .collect(),
    )
}

/// A tool call being assembled from deltas.
#[derive(Debug, Default)]
struct PartialToolCall {
    id: String,
    name: String,
    arguments: String,
}

/// What a chat stream has produced so far.
#[derive(Debug, Default)]
pub(super) struct ChatState {
    response_id: Option<String>,
    reasoning: Option<(String, String)>,
    message: Option<(String, String)>,
    tool_calls: BTreeMap<i64, PartialToolCall>,
    usage: Option<tern_protocol::v2::TokenUsageBreakdown>,
    finished: bool,
}

impl ChatState {
    pub(super) fn decode_event(
        &mut self,
        event: &SseEvent,
        out: &mut VecDeque<ResponseEvent>,
    ) -> Result<(), ModelError> {
        if event.data.trim() == "[DONE]" {
            self.finish(out);
            return Ok(());
        }
        let Ok(chunk) = serde_json::from_str::<Value>(&event.data) else {
            tracing::debug!("ignoring a chat stream event whose data is not JSON");
            return Ok(());
        };
        if let Some(error) = chunk.get("error") {
            let message = error["message"]
                .as_str()
                .or(error.as_str())
                .unwrap_or("the response failed");
            return Err(ModelError {
                kind: ModelErrorKind::ResponseFailed,
                message: format!("stream disconnected before completion: {message}"),
                details: Some(event.data.clone()),
            });
        }
        if self.response_id.is_none() {
            self.response_id = chunk["id"].as_str().map(str::to_owned);
        }
        if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(chat_usage(usage));
        }
        for choice in chunk["choices"].as_array().into_iter().flatten() {
            let delta = &choice["delta"];
            let reasoning = delta["reasoning_content"]
                .as_str()
                .or(delta["reasoning"].as_str())
                .filter(|text| !text.is_empty());
            if let Some(text) = reasoning {
                let (id, buffer) = self.reasoning.get_or_insert_with(|| {
                    let id = format!("rs_{}", uuid::Uuid::now_v7().simple());
                    out.push_back(ResponseEvent::OutputItemAdded(ResponseItem::Reasoning {
                        id: id.clone(),
                        summary: Vec::new(),
                        content: None,
                        encrypted_content: None,
                    }));
                    (id, String::new())
                });
                buffer.push_str(text);
                out.push_back(ResponseEvent::ReasoningTextDelta {
                    item_id: id.clone(),
                    content_index: 0,
                    delta: text.to_owned(),
                });
            }
            if let Some(text) = delta["content"].as_str().filter(|text| !text.is_empty()) {
                let (id, buffer) = self.message.get_or_insert_with(|| {
                    let id = format!("msg_{}", uuid::Uuid::now_v7().simple());
                    out.push_back(ResponseEvent::OutputItemAdded(ResponseItem::Message {
                        id: Some(id.clone()),
                        role: "assistant".into(),
                        content: Vec::new(),
                        status: None,
                    }));
                    (id, String::new())
                });
                buffer.push_str(text);
                out.push_back(ResponseEvent::OutputTextDelta {
                    item_id: id.clone(),
                    delta: text.to_owned(),
                });
            }
            for call in delta["tool_calls"].as_array().into_iter().flatten() {
                let index = call["index"].as_i64().unwrap_or(0);
                let partial = self.tool_calls.entry(index).or_default();
                if let Some(id) = call["id"].as_str() {
                    id.clone_into(&mut partial.id);
                }
                if let Some(name) = call["function"]["name"].as_str() {
                    partial.name.push_str(name);
                }
                if let Some(arguments) = call["function"]["arguments"].as_str() {
                    partial.arguments.push_str(arguments);
                }
            }
        }
        Ok(())
    }

    /// Closes open items and completes the response, once.
    pub(super) fn finish(&mut self, out: &mut VecDeque<ResponseEvent>) {
        if self.finished {
            return;
        }
        self.finished = true;
        if let Some((id, text)) = self.reasoning.take() {
            out.push_back(ResponseEvent::OutputItemDone(ResponseItem::Reasoning {
                id,
                summary: Vec::new(),
                content: Some(vec![ReasoningText::ReasoningText { text }]),
                encrypted_content: None,
            }));
        }
        if let Some((id, text)) = self.message.take() {
            out.push_back(ResponseEvent::OutputItemDone(ResponseItem::Message {
                id: Some(id),
                role: "assistant".into(),
                content: vec![ContentItem::OutputText { text }],
                status: Some("completed".into()),
            }));
        }
        for (index, call) in std::mem::take(&mut self.tool_calls) {
            let call_id = if call.id.is_empty() {
                format!("call_{index}_{}", uuid::Uuid::now_v7().simple())
            } else {
                call.id
            };
            out.push_back(ResponseEvent::OutputItemDone(ResponseItem::FunctionCall {
                id: None,
                call_id,
                name: call.name,
                arguments: call.arguments,
            }));
        }
        out.push_back(ResponseEvent::Completed {
            response_id: self.response_id.take().unwrap_or_default(),
            usage: self.usage.take(),
        });
    }
}

/// Chat usage: `prompt_tokens`, `completion_tokens`, and the details some servers add.
fn chat_usage(usage: &Value) -> tern_protocol::v2::TokenUsageBreakdown {
    let int = |value: &Value| value.as_i64().unwrap_or(0);
    let input = int(&usage["prompt_tokens"]);
    let output = int(&usage["completion_tokens"]);
    tern_protocol::v2::TokenUsageBreakdown {
        input_tokens: input,
        cached_input_tokens: int(&usage["prompt_tokens_details"]["cached_tokens"]),
        cache_write_input_tokens: 0,
        output_tokens: output,
        reasoning_output_tokens: int(&usage["completion_tokens_details"]["reasoning_tokens"]),
        total_tokens: usage["total_tokens"].as_i64().unwrap_or(input + output),
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    fn feed(state: &mut ChatState, data: &str) -> Vec<ResponseEvent> {
        let mut out = VecDeque::new();
        state
            .decode_event(
                &SseEvent {
                    event: "message".into(),
                    data: data.to_owned(),
                },
                &mut out,
            )
            .unwrap();
        out.into_iter().collect()
    }

    #[test]
    fn content_and_tool_call_deltas_become_items() {
        let mut state = ChatState::default();
        let first = feed(
            &mut state,
            r#"{"id":"c1","choices":[{"delta":{"content":"Hel"}}]}"#,
        );
        let ResponseEvent::OutputItemAdded(ResponseItem::Message { id: Some(id), .. }) = &first[0]
        else {
            panic!("{first:?}")
        };
        let id = id.clone();
        assert_eq!(
            first[1],
            ResponseEvent::OutputTextDelta {
                item_id: id.clone(),
                delta: "Hel".into()
            }
        );
        feed(
            &mut state,
            r#"{"choices":[{"delta":{"content":"lo","tool_calls":[{"index":0,"id":"call_1","function":{"name":"shell","arguments":"{\"cmd\":"}}]}}]}"#,
        );
        feed(
            &mut state,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"ls\"}"}}]}}]}"#,
        );
        feed(
            &mut state,
            r#"{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}"#,
        );
        let last = feed(&mut state, "[DONE]");
        assert_eq!(
            last,
            [
                ResponseEvent::OutputItemDone(ResponseItem::Message {
                    id: Some(id),
                    role: "assistant".into(),
                    content: vec![ContentItem::OutputText {
                        text: "Hello".into()
                    }],
                    status: Some("completed".into()),
                }),
                ResponseEvent::OutputItemDone(ResponseItem::FunctionCall {
                    id: None,
                    call_id: "call_1".into(),
                    name: "shell".into(),
                    arguments: "{\"cmd\":\"ls\"}".into(),
                }),
                ResponseEvent::Completed {
                    response_id: "c1".into(),
                    usage: Some(tern_protocol::v2::TokenUsageBreakdown {
                        total_tokens: 10,
                        input_tokens: 7,
                        cached_input_tokens: 0,
                        cache_write_input_tokens: 0,
                        output_tokens: 3,
                        reasoning_output_tokens: 0,
                    }),
                },
            ]
        );
    }

    #[test]
    fn developer_messages_become_system_messages() {
        let request = ModelRequest {
            model: "m".into(),
            input: vec![
                ResponseItem::text_message("developer", None, "rules"),
                ResponseItem::text_message("user", None, "hi"),
            ],
            reasoning_effort: None,
            reasoning_summary: None,
            output_schema: None,
            tools: vec![],
            thread_id: "t".into(),
            turn_id: "u".into(),
        };
        assert_eq!(
            request_body(&request)["messages"],
            json!([{"role": "system", "content": "rules"}, {"role": "user", "content": "hi"}])
        );
    }
}
