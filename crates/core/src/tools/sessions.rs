//! Terminal sessions of `exec_command`: a command that outlives the call that started it keeps
//! running here, and `write_stdin` later writes to it and collects what it printed since.
//!
//! A session's output is read by a task of its own as the command writes it, so the command
//! never blocks on a full pipe while nobody is polling. It goes two ways: into a buffer each
//! poll takes what accumulated from (bounded: past [`MAX_PENDING_OUTPUT`] the oldest bytes go,
//! and a poll reports how many), and to the session's item, whose watcher streams it to clients
//! ([`Session::item_output`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Notify, watch};

use crate::exec::{ExecSpec, Killer, Process, ProcessInput};

/// Output kept between polls of a session.
const MAX_PENDING_OUTPUT: usize = 1024 * 1024;

/// The running sessions of one thread, by id.
#[derive(Debug, Default)]
pub struct Sessions {
    next_id: std::sync::atomic::AtomicI32,
    running: StdMutex<HashMap<i32, Arc<Session>>>,
}

/// A started command.
#[derive(Debug)]
pub struct Session {
    pub id: i32,
    pub pid: u32,
    /// The `commandExecution` item the session's output goes to.
    pub item_id: String,
    /// Whether the command runs in a terminal.
    pub tty: bool,
    killer: Killer,
    input: tokio::sync::Mutex<Option<ProcessInput>>,
    pending: StdMutex<Pending>,
    /// Signalled when output arrives or the command exits.
    changed: Notify,
    exit: watch::Receiver<Option<i32>>,
    /// Set once the session's item was completed (by its watcher).
    item_done: watch::Sender<bool>,
}

#[derive(Debug, Default)]
struct Pending {
    bytes: Vec<u8>,
    /// Output not yet taken by the item's watcher.
    item_bytes: Vec<u8>,
    /// Bytes dropped since the last poll because nobody polled.
    dropped: usize,
    /// Whether every output reader reached its end.
    readers_done: usize,
}

/// What a poll of a session found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poll {
    pub output: Vec<u8>,
    /// Output lost because it piled up past the buffer between polls.
    pub dropped: usize,
    /// The exit code, once the command ended (then its output is complete).
    pub exit_code: Option<i32>,
}

impl Sessions {
    /// Starts `spec` as a new session.
    pub fn start(&self, spec: &ExecSpec, item_id: &str) -> std::io::Result<Arc<Session>> {
        let mut process = Process::spawn(spec)?;
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .saturating_add(1000);
        let (exit_tx, exit_rx) = watch::channel(None);
        let (stdout, stderr) = process.take_outputs();
        let session = Arc::new(Session {
            id,
            pid: process.id(),
            item_id: item_id.to_owned(),
            tty: spec.tty.is_some(),
            killer: process.killer(),
            input: tokio::sync::Mutex::new(process.take_stdin()),
            pending: StdMutex::default(),
            changed: Notify::new(),
            exit: exit_rx,
            item_done: watch::channel(false).0,
        });
        let readers = usize::from(stdout.is_some()) + usize::from(stderr.is_some());
        for output in [stdout, stderr].into_iter().flatten() {
            tokio::spawn(read_into(Arc::clone(&session), output));
        }
        let watched = Arc::clone(&session);
        tokio::spawn(async move {
            let code = process.wait_exit().await;
            // Output still in flight arrives before the exit is reported.
            loop {
                let done = watched
                    .pending
                    .lock()
                    .map_or(true, |pending| pending.readers_done >= readers);
                if done {
                    break;
                }
                let notified = watched.changed.notified();
                tokio::select! {
                    () = notified => {}
                    () = tokio::time::sleep(Duration::from_millis(200)) => break,
                }
            }
            // Children left holding the output die with the command.
            watched.killer.kill();
            let _ = exit_tx.send(Some(code));
            watched.changed.notify_waiters();
        });
        if let Ok(mut running) = self.running.lock() {
            running.insert(id, Arc::clone(&session));
        }
        Ok(session)
    }

    /// A running session.
    pub fn get(&self, id: i32) -> Option<Arc<Session>> {
        self.running.lock().ok()?.get(&id).cloned()
    }

    /// Forgets a session that ended.
    pub fn remove(&self, id: i32) {
        if let Ok(mut running) = self.running.lock() {
            running.remove(&id);
        }
    }

    /// Kills every session (the thread goes away, or its turn was interrupted).
    pub fn kill_all(&self) {
        let sessions: Vec<Arc<Session>> = self
            .running
            .lock()
            .map(|mut running| running.drain().map(|(_, session)| session).collect())
            .unwrap_or_default();
        for session in sessions {
            session.kill();
        }
    }
}

impl Drop for Sessions {
    fn drop(&mut self) {
        self.kill_all();
    }
}

impl Session {
    /// Kills the command and everything it started.
    pub fn kill(&self) {
        self.killer.kill();
    }

    /// Writes `chars` to the command's input.
    pub async fn write(&self, chars: &[u8]) -> Result<(), String> {
        let mut input = self.input.lock().await;
        let Some(input) = input.as_mut() else {
            return Err("this session's stdin is closed; it takes no input".to_owned());
        };
        input
            .write_all(chars)
            .await
            .and(input.flush().await)
            .map_err(|err| format!("cannot write to the session: {err}"))
    }

    /// Waits until the command exits or `yield_time` passes (or `cancel` resolves), then takes
    /// the output gathered since the last poll.
    pub async fn poll(
        &self,
        yield_time: Duration,
        cancel: impl std::future::Future<Output = ()>,
    ) -> Poll {
        let deadline = tokio::time::sleep(yield_time);
        tokio::pin!(deadline);
        tokio::pin!(cancel);
        let mut output = Vec::new();
        let mut dropped = 0;
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let (chunk, lost) = self.take_pending();
            dropped += lost;
            output.extend_from_slice(&chunk);
            let exit_code = *self.exit.borrow();
            if let Some(code) = exit_code {
                let (rest, lost) = self.take_pending();
                output.extend_from_slice(&rest);
                return Poll {
                    output,
                    dropped: dropped + lost,
                    exit_code: Some(code),
                };
            }
            tokio::select! {
                () = &mut notified => {}
                () = &mut deadline => break,
                () = &mut cancel => break,
            }
        }
        let (rest, lost) = self.take_pending();
        output.extend_from_slice(&rest);
        Poll {
            output,
            dropped: dropped + lost,
            exit_code: *self.exit.borrow(),
        }
    }

    /// The next output for the session's item, as it arrives; `None` once the command exited
    /// and everything was handed out.
    pub async fn item_output(&self) -> Option<Vec<u8>> {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let exited = self.exit.borrow().is_some();
            let chunk = self
                .pending
                .lock()
                .map(|mut pending| std::mem::take(&mut pending.item_bytes))
                .unwrap_or_default();
            if !chunk.is_empty() {
                return Some(chunk);
            }
            if exited {
                return None;
            }
            notified.await;
        }
    }

    /// The exit code, once the command ended.
    pub fn exit_code(&self) -> Option<i32> {
        *self.exit.borrow()
    }

    /// Marks the session's item completed.
    pub fn set_item_done(&self) {
        self.item_done.send_replace(true);
    }

    /// Waits until the session's item was completed.
    pub async fn item_done(&self) {
        let mut done = self.item_done.subscribe();
        let _ = done.wait_for(|done| *done).await;
    }

    fn take_pending(&self) -> (Vec<u8>, usize) {
        self.pending.lock().map_or((Vec::new(), 0), |mut pending| {
            (
                std::mem::take(&mut pending.bytes),
                std::mem::take(&mut pending.dropped),
            )
        })
    }
}

/// Copies one output of the command into its session's buffer until it ends.
async fn read_into(session: Arc<Session>, mut output: Box<dyn AsyncRead + Unpin + Send>) {
    let mut buf = vec![0_u8; 8192];
    loop {
        let read = match output.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        if let Ok(mut pending) = session.pending.lock() {
            pending.item_bytes.extend_from_slice(&buf[..read]);
            pending.bytes.extend_from_slice(&buf[..read]);
            let excess = pending.bytes.len().saturating_sub(MAX_PENDING_OUTPUT);
            if excess > 0 {
                pending.bytes.drain(..excess);
                pending.dropped += excess;
            }
        }
        session.changed.notify_waiters();
    }
    if let Ok(mut pending) = session.pending.lock() {
        pending.readers_done += 1;
    }
    session.changed.notify_waiters();
}
