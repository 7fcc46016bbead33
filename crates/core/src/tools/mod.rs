//! Tools the model can call: what is offered ([`specs`]), the shell command analysis
//! ([`shell`]), `apply_patch`, terminal sessions ([`sessions`]) and how results are worded for
//! the model ([`output`]). Running them within a turn (approvals, items) is the turn's work,
//! in `thread::tool_calls`.

pub mod apply_patch;
pub mod output;
pub mod sessions;
pub mod shell;
pub mod specs;
