//! `initialize`: the handshake.

use std::collections::HashSet;

use tern_protocol::COMPATIBLE_PROTOCOL_VERSION;
use tern_protocol::jsonrpc::RpcError;
use tern_protocol::v2::{ClientInfo, InitializeParams, InitializeResponse};

use crate::connection::{ConnectionState, Session};
use crate::ctx::{ServerCtx, sanitize};
use crate::router::already_initialized;

/// Records the client's identity and capabilities for this connection, once.
pub(crate) fn initialize(
    ctx: &ServerCtx,
    state: &ConnectionState,
    params: InitializeParams,
) -> Result<InitializeResponse, RpcError> {
    let capabilities = params.capabilities.unwrap_or_default();
    let user_agent = user_agent(&params.client_info, &ctx.platform, &terminal());
    let session = Session {
        client_info: params.client_info,
        experimental_api: capabilities.experimental_api,
        opt_out_notification_methods: capabilities
            .opt_out_notification_methods
            .unwrap_or_default()
            .into_iter()
            .collect::<HashSet<_>>(),
        request_attestation: capabilities.request_attestation,
    };
    if !state.initialize(session) {
        return Err(already_initialized());
    }
    tracing::info!(client = %user_agent, "client initialized");
    Ok(InitializeResponse {
        user_agent,
        codex_home: ctx.home.clone(),
        platform_family: std::env::consts::FAMILY.to_owned(),
        platform_os: std::env::consts::OS.to_owned(),
    })
}

/// `<name>/<protocol version> (tern <version>; <platform>) <terminal> (<name>; <version>)`.
///
/// Clients read the protocol version right after the first slash, so it is the reference
/// version tern is compatible with; tern's own version goes in the parenthesized part.
fn user_agent(client: &ClientInfo, platform: &str, terminal: &str) -> String {
    let name = sanitize(&client.name);
    let client_part = format!("{}; {}", client.name, client.version);
    format!(
        "{name}/{COMPATIBLE_PROTOCOL_VERSION} (tern {}; {platform}) {terminal} ({})",
        env!("CARGO_PKG_VERSION"),
        client_part.trim()
    )
}

/// The terminal the server runs in, as the reference reports it: `TERM_PROGRAM[/version]`, else
/// `TERM`, else `unknown`.
fn terminal() -> String {
    let var = |name| {
        std::env::var(name)
            .ok()
            .filter(|value: &String| !value.is_empty())
    };
    let terminal = match (
        var("TERM_PROGRAM"),
        var("TERM_PROGRAM_VERSION"),
        var("TERM"),
    ) {
        (Some(program), Some(version), _) => format!("{program}/{version}"),
        (Some(program), None, _) => program,
        (None, _, Some(term)) => term,
        (None, _, None) => "unknown".to_owned(),
    };
    sanitize(&terminal).replace(' ', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_starts_with_name_and_protocol_version() {
        let client = ClientInfo {
            name: "codex_vscode".into(),
            title: None,
            version: "1.2.3".into(),
        };
        assert_eq!(
            user_agent(&client, "debian 12; x86_64", "xterm"),
            format!(
                "codex_vscode/0.169.0 (tern {}; debian 12; x86_64) xterm (codex_vscode; 1.2.3)",
                env!("CARGO_PKG_VERSION")
            )
        );
    }
}
