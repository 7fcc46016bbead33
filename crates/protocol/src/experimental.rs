//! Experimental API: what is gated behind `capabilities.experimentalApi`, and how.
//!
//! Three kinds of things can be experimental, as in the reference implementation:
//!
//! - a whole method: marked `Experimental` in its [`crate::methods`] table entry;
//! - a field of a wire type: listed in [`EXPERIMENTAL_FIELDS`], which the schema and TypeScript
//!   export read to leave the field out of stable output;
//! - an enum variant: reported by the owning type's [`ExperimentalApi`] impl.
//!
//! At run time, client input is checked with [`ExperimentalApi::experimental_reason`] after it
//! decodes: a connection that did not opt in gets `<descriptor> requires experimentalApi
//! capability`, where the descriptor names the method, or `method.field` for a field. Payloads the
//! server sends go through [`ExperimentalApi::strip_experimental`] for such connections.

/// A field that only clients with `experimentalApi` may send or receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExperimentalField {
    /// The wire type (its schema and TypeScript name) that owns the field.
    pub type_name: &'static str,
    /// The field's wire name.
    pub field: &'static str,
    /// What the gate error names, e.g. `thread/start.dynamicTools`.
    pub descriptor: &'static str,
}

/// Every experimental field of every exported type; each entry must be mirrored by the owning
/// type's [`ExperimentalApi`] impl (a test in `export` checks that every entry names a real
/// property).
pub const EXPERIMENTAL_FIELDS: &[ExperimentalField] = &[
    ExperimentalField {
        type_name: "ThreadStartParams",
        field: "dynamicTools",
        descriptor: "thread/start.dynamicTools",
    },
    ExperimentalField {
        type_name: "CommandExecutionRequestApprovalParams",
        field: "availableDecisions",
        descriptor: "item/commandExecution/requestApproval.availableDecisions",
    },
];

/// Runtime side of the experimental gate, implemented by every params and payload type.
///
/// The defaults say "nothing experimental here"; types with experimental fields or variants
/// override both methods.
pub trait ExperimentalApi {
    /// The descriptor of the first experimental field or variant this value uses, if any.
    fn experimental_reason(&self) -> Option<&'static str> {
        None
    }

    /// Clears experimental fields (which serialize as absent when cleared), for a connection
    /// that did not opt into the experimental API.
    fn strip_experimental(&mut self) {}
}

/// The error message of the experimental gate.
pub fn gate_message(descriptor: &str) -> String {
    format!("{descriptor} requires experimentalApi capability")
}
