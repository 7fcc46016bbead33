//! `turn/*`: starting and interrupting turns.

use std::path::PathBuf;
use std::time::Duration;

use tern_core::thread::{AfterResponse, TurnKind, TurnRequest};
use tern_protocol::jsonrpc::{RpcError, error_code};
use tern_protocol::v2::{
    ThreadCompactStartParams, ThreadCompactStartResponse, ThreadShellCommandParams,
    ThreadShellCommandResponse, Turn, TurnInterruptParams, TurnInterruptResponse, TurnStartParams,
    TurnStartResponse, TurnSteerParams, TurnSteerResponse,
};

use crate::error;
use crate::router::RequestCtx;

/// Starts a turn. Its events are held until the result is queued (`AfterResponse`).
pub(crate) async fn turn_start(
    req: &RequestCtx,
    params: TurnStartParams,
) -> Result<(TurnStartResponse, AfterResponse), RpcError> {
    let request = TurnRequest {
        input: params.input,
        cwd: params.cwd.map(PathBuf::from),
        model: params.model,
        effort: params.effort,
        summary: params.summary,
        approval_policy: params.approval_policy,
        sandbox_policy: params.sandbox_policy,
        output_schema: params.output_schema,
        client_user_message_id: params.client_user_message_id,
        originator: req.client_name.clone(),
        user_agent: req.user_agent.clone(),
        kind: TurnKind::Model,
    };
    let (turn, after) = start(req, &params.thread_id, request).await?;
    Ok((TurnStartResponse { turn }, after))
}

/// Starts (or joins) a turn on the thread and subscribes the connection to it.
async fn start(
    req: &RequestCtx,
    thread_id: &str,
    request: TurnRequest,
) -> Result<(Turn, AfterResponse), RpcError> {
    let started = req
        .server
        .threads
        .start_turn(thread_id, request)
        .await
        .map_err(error::core)?;
    req.subscribe(thread_id);
    Ok(started)
}

/// Interrupts the running turn; `turn/completed` follows the result.
pub(crate) async fn turn_interrupt(
    req: &RequestCtx,
    params: TurnInterruptParams,
) -> Result<(TurnInterruptResponse, AfterResponse), RpcError> {
    let after = req
        .server
        .threads
        .interrupt(&params.thread_id, &params.turn_id)
        .await
        .map_err(error::core)?;
    Ok((TurnInterruptResponse {}, after))
}

/// Adds input to the running turn.
pub(crate) async fn turn_steer(
    req: &RequestCtx,
    params: TurnSteerParams,
) -> Result<TurnSteerResponse, RpcError> {
    let turn_id = req
        .server
        .threads
        .steer(
            &params.thread_id,
            &params.expected_turn_id,
            params.input,
            params.client_user_message_id,
        )
        .await
        .map_err(error::core)?;
    Ok(TurnSteerResponse { turn_id })
}

/// Compacts the thread now; the compaction turn's events follow the result.
pub(crate) async fn thread_compact_start(
    req: &RequestCtx,
    params: ThreadCompactStartParams,
) -> Result<(ThreadCompactStartResponse, AfterResponse), RpcError> {
    let request = TurnRequest::compaction(req.client_name.clone(), req.user_agent.clone());
    let (_, after) = start(req, &params.thread_id, request).await?;
    Ok((ThreadCompactStartResponse {}, after))
}

/// Runs a command line for the user: a turn of its own on an idle thread, or part of the
/// running turn. Its item's events follow the result.
pub(crate) async fn thread_shell_command(
    req: &RequestCtx,
    params: ThreadShellCommandParams,
) -> Result<(ThreadShellCommandResponse, AfterResponse), RpcError> {
    let timeout = match params.timeout_ms {
        None => None,
        Some(ms) => Some(Duration::from_millis(u64::try_from(ms).map_err(|_| {
            RpcError::new(
                error_code::INVALID_PARAMS,
                format!("thread/shellCommand timeoutMs must be non-negative, got {ms}"),
            )
        })?)),
    };
    let request = TurnRequest::shell(
        params.command,
        timeout,
        req.client_name.clone(),
        req.user_agent.clone(),
    );
    let (_, after) = start(req, &params.thread_id, request).await?;
    Ok((ThreadShellCommandResponse {}, after))
}
