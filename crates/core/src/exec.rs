//! Running commands: spawned in a process group of their own (so a kill reaches every child),
//! under the sandbox their policy asks for, with output captured up to a cap or streamed, a
//! timeout, and a kill switch.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::process::{Child, ChildStdin};
use tokio::sync::mpsc;

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
    /// `None` runs the command as is.
    pub sandbox: Option<SandboxPlan>,
    /// The `tern` binary, which sets the sandbox up (`tern sandbox-exec`).
    pub helper: PathBuf,
    /// Whether the caller writes to the command's stdin (otherwise it reads nothing).
    pub stdin: bool,
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

/// A started command.
#[derive(Debug)]
pub struct Process {
    child: Child,
    /// Also the process group id.
    pid: u32,
    stdin: Option<ChildStdin>,
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
        let (program, args) = if let Some(plan) = &spec.sandbox {
            (
                spec.helper.clone(),
                plan.helper_args(&spec.argv)
                    .map_err(std::io::Error::other)?,
            )
        } else {
            let (program, args) = spec.argv.split_first().ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty command")
            })?;
            (PathBuf::from(program), args.to_vec())
        };
        let mut command = tokio::process::Command::new(program);
        command
            .args(args)
            .current_dir(&spec.cwd)
            .process_group(0)
            .kill_on_drop(true)
            .stdin(if spec.stdin {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in &spec.env {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        let mut child = command.spawn()?;
        let pid = child
            .id()
            .ok_or_else(|| std::io::Error::other("the command exited before it was watched"))?;
        let stdin = child.stdin.take();
        Ok(Self { child, pid, stdin })
    }

    /// The kill switch for this command's process group.
    pub fn killer(&self) -> Killer {
        Killer { pid: self.pid }
    }

    /// The command's stdin, when it was asked for.
    pub fn take_stdin(&mut self) -> Option<ChildStdin> {
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
        let stdout = self.child.stdout.take();
        let stderr = self.child.stderr.take();
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
