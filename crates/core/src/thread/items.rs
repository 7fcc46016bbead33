//! Conversions between model output, wire items and rollout lines.

use tern_protocol::v2::{ThreadItemKind, UserInput};

use crate::model::{ContentItem, ReasoningText, ResponseItem};

/// The model-history form of the user's input.
pub(super) fn user_response_item(input: &[UserInput]) -> ResponseItem {
    let content = input
        .iter()
        .map(|part| match part {
            UserInput::Text { text, .. } => ContentItem::InputText { text: text.clone() },
            UserInput::Image { url, .. } => ContentItem::InputImage {
                image_url: url.clone(),
            },
            UserInput::LocalImage { path, .. } => local_image(path),
        })
        .collect();
    ResponseItem::Message {
        id: Some(format!("msg_{}", uuid::Uuid::now_v7())),
        role: "user".to_owned(),
        content,
        status: None,
    }
}

/// A local image as a `data:` URL, or a note when it cannot be read.
fn local_image(path: &str) -> ContentItem {
    match std::fs::read(path) {
        Ok(bytes) => {
            let mime = match std::path::Path::new(path)
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("png") => "image/png",
                Some("gif") => "image/gif",
                Some("webp") => "image/webp",
                _ => "image/jpeg",
            };
            ContentItem::InputImage {
                image_url: format!("data:{mime};base64,{}", base64(&bytes)),
            }
        }
        Err(err) => ContentItem::InputText {
            text: format!("[image {path} could not be read: {err}]"),
        },
    }
}

pub(super) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The item a started output item announces, when it is one clients see.
pub(super) fn started_kind(item: &ResponseItem) -> Option<ThreadItemKind> {
    match item {
        ResponseItem::Message { id, role, .. } if role == "assistant" => {
            Some(ThreadItemKind::AgentMessage {
                id: id.clone().unwrap_or_default(),
                text: String::new(),
                phase: None,
            })
        }
        ResponseItem::Reasoning { id, .. } => Some(ThreadItemKind::Reasoning {
            id: id.clone(),
            summary: Vec::new(),
            content: Vec::new(),
        }),
        ResponseItem::WebSearchCall { .. } => web_search_kind(item),
        _ => None,
    }
}

/// The `webSearch` item of a hosted search: its query and what it did.
fn web_search_kind(item: &ResponseItem) -> Option<ThreadItemKind> {
    let ResponseItem::WebSearchCall { id, action, .. } = item else {
        return None;
    };
    // The provider's action is in the Responses API's shape (`open_page`), not the wire's.
    let action = action
        .as_ref()
        .and_then(|action| {
            serde_json::from_value::<crate::rollout::StoredWebSearchAction>(action.clone()).ok()
        })
        .map(crate::rollout::StoredWebSearchAction::into_wire);
    let query = match &action {
        Some(tern_protocol::v2::WebSearchAction::Search { query, queries }) => query
            .clone()
            .or_else(|| queries.as_ref().map(|queries| queries.join(", ")))
            .unwrap_or_default(),
        Some(tern_protocol::v2::WebSearchAction::OpenPage { url: Some(url) }) => url.clone(),
        _ => String::new(),
    };
    Some(ThreadItemKind::WebSearch {
        id: id.clone().unwrap_or_default(),
        query,
        action,
    })
}

/// The item a completed output item becomes, when it is one clients see.
pub(super) fn completed_kind(item: &ResponseItem) -> Option<ThreadItemKind> {
    match item {
        ResponseItem::WebSearchCall { .. } => web_search_kind(item),
        ResponseItem::Message { id, role, .. } if role == "assistant" => {
            Some(ThreadItemKind::AgentMessage {
                id: id.clone().unwrap_or_default(),
                text: item.message_text().unwrap_or_default(),
                phase: None,
            })
        }
        ResponseItem::Reasoning {
            id,
            summary,
            content,
            ..
        } => Some(ThreadItemKind::Reasoning {
            id: id.clone(),
            summary: summary.iter().map(|s| s.text().to_owned()).collect(),
            content: content
                .iter()
                .flatten()
                .map(ReasoningText::text)
                .map(str::to_owned)
                .collect(),
        }),
        _ => None,
    }
}

/// The sandbox policy as `turn_context` lines store it (kebab-case types).
pub(super) fn kebab_sandbox(policy: &tern_protocol::v2::SandboxPolicy) -> serde_json::Value {
    use tern_protocol::v2::SandboxPolicy;
    match policy {
        SandboxPolicy::DangerFullAccess => serde_json::json!({"type": "danger-full-access"}),
        SandboxPolicy::ReadOnly { network_access } => {
            serde_json::json!({"type": "read-only", "network_access": network_access})
        }
        SandboxPolicy::WorkspaceWrite {
            writable_roots,
            network_access,
            exclude_tmpdir_env_var,
            exclude_slash_tmp,
        } => serde_json::json!({
            "type": "workspace-write",
            "writable_roots": writable_roots,
            "network_access": network_access,
            "exclude_tmpdir_env_var": exclude_tmpdir_env_var,
            "exclude_slash_tmp": exclude_slash_tmp,
        }),
        SandboxPolicy::ExternalSandbox { network_access } => {
            serde_json::json!({"type": "external-sandbox", "network_access": network_access})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_encodes_with_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
