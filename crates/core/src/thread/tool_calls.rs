//! The model's tool calls within a turn: what each tool does, the approvals it needs, and the
//! items clients see.
//!
//! A call runs when the model's output item for it is done, before the rest of the response
//! is read, and its output joins the history for the next model request. Approvals follow
//! the thread's policy: `never` asks nothing (escalation is refused), `on-request` asks only
//! when the model asks to leave the sandbox, `granular` does too and also offers to rerun a
//! command the sandbox denied outside it (or, with `sandbox_approval` off, refuses both
//! without asking), `untrusted` asks for every command that is not known to only read, and
//! for every patch. A command the user approves runs outside the sandbox. Decisions "for the
//! session" last while the thread is loaded.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use tern_protocol::v2::{
    AskForApproval, CommandAction, CommandExecutionApprovalDecision, CommandExecutionApprovalKind,
    CommandExecutionRequestApprovalParams, CommandExecutionSource, CommandExecutionStatus,
    DynamicToolCallOutputContentItem, DynamicToolCallParams, DynamicToolCallStatus,
    DynamicToolSpec, FileChangeApprovalDecision, FileChangeRequestApprovalParams, FileUpdateChange,
    PatchApplyStatus, PatchChangeKind, SandboxPolicy, ThreadActiveFlag, ThreadItem, ThreadItemKind,
    ThreadStatus, ToolRequestUserInputOption, ToolRequestUserInputParams,
    ToolRequestUserInputQuestion, TurnPlanStep, TurnPlanStepStatus,
};
use tern_protocol::{ServerRequest, server};
use tokio::sync::oneshot;

use super::requests::{Asked, arguments};
use super::turn::{TurnRunner, push_item};
use super::{ThreadEventKind, ThreadHandle, ThreadManager};
use crate::exec::ExecSpec;
use crate::model::{ContentItem, ResponseItem};
use crate::pty::TerminalSize;
use crate::sandbox::SandboxPlan;
use crate::time::now_ms;
use crate::tools::apply_patch::{self, ChangeKind};
use crate::tools::output::{DEFAULT_MAX_OUTPUT_TOKENS, ExecReport, HeadTail};
use crate::tools::sessions::{Poll, Session, Sessions};
use crate::tools::{shell, specs};

/// Shortest and longest waits of `exec_command` for output before it returns.
const EXEC_YIELD: (u64, u64) = (250, 30_000);
const EXEC_DEFAULT_YIELD: u64 = 10_000;
/// Waits of `write_stdin`: a write returns after a short wait, a bare poll waits longer.
const WRITE_YIELD: (u64, u64) = (250, 30_000);
const POLL_YIELD: (u64, u64) = (5_000, 300_000);

/// Tool state a thread keeps while loaded.
#[derive(Debug, Default)]
pub(crate) struct ThreadTools {
    pub(crate) sessions: Sessions,
    pub(crate) dynamic: Vec<DynamicToolSpec>,
    approved: StdMutex<Approved>,
}

/// What the user allowed for the rest of the session.
#[derive(Debug, Default)]
struct Approved {
    /// Command lines, with the directory they run in.
    commands: HashSet<(String, PathBuf)>,
    /// Command prefixes (`acceptWithExecpolicyAmendment`).
    prefixes: Vec<Vec<String>>,
    /// Files patches may change without asking.
    files: HashSet<PathBuf>,
}

impl ThreadTools {
    pub(crate) fn with_dynamic(dynamic: Vec<DynamicToolSpec>) -> Self {
        Self {
            dynamic,
            ..Self::default()
        }
    }

    fn command_approved(&self, line: &str, cwd: &Path) -> bool {
        let Ok(approved) = self.approved.lock() else {
            return false;
        };
        if approved
            .commands
            .contains(&(line.to_owned(), cwd.to_owned()))
        {
            return true;
        }
        shell::split_commands(line).is_some_and(|commands| {
            commands.iter().all(|argv| {
                approved
                    .prefixes
                    .iter()
                    .any(|prefix| argv.starts_with(prefix))
            })
        })
    }

    fn files_approved(&self, paths: &[PathBuf]) -> bool {
        self.approved
            .lock()
            .is_ok_and(|approved| paths.iter().all(|path| approved.files.contains(path)))
    }

    fn approve(&self, update: impl FnOnce(&mut Approved)) {
        if let Ok(mut approved) = self.approved.lock() {
            update(&mut approved);
        }
    }
}

/// The files a turn changed, as they were before it: the base of `turn/diff/updated`.
#[derive(Debug, Default)]
pub(super) struct TurnDiff {
    /// Path → contents at the turn's start (`None`: did not exist).
    before: BTreeMap<PathBuf, Option<String>>,
}

impl TurnDiff {
    fn remember(&mut self, path: &Path) {
        self.before
            .entry(path.to_owned())
            .or_insert_with(|| std::fs::read_to_string(path).ok());
    }

    /// The unified diff of every remembered file against its current contents; empty when
    /// nothing differs.
    pub(super) fn render(&self, cwd: &Path) -> String {
        let base = git_root(cwd).unwrap_or_else(|| cwd.to_owned());
        let mut out = String::new();
        for (path, before) in &self.before {
            let after = std::fs::read_to_string(path).ok();
            if *before == after {
                continue;
            }
            let name = path
                .strip_prefix(&base)
                .unwrap_or(path)
                .display()
                .to_string();
            let _ = writeln!(out, "diff --git a/{name} b/{name}");
            let old_name = match before {
                None => {
                    out.push_str("new file mode 100644\n");
                    "/dev/null".to_owned()
                }
                Some(_) => format!("a/{name}"),
            };
            let new_name = match after {
                None => {
                    out.push_str("deleted file mode 100644\n");
                    "/dev/null".to_owned()
                }
                Some(_) => format!("b/{name}"),
            };
            let old = before.as_deref().unwrap_or_default();
            let new = after.as_deref().unwrap_or_default();
            let diff = similar::TextDiff::from_lines(old, new);
            let _ = write!(out, "--- {old_name}\n+++ {new_name}\n");
            for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
                out.push_str(&hunk.to_string());
            }
        }
        out
    }
}

/// The nearest folder at or above `dir` holding a `.git`.
fn git_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_owned)
}

/// How a tool call ended.
pub(super) enum ToolEnd {
    /// Its output for the model, and items to add to the history after it (an image).
    Output(ToolOutput, Vec<ResponseItem>),
    /// The turn was interrupted while it ran.
    Interrupted(oneshot::Receiver<()>),
    /// The user cancelled the turn while deciding on an approval.
    Cancelled,
}

/// What a tool returns to the model.
pub(super) enum ToolOutput {
    Text(String),
    /// Content parts (text and images).
    Parts(Vec<ContentItem>),
}

fn text(output: impl Into<String>) -> ToolEnd {
    ToolEnd::Output(ToolOutput::Text(output.into()), Vec::new())
}

/// `exec_command`'s arguments.
#[derive(Debug, Deserialize)]
struct ExecArgs {
    cmd: String,
    #[serde(default)]
    workdir: Option<String>,
    #[serde(default)]
    shell: Option<String>,
    #[serde(default)]
    login: Option<bool>,
    #[serde(default)]
    tty: bool,
    #[serde(default)]
    yield_time_ms: Option<u64>,
    #[serde(default)]
    max_output_tokens: Option<usize>,
    #[serde(default)]
    sandbox_permissions: Option<String>,
    #[serde(default)]
    justification: Option<String>,
    #[serde(default)]
    prefix_rule: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
struct WriteArgs {
    session_id: i32,
    #[serde(default)]
    chars: String,
    #[serde(default)]
    yield_time_ms: Option<u64>,
    #[serde(default)]
    max_output_tokens: Option<usize>,
}

#[derive(Debug, Deserialize)]
struct PlanArgs {
    #[serde(default)]
    explanation: Option<String>,
    plan: Vec<PlanStepArgs>,
}

#[derive(Debug, Deserialize)]
struct PlanStepArgs {
    step: String,
    status: PlanStatusArg,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum PlanStatusArg {
    Pending,
    InProgress,
    Completed,
}

#[derive(Debug, Deserialize)]
struct QuestionsArgs {
    questions: Vec<QuestionArg>,
}

#[derive(Debug, Deserialize)]
struct QuestionArg {
    id: String,
    header: String,
    question: String,
    #[serde(default)]
    options: Vec<ToolRequestUserInputOption>,
}

#[derive(Debug, Deserialize)]
struct PathArgs {
    path: String,
}

#[derive(Debug, Deserialize)]
struct PatchArgs {
    input: String,
}

/// What a call needs from the thread, read once under its lock.
struct CallContext {
    cwd: PathBuf,
    approval_policy: AskForApproval,
    sandbox: SandboxPolicy,
    tools: Arc<ThreadTools>,
}

impl TurnRunner {
    /// The tools offered to the model this turn.
    pub(super) async fn tool_specs(&self) -> Vec<serde_json::Value> {
        let state = self.handle.state.lock().await;
        let web_search = state.config.web_search != crate::config::WebSearchMode::Disabled
            && state
                .config
                .provider(&state.settings.model_provider)
                .is_some_and(|provider| provider.wire_api == crate::config::WireApi::Responses);
        specs::tools(&specs::ToolSet {
            apply_patch: state.config.include_apply_patch_tool,
            web_search,
            dynamic: state.tools.dynamic.clone(),
        })
    }

    async fn call_context(&self) -> CallContext {
        let state = self.handle.state.lock().await;
        CallContext {
            cwd: state.settings.cwd.clone(),
            approval_policy: state.settings.approval_policy,
            sandbox: state.settings.sandbox.clone(),
            tools: Arc::clone(&state.tools),
        }
    }

    /// Runs one tool call.
    pub(super) async fn call_tool(
        &self,
        call_id: &str,
        name: &str,
        args: &str,
        interrupt: &mut oneshot::Receiver<oneshot::Receiver<()>>,
    ) -> ToolEnd {
        let ctx = self.call_context().await;
        let parsed = match name {
            "exec_command" => arguments::<ExecArgs>(name, args).map(|args| {
                Box::pin(self.exec_command(&ctx, call_id, args, interrupt))
                    as std::pin::Pin<Box<dyn Future<Output = ToolEnd> + Send + '_>>
            }),
            "write_stdin" => arguments::<WriteArgs>(name, args)
                .map(|args| Box::pin(self.write_stdin(&ctx, args, interrupt)) as _),
            "apply_patch" => arguments::<PatchArgs>(name, args).map(|args| {
                Box::pin(self.apply_patch(&ctx, call_id, args.input, ctx.cwd.clone(), interrupt))
                    as _
            }),
            "update_plan" => {
                arguments::<PlanArgs>(name, args).map(|args| Box::pin(self.update_plan(args)) as _)
            }
            "request_user_input" => arguments::<QuestionsArgs>(name, args)
                .map(|args| Box::pin(self.request_user_input(call_id, args, interrupt)) as _),
            "view_image" => arguments::<PathArgs>(name, args)
                .map(|args| Box::pin(self.view_image(&ctx, call_id, args)) as _),
            _ => match specs::find_dynamic(&ctx.tools.dynamic, name) {
                Some((namespace, tool)) => {
                    let arguments = serde_json::from_str(args)
                        .unwrap_or(serde_json::Value::String(args.into()));
                    Ok(
                        Box::pin(self.dynamic_tool(call_id, namespace, tool, arguments, interrupt))
                            as _,
                    )
                }
                None => Err(format!("unsupported call: {name}")),
            },
        };
        match parsed {
            Ok(run) => run.await,
            Err(message) => text(message),
        }
    }

    async fn exec_command(
        &self,
        ctx: &CallContext,
        call_id: &str,
        args: ExecArgs,
        interrupt: &mut oneshot::Receiver<oneshot::Receiver<()>>,
    ) -> ToolEnd {
        let cwd = match &args.workdir {
            Some(dir) => ctx.cwd.join(dir),
            None => ctx.cwd.clone(),
        };
        if !cwd.is_dir() {
            return text(format!(
                "exec_command failed: workdir {} is not a directory",
                cwd.display()
            ));
        }
        if let Some(patch) = shell::parse_apply_patch(&args.cmd) {
            let dir = patch
                .workdir
                .map_or_else(|| cwd.clone(), |dir| cwd.join(dir));
            return self
                .apply_patch(ctx, call_id, patch.patch, dir, interrupt)
                .await;
        }
        let escalate = args.sandbox_permissions.as_deref() == Some("require_escalated");
        let plan = SandboxPlan::for_policy(&ctx.sandbox, &cwd);
        let sandboxed = plan.is_some();
        let policy = ctx.approval_policy;
        if escalate && !may_leave_sandbox(policy) {
            return text(format!(
                "approval policy is {}: the command cannot ask to run outside the sandbox; \
                 run it sandboxed or not at all",
                policy_name(policy)
            ));
        }
        let (_, _, display) = shell_line(&args);
        let item = CommandItem {
            id: call_id.to_owned(),
            command: display,
            cwd: cwd.display().to_string(),
            actions: command_actions(&args.cmd, &cwd),
            source: CommandExecutionSource::Agent,
            started_at_ms: now_ms(),
        };
        // A command the policy asks about runs outside the sandbox once the user approves
        // it, as in the reference; so does one approved after the sandbox denied it.
        let asks = match policy {
            AskForApproval::Never => false,
            AskForApproval::OnRequest | AskForApproval::Granular(_) => escalate && sandboxed,
            AskForApproval::Untrusted => escalate || !shell::is_known_safe(&args.cmd),
        };
        let approved = ctx.tools.command_approved(&args.cmd, &cwd);
        let ask_now = asks && !approved;
        if ask_now {
            let why = if escalate {
                AskReason::Escalation
            } else {
                AskReason::Policy
            };
            if let Approval::Refused(end) = self
                .approve_command(ctx, &item, &args, &cwd, why, interrupt)
                .await
            {
                return end;
            }
        }
        let outside = asks || (approved && retries_denials(policy));
        let retry = sandboxed && !outside && retries_denials(policy);
        let launch = Launch {
            sandbox: if outside { None } else { plan },
            announce: !ask_now,
            hold: retry,
        };
        let (session, verdict) = match self
            .start_session(ctx, item.clone(), &args, &cwd, launch)
            .await
        {
            Ok(started) => started,
            Err(end) => return end,
        };
        let started = Instant::now();
        let yield_time = clamp(args.yield_time_ms.unwrap_or(EXEC_DEFAULT_YIELD), EXEC_YIELD);
        let poll = match self
            .wait_session(ctx, &session, yield_time, interrupt)
            .await
        {
            Ok(poll) => poll,
            Err(end) => return end,
        };
        if let Some(verdict) = verdict {
            if looks_denied_by_sandbox(&poll) {
                // The first attempt's item stays open for the retry to finish.
                let _ = verdict.send(());
                ctx.tools.sessions.remove(session.id);
                session.item_done().await;
                return self
                    .retry_outside_sandbox(ctx, item, &args, cwd, interrupt)
                    .await;
            }
            // The item completes as the command ended (the report below waits for that).
            drop(verdict);
        }
        self.report_session(ctx, &session, poll, started, args.max_output_tokens)
            .await
    }

    /// After the sandbox denied a command: asks whether it may run outside, and runs it
    /// there within the same item.
    async fn retry_outside_sandbox(
        &self,
        ctx: &CallContext,
        item: CommandItem,
        args: &ExecArgs,
        cwd: PathBuf,
        interrupt: &mut oneshot::Receiver<oneshot::Receiver<()>>,
    ) -> ToolEnd {
        if let Approval::Refused(end) = self
            .approve_command(ctx, &item, args, &cwd, AskReason::Retry, interrupt)
            .await
        {
            return end;
        }
        let (session, _) = match self
            .start_session(ctx, item, args, &cwd, Launch::default())
            .await
        {
            Ok(started) => started,
            Err(end) => return end,
        };
        let yield_time = clamp(args.yield_time_ms.unwrap_or(EXEC_DEFAULT_YIELD), EXEC_YIELD);
        self.poll_session(ctx, &session, yield_time, args.max_output_tokens, interrupt)
            .await
    }

    /// Starts a command's session and the task that streams its item (see [`Launch`]).
    async fn start_session(
        &self,
        ctx: &CallContext,
        mut item: CommandItem,
        args: &ExecArgs,
        cwd: &Path,
        launch: Launch,
    ) -> Result<(Arc<Session>, Option<oneshot::Sender<()>>), ToolEnd> {
        let (shell, flag, _) = shell_line(args);
        let started = ctx.tools.sessions.start(
            &ExecSpec {
                argv: vec![shell, flag.to_owned(), args.cmd.clone()],
                cwd: cwd.to_owned(),
                env: Vec::new(),
                sandbox: launch.sandbox,
                stdin: false,
                tty: args.tty.then(TerminalSize::default),
            },
            &item.id,
        );
        item.source = CommandExecutionSource::UnifiedExecStartup;
        let session = match started {
            Ok(session) => session,
            Err(err) => {
                self.emit_command_done(&item, None, CommandExecutionStatus::Failed, None)
                    .await;
                return Err(text(format!("exec_command failed: {err}")));
            }
        };
        if launch.announce {
            self.start_item(item.started(Some(session.id))).await;
        }
        let (verdict, held) = if launch.hold {
            let (send, receive) = oneshot::channel();
            (Some(send), Some(receive))
        } else {
            (None, None)
        };
        tokio::spawn(watch_session(
            Arc::clone(&self.manager),
            Arc::clone(&self.handle),
            self.turn.id.clone(),
            item,
            Arc::clone(&session),
            held,
        ));
        Ok((session, verdict))
    }

    /// Asks the user whether a command may run; remembers "for the session" answers.
    async fn approve_command(
        &self,
        ctx: &CallContext,
        item: &CommandItem,
        args: &ExecArgs,
        cwd: &Path,
        why: AskReason,
        interrupt: &mut oneshot::Receiver<oneshot::Receiver<()>>,
    ) -> Approval {
        let amendment = args
            .prefix_rule
            .clone()
            .filter(|rule| !rule.is_empty())
            .or_else(|| {
                shell::split_commands(&args.cmd)
                    .filter(|commands| commands.len() == 1)
                    .and_then(|mut commands| commands.pop())
            });
        let mut decisions = vec![CommandExecutionApprovalDecision::Accept];
        decisions.push(CommandExecutionApprovalDecision::AcceptForSession);
        if let Some(amendment) = &amendment {
            decisions.push(
                CommandExecutionApprovalDecision::AcceptWithExecpolicyAmendment {
                    execpolicy_amendment: amendment.clone(),
                },
            );
        }
        decisions.extend([
            CommandExecutionApprovalDecision::Decline,
            CommandExecutionApprovalDecision::Cancel,
        ]);
        self.set_waiting(Some(ThreadActiveFlag::WaitingOnApproval))
            .await;
        let reason = match why {
            AskReason::Escalation => args.justification.clone(),
            AskReason::Policy => None,
            AskReason::Retry => Some("command failed; retry without sandbox?".to_owned()),
        };
        // A retried command's item started with its sandboxed attempt.
        if why != AskReason::Retry {
            self.start_item(item.started(None)).await;
        }
        let request =
            ServerRequest::CommandExecutionRequestApproval(CommandExecutionRequestApprovalParams {
                thread_id: self.handle.id.clone(),
                turn_id: self.turn.id.clone(),
                item_id: item.id.clone(),
                started_at_ms: now_ms(),
                kind: CommandExecutionApprovalKind::Command,
                environment_id: Some("local".to_owned()),
                reason,
                command: Some(item.command.clone()),
                cwd: Some(item.cwd.clone()),
                command_actions: Some(item.actions.clone()),
                proposed_execpolicy_amendment: amendment,
                available_decisions: Some(decisions),
            });
        let decision = match self
            .ask::<server::CommandExecutionRequestApproval>(request, interrupt, true)
            .await
        {
            Asked::Interrupted(gate) => return Approval::Refused(ToolEnd::Interrupted(gate)),
            Asked::Answered(answer) => answer.map(|answer| answer.decision),
        };
        let refused = |status, end| async move {
            self.emit_command_done(item, None, status, None).await;
            self.set_waiting(None).await;
            Approval::Refused(end)
        };
        match decision {
            Some(CommandExecutionApprovalDecision::Accept) => {}
            Some(CommandExecutionApprovalDecision::AcceptForSession) => {
                ctx.tools.approve(|approved| {
                    approved.commands.insert((args.cmd.clone(), cwd.to_owned()));
                });
            }
            Some(CommandExecutionApprovalDecision::AcceptWithExecpolicyAmendment {
                execpolicy_amendment,
            }) => ctx
                .tools
                .approve(|approved| approved.prefixes.push(execpolicy_amendment)),
            Some(CommandExecutionApprovalDecision::Decline) => {
                let message = if why == AskReason::Retry {
                    "exec_command failed: the sandbox denied the command and the user declined \
                     to run it outside"
                } else {
                    "exec_command failed: the user declined to run this command"
                };
                return refused(CommandExecutionStatus::Declined, text(message)).await;
            }
            Some(CommandExecutionApprovalDecision::Cancel) => {
                return refused(CommandExecutionStatus::Declined, ToolEnd::Cancelled).await;
            }
            None => {
                return refused(
                    CommandExecutionStatus::Failed,
                    text(
                        "exec_command failed: the approval request failed; the command did not run",
                    ),
                )
                .await;
            }
        }
        self.set_waiting(None).await;
        Approval::Granted
    }

    /// Waits on a session for `yield_time` (or its exit) and reports to the model.
    async fn poll_session(
        &self,
        ctx: &CallContext,
        session: &Arc<Session>,
        yield_time: Duration,
        max_output_tokens: Option<usize>,
        interrupt: &mut oneshot::Receiver<oneshot::Receiver<()>>,
    ) -> ToolEnd {
        let started = Instant::now();
        match self.wait_session(ctx, session, yield_time, interrupt).await {
            Ok(poll) => {
                self.report_session(ctx, session, poll, started, max_output_tokens)
                    .await
            }
            Err(end) => end,
        }
    }

    /// Waits on a session for `yield_time` or its exit; an interrupt kills it.
    async fn wait_session(
        &self,
        ctx: &CallContext,
        session: &Arc<Session>,
        yield_time: Duration,
        interrupt: &mut oneshot::Receiver<oneshot::Receiver<()>>,
    ) -> Result<Poll, ToolEnd> {
        let mut gate = None;
        let poll = session
            .poll(yield_time, async {
                gate = Some(
                    (&mut *interrupt)
                        .await
                        .unwrap_or_else(|_| super::turn::closed_gate()),
                );
            })
            .await;
        if let Some(gate) = gate {
            // An interrupt stops what the turn started.
            session.kill();
            ctx.tools.sessions.remove(session.id);
            return Err(ToolEnd::Interrupted(gate));
        }
        Ok(poll)
    }

    /// What the model reads of a wait on a session.
    async fn report_session(
        &self,
        ctx: &CallContext,
        session: &Arc<Session>,
        poll: Poll,
        started: Instant,
        max_output_tokens: Option<usize>,
    ) -> ToolEnd {
        if poll.exit_code.is_some() {
            ctx.tools.sessions.remove(session.id);
            // The item is completed before the model hears of the exit.
            session.item_done().await;
        }
        let output = String::from_utf8_lossy(&poll.output);
        let report = ExecReport {
            chunk_id: &format!("{:06x}", rand_u32() & 0x00ff_ffff),
            wall_time: started.elapsed(),
            exit_code: poll.exit_code,
            session_id: poll.exit_code.is_none().then_some(session.id),
            output: &output,
            original_bytes: poll.output.len() + poll.dropped,
            max_output_tokens: max_output_tokens.unwrap_or(DEFAULT_MAX_OUTPUT_TOKENS),
        };
        text(report.render())
    }

    async fn write_stdin(
        &self,
        ctx: &CallContext,
        args: WriteArgs,
        interrupt: &mut oneshot::Receiver<oneshot::Receiver<()>>,
    ) -> ToolEnd {
        let Some(session) = ctx.tools.sessions.get(args.session_id) else {
            return text(format!(
                "write_stdin failed: no running session {} (it may have exited)",
                args.session_id
            ));
        };
        let yield_time = if args.chars.is_empty() {
            clamp(args.yield_time_ms.unwrap_or(POLL_YIELD.0), POLL_YIELD)
        } else {
            if let Err(err) = session.write(args.chars.as_bytes()).await {
                return text(format!("write_stdin failed: {err}"));
            }
            clamp(args.yield_time_ms.unwrap_or(WRITE_YIELD.0), WRITE_YIELD)
        };
        let end = self
            .poll_session(ctx, &session, yield_time, args.max_output_tokens, interrupt)
            .await;
        // As the reference: after the call's output, unless the command exited meanwhile; an
        // empty poll counts for a terminal.
        if session.exit_code().is_none() && (session.tty || !args.chars.is_empty()) {
            self.emit(ThreadEventKind::TerminalInteraction {
                turn_id: self.turn.id.clone(),
                item_id: session.item_id.clone(),
                process_id: session.id.to_string(),
                stdin: args.chars,
            })
            .await;
        }
        end
    }

    /// Applies a patch: a `fileChange` item, an approval when the policy wants one, then
    /// `turn/diff/updated`.
    async fn apply_patch(
        &self,
        ctx: &CallContext,
        call_id: &str,
        patch: String,
        cwd: PathBuf,
        interrupt: &mut oneshot::Receiver<oneshot::Receiver<()>>,
    ) -> ToolEnd {
        let changes = match apply_patch::preview(&patch, &cwd) {
            Ok(changes) => changes,
            Err(err) => return text(format!("apply_patch verification failed: {err}")),
        };
        let touched: Vec<PathBuf> = changes
            .iter()
            .flat_map(|change| {
                let mut paths = vec![change.path.clone()];
                if let ChangeKind::Update { move_to: Some(to) } = &change.kind {
                    paths.push(to.clone());
                }
                paths
            })
            .collect();
        let outside_roots = match SandboxPlan::for_policy(&ctx.sandbox, &ctx.cwd) {
            None => false,
            Some(plan) => touched.iter().any(|path| !plan.allows_write(path)),
        };
        let policy = ctx.approval_policy;
        if outside_roots && !may_leave_sandbox(policy) {
            return text(format!(
                "apply_patch failed: the patch writes outside the writable roots and the \
                 approval policy is {}",
                policy_name(policy)
            ));
        }
        let needs_approval = match policy {
            AskForApproval::Never => false,
            AskForApproval::OnRequest | AskForApproval::Granular(_) => outside_roots,
            AskForApproval::Untrusted => true,
        } && !ctx.tools.files_approved(&touched);
        let wire_changes: Vec<FileUpdateChange> = changes.iter().map(wire_change).collect();
        let started_at_ms = now_ms();
        let item = |status| ThreadItem {
            kind: ThreadItemKind::FileChange {
                id: call_id.to_owned(),
                changes: wire_changes.clone(),
                status,
            },
            started_at_ms: Some(started_at_ms),
            completed_at_ms: (status != PatchApplyStatus::InProgress).then(now_ms),
        };
        self.start_item(item(PatchApplyStatus::InProgress)).await;
        if needs_approval {
            if let Some((status, end)) = self.approve_patch(ctx, call_id, &touched, interrupt).await
            {
                if let Some(status) = status {
                    self.complete_item(item(status)).await;
                }
                return end;
            }
        }
        if let Ok(mut diff) = self.diff.lock() {
            for path in &touched {
                diff.remember(path);
            }
        }
        match apply_patch::apply(&patch, &cwd) {
            Ok(applied) => {
                self.complete_item(item(PatchApplyStatus::Completed)).await;
                self.emit_diff().await;
                text(applied_summary(&applied, &cwd))
            }
            Err(err) => {
                self.complete_item(item(PatchApplyStatus::Failed)).await;
                text(format!("apply_patch failed: {err}"))
            }
        }
    }

    /// Asks the user whether a patch may be applied; `None` when it may, else how the item
    /// ends (`None`: it stays open, the turn was interrupted) and what the call returns.
    async fn approve_patch(
        &self,
        ctx: &CallContext,
        call_id: &str,
        touched: &[PathBuf],
        interrupt: &mut oneshot::Receiver<oneshot::Receiver<()>>,
    ) -> Option<(Option<PatchApplyStatus>, ToolEnd)> {
        self.set_waiting(Some(ThreadActiveFlag::WaitingOnApproval))
            .await;
        let request = ServerRequest::FileChangeRequestApproval(FileChangeRequestApprovalParams {
            thread_id: self.handle.id.clone(),
            turn_id: self.turn.id.clone(),
            item_id: call_id.to_owned(),
            started_at_ms: now_ms(),
            reason: None,
            grant_root: None,
        });
        let decision = match self
            .ask::<server::FileChangeRequestApproval>(request, interrupt, true)
            .await
        {
            Asked::Interrupted(gate) => return Some((None, ToolEnd::Interrupted(gate))),
            Asked::Answered(answer) => answer.map(|answer| answer.decision),
        };
        self.set_waiting(None).await;
        match decision {
            Some(FileChangeApprovalDecision::Accept) => None,
            Some(FileChangeApprovalDecision::AcceptForSession) => {
                ctx.tools
                    .approve(|approved| approved.files.extend(touched.iter().cloned()));
                None
            }
            Some(FileChangeApprovalDecision::Decline) => Some((
                Some(PatchApplyStatus::Declined),
                text("apply_patch failed: the user declined this patch"),
            )),
            Some(FileChangeApprovalDecision::Cancel) => {
                Some((Some(PatchApplyStatus::Declined), ToolEnd::Cancelled))
            }
            None => Some((
                Some(PatchApplyStatus::Failed),
                text("apply_patch failed: the approval request failed; nothing was changed"),
            )),
        }
    }

    /// Sends the turn's aggregated diff, when it has one.
    pub(super) async fn emit_diff(&self) {
        let cwd = self.handle.state.lock().await.settings.cwd.clone();
        let diff = match self.diff.lock() {
            Ok(diff) if !diff.before.is_empty() => diff.render(&cwd),
            _ => return,
        };
        self.emit(ThreadEventKind::DiffUpdated {
            turn_id: self.turn.id.clone(),
            diff,
        })
        .await;
    }

    async fn update_plan(&self, args: PlanArgs) -> ToolEnd {
        let plan = args
            .plan
            .into_iter()
            .map(|step| TurnPlanStep {
                step: step.step,
                status: match step.status {
                    PlanStatusArg::Pending => TurnPlanStepStatus::Pending,
                    PlanStatusArg::InProgress => TurnPlanStepStatus::InProgress,
                    PlanStatusArg::Completed => TurnPlanStepStatus::Completed,
                },
            })
            .collect();
        self.emit(ThreadEventKind::PlanUpdated {
            turn_id: self.turn.id.clone(),
            explanation: args.explanation,
            plan,
        })
        .await;
        text("Plan updated")
    }

    async fn request_user_input(
        &self,
        call_id: &str,
        args: QuestionsArgs,
        interrupt: &mut oneshot::Receiver<oneshot::Receiver<()>>,
    ) -> ToolEnd {
        let questions = args
            .questions
            .into_iter()
            .map(|question| ToolRequestUserInputQuestion {
                id: question.id,
                header: question.header,
                question: question.question,
                is_other: true,
                is_secret: false,
                options: Some(question.options),
            })
            .collect();
        self.set_waiting(Some(ThreadActiveFlag::WaitingOnUserInput))
            .await;
        let request = ServerRequest::ToolRequestUserInput(ToolRequestUserInputParams {
            thread_id: self.handle.id.clone(),
            turn_id: self.turn.id.clone(),
            item_id: call_id.to_owned(),
            questions,
            is_blocking: true,
        });
        let answers = match self
            .ask::<server::ToolRequestUserInput>(request, interrupt, true)
            .await
        {
            Asked::Interrupted(gate) => return ToolEnd::Interrupted(gate),
            Asked::Answered(answer) => answer.map(|answer| answer.answers).unwrap_or_default(),
        };
        self.set_waiting(None).await;
        text(serde_json::json!({ "answers": answers }).to_string())
    }

    async fn view_image(&self, ctx: &CallContext, call_id: &str, args: PathArgs) -> ToolEnd {
        let path = ctx.cwd.join(&args.path);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) => {
                return text(format!(
                    "unable to locate image at `{}`: {err}",
                    path.display()
                ));
            }
        };
        let Some(mime) = image_mime(&bytes) else {
            return text("unable to process image: invalid or unsupported image data");
        };
        let at = now_ms();
        let item = ThreadItem {
            kind: ThreadItemKind::ImageView {
                id: call_id.to_owned(),
                path: path.display().to_string(),
            },
            started_at_ms: Some(at),
            completed_at_ms: Some(at),
        };
        self.start_item(ThreadItem {
            completed_at_ms: None,
            ..item.clone()
        })
        .await;
        self.complete_item(item).await;
        let url = format!("data:{mime};base64,{}", super::items::base64(&bytes));
        ToolEnd::Output(
            ToolOutput::Parts(vec![ContentItem::InputImage { image_url: url }]),
            Vec::new(),
        )
    }

    async fn dynamic_tool(
        &self,
        call_id: &str,
        namespace: Option<String>,
        tool: String,
        arguments: serde_json::Value,
        interrupt: &mut oneshot::Receiver<oneshot::Receiver<()>>,
    ) -> ToolEnd {
        let started_at_ms = now_ms();
        let item = |status, content_items, success| ThreadItem {
            kind: ThreadItemKind::DynamicToolCall {
                id: call_id.to_owned(),
                namespace: namespace.clone(),
                tool: tool.clone(),
                arguments: arguments.clone(),
                status,
                content_items,
                success,
                duration_ms: (status != DynamicToolCallStatus::InProgress)
                    .then(|| now_ms() - started_at_ms),
            },
            started_at_ms: Some(started_at_ms),
            completed_at_ms: (status != DynamicToolCallStatus::InProgress).then(now_ms),
        };
        self.start_item(item(DynamicToolCallStatus::InProgress, None, None))
            .await;
        let request = ServerRequest::DynamicToolCall(DynamicToolCallParams {
            thread_id: self.handle.id.clone(),
            turn_id: self.turn.id.clone(),
            call_id: call_id.to_owned(),
            namespace: namespace.clone(),
            tool: tool.clone(),
            arguments: arguments.clone(),
        });
        let response = match self
            .ask::<server::DynamicToolCall>(request, interrupt, false)
            .await
        {
            Asked::Interrupted(gate) => return ToolEnd::Interrupted(gate),
            Asked::Answered(response) => response,
        };
        let (content, success) = match response {
            Some(response) => (response.content_items, response.success),
            None => (
                vec![DynamicToolCallOutputContentItem::InputText {
                    text: "dynamic tool request failed".to_owned(),
                }],
                false,
            ),
        };
        let status = if success {
            DynamicToolCallStatus::Completed
        } else {
            DynamicToolCallStatus::Failed
        };
        self.complete_item(item(status, Some(content.clone()), Some(success)))
            .await;
        match content.as_slice() {
            [DynamicToolCallOutputContentItem::InputText { text: only }] => text(only.clone()),
            parts => ToolEnd::Output(
                ToolOutput::Parts(
                    parts
                        .iter()
                        .filter_map(|part| match part {
                            DynamicToolCallOutputContentItem::InputText { text } => {
                                Some(ContentItem::InputText { text: text.clone() })
                            }
                            DynamicToolCallOutputContentItem::InputImage { image_url } => {
                                Some(ContentItem::InputImage {
                                    image_url: image_url.clone(),
                                })
                            }
                            DynamicToolCallOutputContentItem::InputAudio { .. } => None,
                        })
                        .collect(),
                ),
                Vec::new(),
            ),
        }
    }

    /// Sets the thread's active flags while the turn waits on the client (or clears them).
    async fn set_waiting(&self, flag: Option<ThreadActiveFlag>) {
        let status = ThreadStatus::Active {
            active_flags: flag.into_iter().collect(),
        };
        self.handle.state.lock().await.status = status.clone();
        self.emit(ThreadEventKind::StatusChanged(status)).await;
    }

    /// Announces an item that started.
    async fn start_item(&self, item: ThreadItem) {
        self.emit(ThreadEventKind::ItemStarted {
            turn_id: self.turn.id.clone(),
            item,
        })
        .await;
    }

    /// Records a completed item in the turn and the rollout, and announces it.
    async fn complete_item(&self, item: ThreadItem) {
        complete_item(&self.manager, &self.handle, &self.turn.id, item).await;
    }

    async fn emit_command_done(
        &self,
        item: &CommandItem,
        session: Option<i32>,
        status: CommandExecutionStatus,
        exit: Option<(i32, String)>,
    ) {
        self.complete_item(item.completed(session, status, exit))
            .await;
    }
}

/// Whether a command may run.
enum Approval {
    Granted,
    Refused(ToolEnd),
}

/// Why a command needs the user's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AskReason {
    /// The model asked to run it outside the sandbox.
    Escalation,
    /// The policy asks about commands like it (`untrusted`).
    Policy,
    /// The sandbox denied it; it may run again outside.
    Retry,
}

/// How [`TurnRunner::start_session`] starts a command.
#[derive(Debug, Default)]
struct Launch {
    /// The sandbox, or `None` to run outside.
    sandbox: Option<SandboxPlan>,
    /// Whether to send the item's start (an approval request sent it already otherwise).
    announce: bool,
    /// Whether the item's completion waits on the returned sender: dropping it completes
    /// the item as the command ended, sending on it leaves the item for a retry to finish.
    hold: bool,
}

/// Whether a policy lets a command or patch ask to leave the sandbox.
fn may_leave_sandbox(policy: AskForApproval) -> bool {
    match policy {
        AskForApproval::Never => false,
        AskForApproval::Granular(granular) => granular.sandbox_approval,
        AskForApproval::Untrusted | AskForApproval::OnRequest => true,
    }
}

/// Whether a command the sandbox denied may be retried outside it, after asking (a
/// `granular` policy that allows sandbox approvals, as in the reference).
fn retries_denials(policy: AskForApproval) -> bool {
    matches!(policy, AskForApproval::Granular(granular) if granular.sandbox_approval)
}

/// How refusals name a policy to the model.
fn policy_name(policy: AskForApproval) -> &'static str {
    match policy {
        AskForApproval::Never => "never",
        AskForApproval::Granular(_) => "granular, with sandbox approvals off",
        AskForApproval::Untrusted => "untrusted",
        AskForApproval::OnRequest => "on-request",
    }
}

/// Whether a command that ended during its first wait looks like the sandbox stopped it:
/// it failed, saying what Landlock, the read-only `.git` mount or the seccomp filter say.
fn looks_denied_by_sandbox(poll: &Poll) -> bool {
    const DENIALS: [&str; 3] = [
        "permission denied",
        "read-only file system",
        "operation not permitted",
    ];
    if poll.exit_code.is_none_or(|code| code == 0) {
        return false;
    }
    let output = String::from_utf8_lossy(&poll.output).to_lowercase();
    DENIALS.iter().any(|denial| output.contains(denial))
}

/// The fixed parts of a `commandExecution` item.
#[derive(Debug, Clone)]
pub(super) struct CommandItem {
    pub(super) id: String,
    pub(super) command: String,
    pub(super) cwd: String,
    pub(super) actions: Vec<CommandAction>,
    pub(super) source: CommandExecutionSource,
    pub(super) started_at_ms: i64,
}

impl CommandItem {
    pub(super) fn started(&self, session: Option<i32>) -> ThreadItem {
        ThreadItem {
            kind: ThreadItemKind::CommandExecution {
                id: self.id.clone(),
                command: self.command.clone(),
                cwd: self.cwd.clone(),
                process_id: session.map(|id| id.to_string()),
                source: self.source,
                status: CommandExecutionStatus::InProgress,
                command_actions: self.actions.clone(),
                aggregated_output: None,
                exit_code: None,
                duration_ms: None,
            },
            started_at_ms: Some(self.started_at_ms),
            completed_at_ms: None,
        }
    }

    pub(super) fn completed(
        &self,
        session: Option<i32>,
        status: CommandExecutionStatus,
        exit: Option<(i32, String)>,
    ) -> ThreadItem {
        let completed_at_ms = now_ms();
        let (exit_code, output) = exit.map_or((None, None), |(code, output)| {
            (Some(code), Some(output).filter(|output| !output.is_empty()))
        });
        ThreadItem {
            kind: ThreadItemKind::CommandExecution {
                id: self.id.clone(),
                command: self.command.clone(),
                cwd: self.cwd.clone(),
                process_id: session.map(|id| id.to_string()),
                source: self.source,
                status,
                command_actions: self.actions.clone(),
                aggregated_output: output,
                exit_code,
                duration_ms: exit_code.map(|_| completed_at_ms - self.started_at_ms),
            },
            started_at_ms: Some(self.started_at_ms),
            completed_at_ms: Some(completed_at_ms),
        }
    }
}

/// Streams a session's output to its item and completes the item when the command exits,
/// whenever that is (a later turn included).
async fn watch_session(
    manager: Arc<ThreadManager>,
    handle: Arc<ThreadHandle>,
    turn_id: String,
    item: CommandItem,
    session: Arc<Session>,
    held: Option<oneshot::Receiver<()>>,
) {
    let mut output = HeadTail::default();
    while let Some(chunk) = session.item_output().await {
        output.push(&chunk);
        manager
            .emit(
                &handle.id,
                ThreadEventKind::CommandOutputDelta {
                    turn_id: turn_id.clone(),
                    item_id: item.id.clone(),
                    delta: String::from_utf8_lossy(&chunk).into_owned(),
                },
            )
            .await;
    }
    if let Some(held) = held
        && held.await.is_ok()
    {
        // A retry outside the sandbox finishes the item.
        session.set_item_done();
        return;
    }
    let code = session.exit_code().unwrap_or(-1);
    let status = if code == 0 {
        CommandExecutionStatus::Completed
    } else {
        CommandExecutionStatus::Failed
    };
    let completed = item.completed(Some(session.id), status, Some((code, output.text())));
    complete_item(&manager, &handle, &turn_id, completed).await;
    session.set_item_done();
}

pub(super) async fn complete_item(
    manager: &ThreadManager,
    handle: &ThreadHandle,
    turn_id: &str,
    item: ThreadItem,
) {
    {
        let mut state = handle.state.lock().await;
        state.persist_item(turn_id, &item);
        push_item(&mut state.turns, turn_id, item.clone());
    }
    manager
        .emit(
            &handle.id,
            ThreadEventKind::ItemCompleted {
                turn_id: turn_id.to_owned(),
                item,
            },
        )
        .await;
}

/// The shell, its flag and the command line as items show it (`/bin/bash -lc '<cmd>'`).
fn shell_line(args: &ExecArgs) -> (String, &'static str, String) {
    let shell = args.shell.clone().unwrap_or_else(|| "/bin/bash".to_owned());
    let flag = if args.login.unwrap_or(true) {
        "-lc"
    } else {
        "-c"
    };
    let display = command_line(&shell, flag, &args.cmd);
    (shell, flag, display)
}

/// A shell command as items show it: `<shell> <flag> '<cmd>'`.
pub(super) fn command_line(shell: &str, flag: &str, cmd: &str) -> String {
    let quoted = shlex::try_quote(cmd).map_or_else(|_| cmd.into(), std::borrow::Cow::into_owned);
    format!("{shell} {flag} {quoted}")
}

fn clamp(ms: u64, (low, high): (u64, u64)) -> Duration {
    Duration::from_millis(ms.clamp(low, high))
}

fn rand_u32() -> u32 {
    // The last bytes of a v7 id are random.
    let bytes = uuid::Uuid::now_v7().into_bytes();
    u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]])
}

/// The actions of a command line, with read paths made absolute.
fn command_actions(line: &str, cwd: &Path) -> Vec<CommandAction> {
    let mut actions = shell::command_actions(line);
    for action in &mut actions {
        if let CommandAction::Read { path, .. } = action {
            *path = cwd.join(&*path).display().to_string();
        }
    }
    actions
}

/// What the model hears of an applied patch: each file with A, D or M.
fn applied_summary(applied: &[apply_patch::FileChange], cwd: &Path) -> String {
    let mut summary = String::from("Success. Updated the following files:\n");
    for change in applied {
        let (letter, file) = match &change.kind {
            ChangeKind::Add => ('A', &change.path),
            ChangeKind::Delete => ('D', &change.path),
            ChangeKind::Update { move_to } => ('M', move_to.as_ref().unwrap_or(&change.path)),
        };
        let shown = file.strip_prefix(cwd).unwrap_or(file);
        let _ = writeln!(summary, "{letter} {}", shown.display());
    }
    summary
}

fn wire_change(change: &apply_patch::FileChange) -> FileUpdateChange {
    FileUpdateChange {
        path: change.path.display().to_string(),
        kind: match &change.kind {
            ChangeKind::Add => PatchChangeKind::Add,
            ChangeKind::Delete => PatchChangeKind::Delete,
            ChangeKind::Update { move_to } => PatchChangeKind::Update {
                move_path: move_to.as_ref().map(|to| to.display().to_string()),
            },
        },
        diff: change.diff.clone(),
    }
}

/// The MIME type of image bytes, by their signature.
fn image_mime(bytes: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
    ];
    if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Some("image/webp");
    }
    SIGNATURES
        .iter()
        .find(|(signature, _)| bytes.starts_with(signature))
        .map(|(_, mime)| *mime)
}
