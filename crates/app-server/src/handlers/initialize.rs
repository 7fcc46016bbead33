//! `initialize`: the handshake.

use tern_protocol::COMPATIBLE_PROTOCOL_VERSION;
use tern_protocol::jsonrpc::RpcError;
use tern_protocol::v2::{ClientInfo, InitializeParams, InitializeResponse};

use crate::connection::{ConnectionState, Session};
use crate::ctx::ServerCtx;
use crate::error::already_initialized;

/// Records the client's identity and capabilities for this connection, once.
pub(crate) fn initialize(
    ctx: &ServerCtx,
    state: &ConnectionState,
    params: InitializeParams,
) -> Result<InitializeResponse, RpcError> {
    let user_agent = user_agent(&params.client_info, &ctx.platform, &terminal());
    let session = Session::new(
        params.client_info.name.clone(),
        user_agent.clone(),
        params.capabilities.unwrap_or_default(),
    );
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
/// Clients read the protocol version right after `<clientInfo.name>/`, so it is the reference
/// version tern is compatible with; tern's own version goes in the parenthesized part. The
/// client's name and version are used as given, as the reference does.
fn user_agent(client: &ClientInfo, platform: &str, terminal: &str) -> String {
    let client_part = format!("{}; {}", client.name, client.version);
    format!(
        "{}/{COMPATIBLE_PROTOCOL_VERSION} (tern {}; {platform}) {terminal} ({})",
        client.name,
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
    sanitize(&terminal)
}

/// `<os id> <version>; <arch>` from `/etc/os-release`, e.g. `debian 12; x86_64`; read once at
/// startup.
pub(crate) fn platform() -> String {
    let release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let field = |name: &str| {
        release.lines().find_map(|line| {
            let value = line.strip_prefix(name)?.strip_prefix('=')?;
            Some(value.trim_matches('"').to_owned())
        })
    };
    let os = match (field("ID"), field("VERSION_ID")) {
        (Some(id), Some(version)) => format!("{} {}", sanitize(&id), sanitize(&version)),
        (Some(id), None) => sanitize(&id),
        _ => std::env::consts::OS.to_owned(),
    };
    format!("{os}; {}", std::env::consts::ARCH)
}

/// Keeps a token of `userAgent` parseable: only `[A-Za-z0-9._/-]`, anything else becomes `_`.
fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._/-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_only_safe_characters() {
        assert_eq!(sanitize("weird termé"), "weird_term_");
        assert_eq!(sanitize("x.y-z_1/2+3:4"), "x.y-z_1/2_3_4");
    }

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
