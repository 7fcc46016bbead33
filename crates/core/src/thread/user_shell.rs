//! `thread/shellCommand`: a command line the user runs in the thread's working directory,
//! outside the sandbox (as the reference documents it), shown as a `commandExecution` item
//! with source `userShell`, and told to the model as a `<user_shell_command>` message.
//!
//! On an idle thread the command is a turn of its own that asks the model nothing. During a
//! turn it joins that turn, and its message reaches the model before the turn's next request
//! (never between a tool call and its output).

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tern_protocol::v2::{CommandAction, CommandExecutionSource, CommandExecutionStatus};
use tokio::sync::{mpsc, oneshot};

use super::tool_calls::{CommandItem, command_line, complete_item};
use super::turn::{Outcome, TurnRunner};
use super::{AfterResponse, ThreadEventKind, ThreadHandle, ThreadManager};
use crate::exec::{ExecSpec, Process, TIMEOUT_EXIT};
use crate::model::ResponseItem;
use crate::time::now_ms;
use crate::tools::output::{DEFAULT_MAX_OUTPUT_TOKENS, HeadTail, truncate_middle};

/// How long a command may run when the client does not say.
pub(super) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// The shell user commands run in, as `exec_command`'s default.
const SHELL: &str = "/bin/bash";

impl TurnRunner {
    /// The body of a shell turn: runs the command (killed by an interrupt) and records what
    /// the model will be told.
    pub(super) async fn user_shell(
        &self,
        command: &str,
        timeout: Duration,
        interrupt: &mut oneshot::Receiver<oneshot::Receiver<()>>,
    ) -> Outcome {
        let (cancel, cancelled) = oneshot::channel();
        let run = run(
            &self.manager,
            &self.handle,
            &self.turn.id,
            command,
            timeout,
            cancelled,
        );
        tokio::pin!(run);
        let (message, gate) = tokio::select! {
            message = &mut run => (message, None),
            Ok(gate) = &mut *interrupt => {
                let _ = cancel.send(());
                (run.await, Some(gate))
            }
        };
        let mut state = self.handle.state.lock().await;
        state.record(message);
        drop(state);
        gate.map_or(Outcome::Completed, Outcome::Interrupted)
    }
}

/// Runs `command` as part of the running turn `turn_id`; its events wait for `after`.
pub(super) fn join_turn(
    manager: Arc<ThreadManager>,
    handle: Arc<ThreadHandle>,
    turn_id: String,
    command: String,
    timeout: Duration,
) -> AfterResponse {
    let (after, gate) = AfterResponse::new();
    tokio::spawn(async move {
        let _ = gate.await;
        // Nothing cancels it: the turn's interrupt stops the turn's own work.
        let (_, never) = oneshot::channel();
        let message = run(&manager, &handle, &turn_id, &command, timeout, never).await;
        let mut state = handle.state.lock().await;
        if state
            .active
            .as_ref()
            .is_some_and(|active| active.id == turn_id)
        {
            state.pending_history.push(message);
        } else {
            state.record(message);
        }
    });
    after
}

/// Runs the command with its item's events; returns the message that tells the model.
async fn run(
    manager: &Arc<ThreadManager>,
    handle: &Arc<ThreadHandle>,
    turn_id: &str,
    command: &str,
    timeout: Duration,
    cancel: oneshot::Receiver<()>,
) -> ResponseItem {
    let cwd = handle.state.lock().await.settings.cwd.clone();
    let item = CommandItem {
        id: uuid::Uuid::now_v7().to_string(),
        command: command_line(SHELL, "-lc", command),
        cwd: cwd.display().to_string(),
        // As the reference: the line is shown whole, not parsed.
        actions: vec![CommandAction::Unknown {
            command: command.to_owned(),
        }],
        source: CommandExecutionSource::UserShell,
        started_at_ms: now_ms(),
    };
    manager
        .emit(
            &handle.id,
            ThreadEventKind::ItemStarted {
                turn_id: turn_id.to_owned(),
                item: item.started(None),
            },
        )
        .await;
    let started = Instant::now();
    let spawned = Process::spawn(&ExecSpec {
        argv: vec![SHELL.to_owned(), "-lc".to_owned(), command.to_owned()],
        cwd,
        env: Vec::new(),
        sandbox: None,
        stdin: false,
        tty: None,
    });
    let mut output = HeadTail::default();
    let exit_code = match spawned {
        Ok(process) => {
            let (chunks, mut received) = mpsc::channel(64);
            let waiting = tokio::spawn(process.wait(Some(timeout), None, Some(chunks), cancel));
            while let Some(chunk) = received.recv().await {
                output.push(&chunk.bytes);
                manager
                    .emit(
                        &handle.id,
                        ThreadEventKind::CommandOutputDelta {
                            turn_id: turn_id.to_owned(),
                            item_id: item.id.clone(),
                            delta: String::from_utf8_lossy(&chunk.bytes).into_owned(),
                        },
                    )
                    .await;
            }
            match waiting
                .await
                .map_err(std::io::Error::other)
                .and_then(|waited| waited)
            {
                Ok(outcome) => outcome.exit_code,
                Err(err) => failed(&mut output, &format!("waiting for the command: {err}")),
            }
        }
        Err(err) => failed(&mut output, &format!("could not start {SHELL}: {err}")),
    };
    if exit_code == TIMEOUT_EXIT && started.elapsed() >= timeout {
        output.push(format!("\ncommand timed out after {} ms\n", timeout.as_millis()).as_bytes());
    }
    let duration = started.elapsed();
    let text = output.text();
    let status = if exit_code == 0 {
        CommandExecutionStatus::Completed
    } else {
        CommandExecutionStatus::Failed
    };
    complete_item(
        manager,
        handle,
        turn_id,
        item.completed(None, status, Some((exit_code, text.clone()))),
    )
    .await;
    model_message(command, exit_code, duration, &text)
}

/// Notes why the command has no real exit status; the code a shell gives one it cannot run.
fn failed(output: &mut HeadTail, reason: &str) -> i32 {
    tracing::warn!(%reason, "user shell command failed");
    output.push(reason.as_bytes());
    127
}

/// What the model is told about a command the user ran, in the reference's words.
fn model_message(command: &str, exit_code: i32, duration: Duration, output: &str) -> ResponseItem {
    let mut text = String::new();
    let _ = write!(
        text,
        "<user_shell_command>\n<command>\n{command}\n</command>\n<result>\nExit code: \
         {exit_code}\nDuration: {:.4} seconds\nOutput:\n{}\n</result>\n</user_shell_command>",
        duration.as_secs_f64(),
        truncate_middle(output, DEFAULT_MAX_OUTPUT_TOKENS),
    );
    ResponseItem::text_message("user", None, text)
}

/// Whether a history item is a [`model_message`] (a thread with nothing else in its history
/// has not told the model anything yet).
pub(super) fn is_model_message(item: &ResponseItem) -> bool {
    matches!(item, ResponseItem::Message { role, .. } if role == "user")
        && item
            .message_text()
            .is_some_and(|text| text.starts_with("<user_shell_command>\n"))
}
