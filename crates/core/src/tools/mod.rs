//! Tools the model can call. Today: `apply_patch`'s parser and applier; the tool plumbing
//! (offering tools, dispatching calls, approvals) comes with the tools issue.

pub mod apply_patch;
