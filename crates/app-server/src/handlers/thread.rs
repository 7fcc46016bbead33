//! `thread/*`: starting, reading and listing threads.

use std::path::PathBuf;

use tern_core::thread::{ListQuery, SettingsOverrides, SortKey, StartOptions, Turns};
use tern_protocol::ServerNotification;
use tern_protocol::jsonrpc::RpcError;
use tern_protocol::v2::{
    AbsolutePathBuf, ApprovalsReviewer, SortDirection, ThreadArchiveParams, ThreadArchiveResponse,
    ThreadArchivedNotification, ThreadForkParams, ThreadForkResponse, ThreadListCwdFilter,
    ThreadListParams, ThreadListResponse, ThreadLoadedListParams, ThreadLoadedListResponse,
    ThreadNameUpdatedNotification, ThreadReadParams, ThreadReadResponse, ThreadResumeParams,
    ThreadResumeResponse, ThreadSetNameParams, ThreadSetNameResponse, ThreadSortKey,
    ThreadStartParams, ThreadStartResponse, ThreadStartedNotification, ThreadStatus,
    ThreadStatusChangedNotification, ThreadTokenUsageUpdatedNotification, ThreadUnarchiveParams,
    ThreadUnarchiveResponse, ThreadUnarchivedNotification, ThreadUnsubscribeParams,
    ThreadUnsubscribeResponse, ThreadUnsubscribeStatus,
};

use crate::error;
use crate::router::{After, RequestCtx};

/// The result of `thread/start`, `thread/resume` and `thread/fork`: three types of one shape,
/// the thread and the settings its next turn runs with.
macro_rules! settings_response {
    ($response:ident, $thread:expr, $settings:expr) => {{
        let settings = $settings;
        $response {
            model: settings.model,
            model_provider: settings.model_provider,
            service_tier: None,
            cwd: AbsolutePathBuf::anchored(&settings.cwd),
            instruction_sources: Vec::new(),
            approval_policy: settings.approval_policy,
            approvals_reviewer: ApprovalsReviewer::User,
            sandbox: settings.sandbox,
            reasoning_effort: settings.effort,
            thread: $thread,
        }
    }};
}

/// The details of the warning about unknown keys in a thread's `config`.
const THREAD_CONFIG_DETAILS: &str =
    "These keys of the thread's `config` are typos, or settings tern does not support yet.";

/// The settings a `thread/start` or `thread/resume` asks for: two param types with these
/// fields in common.
macro_rules! settings_overrides {
    ($params:ident) => {
        SettingsOverrides {
            model: $params.model,
            model_provider: $params.model_provider,
            cwd: $params.cwd.map(PathBuf::from),
            approval_policy: $params.approval_policy,
            sandbox: $params.sandbox,
            base_instructions: $params.base_instructions,
            developer_instructions: $params.developer_instructions,
            config: $params.config.unwrap_or_default(),
        }
    };
}

/// Starts a thread and subscribes the connection to it. `thread/started` follows the result,
/// then a `configWarning` naming the thread's `config` keys that tern does not know.
pub(crate) fn thread_start(
    req: &RequestCtx,
    mut params: ThreadStartParams,
) -> Result<(ThreadStartResponse, After), RpcError> {
    let options = StartOptions {
        ephemeral: params.ephemeral.unwrap_or(false),
        originator: req.client_name.clone(),
        dynamic_tools: params.dynamic_tools.take().unwrap_or_default(),
        settings: settings_overrides!(params),
    };
    let (thread, settings, unknown_keys) =
        req.server.threads.start(options).map_err(error::core)?;
    req.subscribe(&thread.id);
    let mut after = vec![ServerNotification::ThreadStarted(
        ThreadStartedNotification {
            thread: Box::new(thread.clone()),
        },
    )];
    let warning = crate::ctx::unknown_keys(&unknown_keys, THREAD_CONFIG_DETAILS);
    after.extend(warning.map(ServerNotification::ConfigWarning));
    Ok((
        settings_response!(ThreadStartResponse, thread, settings),
        After::Notify(after),
    ))
}

/// Reads a loaded thread, or one on disk; its turns, when asked for, go out as they are read.
pub(crate) async fn thread_read(
    req: &RequestCtx,
    params: ThreadReadParams,
) -> Result<(ThreadReadResponse, Option<Turns>), RpcError> {
    let (thread, turns) = req
        .server
        .threads
        .read(&params.thread_id, params.include_turns)
        .await
        .map_err(error::core)?;
    Ok((ThreadReadResponse { thread }, turns))
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

/// Loads a thread to continue it, and subscribes the connection. Its turns (unless excluded)
/// go out as they are read; its token usage follows the result.
pub(crate) async fn thread_resume(
    req: &RequestCtx,
    params: ThreadResumeParams,
) -> Result<(ThreadResumeResponse, Option<Turns>, After), RpcError> {
    let exclude_turns = params.exclude_turns == Some(true);
    let thread_id = params.thread_id.clone();
    let overrides = settings_overrides!(params);
    let resumed = req
        .server
        .threads
        .resume(&thread_id, &req.client_name, overrides)
        .await
        .map_err(error::core)?;
    if resumed.cold {
        // As the reference: a cold resume reports the thread idle before answering.
        req.outbound
            .notify(ServerNotification::ThreadStatusChanged(
                ThreadStatusChangedNotification {
                    thread_id: resumed.thread.id.clone(),
                    status: ThreadStatus::Idle,
                },
            ))
            .await;
    }
    req.subscribe(&resumed.thread.id);
    let usage = token_usage_update(
        &resumed.thread.id,
        resumed.turns.last_id(),
        resumed.token_usage,
    );
    let warning = crate::ctx::unknown_keys(&resumed.unknown_config_keys, THREAD_CONFIG_DETAILS);
    let after = After::Notify(
        usage
            .into_iter()
            .chain(warning.map(ServerNotification::ConfigWarning))
            .collect(),
    );
    let turns = (!exclude_turns).then_some(resumed.turns);
    Ok((
        settings_response!(ThreadResumeResponse, resumed.thread, resumed.settings),
        turns,
        after,
    ))
}

/// The thread's token usage as of its last turn (none without turns): sent after a resume's
/// or a fork's result.
fn token_usage_update(
    thread_id: &str,
    last_turn_id: Option<&str>,
    usage: tern_protocol::v2::ThreadTokenUsage,
) -> Option<ServerNotification> {
    Some(ServerNotification::ThreadTokenUsageUpdated(
        ThreadTokenUsageUpdatedNotification {
            thread_id: thread_id.to_owned(),
            turn_id: last_turn_id?.to_owned(),
            token_usage: usage,
        },
    ))
}

/// Names a thread.
pub(crate) async fn thread_set_name(
    req: &RequestCtx,
    params: ThreadSetNameParams,
) -> Result<(ThreadSetNameResponse, ServerNotification), RpcError> {
    req.server
        .threads
        .set_name(&params.thread_id, &params.name)
        .await
        .map_err(error::core)?;
    let updated = ServerNotification::ThreadNameUpdated(ThreadNameUpdatedNotification {
        thread_id: params.thread_id,
        thread_name: Some(params.name),
    });
    Ok((ThreadSetNameResponse {}, updated))
}

/// Archives a thread.
pub(crate) async fn thread_archive(
    req: &RequestCtx,
    params: ThreadArchiveParams,
) -> Result<(ThreadArchiveResponse, ServerNotification), RpcError> {
    req.server
        .threads
        .archive(&params.thread_id)
        .await
        .map_err(error::core)?;
    req.outbound
        .notify(ServerNotification::ThreadStatusChanged(
            ThreadStatusChangedNotification {
                thread_id: params.thread_id.clone(),
                status: ThreadStatus::NotLoaded,
            },
        ))
        .await;
    let archived = ServerNotification::ThreadArchived(ThreadArchivedNotification {
        thread_id: params.thread_id,
    });
    Ok((ThreadArchiveResponse {}, archived))
}

/// Brings an archived thread back.
pub(crate) async fn thread_unarchive(
    req: &RequestCtx,
    params: ThreadUnarchiveParams,
) -> Result<(ThreadUnarchiveResponse, ServerNotification), RpcError> {
    let thread = req
        .server
        .threads
        .unarchive(&params.thread_id)
        .await
        .map_err(error::core)?;
    let unarchived = ServerNotification::ThreadUnarchived(ThreadUnarchivedNotification {
        thread_id: params.thread_id,
    });
    Ok((ThreadUnarchiveResponse { thread }, unarchived))
}

/// Stops this connection receiving the thread's events.
pub(crate) fn thread_unsubscribe(
    req: &RequestCtx,
    params: &ThreadUnsubscribeParams,
) -> ThreadUnsubscribeResponse {
    let status = if !req.server.threads.is_loaded(&params.thread_id) {
        ThreadUnsubscribeStatus::NotLoaded
    } else if req
        .server
        .subscriptions
        .unsubscribe(&params.thread_id, req.connection_id)
    {
        ThreadUnsubscribeStatus::Unsubscribed
    } else {
        ThreadUnsubscribeStatus::NotSubscribed
    };
    ThreadUnsubscribeResponse { status }
}

/// Page size of `thread/list` when the client gives none, and the most it may ask for.
const DEFAULT_PAGE: usize = 25;
const MAX_PAGE: usize = 1000;

/// A page of threads from the index.
pub(crate) async fn thread_list(
    req: &RequestCtx,
    params: ThreadListParams,
) -> Result<ThreadListResponse, RpcError> {
    let limit = params
        .limit
        .map_or(DEFAULT_PAGE, |limit| (limit as usize).clamp(1, MAX_PAGE));
    let after = params.cursor.as_deref().map(parse_cursor).transpose()?;
    let non_empty = |values: Option<Vec<String>>| values.filter(|v| !v.is_empty());
    let sort_key = params.sort_key.unwrap_or(ThreadSortKey::CreatedAt);
    let query = ListQuery {
        archived: params.archived.unwrap_or(false),
        sort: match sort_key {
            ThreadSortKey::CreatedAt => SortKey::CreatedAt,
            ThreadSortKey::UpdatedAt => SortKey::UpdatedAt,
        },
        ascending: params.sort_direction == Some(SortDirection::Asc),
        after,
        // One more than asked tells whether there is a next page.
        limit: limit + 1,
        model_providers: non_empty(params.model_providers),
        sources: non_empty(params.source_kinds.map(|kinds| {
            kinds
                .iter()
                .filter_map(|kind| serde_json::to_value(kind).ok()?.as_str().map(str::to_owned))
                .collect()
        })),
        cwds: params.cwd.map(|filter| match filter {
            ThreadListCwdFilter::One(cwd) => vec![cwd],
            ThreadListCwdFilter::Many(cwds) => cwds,
        }),
        search: params.search_term.filter(|term| !term.is_empty()),
    };
    let mut data = req.server.threads.list(query).await.map_err(error::core)?;
    let has_more = data.len() > limit;
    data.truncate(limit);
    let cursor_of = |thread: &tern_protocol::v2::Thread| {
        let value = match sort_key {
            ThreadSortKey::CreatedAt => thread.created_at,
            ThreadSortKey::UpdatedAt => thread.updated_at,
        };
        format!("{value}:{}", thread.id)
    };
    Ok(ThreadListResponse {
        next_cursor: if has_more {
            data.last().map(cursor_of)
        } else {
            None
        },
        backwards_cursor: data.first().map(cursor_of),
        data,
    })
}

/// `<sort value>:<thread id>`, as [`thread_list`] makes them.
fn parse_cursor(cursor: &str) -> Result<(i64, String), RpcError> {
    cursor
        .split_once(':')
        .and_then(|(value, id)| Some((value.parse().ok()?, id.to_owned())))
        .ok_or_else(|| {
            RpcError::new(
                tern_protocol::jsonrpc::error_code::INVALID_PARAMS,
                format!("invalid params for `thread/list`: `cursor`: `{cursor}` is not a cursor this server issued"),
            )
        })
}

/// Forks a thread; the fork's token usage and `thread/started` follow the result.
pub(crate) async fn thread_fork(
    req: &RequestCtx,
    params: ThreadForkParams,
) -> Result<(ThreadForkResponse, Vec<ServerNotification>), RpcError> {
    let (mut thread, settings, usage) = req
        .server
        .threads
        .fork(
            &params.thread_id,
            params.ephemeral.unwrap_or(false),
            &req.client_name,
        )
        .await
        .map_err(error::core)?;
    req.subscribe(&thread.id);
    let last_turn = thread.turns.last().map(|turn| turn.id.as_str());
    let mut after: Vec<_> = token_usage_update(&thread.id, last_turn, usage)
        .into_iter()
        .collect();
    let mut started = thread.clone();
    started.turns.clear();
    after.push(ServerNotification::ThreadStarted(
        ThreadStartedNotification {
            thread: Box::new(started),
        },
    ));
    if params.exclude_turns == Some(true) {
        thread.turns.clear();
    }
    Ok((
        settings_response!(ThreadForkResponse, thread, settings),
        after,
    ))
}

/// Drops a turn and every later one from a loaded thread.
pub(crate) async fn thread_revert(
    req: &RequestCtx,
    params: tern_protocol::v2::ThreadRevertParams,
) -> Result<(tern_protocol::v2::ThreadRevertResponse, ServerNotification), RpcError> {
    let thread = req
        .server
        .threads
        .revert(&params.thread_id, &params.before_turn_id)
        .await
        .map_err(error::core)?;
    let reverted =
        ServerNotification::ThreadReverted(tern_protocol::v2::ThreadRevertedNotification {
            thread_id: params.thread_id,
        });
    Ok((tern_protocol::v2::ThreadRevertResponse { thread }, reverted))
}

/// Pieces of a streamed result waiting for the writer.
const STREAM_CHUNKS: usize = 16;

/// A result holding a thread (`{"thread": {...}, ...}`, its `turns` empty), written out with
/// `turns` as they are read, so a huge thread is never held whole: the chunks come through
/// the returned channel. The turns go first in the thread object (key order is free in JSON)
/// so the other fields need nothing from them.
pub(crate) fn stream_with_turns(
    response: serde_json::Value,
    turns: Turns,
) -> Result<tokio::sync::mpsc::Receiver<Vec<u8>>, String> {
    let serde_json::Value::Object(mut fields) = response else {
        return Err("a result with a thread is an object".to_owned());
    };
    let Some(serde_json::Value::Object(mut thread)) = fields.remove("thread") else {
        return Err("the result has no thread".to_owned());
    };
    thread.remove("turns");
    let mut tail = b"]".to_vec();
    write_fields(&mut tail, thread).map_err(|err| err.to_string())?;
    tail.push(b'}');
    write_fields(&mut tail, fields).map_err(|err| err.to_string())?;
    tail.push(b'}');
    let (tx, rx) = tokio::sync::mpsc::channel(STREAM_CHUNKS);
    tokio::task::spawn_blocking(move || write_turns(turns, tail, &tx));
    Ok(rx)
}

/// `,"key":value` for each field.
fn write_fields(
    out: &mut Vec<u8>,
    fields: serde_json::Map<String, serde_json::Value>,
) -> Result<(), serde_json::Error> {
    for (key, value) in fields {
        out.push(b',');
        serde_json::to_writer(&mut *out, &key)?;
        out.push(b':');
        serde_json::to_writer(&mut *out, &value)?;
    }
    Ok(())
}

/// Sends `{"thread":{"turns":[`, the turns, then `tail`. A client that went away stops the
/// reading; a rollout that cannot be read ends the list early and is logged, and the result
/// stays valid JSON.
fn write_turns(turns: Turns, tail: Vec<u8>, tx: &tokio::sync::mpsc::Sender<Vec<u8>>) {
    let mut open = tx
        .blocking_send(b"{\"thread\":{\"turns\":[".to_vec())
        .is_ok();
    let mut first = true;
    let read = turns.for_each(&mut |turn| {
        if !open {
            return;
        }
        let mut chunk = if first { Vec::new() } else { b",".to_vec() };
        match serde_json::to_writer(&mut chunk, &turn) {
            Ok(()) => {
                first = false;
                open = tx.blocking_send(chunk).is_ok();
            }
            Err(err) => {
                tracing::error!(turn_id = %turn.id, error = %err, "cannot serialize a turn");
            }
        }
    });
    if let Err(err) = read {
        tracing::error!(error = %err, "reading a rollout for a thread's turns failed");
    }
    let _ = tx.blocking_send(tail);
}
