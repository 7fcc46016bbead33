//! The turn loop: user input in, model responses streamed out as items, until the model stops.
//!
//! Order of events, as the reference implementation emits them: `StatusChanged(active)`,
//! `TurnStarted`, the user message (started, completed), then per model response its items
//! (started, deltas, completed) and `TokenUsage`; finally `StatusChanged(idle)` and
//! `TurnCompleted`. A failed turn ends with `StatusChanged(systemError)`, `Error` and
//! `TurnCompleted`. An interrupted one drops the response in flight and ends with
//! `StatusChanged(idle)` and `TurnCompleted(interrupted)` once the interrupt was answered.
//!
//! Persistence: the turn's lines are appended as items complete, and the rollout is fsynced
//! when the turn ends.

use std::sync::Arc;

use tern_protocol::v2::{
    ThreadActiveFlag, ThreadItem, ThreadItemKind, ThreadStatus, Turn, TurnItemsView, TurnStatus,
    UserInput,
};
use tokio::sync::oneshot;

use super::items::{completed_kind, kebab_sandbox, started_kind, user_response_item};
use super::state::{ActiveTurn, ToldContext};
use super::tool_calls::{ToolEnd, ToolOutput};
use super::{
    AfterResponse, ThreadEventKind, ThreadHandle, ThreadManager, TurnKind, TurnRequest, user_shell,
};
use crate::CoreError;
use crate::model::{ModelClient, ModelError, ModelRequest, ResponseEvent, ResponseItem, backoff};
use crate::prompt;
use crate::rollout::{EventMsg, TokenCountInfo, TurnContextLine, preview_of};
use crate::time::{Utc, now_ms};

/// Model requests one turn may make in a row before it is stopped (a model that keeps calling
/// tools would otherwise spend tokens until interrupted).
const MAX_FOLLOW_UPS: u32 = 100;

/// Starts a turn on `handle`; see [`ThreadManager::start_turn`].
pub(super) async fn start(
    manager: Arc<ThreadManager>,
    handle: Arc<ThreadHandle>,
    request: TurnRequest,
) -> Result<(Turn, AfterResponse), CoreError> {
    let mut state = handle.state.lock().await;
    if state.unloaded {
        return Err(CoreError::ThreadNotFound {
            thread_id: handle.id.clone(),
        });
    }
    if let Some(active) = &state.active {
        // As the reference does: the input joins the running turn, which is returned. A
        // compaction turn or one that is ending takes no input; a shell command runs beside.
        let joined = match &request.kind {
            TurnKind::Model => active.steer(
                request.input.clone(),
                request.client_user_message_id.clone(),
            ),
            TurnKind::Compact => false,
            TurnKind::Shell { .. } => true,
        };
        if !joined {
            return Err(CoreError::Busy {
                thread_id: handle.id.clone(),
            });
        }
        let running = state
            .turns
            .iter()
            .rev()
            .find(|turn| turn.id == active.id)
            .map_or_else(
                || in_progress_turn(&active.id),
                |turn| Turn {
                    items: Vec::new(),
                    items_view: TurnItemsView::NotLoaded,
                    ..turn.clone()
                },
            );
        let after = match request.kind {
            TurnKind::Shell { command, timeout } => user_shell::join_turn(
                manager,
                Arc::clone(&handle),
                active.id.clone(),
                command,
                timeout,
            ),
            TurnKind::Model | TurnKind::Compact => AfterResponse::new().0,
        };
        return Ok((running, after));
    }
    let settings = &mut state.settings;
    if let Some(cwd) = &request.cwd {
        settings.cwd.clone_from(cwd);
    }
    if let Some(model) = &request.model {
        settings.model.clone_from(model);
    }
    if request.effort.is_some() {
        settings.effort.clone_from(&request.effort);
    }
    if request.summary.is_some() {
        settings.summary = request.summary;
    }
    if let Some(policy) = request.approval_policy {
        settings.approval_policy = policy;
    }
    if let Some(sandbox) = &request.sandbox_policy {
        settings.sandbox = sandbox.clone();
    }
    let turn_id = uuid::Uuid::now_v7().to_string();
    let turn = in_progress_turn(&turn_id);
    let (interrupt_tx, interrupt_rx) = oneshot::channel();
    let steered = Arc::default();
    state.active = Some(ActiveTurn {
        id: turn_id,
        interrupt: Some(interrupt_tx),
        steered: Arc::clone(&steered),
        takes_input: request.kind == TurnKind::Model,
    });
    state.status = ThreadStatus::Active {
        active_flags: Vec::<ThreadActiveFlag>::new(),
    };
    drop(state);
    let (after, gate) = AfterResponse::new();
    let runner = TurnRunner {
        manager,
        handle,
        turn: turn.clone(),
        request,
        steered,
        diff: std::sync::Mutex::default(),
        unresolved: std::sync::Mutex::default(),
    };
    tokio::spawn(runner.run(gate, interrupt_rx));
    Ok((turn, after))
}

/// A turn that has just started, as `turn/start` answers it.
fn in_progress_turn(id: &str) -> Turn {
    Turn {
        id: id.to_owned(),
        root_turn_id: Some(id.to_owned()),
        items: Vec::new(),
        items_view: TurnItemsView::NotLoaded,
        status: TurnStatus::InProgress,
        error: None,
        started_at: None,
        completed_at: None,
        duration_ms: None,
    }
}

/// Signals the running turn to stop; see [`ThreadManager::interrupt`].
pub(super) async fn interrupt(
    handle: &ThreadHandle,
    turn_id: &str,
) -> Result<AfterResponse, CoreError> {
    let mut state = handle.state.lock().await;
    let not_active = || CoreError::TurnNotActive {
        thread_id: handle.id.clone(),
        turn_id: turn_id.to_owned(),
    };
    let active = state
        .active
        .as_mut()
        .filter(|active| active.id == turn_id)
        .ok_or_else(not_active)?;
    let (after, gate) = AfterResponse::new();
    let sender = active.interrupt.take().ok_or_else(not_active)?;
    // The turn may have just finished; then there is nothing to hold.
    let _ = sender.send(gate);
    Ok(after)
}

/// How a turn ended.
pub(super) enum Outcome {
    Completed,
    Failed(ModelError),
    /// Interrupted; holds the gate the completion waits for.
    Interrupted(oneshot::Receiver<()>),
}

/// How one model request ended.
pub(super) enum Step {
    /// The model stopped; `follow_up` when it called tools and wants their results.
    Done {
        follow_up: bool,
    },
    Failed(ModelError),
    Interrupted(oneshot::Receiver<()>),
}

pub(super) struct TurnRunner {
    pub(super) manager: Arc<ThreadManager>,
    pub(super) handle: Arc<ThreadHandle>,
    pub(super) turn: Turn,
    pub(super) request: TurnRequest,
    /// Input added while the turn runs.
    steered: Arc<std::sync::Mutex<super::state::SteerQueue>>,
    /// The files the turn changed, as they were before it.
    pub(super) diff: std::sync::Mutex<super::tool_calls::TurnDiff>,
    /// Server requests an interrupt left unanswered; announced resolved after the turn ends.
    pub(super) unresolved: std::sync::Mutex<Vec<(u64, bool)>>,
}

impl TurnRunner {
    pub(super) fn thread_id(&self) -> &str {
        &self.handle.id
    }

    pub(super) async fn emit(&self, kind: ThreadEventKind) {
        self.manager.emit(self.thread_id(), kind).await;
    }

    async fn run(
        mut self,
        gate: oneshot::Receiver<()>,
        mut interrupt: oneshot::Receiver<oneshot::Receiver<()>>,
    ) {
        // Wait until the client has the turn/start answer.
        let _ = gate.await;
        let started_at_ms = now_ms();
        self.turn.started_at = Some(started_at_ms / 1000);
        self.emit(ThreadEventKind::StatusChanged(ThreadStatus::Active {
            active_flags: Vec::new(),
        }))
        .await;
        self.emit(ThreadEventKind::TurnStarted(self.turn.clone()))
            .await;
        self.begin(started_at_ms).await;

        loop {
            let outcome = match &self.request.kind {
                TurnKind::Model => self.sample_until_done(&mut interrupt).await,
                TurnKind::Compact => match self.compact(&mut interrupt).await {
                    Ok(()) => Outcome::Completed,
                    Err(outcome) => outcome,
                },
                TurnKind::Shell { command, timeout } => {
                    self.user_shell(command, *timeout, &mut interrupt).await
                }
            };
            // Input steered in while the model finished gets its own model request.
            if matches!(outcome, Outcome::Completed) && self.take_steered().await {
                continue;
            }
            self.finish(outcome, started_at_ms, &mut interrupt).await;
            return;
        }
    }

    /// Records the turn's start, the first-turn context, and the user message.
    async fn begin(&self, started_at_ms: i64) {
        let turn_id = self.turn.id.clone();
        {
            let mut state = self.handle.state.lock().await;
            let mut turn = self.turn.clone();
            turn.items_view = TurnItemsView::Full;
            state.turns.push(turn);
            let history_len = state.history.len();
            state
                .turn_history_starts
                .push((turn_id.clone(), history_len));
            let context_window = state.config.context_window();
            state.persist(
                "event_msg",
                &EventMsg::TaskStarted {
                    root_turn_id: Some(turn_id.clone()),
                    turn_id: turn_id.clone(),
                    started_at: Some(started_at_ms / 1000),
                    model_context_window: Some(context_window),
                },
            );
            let settings = state.settings.clone();
            state.persist(
                "turn_context",
                &TurnContextLine {
                    turn_id: Some(turn_id.clone()),
                    root_turn_id: Some(turn_id.clone()),
                    cwd: settings.cwd.display().to_string(),
                    approval_policy: serde_json::to_value(settings.approval_policy).ok(),
                    sandbox_policy: Some(kebab_sandbox(&settings.sandbox)),
                    model: settings.model.clone(),
                    effort: settings.effort.clone(),
                    summary: settings
                        .summary
                        .and_then(|s| serde_json::to_value(s).ok())
                        .and_then(|v| v.as_str().map(str::to_owned)),
                },
            );
            // A shell turn tells the model nothing; the next model turn does.
            if matches!(self.request.kind, TurnKind::Shell { .. }) {
                return;
            }
            // The first turn tells the model where it is; a later one only what changed.
            let told = ToldContext::of(&settings);
            let first = state.history.iter().all(user_shell::is_model_message);
            let before = state.told.replace(told.clone()).filter(|_| !first);
            let mut context = Vec::new();
            if let Some(text) = &settings.developer_instructions {
                if before.as_ref().is_none_or(|before| {
                    before.developer_instructions != told.developer_instructions
                }) {
                    context.push(ResponseItem::text_message("developer", None, text.clone()));
                }
            }
            if first {
                context.extend(prompt::agents_md_message(&settings.cwd));
            }
            let environment_changed = before.as_ref().is_none_or(|before| {
                (&before.cwd, before.approval_policy, &before.sandbox)
                    != (&told.cwd, told.approval_policy, &told.sandbox)
            });
            if environment_changed {
                let date = Utc::from_ms(started_at_ms);
                context.push(prompt::environment_context(
                    &settings.cwd,
                    settings.approval_policy,
                    &settings.sandbox,
                    &format!("{:04}-{:02}-{:02}", date.year, date.month, date.day),
                ));
            }
            for item in context {
                state.record(item);
            }
        }
        if self.request.kind == TurnKind::Model {
            self.record_user_message(
                self.request.input.clone(),
                self.request.client_user_message_id.clone(),
            )
            .await;
        }
    }

    /// A user message of this turn: recorded in history and the rollout, and announced.
    async fn record_user_message(&self, input: Vec<UserInput>, client_id: Option<String>) {
        let turn_id = self.turn.id.clone();
        let at = now_ms();
        let message = user_response_item(&input);
        let user_item = ThreadItem {
            kind: ThreadItemKind::UserMessage {
                id: uuid::Uuid::now_v7().to_string(),
                client_id,
                content: input,
            },
            started_at_ms: Some(at),
            completed_at_ms: Some(at),
        };
        {
            let mut state = self.handle.state.lock().await;
            if state.preview.is_empty() {
                if let ThreadItemKind::UserMessage { content, .. } = &user_item.kind {
                    state.preview = preview_of(content);
                }
            }
            state.record(message);
            state.persist_item(&turn_id, &user_item);
            push_item(&mut state.turns, &turn_id, user_item.clone());
        }
        self.emit(ThreadEventKind::ItemStarted {
            turn_id: turn_id.clone(),
            item: ThreadItem {
                completed_at_ms: None,
                ..user_item.clone()
            },
        })
        .await;
        self.emit(ThreadEventKind::ItemCompleted {
            turn_id,
            item: user_item,
        })
        .await;
    }

    /// Takes the input steered into the turn, recording each as a user message; `false` when
    /// there was none.
    async fn take_steered(&self) -> bool {
        let steered = self
            .steered
            .lock()
            .map(|mut queue| std::mem::take(&mut queue.items))
            .unwrap_or_default();
        let any = !steered.is_empty();
        for (input, client_id) in steered {
            self.record_user_message(input, client_id).await;
        }
        any
    }

    /// Model requests until the model stops calling tools, with stream retries.
    async fn sample_until_done(
        &self,
        interrupt: &mut oneshot::Receiver<oneshot::Receiver<()>>,
    ) -> Outcome {
        let max_retries = {
            let state = self.handle.state.lock().await;
            state
                .config
                .provider(&state.settings.model_provider)
                .map_or(0, |provider| provider.stream_max_retries)
        };
        let mut stream_retries = 0;
        let mut follow_ups = 0;
        loop {
            if self.needs_compaction().await {
                if let Err(outcome) = self.compact(interrupt).await {
                    return outcome;
                }
            }
            let step = self.sample(interrupt).await;
            match step {
                Step::Done { follow_up } => {
                    stream_retries = 0;
                    follow_ups += 1;
                    if follow_ups > MAX_FOLLOW_UPS {
                        return Outcome::Failed(ModelError {
                            kind: crate::model::ModelErrorKind::ResponseFailed,
                            message: format!(
                                "the model asked for tools {MAX_FOLLOW_UPS} times in a row; \
                                 stopping the turn"
                            ),
                            details: None,
                        });
                    }
                    // Steered input joins before the next model request.
                    let steered = self.take_steered().await;
                    if !follow_up && !steered {
                        return Outcome::Completed;
                    }
                }
                Step::Interrupted(gate) => return Outcome::Interrupted(gate),
                Step::Failed(error) => {
                    if !error.is_stream_retryable() || stream_retries >= max_retries {
                        return Outcome::Failed(error);
                    }
                    stream_retries += 1;
                    let mut notice = error.to_turn_error();
                    notice.additional_details = Some(error.message.clone());
                    notice.message = format!("Reconnecting... {stream_retries}/{max_retries}");
                    self.emit(ThreadEventKind::Error {
                        turn_id: self.turn.id.clone(),
                        error: notice,
                        will_retry: true,
                    })
                    .await;
                    tokio::select! {
                        () = tokio::time::sleep(backoff(stream_retries)) => {}
                        gate = &mut *interrupt => {
                            return Outcome::Interrupted(gate.unwrap_or_else(|_| closed_gate()));
                        }
                    }
                }
            }
        }
    }

    /// The request for the next model call: base instructions, then the history.
    pub(super) async fn build_request(
        &self,
    ) -> (ModelRequest, Option<crate::config::ModelProvider>) {
        let mut state = self.handle.state.lock().await;
        state.flush_pending_history();
        let settings = &state.settings;
        let mut input = Vec::with_capacity(state.history.len() + 1);
        input.push(ResponseItem::text_message(
            "developer",
            None,
            settings.base_instructions.clone(),
        ));
        input.extend(state.history.iter().cloned());
        let request = ModelRequest {
            model: settings.model.clone(),
            input,
            reasoning_effort: settings.effort.clone(),
            reasoning_summary: settings.summary,
            output_schema: self.request.output_schema.clone(),
            tools: Vec::new(),
            thread_id: self.thread_id().to_owned(),
            turn_id: self.turn.id.clone(),
        };
        let provider = state.config.provider(&settings.model_provider).cloned();
        (request, provider)
    }

    /// Runs a tool call and records it with its output; the step to end the response with
    /// when the turn was interrupted or cancelled meanwhile.
    async fn run_call(
        &self,
        call: ResponseItem,
        interrupt: &mut oneshot::Receiver<oneshot::Receiver<()>>,
    ) -> Option<Step> {
        let ResponseItem::FunctionCall {
            call_id,
            name,
            arguments,
            ..
        } = &call
        else {
            return None;
        };
        let (call_id, name, arguments) = (call_id.clone(), name.clone(), arguments.clone());
        {
            let mut state = self.handle.state.lock().await;
            state.record(call);
        }
        let started = std::time::Instant::now();
        let end = self.call_tool(&call_id, &name, &arguments, interrupt).await;
        let aborted = || {
            format!(
                "Wall time: {:.1} seconds\naborted by user",
                started.elapsed().as_secs_f64()
            )
        };
        let (output, extra, step) = match end {
            ToolEnd::Output(output, extra) => (output, extra, None),
            ToolEnd::Interrupted(gate) => (
                ToolOutput::Text(aborted()),
                Vec::new(),
                Some(Step::Interrupted(gate)),
            ),
            ToolEnd::Cancelled => (
                ToolOutput::Text(aborted()),
                Vec::new(),
                Some(Step::Interrupted(closed_gate())),
            ),
        };
        let output = match output {
            ToolOutput::Text(text) => ResponseItem::FunctionCallOutput {
                call_id,
                output: text.into(),
            },
            ToolOutput::Parts(parts) => ResponseItem::FunctionCallOutput {
                call_id,
                output: parts.into(),
            },
        };
        let mut state = self.handle.state.lock().await;
        for item in std::iter::once(output).chain(extra) {
            state.record(item);
        }
        step
    }

    /// Sends a model request and returns its open stream, or how that ended: failed, or
    /// interrupted while connecting.
    pub(super) async fn open_stream(
        &self,
        request: &ModelRequest,
        provider: Option<crate::config::ModelProvider>,
        interrupt: &mut oneshot::Receiver<oneshot::Receiver<()>>,
    ) -> Result<crate::model::ResponseStream, Step> {
        let failed = |kind, message: String| {
            Step::Failed(ModelError {
                kind,
                message,
                details: None,
            })
        };
        let Some(provider) = provider else {
            return Err(failed(
                crate::model::ModelErrorKind::ResponseFailed,
                "the thread's model provider is no longer configured".to_owned(),
            ));
        };
        let http = self
            .manager
            .http()
            .map_err(|message| failed(crate::model::ModelErrorKind::Connect, message))?;
        let client = ModelClient::new(
            http.clone(),
            provider,
            self.request.originator.clone(),
            self.request.user_agent.clone(),
        );
        tokio::select! {
            result = client.stream(request) => result.map_err(Step::Failed),
            gate = &mut *interrupt => Err(Step::Interrupted(gate.unwrap_or_else(|_| closed_gate()))),
        }
    }

    /// One model request and its streamed response.
    async fn sample(&self, interrupt: &mut oneshot::Receiver<oneshot::Receiver<()>>) -> Step {
        let (mut request, provider) = self.build_request().await;
        request.tools = self.tool_specs().await;
        let mut stream = match self.open_stream(&request, provider, interrupt).await {
            Ok(stream) => stream,
            Err(step) => return step,
        };
        let mut follow_up = false;
        let mut open = OpenItems::default();
        loop {
            let event = tokio::select! {
                event = stream.next() => event,
                gate = &mut *interrupt => return Step::Interrupted(gate.unwrap_or_else(|_| closed_gate())),
            };
            let event = match event {
                None => return Step::Done { follow_up },
                Some(Err(error)) => return Step::Failed(error),
                Some(Ok(event)) => event,
            };
            match event {
                ResponseEvent::Completed { usage, .. } => {
                    if let Some(usage) = usage {
                        self.record_usage(usage).await;
                    }
                    // As the reference: the turn's diff again after every response.
                    self.emit_diff().await;
                }
                ResponseEvent::OutputItemDone(call @ ResponseItem::FunctionCall { .. }) => {
                    follow_up = true;
                    if let Some(step) = self.run_call(call, interrupt).await {
                        return step;
                    }
                }
                other => self.stream_event(other, &mut open).await,
            }
        }
    }

    /// Turns a streamed event into item events.
    async fn stream_event(&self, event: ResponseEvent, open: &mut OpenItems) {
        let turn_id = self.turn.id.clone();
        match event {
            ResponseEvent::OutputItemAdded(item) => {
                let Some(kind) = started_kind(&item) else {
                    return;
                };
                let started_at_ms = now_ms();
                open.started.push((kind.id().to_owned(), started_at_ms));
                self.emit(ThreadEventKind::ItemStarted {
                    turn_id,
                    item: ThreadItem {
                        kind,
                        started_at_ms: Some(started_at_ms),
                        completed_at_ms: None,
                    },
                })
                .await;
            }
            ResponseEvent::OutputTextDelta { item_id, delta } => {
                self.emit(ThreadEventKind::AgentMessageDelta {
                    turn_id,
                    item_id,
                    delta,
                })
                .await;
            }
            ResponseEvent::ReasoningSummaryPartAdded {
                item_id,
                summary_index,
            } => {
                self.emit(ThreadEventKind::ReasoningSummaryPartAdded {
                    turn_id,
                    item_id,
                    summary_index,
                })
                .await;
            }
            ResponseEvent::ReasoningSummaryTextDelta {
                item_id,
                summary_index,
                delta,
            } => {
                self.emit(ThreadEventKind::ReasoningSummaryTextDelta {
                    turn_id,
                    item_id,
                    summary_index,
                    delta,
                })
                .await;
            }
            ResponseEvent::ReasoningTextDelta {
                item_id,
                content_index,
                delta,
            } => {
                self.emit(ThreadEventKind::ReasoningTextDelta {
                    turn_id,
                    item_id,
                    content_index,
                    delta,
                })
                .await;
            }
            ResponseEvent::OutputItemDone(item) => self.item_done(item, open).await,
            ResponseEvent::Completed { .. } => {}
        }
    }

    /// A completed output item: recorded, persisted and announced.
    async fn item_done(&self, item: ResponseItem, open: &mut OpenItems) {
        let Some(kind) = completed_kind(&item) else {
            return;
        };
        let turn_id = self.turn.id.clone();
        let id = kind.id().to_owned();
        let completed_at_ms = now_ms();
        let started_at_ms = open
            .started
            .iter()
            .find(|(open_id, _)| *open_id == id)
            .map_or(completed_at_ms, |(_, at)| *at);
        let was_announced = open.started.iter().any(|(open_id, _)| *open_id == id);
        let thread_item = ThreadItem {
            kind,
            started_at_ms: Some(started_at_ms),
            completed_at_ms: Some(completed_at_ms),
        };
        {
            let mut state = self.handle.state.lock().await;
            state.persist_item(&turn_id, &thread_item);
            state.record(item);
            push_item(&mut state.turns, &turn_id, thread_item.clone());
        }
        if !was_announced {
            self.emit(ThreadEventKind::ItemStarted {
                turn_id: turn_id.clone(),
                item: ThreadItem {
                    completed_at_ms: None,
                    ..thread_item.clone()
                },
            })
            .await;
        }
        self.emit(ThreadEventKind::ItemCompleted {
            turn_id,
            item: thread_item,
        })
        .await;
    }

    pub(super) async fn record_usage(&self, usage: tern_protocol::v2::TokenUsageBreakdown) {
        let token_usage = {
            let mut state = self.handle.state.lock().await;
            state.token_usage.last = usage;
            state.token_usage.total += usage;
            state.token_usage.model_context_window = Some(state.config.context_window());
            let token_usage = state.token_usage;
            state.persist(
                "event_msg",
                &EventMsg::TokenCount {
                    info: Some(TokenCountInfo {
                        total_token_usage: token_usage.total.into(),
                        last_token_usage: token_usage.last.into(),
                        model_context_window: token_usage.model_context_window,
                    }),
                },
            );
            token_usage
        };
        self.emit(ThreadEventKind::TokenUsage {
            turn_id: self.turn.id.clone(),
            usage: token_usage,
        })
        .await;
    }

    /// Records how the turn ended and announces it.
    async fn finish(
        mut self,
        outcome: Outcome,
        started_at_ms: i64,
        interrupt: &mut oneshot::Receiver<oneshot::Receiver<()>>,
    ) {
        let turn_id = self.turn.id.clone();
        let (status, error, gate) = match outcome {
            Outcome::Completed => (TurnStatus::Completed, None, interrupt.try_recv().ok()),
            Outcome::Failed(error) => (TurnStatus::Failed, Some(error.to_turn_error()), None),
            Outcome::Interrupted(gate) => (TurnStatus::Interrupted, None, Some(gate)),
        };
        // No more steering; what came in since the last model request stays in the history.
        let leftover = self
            .steered
            .lock()
            .map(|mut queue| {
                queue.closed = true;
                std::mem::take(&mut queue.items)
            })
            .unwrap_or_default();
        for (input, client_id) in leftover {
            self.record_user_message(input, client_id).await;
        }
        if let Some(gate) = gate {
            // The client must have the interrupt's answer before the turn's end (an interrupt
            // that raced the turn's completion included).
            let _ = gate.await;
        }
        let completed_at_ms = now_ms();
        // The end is recorded and announced under the thread's lock, and only then is the
        // thread free: a `turn/start` waiting for the lock starts its turn after this one's
        // `turn/completed`.
        let mut state = self.handle.state.lock().await;
        state.flush_pending_history();
        persist_end(
            &mut state,
            &turn_id,
            status,
            error.as_ref(),
            started_at_ms,
            completed_at_ms,
        );
        state.sync();
        let thread_status = if status == TurnStatus::Failed {
            ThreadStatus::SystemError
        } else {
            ThreadStatus::Idle
        };
        state.status = thread_status.clone();
        state.updated_at_ms = completed_at_ms;
        let mut summary_items = Vec::new();
        if let Some(turn) = state.turns.iter_mut().rev().find(|t| t.id == turn_id) {
            turn.status = status;
            turn.error.clone_from(&error);
            turn.completed_at = Some(completed_at_ms / 1000);
            turn.duration_ms = Some(completed_at_ms - started_at_ms);
            summary_items = turn
                .items
                .iter()
                .filter(|item| matches!(item.kind, ThreadItemKind::AgentMessage { .. }))
                .cloned()
                .collect();
        }
        self.turn.status = status;
        self.turn.completed_at = Some(completed_at_ms / 1000);
        self.turn.duration_ms = Some(completed_at_ms - started_at_ms);
        self.turn.error.clone_from(&error);
        if status == TurnStatus::Completed {
            self.turn.items = summary_items;
            self.turn.items_view = TurnItemsView::Summary;
        }
        self.emit(ThreadEventKind::StatusChanged(thread_status))
            .await;
        if let Some(error) = error {
            self.emit(ThreadEventKind::Error {
                turn_id: turn_id.clone(),
                error,
                will_retry: false,
            })
            .await;
        }
        self.emit(ThreadEventKind::TurnCompleted(self.turn.clone()))
            .await;
        if status == TurnStatus::Interrupted {
            // An interrupt stops what the thread was running.
            state.tools.sessions.kill_all();
        }
        let unresolved = self
            .unresolved
            .lock()
            .map(|mut keys| std::mem::take(&mut *keys))
            .unwrap_or_default();
        for (key, announce) in unresolved {
            self.emit(ThreadEventKind::ServerRequestResolved { key, announce })
                .await;
        }
        state.active = None;
    }
}

/// Items a response has started and not yet completed, with their start times.
#[derive(Default)]
struct OpenItems {
    started: Vec<(String, i64)>,
}

/// A gate that is already open (the interrupter went away).
pub(super) fn closed_gate() -> oneshot::Receiver<()> {
    let (tx, rx) = oneshot::channel();
    let _ = tx.send(());
    rx
}

pub(super) fn push_item(turns: &mut [Turn], turn_id: &str, item: ThreadItem) {
    if let Some(turn) = turns.iter_mut().rev().find(|t| t.id == turn_id) {
        turn.items.push(item);
    }
}

/// The rollout lines that end a turn: `turn_aborted` (with the marker the model sees next
/// time) for an interrupted turn, `task_complete` otherwise.
fn persist_end(
    state: &mut super::state::ThreadState,
    turn_id: &str,
    status: TurnStatus,
    error: Option<&tern_protocol::v2::TurnError>,
    started_at_ms: i64,
    completed_at_ms: i64,
) {
    let turn_id = turn_id.to_owned();
    let last_agent_message = state
        .turns
        .iter()
        .rev()
        .find(|t| t.id == turn_id)
        .and_then(|turn| {
            turn.items.iter().rev().find_map(|item| match &item.kind {
                ThreadItemKind::AgentMessage { text, .. } => Some(text.clone()),
                _ => None,
            })
        });
    if status == TurnStatus::Interrupted {
        let marker = ResponseItem::text_message(
            "user",
            None,
            "<turn_aborted>\nThe user interrupted the previous turn on purpose. Any \
                     work in progress was stopped; ask before resuming it.\n</turn_aborted>",
        );
        state.record(marker);
        state.persist(
            "event_msg",
            &EventMsg::TurnAborted {
                turn_id: Some(turn_id.clone()),
                reason: "interrupted".to_owned(),
            },
        );
    } else {
        state.persist(
            "event_msg",
            &EventMsg::TaskComplete {
                root_turn_id: Some(turn_id.clone()),
                turn_id: turn_id.clone(),
                last_agent_message,
                started_at: Some(started_at_ms / 1000),
                completed_at: Some(completed_at_ms / 1000),
                duration_ms: Some(completed_at_ms - started_at_ms),
                error: error.cloned(),
            },
        );
    }
}
