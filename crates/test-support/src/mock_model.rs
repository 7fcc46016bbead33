//! A mock model provider on loopback: real HTTP/1.1, real SSE (chunked), scripted responses,
//! and every request captured for assertions.
//!
//! Serves the OpenAI Responses API (`POST …/responses`) and Chat Completions
//! (`POST …/chat/completions`) alike: it answers whatever comes next in its script. Each
//! response is one [`MockResponse`]; when the script runs out it answers 500 so a test that
//! made more requests than it planned fails visibly.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum MockResponse {
    /// `200 text/event-stream` with these steps.
    Sse(Vec<SseStep>),
    /// A plain response with a status, extra headers and a body.
    Status {
        code: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
}

/// A step of an SSE response.
#[derive(Debug, Clone)]
pub enum SseStep {
    /// `data: <json>` (with `event: <type>` when the JSON has a `type`).
    Event(Value),
    /// `data: <raw>` as given (for `[DONE]`).
    Raw(String),
    /// Wait before the next step.
    Pause(Duration),
    /// Close the connection without finishing the chunked body.
    Cut,
}

/// A request the server received.
#[derive(Debug, Clone, PartialEq)]
pub struct CapturedRequest {
    pub method: String,
    pub path: String,
    /// Lower-cased names.
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl CapturedRequest {
    /// The value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

#[derive(Default)]
struct Shared {
    script: Mutex<VecDeque<MockResponse>>,
    requests: Mutex<Vec<CapturedRequest>>,
    arrived: Condvar,
}

/// The running mock; stops when dropped (its thread ends with the test process).
pub struct MockModelServer {
    base_url: String,
    shared: Arc<Shared>,
}

impl MockModelServer {
    /// Starts on `127.0.0.1` with a random port.
    pub fn start(script: Vec<MockResponse>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the mock model server");
        let port = listener.local_addr().expect("local address").port();
        let shared = Arc::new(Shared::default());
        shared.script.lock().unwrap().extend(script);
        let server = Arc::clone(&shared);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let shared = Arc::clone(&server);
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        Self {
            base_url: format!("http://127.0.0.1:{port}/v1"),
            shared,
        }
    }

    /// `http://127.0.0.1:<port>/v1`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Adds responses to the end of the script.
    pub fn push(&self, responses: impl IntoIterator<Item = MockResponse>) {
        self.shared.script.lock().unwrap().extend(responses);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<CapturedRequest> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Waits until `count` requests have arrived; panics after `timeout`.
    pub fn wait_for_requests(&self, count: usize, timeout: Duration) -> Vec<CapturedRequest> {
        let requests = self.shared.requests.lock().unwrap();
        let (requests, result) = self
            .shared
            .arrived
            .wait_timeout_while(requests, timeout, |r| r.len() < count)
            .unwrap();
        assert!(
            !result.timed_out(),
            "expected {count} model requests within {timeout:?}, got {}",
            requests.len()
        );
        requests.clone()
    }

    /// A `config.toml` that points provider `mock` at this server.
    pub fn config_toml(&self, wire_api: &str) -> String {
        format!(
            "model = \"mock-model\"\nmodel_provider = \"mock\"\napproval_policy = \"never\"\n\
             sandbox_mode = \"danger-full-access\"\n\n[model_providers.mock]\nname = \"mock\"\n\
             base_url = \"{}\"\nwire_api = \"{wire_api}\"\nenv_key = \"MOCK_API_KEY\"\n\
             request_max_retries = 0\nstream_max_retries = 0\n",
            self.base_url
        )
    }
}

fn serve(stream: TcpStream, shared: &Shared) {
    let Ok(clone) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(clone);
    let Some(request) = read_request(&mut reader) else {
        return;
    };
    let response = shared.script.lock().unwrap().pop_front();
    {
        let mut requests = shared.requests.lock().unwrap();
        requests.push(request);
        shared.arrived.notify_all();
    }
    let response = response.unwrap_or_else(|| MockResponse::Status {
        code: 500,
        headers: Vec::new(),
        body: "{\"error\":{\"message\":\"the mock's script is exhausted\"}}".to_owned(),
    });
    let _ = write_response(stream, &response);
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<CapturedRequest> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = Vec::new();
    let mut length = 0;
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim().to_owned();
        if name == "content-length" {
            length = value.parse().ok()?;
        }
        headers.push((name, value));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(CapturedRequest {
        method,
        path,
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    })
}

fn write_response(mut stream: TcpStream, response: &MockResponse) -> std::io::Result<()> {
    match response {
        MockResponse::Status {
            code,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {code} Mock\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                body.len()
            );
            for (name, value) in headers {
                let _ = write!(head, "{name}: {value}\r\n");
            }
            head.push_str("\r\n");
            stream.write_all(head.as_bytes())?;
            stream.write_all(body.as_bytes())?;
            stream.flush()
        }
        MockResponse::Sse(steps) => {
            stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
            )?;
            for step in steps {
                let text = match step {
                    SseStep::Event(data) => match data["type"].as_str() {
                        Some(kind) => format!("event: {kind}\ndata: {data}\n\n"),
                        None => format!("data: {data}\n\n"),
                    },
                    SseStep::Raw(raw) => format!("data: {raw}\n\n"),
                    SseStep::Pause(duration) => {
                        stream.flush()?;
                        std::thread::sleep(*duration);
                        continue;
                    }
                    SseStep::Cut => {
                        stream.flush()?;
                        return stream.shutdown(std::net::Shutdown::Both);
                    }
                };
                write!(stream, "{:x}\r\n{text}\r\n", text.len())?;
                stream.flush()?;
            }
            stream.write_all(b"0\r\n\r\n")?;
            stream.flush()
        }
    }
}

/// Builders for Responses API stream events.
pub mod responses {
    use super::{MockResponse, SseStep, Value, json};

    /// `response.created`.
    pub fn created(id: &str) -> SseStep {
        SseStep::Event(json!({"type": "response.created", "response": {"id": id}}))
    }

    /// `response.output_item.added` for an assistant message.
    pub fn message_added(id: &str) -> SseStep {
        SseStep::Event(json!({
            "type": "response.output_item.added",
            "item": {"type": "message", "id": id, "role": "assistant", "content": [], "status": "in_progress"},
        }))
    }

    /// `response.output_text.delta`.
    pub fn text_delta(item_id: &str, delta: &str) -> SseStep {
        SseStep::Event(
            json!({"type": "response.output_text.delta", "item_id": item_id, "delta": delta}),
        )
    }

    /// `response.output_item.done` for an assistant message.
    pub fn message_done(id: &str, text: &str) -> SseStep {
        SseStep::Event(json!({
            "type": "response.output_item.done",
            "item": {"type": "message", "id": id, "role": "assistant", "status": "completed",
                     "content": [{"type": "output_text", "text": text, "annotations": []}]},
        }))
    }

    /// `response.output_item.added` for reasoning.
    pub fn reasoning_added(id: &str) -> SseStep {
        SseStep::Event(json!({
            "type": "response.output_item.added",
            "item": {"type": "reasoning", "id": id, "summary": []},
        }))
    }

    /// `response.reasoning_summary_part.added`.
    pub fn summary_part_added(item_id: &str, index: i64) -> SseStep {
        SseStep::Event(json!({
            "type": "response.reasoning_summary_part.added", "item_id": item_id, "summary_index": index,
        }))
    }

    /// `response.reasoning_summary_text.delta`.
    pub fn summary_delta(item_id: &str, index: i64, delta: &str) -> SseStep {
        SseStep::Event(json!({
            "type": "response.reasoning_summary_text.delta", "item_id": item_id,
            "summary_index": index, "delta": delta,
        }))
    }

    /// `response.output_item.done` for reasoning with these summary parts.
    pub fn reasoning_done(id: &str, summary: &[&str]) -> SseStep {
        let summary: Vec<Value> = summary
            .iter()
            .map(|text| json!({"type": "summary_text", "text": text}))
            .collect();
        SseStep::Event(json!({
            "type": "response.output_item.done",
            "item": {"type": "reasoning", "id": id, "summary": summary, "encrypted_content": "ENC"},
        }))
    }

    /// `response.output_item.done` for a function call.
    pub fn function_call(call_id: &str, name: &str, arguments: &str) -> SseStep {
        SseStep::Event(json!({
            "type": "response.output_item.done",
            "item": {"type": "function_call", "id": format!("fc_{call_id}"), "call_id": call_id,
                     "name": name, "arguments": arguments},
        }))
    }

    /// `response.completed` with usage.
    pub fn completed(id: &str, input_tokens: i64, output_tokens: i64) -> SseStep {
        SseStep::Event(json!({
            "type": "response.completed",
            "response": {"id": id, "usage": {
                "input_tokens": input_tokens, "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": input_tokens + output_tokens}},
        }))
    }

    /// `response.failed`.
    pub fn failed(id: &str, message: &str) -> SseStep {
        SseStep::Event(json!({
            "type": "response.failed",
            "response": {"id": id, "error": {"code": "server_error", "message": message}},
        }))
    }

    /// A whole response that only calls tool `name` with `arguments` (JSON).
    pub fn tool_call(id: &str, call_id: &str, name: &str, arguments: &Value) -> MockResponse {
        MockResponse::Sse(vec![
            created(id),
            function_call(call_id, name, &arguments.to_string()),
            completed(id, 100, 10),
        ])
    }

    /// A whole text response: message `msg_<id>` streaming `deltas`, then completion.
    pub fn text_response(id: &str, deltas: &[&str]) -> MockResponse {
        let item = format!("msg_{id}");
        let mut steps = vec![created(id), message_added(&item)];
        steps.extend(deltas.iter().map(|delta| text_delta(&item, delta)));
        steps.push(message_done(&item, &deltas.concat()));
        steps.push(completed(id, 100, 10));
        MockResponse::Sse(steps)
    }
}

/// Builders for Chat Completions stream chunks.
pub mod chat {
    use super::{MockResponse, SseStep, json};

    /// A content delta.
    pub fn content(text: &str) -> SseStep {
        SseStep::Event(
            json!({"id": "chatcmpl-1", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]}),
        )
    }

    /// A reasoning delta, as vLLM and llama.cpp send it.
    pub fn reasoning(text: &str) -> SseStep {
        SseStep::Event(
            json!({"id": "chatcmpl-1", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"reasoning_content": text}, "finish_reason": null}]}),
        )
    }

    /// The final chunk with a finish reason and usage, then `[DONE]`.
    pub fn finish(prompt_tokens: i64, completion_tokens: i64) -> Vec<SseStep> {
        vec![
            SseStep::Event(
                json!({"id": "chatcmpl-1", "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
            ),
            SseStep::Event(
                json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [],
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                          "total_tokens": prompt_tokens + completion_tokens}}),
            ),
            SseStep::Raw("[DONE]".to_owned()),
        ]
    }

    /// A whole text response streaming `deltas`.
    pub fn text_response(deltas: &[&str]) -> MockResponse {
        let mut steps: Vec<SseStep> = deltas.iter().map(|delta| content(delta)).collect();
        steps.extend(finish(50, 5));
        MockResponse::Sse(steps)
    }
}
