//! Protocol v2 wire types, one module per resource (mirrored by the app-server handlers).

mod config;
mod diagnostics;
mod initialize;
mod mock;
mod path;

pub use config::{ConfigWarningNotification, TextPosition, TextRange};
pub use diagnostics::{
    ServerDiagnosticsGauge, ServerDiagnosticsParams, ServerDiagnosticsProcess,
    ServerDiagnosticsResponse,
};
pub use initialize::{ClientInfo, InitializeCapabilities, InitializeParams, InitializeResponse};
pub use mock::{MockExperimentalMethodParams, MockExperimentalMethodResponse};
pub use path::{AbsolutePathBuf, RelativePathError};
