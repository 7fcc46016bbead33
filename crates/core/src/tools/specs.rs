//! The tools offered to the model, in the Responses API's shape (the Chat Completions client
//! converts the function tools). Names and argument schemas are the reference's, so models
//! tuned on it call them right; the descriptions are tern's.

use serde_json::{Value, json};
use tern_protocol::v2::{DynamicToolNamespaceTool, DynamicToolSpec};

/// Which optional tools a thread offers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolSet {
    /// `apply_patch` as a tool of its own (`include_apply_patch_tool`); patches sent through
    /// `exec_command` are handled either way.
    pub apply_patch: bool,
    /// The provider's hosted web search (Responses API providers only).
    pub web_search: bool,
    /// Tools the client declared on `thread/start`.
    pub dynamic: Vec<DynamicToolSpec>,
}

fn function(name: &str, description: &str, parameters: &Value) -> Value {
    json!({
        "type": "function",
        "name": name,
        "description": description,
        "strict": false,
        "parameters": parameters,
    })
}

/// Every tool of `set`, in the order the model sees them.
pub fn tools(set: &ToolSet) -> Vec<Value> {
    let mut tools = vec![
        exec_command(),
        write_stdin(),
        update_plan(),
        request_user_input(),
        view_image(),
    ];
    if set.apply_patch {
        tools.push(apply_patch());
    }
    for spec in &set.dynamic {
        tools.extend(dynamic(spec));
    }
    if set.web_search {
        tools.push(json!({"type": "web_search", "external_web_access": true}));
    }
    tools
}

fn exec_command() -> Value {
    function(
        "exec_command",
        "Runs a shell command and returns its output. A command still running after \
             `yield_time_ms` keeps running in a session: its output so far is returned with a \
             session id to pass to `write_stdin` for more.",
        &json!({
            "type": "object",
            "properties": {
                "cmd": {"type": "string", "description": "The shell command line to run."},
                "workdir": {"type": "string", "description": "Directory to run in; the thread's working directory when omitted."},
                "shell": {"type": "string", "description": "Shell binary; bash when omitted."},
                "login": {"type": "boolean", "description": "Run the shell as a login shell (default true)."},
                "tty": {"type": "boolean", "description": "Run in a terminal, for interactive programs (default false)."},
                "yield_time_ms": {"type": "number", "description": "How long to wait for output before returning (default 10000)."},
                "max_output_tokens": {"type": "number", "description": "Most output tokens to return; longer output is cut in the middle."},
                "sandbox_permissions": {
                    "type": "string",
                    "enum": ["use_default", "require_escalated"],
                    "description": "`require_escalated` asks the user to run the command outside the sandbox."
                },
                "justification": {"type": "string", "description": "Why escalation is needed, shown to the user."},
                "prefix_rule": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "A command prefix the user may allow from now on (with an escalation)."
                }
            },
            "required": ["cmd"],
            "additionalProperties": false
        }),
    )
}

fn write_stdin() -> Value {
    function(
        "write_stdin",
        "Writes characters to a running exec_command session and returns the output \
             since the last call. Empty `chars` just waits for more output.",
        &json!({
            "type": "object",
            "properties": {
                "session_id": {"type": "number", "description": "The session id exec_command returned."},
                "chars": {"type": "string", "description": "Characters to write (may be empty)."},
                "yield_time_ms": {"type": "number", "description": "How long to wait for output before returning (default 250)."},
                "max_output_tokens": {"type": "number", "description": "Most output tokens to return."}
            },
            "required": ["session_id"],
            "additionalProperties": false
        }),
    )
}

fn update_plan() -> Value {
    function(
        "update_plan",
        "Records the plan for the task: its steps and where each stands. At most one step \
             is in progress at a time.",
        &json!({
            "type": "object",
            "properties": {
                "explanation": {"type": "string"},
                "plan": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "step": {"type": "string"},
                            "status": {"type": "string", "enum": ["pending", "in_progress", "completed"]}
                        },
                        "required": ["step", "status"],
                        "additionalProperties": false
                    }
                }
            },
            "required": ["plan"],
            "additionalProperties": false
        }),
    )
}

fn request_user_input() -> Value {
    function(
        "request_user_input",
        "Asks the user one or more questions, each with a few options, and waits for the \
             answers.",
        &json!({
            "type": "object",
            "properties": {
                "questions": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string", "description": "Stable id of the question, for its answer."},
                            "header": {"type": "string", "description": "A short title."},
                            "question": {"type": "string"},
                            "options": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "label": {"type": "string"},
                                        "description": {"type": "string"}
                                    },
                                    "required": ["label", "description"],
                                    "additionalProperties": false
                                }
                            }
                        },
                        "required": ["id", "header", "question", "options"],
                        "additionalProperties": false
                    }
                }
            },
            "required": ["questions"],
            "additionalProperties": false
        }),
    )
}

fn view_image() -> Value {
    function(
        "view_image",
        "Looks at a local image file (by path).",
        &json!({
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "Path of the image, absolute or relative to the working directory."}
            },
            "required": ["path"],
            "additionalProperties": false
        }),
    )
}

fn apply_patch() -> Value {
    function(
        "apply_patch",
        "Edits files with a patch: `*** Begin Patch`, then `*** Add File: <path>` (lines \
             prefixed `+`), `*** Delete File: <path>` or `*** Update File: <path>` (optionally \
             `*** Move to: <path>`) with `@@` hunks of ` ` context, `-` removed and `+` added \
             lines, and `*** End Patch`. The whole patch applies or nothing does.",
        &json!({
            "type": "object",
            "properties": {"input": {"type": "string", "description": "The whole patch."}},
            "required": ["input"],
            "additionalProperties": false
        }),
    )
}

/// The functions a dynamic tool declaration offers.
fn dynamic(spec: &DynamicToolSpec) -> Vec<Value> {
    let mut tools = Vec::new();
    match spec {
        DynamicToolSpec::Function {
            name,
            description,
            input_schema,
            ..
        } => tools.push(function(name, description, input_schema)),
        DynamicToolSpec::Namespace {
            name: namespace,
            tools: functions,
            ..
        } => {
            for DynamicToolNamespaceTool::Function {
                name,
                description,
                input_schema,
                ..
            } in functions
            {
                tools.push(function(
                    &namespaced(namespace, name),
                    description,
                    input_schema,
                ));
            }
        }
    }
    tools
}

/// The function name a namespaced dynamic tool is offered under.
pub fn namespaced(namespace: &str, name: &str) -> String {
    format!("{namespace}__{name}")
}

/// The dynamic tool a function name calls: its namespace (if any) and name.
pub fn find_dynamic(set: &[DynamicToolSpec], called: &str) -> Option<(Option<String>, String)> {
    set.iter().find_map(|spec| match spec {
        DynamicToolSpec::Function { name, .. } => (name == called).then(|| (None, name.clone())),
        DynamicToolSpec::Namespace {
            name: namespace,
            tools,
            ..
        } => tools
            .iter()
            .find_map(|DynamicToolNamespaceTool::Function { name, .. }| {
                (namespaced(namespace, name) == called)
                    .then(|| (Some(namespace.clone()), name.clone()))
            }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_tool_names_are_offered() {
        let names: Vec<String> = tools(&ToolSet::default())
            .iter()
            .map(|tool| tool["name"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(
            names,
            [
                "exec_command",
                "write_stdin",
                "update_plan",
                "request_user_input",
                "view_image"
            ]
        );
    }

    #[test]
    fn dynamic_tools_are_found_by_their_offered_name() {
        let set = vec![
            DynamicToolSpec::Function {
                name: "lookup".into(),
                description: "d".into(),
                input_schema: json!({}),
                defer_loading: false,
            },
            DynamicToolSpec::Namespace {
                name: "kb".into(),
                description: "d".into(),
                tools: vec![DynamicToolNamespaceTool::Function {
                    name: "get".into(),
                    description: "d".into(),
                    input_schema: json!({}),
                    defer_loading: false,
                }],
            },
        ];
        assert_eq!(find_dynamic(&set, "lookup"), Some((None, "lookup".into())));
        assert_eq!(
            find_dynamic(&set, "kb__get"),
            Some((Some("kb".into()), "get".into()))
        );
        assert_eq!(find_dynamic(&set, "get"), None);
    }
}
