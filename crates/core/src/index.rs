//! The thread index: rollouts summarized into `state.sqlite` so `thread/list` is a query.
//!
//! Built in the background at startup (so the first `initialize` never waits for it), and kept
//! from drifting: before a listing, folders whose mtime changed are rescanned for new or
//! removed rollouts, and each listed row whose rollout's size or mtime changed is re-indexed.
//! A listing that arrives while the first build runs waits for it, so results are always
//! complete.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use tern_state::{ListQuery, StateDb, ThreadRow};
use tokio::sync::watch;

use crate::CoreError;
use crate::rollout::{ARCHIVED_SESSIONS_DIR, EventMsg, RolloutItem, SESSIONS_DIR, SessionMeta};

/// File name of the index inside the home directory.
pub(crate) const STATE_DB_FILE: &str = "state.sqlite";

/// How many rows a build writes per transaction.
const BATCH: usize = 500;

/// The index and its bookkeeping.
pub(crate) struct ThreadIndex {
    home: PathBuf,
    db: OnceLock<Result<StateDb, String>>,
    /// `true` once the first build finished.
    ready: watch::Sender<bool>,
    /// Folder mtimes seen at the last scan, to find folders with new or removed rollouts.
    dirs: Mutex<HashMap<PathBuf, SystemTime>>,
}

impl ThreadIndex {
    pub(crate) fn new(home: PathBuf) -> Self {
        Self {
            home,
            db: OnceLock::new(),
            ready: watch::channel(false).0,
            dirs: Mutex::new(HashMap::new()),
        }
    }

    fn db(&self) -> Result<&StateDb, CoreError> {
        self.db
            .get_or_init(|| {
                StateDb::open(&self.home.join(STATE_DB_FILE)).map_err(|err| err.to_string())
            })
            .as_ref()
            .map_err(|message| CoreError::Io {
                context: "opening the thread index".to_owned(),
                source: std::io::Error::other(message.clone()),
            })
    }

    /// Scans every rollout and brings the index up to date. Blocking; run it off the async
    /// threads.
    pub(crate) fn build(&self) {
        // Listings wait for this; they must not wait forever if the build panics.
        struct Ready<'a>(&'a watch::Sender<bool>);
        impl Drop for Ready<'_> {
            fn drop(&mut self) {
                self.0.send_replace(true);
            }
        }
        let _ready = Ready(&self.ready);
        if let Err(err) = self.scan(false) {
            tracing::error!(error = %err, "building the thread index failed");
        }
    }

    /// Waits until the first build is done.
    pub(crate) async fn wait_ready(&self) {
        let mut ready = self.ready.subscribe();
        let _ = ready.wait_for(|ready| *ready).await;
    }

    /// Indexes new and changed rollouts and forgets vanished ones. With `changed_only`, looks
    /// only into the rollout folders whose mtime differs from the last scan (a folder's mtime
    /// changes when files are added or removed in it), which costs a few `stat`s when nothing
    /// changed.
    fn scan(&self, changed_only: bool) -> Result<(), CoreError> {
        let mut dirs = self.dirs.lock().map_err(|_| poisoned())?;
        let mut seen_dirs = HashMap::new();
        let mut files = Vec::new();
        let mut scanned_dirs = Vec::new();
        // Rollouts sit three levels down in `sessions/` (YYYY/MM/DD), directly in
        // `archived_sessions/`.
        for (root, archived, depth) in [(SESSIONS_DIR, false, 3), (ARCHIVED_SESSIONS_DIR, true, 0)]
        {
            let previous = changed_only.then_some(&*dirs);
            collect_rollouts(
                &self.home.join(root),
                archived,
                depth,
                previous,
                &mut seen_dirs,
                &mut scanned_dirs,
                &mut files,
            );
        }
        if changed_only && scanned_dirs.is_empty() {
            *dirs = seen_dirs;
            return Ok(());
        }
        let db = self.db()?;
        let known: HashMap<String, (i64, i64)> = db
            .files()
            .map_err(index_error)?
            .into_iter()
            .map(|(path, size, mtime)| (path, (size, mtime)))
            .collect();
        let mut rows = Vec::new();
        let mut present = std::collections::HashSet::new();
        for (path, archived) in files {
            let key = path.display().to_string();
            let Some((size, mtime)) = file_stamp(&path) else {
                continue;
            };
            present.insert(key.clone());
            if known.get(&key) == Some(&(size, mtime)) {
                continue;
            }
            if let Some(row) = summarize(&path, archived) {
                rows.push(row);
            }
            if rows.len() >= BATCH {
                db.upsert_all(&rows).map_err(index_error)?;
                rows.clear();
            }
        }
        db.upsert_all(&rows).map_err(index_error)?;
        // Rows whose file is gone from a scanned folder go too; a moved file was re-added above.
        for (path, _) in known {
            let in_scanned = Path::new(&path)
                .parent()
                .is_some_and(|parent| scanned_dirs.iter().any(|dir| dir == parent));
            if in_scanned && !present.contains(&path) {
                if let Some(id) = thread_id_of(Path::new(&path)) {
                    if db
                        .get(&id)
                        .map_err(index_error)?
                        .is_some_and(|row| row.path == path)
                    {
                        db.remove(&id).map_err(index_error)?;
                    }
                }
            }
        }
        *dirs = seen_dirs;
        Ok(())
    }

    /// One page, after catching up with folders that changed and re-indexing stale rows.
    pub(crate) fn list(&self, query: &ListQuery) -> Result<Vec<ThreadRow>, CoreError> {
        self.scan(true)?;
        let db = self.db()?;
        let mut rows = db.list(query).map_err(index_error)?;
        let mut stale = Vec::new();
        for row in &mut rows {
            let Some((size, mtime)) = file_stamp(Path::new(&row.path)) else {
                continue;
            };
            if (size, mtime) != (row.file_size, row.file_mtime_ns) {
                if let Some(fresh) = summarize(Path::new(&row.path), row.archived) {
                    *row = fresh.clone();
                    stale.push(fresh);
                }
            }
        }
        if !stale.is_empty() {
            db.upsert_all(&stale).map_err(index_error)?;
            // An update can change the order; ask again.
            rows = db.list(query).map_err(index_error)?;
        }
        Ok(rows)
    }
}

fn index_error(err: tern_state::StateError) -> CoreError {
    CoreError::Io {
        context: "thread index".to_owned(),
        source: std::io::Error::other(err),
    }
}

fn poisoned() -> CoreError {
    CoreError::Io {
        context: "thread index".to_owned(),
        source: std::io::Error::other("a previous index operation panicked"),
    }
}

/// Rollout files `depth` folders below `dir`. Records the mtime of every folder visited;
/// with `previous`, skips listing file folders whose mtime is unchanged. Folders whose files
/// were listed go into `scanned`.
fn collect_rollouts(
    dir: &Path,
    archived: bool,
    depth: u32,
    previous: Option<&HashMap<PathBuf, SystemTime>>,
    seen: &mut HashMap<PathBuf, SystemTime>,
    scanned: &mut Vec<PathBuf>,
    out: &mut Vec<(PathBuf, bool)>,
) {
    let Ok(mtime) = std::fs::metadata(dir).and_then(|meta| meta.modified()) else {
        return;
    };
    seen.insert(dir.to_owned(), mtime);
    if depth == 0 && previous.is_some_and(|previous| previous.get(dir) == Some(&mtime)) {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    if depth == 0 {
        scanned.push(dir.to_owned());
    }
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if depth > 0 {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                collect_rollouts(&path, archived, depth - 1, previous, seen, scanned, out);
            }
        } else if thread_id_of(&path).is_some() {
            out.push((path, archived));
        }
    }
}

/// The thread id in `rollout-<timestamp>-<id>.jsonl`.
fn thread_id_of(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_prefix("rollout-")?.strip_suffix(".jsonl")?;
    // `YYYY-MM-DDThh-mm-ss-` is 20 characters.
    let id = stem.get(20..)?;
    (id.len() == 36).then(|| id.to_owned())
}

/// Size and mtime (ns) of a file.
fn file_stamp(path: &Path) -> Option<(i64, i64)> {
    let meta = std::fs::metadata(path).ok()?;
    let mtime = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some((
        i64::try_from(meta.len()).ok()?,
        i64::try_from(mtime.as_nanos()).ok()?,
    ))
}

/// The index row of a rollout, read in one streaming pass: `session_meta`, the first user
/// message (preview), the first turn's model, and the last name.
pub(crate) fn summarize(path: &Path, archived: bool) -> Option<ThreadRow> {
    let (file_size, file_mtime_ns) = file_stamp(path)?;
    let mut reader = BufReader::new(File::open(path).ok()?);
    let mut line = String::new();
    let mut meta: Option<SessionMeta> = None;
    let mut preview: Option<String> = None;
    let mut model: Option<String> = None;
    let mut name: Option<String> = None;
    loop {
        line.clear();
        match Read::by_ref(&mut reader)
            .take(64 * 1024 * 1024)
            .read_line(&mut line)
        {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let Ok(parsed) = serde_json::from_str::<crate::rollout::RawLine>(line.trim_end()) else {
            continue;
        };
        let payload = parsed.payload.get();
        match parsed.kind.as_str() {
            "session_meta" if meta.is_none() => meta = serde_json::from_str(payload).ok(),
            "turn_context" if model.is_none() => {
                model = serde_json::from_str::<crate::rollout::TurnContextLine>(payload)
                    .ok()
                    .map(|c| c.model);
            }
            "event_msg" if preview.is_none() || payload.contains("thread_name_updated") => {
                match serde_json::from_str::<EventMsg>(payload) {
                    Ok(EventMsg::ItemCompleted {
                        item: RolloutItem::UserMessage { content, .. },
                        ..
                    }) if preview.is_none() => {
                        preview = Some(crate::rollout::preview_of(&content));
                    }
                    Ok(EventMsg::ThreadNameUpdated { thread_name }) => name = thread_name,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    let meta = meta?;
    let created_at = crate::thread::parse_iso8601_secs(&meta.timestamp).unwrap_or(0);
    Some(ThreadRow {
        id: meta.id.clone(),
        path: path.display().to_string(),
        archived,
        created_at,
        updated_at: file_mtime_ns / 1_000_000_000,
        preview: preview.unwrap_or_default(),
        name,
        cwd: meta.cwd,
        model_provider: meta.model_provider.unwrap_or_default(),
        model,
        source: meta
            .source
            .as_ref()
            .and_then(|s| s.as_str())
            .unwrap_or("vscode")
            .to_owned(),
        originator: meta.originator,
        cli_version: meta.cli_version,
        forked_from_id: meta.forked_from_id,
        file_size,
        file_mtime_ns,
    })
}
