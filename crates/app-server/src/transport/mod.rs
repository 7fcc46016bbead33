//! Transports: how bytes reach a connection.
//!
//! Only stdio today; websocket and unix-socket listeners come later and will hand their streams
//! to the same [`crate::connection::serve_connection`].

pub(crate) mod lines;
pub mod stdio;
