//! `command/exec*`: standalone commands, each tied to the connection that started it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use tern_core::exec::{ExecSpec, Killer, OutputChunk, OutputStream, Process, ProcessInput};
use tern_core::pty::{Pty, TerminalSize};
use tern_core::sandbox::SandboxPlan;
use tern_protocol::ServerNotification;
use tern_protocol::jsonrpc::{RpcError, error_code};
use tern_protocol::v2::{
    CommandExecOutputDeltaNotification, CommandExecOutputStream, CommandExecParams,
    CommandExecResizeParams, CommandExecResizeResponse, CommandExecResponse,
    CommandExecTerminateParams, CommandExecTerminateResponse, CommandExecWriteParams,
    CommandExecWriteResponse, SandboxPolicy,
};
use tokio::io::AsyncWriteExt;

use crate::router::RequestCtx;

/// As the reference: commands get 10 s unless told otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// As the reference: 1 MiB of each output unless told otherwise.
const DEFAULT_OUTPUT_CAP: usize = 1024 * 1024;
/// Streamed chunks waiting for the connection.
const STREAM_CHUNKS: usize = 64;

/// Running commands, by connection and process id.
#[derive(Debug, Default)]
pub(crate) struct Commands {
    running: StdMutex<HashMap<(u64, String), Running>>,
}

#[derive(Debug)]
struct Running {
    killer: Killer,
    /// `None` unless started with `streamStdin` or `tty`; emptied when closed.
    stdin: Option<SharedInput>,
    /// The command's terminal, with `tty`.
    pty: Option<Arc<Pty>>,
}

type SharedInput = Arc<tokio::sync::Mutex<Option<ProcessInput>>>;

impl Commands {
    /// Kills every command a connection started (it went away).
    pub(crate) fn close_connection(&self, connection_id: u64) {
        let Ok(mut running) = self.running.lock() else {
            return;
        };
        running.retain(|(connection, _), command| {
            if *connection == connection_id {
                command.killer.kill();
                false
            } else {
                true
            }
        });
    }

    fn get(&self, connection_id: u64, process_id: &str) -> Result<RunningRef, RpcError> {
        self.running
            .lock()
            .ok()
            .and_then(|running| {
                running
                    .get(&(connection_id, process_id.to_owned()))
                    .map(|command| RunningRef {
                        killer: command.killer,
                        stdin: command.stdin.clone(),
                        pty: command.pty.clone(),
                    })
            })
            .ok_or_else(|| {
                RpcError::invalid_request(format!(
                    "no active command/exec for process id \"{process_id}\""
                ))
            })
    }
}

struct RunningRef {
    killer: Killer,
    stdin: Option<SharedInput>,
    pty: Option<Arc<Pty>>,
}

/// Removes a command's entry when its request ends, however it ends.
struct Registration<'a> {
    commands: &'a Commands,
    key: (u64, String),
    /// Set once the command was waited for (its process group is gone).
    ended: bool,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        if let Ok(mut running) = self.commands.running.lock() {
            if let Some(command) = running.remove(&self.key) {
                // A request dropped before its command ended takes the command with it.
                if !self.ended {
                    command.killer.kill();
                }
            }
        }
    }
}

fn invalid_params(message: impl Into<String>) -> RpcError {
    RpcError::new(error_code::INVALID_PARAMS, message)
}

/// A checked `command/exec` request.
struct Checked {
    spec: ExecSpec,
    timeout: Option<Duration>,
    cap: Option<usize>,
}

/// Checks a request's params and resolves its defaults (the reference's wording for errors
/// clients may match on).
fn check(req: &RequestCtx, params: &mut CommandExecParams) -> Result<Checked, RpcError> {
    if params.command.is_empty() {
        return Err(RpcError::invalid_request("command must not be empty"));
    }
    if params.timeout_ms.is_some() && params.disable_timeout {
        return Err(invalid_params(
            "command/exec cannot set both timeoutMs and disableTimeout",
        ));
    }
    if params.output_bytes_cap.is_some() && params.disable_output_cap {
        return Err(invalid_params(
            "command/exec cannot set both outputBytesCap and disableOutputCap",
        ));
    }
    let streaming = params.tty || params.stream_stdin || params.stream_stdout_stderr;
    if streaming && params.process_id.is_none() {
        return Err(RpcError::invalid_request(
            "command/exec tty or streaming requires a client-supplied processId",
        ));
    }
    if params.size.is_some() && !params.tty {
        return Err(invalid_params("command/exec size requires tty: true"));
    }
    let timeout = match params.timeout_ms {
        _ if params.disable_timeout => None,
        None => Some(DEFAULT_TIMEOUT),
        Some(ms) => Some(Duration::from_millis(u64::try_from(ms).map_err(|_| {
            invalid_params(format!(
                "command/exec: `timeoutMs` must not be negative, got {ms}"
            ))
        })?)),
    };
    let cap = match params.output_bytes_cap {
        _ if params.disable_output_cap => None,
        None => Some(DEFAULT_OUTPUT_CAP),
        Some(cap) => Some(usize::try_from(cap).unwrap_or(usize::MAX)),
    };
    let cwd = match &params.cwd {
        Some(cwd) => {
            let cwd = PathBuf::from(cwd);
            if !cwd.is_absolute() || !cwd.is_dir() {
                return Err(invalid_params(format!(
                    "command/exec: `cwd` `{}` is not an absolute path to a directory",
                    cwd.display()
                )));
            }
            cwd
        }
        None => std::env::current_dir().map_err(|err| {
            RpcError::internal(format!("cannot read the server's working directory: {err}"))
        })?,
    };
    let policy = params
        .sandbox_policy
        .take()
        .unwrap_or_else(|| SandboxPolicy::from(req.server.threads.config().sandbox_mode));
    let spec = ExecSpec {
        argv: std::mem::take(&mut params.command),
        sandbox: SandboxPlan::for_policy(&policy, &cwd),
        cwd,
        env: params.env.take().unwrap_or_default().into_iter().collect(),
        stdin: params.stream_stdin || params.tty,
        tty: params.tty.then(|| {
            params
                .size
                .map_or_else(TerminalSize::default, |size| TerminalSize {
                    rows: size.rows,
                    cols: size.cols,
                })
        }),
    };
    Ok(Checked { spec, timeout, cap })
}

/// Runs a command to its end. Streamed output goes out as `command/exec/outputDelta` before
/// the result.
pub(crate) async fn command_exec(
    req: &RequestCtx,
    mut params: CommandExecParams,
) -> Result<CommandExecResponse, RpcError> {
    let Checked { spec, timeout, cap } = check(req, &mut params)?;
    let commands = &req.server.commands;
    let key = (
        req.connection_id,
        params
            .process_id
            .clone()
            .unwrap_or_else(|| format!("internal-{}", next_internal_id())),
    );
    let mut process = match Process::spawn(&spec) {
        Ok(process) => process,
        Err(err) => {
            // As a shell says it: the command did not start.
            return Ok(CommandExecResponse {
                exit_code: tern_core::sandbox::SETUP_FAILED_EXIT,
                stdout: String::new(),
                stderr: format!("tern: cannot run {}: {err}\n", spec.argv[0]),
            });
        }
    };
    let stdin = process
        .take_stdin()
        .map(|stdin| Arc::new(tokio::sync::Mutex::new(Some(stdin))));
    {
        let mut running = commands
            .running
            .lock()
            .map_err(|_| RpcError::internal("command table poisoned"))?;
        if running.contains_key(&key) {
            process.killer().kill();
            return Err(RpcError::invalid_request(format!(
                "command/exec process id \"{}\" is already in use",
                key.1
            )));
        }
        running.insert(
            key.clone(),
            Running {
                killer: process.killer(),
                stdin,
                pty: process.pty(),
            },
        );
    }
    let mut registration = Registration {
        commands,
        key: key.clone(),
        ended: false,
    };

    let (stream_tx, forward) = if params.stream_stdout_stderr || params.tty {
        let (tx, rx) = tokio::sync::mpsc::channel(STREAM_CHUNKS);
        let forward = tokio::spawn(forward_output(rx, req.outbound.clone(), key.1.clone()));
        (Some(tx), Some(forward))
    } else {
        (None, None)
    };
    let (_never, cancel) = tokio::sync::oneshot::channel();
    let outcome = process
        .wait(timeout, cap, stream_tx, cancel)
        .await
        .map_err(|err| RpcError::internal(format!("waiting for the command: {err}")))?;
    registration.ended = true;
    if let Some(forward) = forward {
        // Every delta goes out before the result.
        let _ = forward.await;
    }
    Ok(CommandExecResponse {
        exit_code: outcome.exit_code,
        stdout: String::from_utf8_lossy(&outcome.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&outcome.stderr).into_owned(),
    })
}

/// A process id for a command the client did not name (it cannot address it).
fn next_internal_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed).to_string()
}

async fn forward_output(
    mut chunks: tokio::sync::mpsc::Receiver<OutputChunk>,
    outbound: crate::outgoing::Outbound,
    process_id: String,
) {
    while let Some(chunk) = chunks.recv().await {
        let notification =
            ServerNotification::CommandExecOutputDelta(CommandExecOutputDeltaNotification {
                process_id: process_id.clone(),
                stream: match chunk.stream {
                    OutputStream::Stdout => CommandExecOutputStream::Stdout,
                    OutputStream::Stderr => CommandExecOutputStream::Stderr,
                },
                delta_base64: BASE64.encode(&chunk.bytes),
                cap_reached: chunk.cap_reached,
            });
        outbound.notify(notification).await;
    }
}

/// Writes to a running command's stdin and/or closes it.
pub(crate) async fn command_exec_write(
    req: &RequestCtx,
    params: CommandExecWriteParams,
) -> Result<CommandExecWriteResponse, RpcError> {
    let bytes = params
        .delta_base64
        .as_deref()
        .map(|delta| BASE64.decode(delta))
        .transpose()
        .map_err(|err| invalid_params(format!("command/exec/write: `deltaBase64`: {err}")))?;
    let stdin = req
        .server
        .commands
        .get(req.connection_id, &params.process_id)?
        .stdin;
    let stdin = stdin.ok_or_else(|| {
        RpcError::invalid_request(format!(
            "command/exec for process id \"{}\" was not started with streamStdin",
            params.process_id
        ))
    })?;
    let mut stdin = stdin.lock().await;
    if let Some(bytes) = bytes {
        let pipe = stdin.as_mut().ok_or_else(|| {
            RpcError::invalid_request(format!(
                "stdin of process id \"{}\" is closed",
                params.process_id
            ))
        })?;
        pipe.write_all(&bytes)
            .await
            .and(pipe.flush().await)
            .map_err(|err| {
                RpcError::invalid_request(format!("cannot write to the command's stdin: {err}"))
            })?;
    }
    if params.close_stdin {
        stdin.take();
    }
    Ok(CommandExecWriteResponse {})
}

/// Kills a running command and its children; its `command/exec` then answers.
pub(crate) fn command_exec_terminate(
    req: &RequestCtx,
    params: &CommandExecTerminateParams,
) -> Result<CommandExecTerminateResponse, RpcError> {
    req.server
        .commands
        .get(req.connection_id, &params.process_id)?
        .killer
        .kill();
    Ok(CommandExecTerminateResponse {})
}

/// Resizes a command's terminal.
pub(crate) fn command_exec_resize(
    req: &RequestCtx,
    params: &CommandExecResizeParams,
) -> Result<CommandExecResizeResponse, RpcError> {
    let pty = req
        .server
        .commands
        .get(req.connection_id, &params.process_id)?
        .pty
        .ok_or_else(|| {
            RpcError::invalid_request(format!(
                "command/exec for process id \"{}\" has no terminal",
                params.process_id
            ))
        })?;
    pty.resize(TerminalSize {
        rows: params.size.rows,
        cols: params.size.cols,
    })
    .map_err(|err| RpcError::internal(format!("cannot resize the terminal: {err}")))?;
    Ok(CommandExecResizeResponse {})
}
