//! Running commands: spawned in a process group of their own (so a kill reaches every child),
//! under the sandbox their policy asks for, with output captured up to a cap or streamed, a
//! timeout, and a kill switch.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::process::{Child, ChildStdin};
use tokio::sync::mpsc;

use crate::pty::{Pty, PtyReader, PtyWriter, TerminalSize};
use crate::sandbox::SandboxPlan;

/// Exit status reported for a command killed by its timeout (as `timeout(1)` does).
pub const TIMEOUT_EXIT: i32 = 124;

/// How a command is started.
#[derive(Debug, Clone)]
pub struct ExecSpec {
    /// Program and arguments; not empty.
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    /// Changes to the server's environment: a value sets, `None` unsets.
    pub env: Vec<(String, Option<String>)>,
    /// `None` runs the command as is; otherwise the running `tern` binary sets the sandbox
    /// up (`tern sandbox-exec`) and then execs the command.
    pub sandbox: Option<SandboxPlan>,
    /// Whether the caller writes to the command's stdin (otherwise it reads nothing).
    pub stdin: bool,
    /// Run in a pseudo-terminal of this size: stdin, stdout and stderr are the terminal, and
    /// all output arrives as [`OutputStream::Stdout`].
    pub tty: Option<TerminalSize>,
}

/// Which output a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// A chunk of streamed output; `cap_reached` on the last chunk of a stream whose later output
/// the cap cut off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputChunk {
    pub stream: OutputStream,
    pub bytes: Vec<u8>,
    pub cap_reached: bool,
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutcome {
    /// The exit code; 128 + the signal for a command a signal ended; [`TIMEOUT_EXIT`] when the
    /// timeout killed it.
    pub exit_code: i32,
    /// Output kept (empty when it was streamed).
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub timed_out: bool,
}

/// One output of a running command.
pub type BoxedOutput = Box<dyn AsyncRead + Unpin + Send>;

/// A started command.
#[derive(Debug)]
pub struct Process {
    child: Child,
    /// Also the process group id.
    pid: u32,
    stdin: Option<ProcessInput>,
    pty: Option<Arc<Pty>>,
}

/// Where a command's input goes: its stdin pipe, or its terminal.
#[derive(Debug)]
pub enum ProcessInput {
    Pipe(ChildStdin),
    Pty(PtyWriter),
}

impl AsyncWrite for ProcessInput {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Self::Pipe(pipe) => Pin::new(pipe).poll_write(cx, data),
            Self::Pty(pty) => Pin::new(pty).poll_write(cx, data),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Pipe(pipe) => Pin::new(pipe).poll_flush(cx),
            Self::Pty(pty) => Pin::new(pty).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Pipe(pipe) => Pin::new(pipe).poll_shutdown(cx),
            Self::Pty(pty) => Pin::new(pty).poll_shutdown(cx),
        }
    }
}

/// A handle that kills a command's whole process group.
#[derive(Debug, Clone, Copy)]
pub struct Killer {
    pid: u32,
}

impl Killer {
    /// Sends SIGKILL to the process group. A group that is gone already is no error.
    pub fn kill(self) {
        let Some(pid) = i32::try_from(self.pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        else {
            return;
        };
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

impl Process {
    /// Starts `spec`. A program that cannot be started is an error here when unsandboxed; a
    /// sandboxed one reports it as exit status 127 with the reason on stderr.
    pub fn spawn(spec: &ExecSpec) -> std::io::Result<Self> {
        // A terminal needs the helper too: it makes the terminal the command's controlling one.
        let (program, args) = if spec.sandbox.is_some() || spec.tty.is_some() {
            (
                std::env::current_exe()?,
                crate::sandbox::helper_args(spec.sandbox.as_ref(), spec.tty.is_some(), &spec.argv)
                    .map_err(std::io::Error::other)?,
            )
        } else {
            let (program, args) = spec.argv.split_first().ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty command")
            })?;
            (PathBuf::from(program), args.to_vec())
        };
        let mut command = tokio::process::Command::new(program);
        command.args(args).current_dir(&spec.cwd).kill_on_drop(true);
        let pty = if let Some(size) = spec.tty {
            // The helper's `setsid` makes the command a session and group leader of its own.
            let (pty, slave) = Pty::open(size)?;
            command
                .stdin(Stdio::from(slave.try_clone()?))
                .stdout(Stdio::from(slave.try_clone()?))
                .stderr(Stdio::from(slave));
            Some(pty)
        } else {
            command
                .process_group(0)
                .stdin(if spec.stdin {
                    Stdio::piped()
                } else {
                    Stdio::null()
                })
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            None
        };
        for (key, value) in &spec.env {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        let mut child = command.spawn()?;
        // The parent's copies of the terminal's slave side go with `command`, so the output
        // ends when the command's own copies close.
        drop(command);
        let pid = child
            .id()
            .ok_or_else(|| std::io::Error::other("the command exited before it was watched"))?;
        let stdin = match &pty {
            Some(pty) => Some(ProcessInput::Pty(PtyWriter(Arc::clone(pty)))),
            None => child.stdin.take().map(ProcessInput::Pipe),
        };
        Ok(Self {
            child,
            pid,
            stdin,
            pty,
        })
    }

    /// The command's process id (also its process group's).
    pub fn id(&self) -> u32 {
        self.pid
    }

    /// The command's outputs, to read while it runs: stdout and stderr, or the terminal alone.
    pub fn take_outputs(&mut self) -> (Option<BoxedOutput>, Option<BoxedOutput>) {
        let stdout: Option<BoxedOutput> = match &self.pty {
            Some(pty) => Some(Box::new(PtyReader(Arc::clone(pty)))),
            None => self
                .child
                .stdout
                .take()
                .map(|pipe| Box::new(pipe) as BoxedOutput),
        };
        let stderr = self
            .child
            .stderr
            .take()
            .map(|pipe| Box::new(pipe) as BoxedOutput);
        (stdout, stderr)
    }

    /// Waits for the command to exit (its outputs taken and read elsewhere); returns its exit
    /// code, or 128 + the signal that ended it.
    pub async fn wait_exit(mut self) -> i32 {
        match self.child.wait().await {
            Ok(status) => exit_code(status),
            Err(_) => -1,
        }
    }

    /// The command's terminal, when it runs in one.
    pub fn pty(&self) -> Option<Arc<Pty>> {
        self.pty.clone()
    }

    /// The kill switch for this command's process group.
    pub fn killer(&self) -> Killer {
        Killer { pid: self.pid }
    }

    /// The command's input, when it was asked for (always with a terminal).
    pub fn take_stdin(&mut self) -> Option<ProcessInput> {
        self.stdin.take()
    }

    /// Waits for the command, keeping at most `cap` bytes of each output (`None`: all), or
    /// sending them to `stream` as they come. Kills the group after `timeout`, or when `cancel`
    /// fires (then the exit code is the signal's).
    pub async fn wait(
        mut self,
        timeout: Option<Duration>,
        cap: Option<usize>,
        stream: Option<mpsc::Sender<OutputChunk>>,
        cancel: tokio::sync::oneshot::Receiver<()>,
    ) -> std::io::Result<ExecOutcome> {
        let killer = self.killer();
        let (stdout, stderr) = self.take_outputs();
        // Read while the command runs, or a full pipe would stall it.
        let read_stdout = tokio::spawn(read_output(
            stdout,
            OutputStream::Stdout,
            cap,
            stream.clone(),
        ));
        let read_stderr = tokio::spawn(read_output(stderr, OutputStream::Stderr, cap, stream));
        let deadline = async {
            match timeout {
                Some(timeout) => tokio::time::sleep(timeout).await,
                None => std::future::pending().await,
            }
        };
        let mut timed_out = false;
        let status = {
            let wait = self.child.wait();
            tokio::pin!(wait);
            tokio::select! {
                status = &mut wait => status?,
                () = deadline => {
                    timed_out = true;
                    killer.kill();
                    wait.await?
                }
                Ok(()) = cancel => {
                    killer.kill();
                    wait.await?
                }
            }
        };
        // The group may have children that keep the pipes open; they go with it.
        killer.kill();
        let (stdout, stderr) = tokio::join!(read_stdout, read_stderr);
        let (stdout, stderr) = (stdout.unwrap_or_default(), stderr.unwrap_or_default());
        let exit_code = if timed_out {
            TIMEOUT_EXIT
        } else {
            exit_code(status)
        };
        Ok(ExecOutcome {
            exit_code,
            stdout,
            stderr,
            timed_out,
        })
    }
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|signal| 128 + signal))
        .unwrap_or(-1)
}

/// Reads one output to its end. Kept bytes are returned; with `stream`, chunks are sent instead
/// (and nothing kept). Past `cap` the output is read and dropped, so the command never blocks
/// on a full pipe.
async fn read_output(
    pipe: Option<impl tokio::io::AsyncRead + Unpin + Send + 'static>,
    which: OutputStream,
    cap: Option<usize>,
    stream: Option<mpsc::Sender<OutputChunk>>,
) -> Vec<u8> {
    let Some(mut pipe) = pipe else {
        return Vec::new();
    };
    let mut kept = Vec::new();
    let mut total = 0_usize;
    let mut told_cap = false;
    let mut buf = vec![0_u8; 8192];
    loop {
        let read = match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        let room = cap.map_or(read, |cap| cap.saturating_sub(total).min(read));
        total = total.saturating_add(read);
        let cut = room < read;
        match &stream {
            Some(stream) => {
                if room > 0 || (cut && !told_cap) {
                    told_cap |= cut;
                    let chunk = OutputChunk {
                        stream: which,
                        bytes: buf[..room].to_vec(),
                        cap_reached: cut,
                    };
                    // A caller that stopped listening still lets the command finish.
                    let _ = stream.send(chunk).await;
                }
            }
            None => kept.extend_from_slice(&buf[..room]),
        }
    }
    kept
}
