//! `mock/experimentalMethod`: the reference protocol's probe for experimental gating.
//!
//! It does nothing but echo, so a client (or a test) can check whether its connection negotiated
//! the experimental API without side effects.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::experimental::ExperimentalApi;

/// Params of `mock/experimentalMethod`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct MockExperimentalMethodParams {
    /// Test-only payload field.
    #[serde(default)]
    pub value: Option<String>,
}

impl ExperimentalApi for MockExperimentalMethodParams {}

/// Result of `mock/experimentalMethod`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct MockExperimentalMethodResponse {
    /// Echoes the input `value`.
    pub echoed: Option<String>,
}

impl ExperimentalApi for MockExperimentalMethodResponse {}
