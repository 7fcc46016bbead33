//! `thread/*`: starting, reading and listing threads.

use std::path::PathBuf;

use tern_core::thread::StartOptions;
use tern_protocol::jsonrpc::RpcError;
use tern_protocol::v2::{
    AbsolutePathBuf, ApprovalsReviewer, ThreadLoadedListParams, ThreadLoadedListResponse,
    ThreadReadParams, ThreadReadResponse, ThreadStartParams, ThreadStartResponse,
};

use crate::error;
use crate::router::RequestCtx;

/// Starts a thread and subscribes the connection to it.
pub(crate) fn thread_start(
    req: &RequestCtx,
    params: ThreadStartParams,
) -> Result<ThreadStartResponse, RpcError> {
    if params
        .config
        .as_ref()
        .is_some_and(|config| !config.is_empty())
    {
        // FIXME: per-thread config overrides; refused rather than silently ignored.
        return Err(RpcError::new(
            tern_protocol::jsonrpc::error_code::INVALID_PARAMS,
            "invalid params for `thread/start`: `config` overrides are not supported yet",
        ));
    }
    let options = StartOptions {
        model: params.model,
        model_provider: params.model_provider,
        cwd: params.cwd.map(PathBuf::from),
        approval_policy: params.approval_policy,
        sandbox: params.sandbox,
        base_instructions: params.base_instructions,
        developer_instructions: params.developer_instructions,
        ephemeral: params.ephemeral.unwrap_or(false),
        originator: req.client_name.clone(),
    };
    let (thread, settings) = req.server.threads.start(options).map_err(error::core)?;
    req.server
        .subscriptions
        .subscribe(&thread.id, req.connection_id, &req.outbound);
    Ok(ThreadStartResponse {
        model: settings.model,
        model_provider: settings.model_provider,
        service_tier: None,
        cwd: AbsolutePathBuf::anchored(&settings.cwd),
        instruction_sources: Vec::new(),
        approval_policy: settings.approval_policy,
        approvals_reviewer: ApprovalsReviewer::User,
        sandbox: settings.sandbox,
        reasoning_effort: settings.effort,
        thread,
    })
}

/// Reads a loaded thread, or one on disk.
pub(crate) async fn thread_read(
    req: &RequestCtx,
    params: ThreadReadParams,
) -> Result<ThreadReadResponse, RpcError> {
    let thread = req
        .server
        .threads
        .read(&params.thread_id, params.include_turns)
        .await
        .map_err(error::core)?;
    Ok(ThreadReadResponse { thread })
}

/// Ids of the loaded threads, paged by an opaque cursor (the last id of the previous page).
pub(crate) fn thread_loaded_list(
    req: &RequestCtx,
    params: &ThreadLoadedListParams,
) -> ThreadLoadedListResponse {
    let ids = req.server.threads.loaded_ids();
    let start = params
        .cursor
        .as_ref()
        .map_or(0, |cursor| ids.partition_point(|id| id <= cursor));
    let limit = params
        .limit
        .map_or(usize::MAX, |limit| limit.max(1) as usize);
    let data: Vec<String> = ids[start..].iter().take(limit).cloned().collect();
    let next_cursor = (start + data.len() < ids.len())
        .then(|| data.last().cloned())
        .flatten();
    ThreadLoadedListResponse { data, next_cursor }
}
