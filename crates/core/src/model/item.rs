//! Conversation items in the Responses API's shape, which is also how rollouts store them
//! (`response_item` lines).

use serde::{Deserialize, Serialize};

/// One item of model input or output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseItem {
    /// A message from the user, developer or assistant.
    Message {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        role: String,
        content: Vec<ContentItem>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<String>,
    },
    /// The model's reasoning; `encrypted_content` lets a stateless provider resume it.
    Reasoning {
        id: String,
        #[serde(default)]
        summary: Vec<ReasoningText>,
        #[serde(default)]
        content: Option<Vec<ReasoningText>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        encrypted_content: Option<String>,
    },
    /// A tool call.
    FunctionCall {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        call_id: String,
        name: String,
        arguments: String,
    },
    /// A tool call's result.
    FunctionCallOutput {
        call_id: String,
        output: FunctionOutput,
    },
    /// A search the provider ran with its hosted web search tool.
    WebSearchCall {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        action: Option<serde_json::Value>,
    },
    /// Anything else a provider or a rollout may hold (kept so history round-trips).
    #[serde(other)]
    Other,
}

impl ResponseItem {
    /// A message of `role` with one text part (`input_text`, or `output_text` for the
    /// assistant).
    pub fn text_message(role: &str, id: Option<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let content = if role == "assistant" {
            ContentItem::OutputText { text }
        } else {
            ContentItem::InputText { text }
        };
        Self::Message {
            id,
            role: role.to_owned(),
            content: vec![content],
            status: None,
        }
    }

    /// The concatenated text of a message.
    pub fn message_text(&self) -> Option<String> {
        let Self::Message { content, .. } = self else {
            return None;
        };
        Some(
            content
                .iter()
                .filter_map(|part| match part {
                    ContentItem::InputText { text } | ContentItem::OutputText { text } => {
                        Some(text.as_str())
                    }
                    ContentItem::InputImage { .. } => None,
                })
                .collect(),
        )
    }
}

/// A tool's result: text, or content parts (text and images).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FunctionOutput {
    Text(String),
    Parts(Vec<ContentItem>),
}

impl FunctionOutput {
    /// The text of the output (parts' texts joined; images named).
    pub fn text(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Parts(parts) => parts
                .iter()
                .map(|part| match part {
                    ContentItem::InputText { text } | ContentItem::OutputText { text } => {
                        text.as_str()
                    }
                    ContentItem::InputImage { .. } => "[image]",
                })
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

impl From<String> for FunctionOutput {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<Vec<ContentItem>> for FunctionOutput {
    fn from(parts: Vec<ContentItem>) -> Self {
        Self::Parts(parts)
    }
}

/// A part of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentItem {
    InputText {
        text: String,
    },
    /// An image as a URL (`data:` URLs included).
    InputImage {
        image_url: String,
    },
    OutputText {
        text: String,
    },
}

/// A piece of reasoning text (`summary_text` or `reasoning_text`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReasoningText {
    SummaryText { text: String },
    ReasoningText { text: String },
}

impl ReasoningText {
    pub fn text(&self) -> &str {
        match self {
            Self::SummaryText { text } | Self::ReasoningText { text } => text,
        }
    }
}
