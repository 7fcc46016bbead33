//! The thread index: one `SQLite` table of thread metadata, so `thread/list` answers from an
//! index instead of reading rollouts.
//!
//! The rollouts stay the source of truth. The index records, per thread, the size and mtime of
//! the rollout it was built from; a caller re-indexes a file whose size or mtime changed
//! before trusting its row. A database that cannot be opened or fails its integrity check is
//! deleted and recreated empty, to be rebuilt from the rollouts; deleting it loses nothing.
//!
//! ```
//! use tern_state::{ListQuery, SortKey, StateDb, ThreadRow};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let db = StateDb::open(&dir.path().join("state.sqlite")).unwrap();
//! let row = ThreadRow { id: "t1".into(), created_at: 5, updated_at: 9, ..ThreadRow::default() };
//! db.upsert(&row).unwrap();
//! let page = db.list(&ListQuery { sort: SortKey::UpdatedAt, limit: 10, ..ListQuery::default() }).unwrap();
//! assert_eq!(page, [row]);
//! ```

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params_from_iter, types::Value};

/// Bumped whenever the table changes shape; an older database is recreated.
const SCHEMA_VERSION: i64 = 1;

/// Why the index failed.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("thread index: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("thread index: {0}")]
    Io(#[from] std::io::Error),
    #[error("thread index: a previous operation panicked")]
    Poisoned,
}

/// What the index knows about one thread.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreadRow {
    pub id: String,
    /// The rollout file.
    pub path: String,
    pub archived: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds (the rollout's mtime).
    pub updated_at: i64,
    pub preview: String,
    pub name: Option<String>,
    pub cwd: String,
    pub model_provider: String,
    pub model: Option<String>,
    pub source: String,
    pub originator: Option<String>,
    pub cli_version: Option<String>,
    pub forked_from_id: Option<String>,
    /// Size of the rollout when indexed.
    pub file_size: i64,
    /// Modification time of the rollout when indexed, in nanoseconds.
    pub file_mtime_ns: i64,
}

/// Sort order of a listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortKey {
    #[default]
    CreatedAt,
    UpdatedAt,
}

/// A page request. Keyset pagination: `after` is the (sort value, id) of the last row of the
/// previous page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub archived: bool,
    pub sort: SortKey,
    pub ascending: bool,
    pub after: Option<(i64, String)>,
    pub limit: usize,
    pub model_providers: Option<Vec<String>>,
    pub sources: Option<Vec<String>>,
    pub cwds: Option<Vec<String>>,
    /// Case-insensitive substring of the preview or name.
    pub search: Option<String>,
}

/// The index database.
#[derive(Debug)]
pub struct StateDb {
    conn: Mutex<Connection>,
}

impl StateDb {
    /// Opens (or creates) the index at `path`. A corrupt or outdated database is replaced by an
    /// empty one.
    pub fn open(path: &Path) -> Result<Self, StateError> {
        match Self::open_checked(path) {
            Ok(db) => Ok(db),
            // Only a damaged or foreign file is replaced; a busy or unreadable one is an error.
            Err(err) if !is_damage(&err) => Err(err),
            Err(err) => {
                tracing::warn!(path = %path.display(), error = %err, "recreating the thread index");
                for suffix in ["", "-wal", "-shm"] {
                    let file = format!("{}{suffix}", path.display());
                    match std::fs::remove_file(&file) {
                        Ok(()) => {}
                        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                        Err(err) => return Err(err.into()),
                    }
                }
                Self::open_checked(path)
            }
        }
    }

    fn open_checked(path: &Path) -> Result<Self, StateError> {
        let conn = Connection::open(path)?;
        // Previews are user text: keep the index as private as the rollouts.
        std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let check: String = conn.query_row("PRAGMA quick_check", [], |row| row.get(0))?;
        if check != "ok" {
            return Err(rusqlite::Error::InvalidQuery.into());
        }
        let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if version != SCHEMA_VERSION {
            conn.execute_batch(
                "DROP TABLE IF EXISTS threads;
                 CREATE TABLE threads (
                     id TEXT PRIMARY KEY,
                     path TEXT NOT NULL,
                     archived INTEGER NOT NULL,
                     created_at INTEGER NOT NULL,
                     updated_at INTEGER NOT NULL,
                     preview TEXT NOT NULL,
                     name TEXT,
                     cwd TEXT NOT NULL,
                     model_provider TEXT NOT NULL,
                     model TEXT,
                     source TEXT NOT NULL,
                     originator TEXT,
                     cli_version TEXT,
                     forked_from_id TEXT,
                     file_size INTEGER NOT NULL,
                     file_mtime_ns INTEGER NOT NULL
                 );
                 CREATE INDEX threads_by_created ON threads (archived, created_at, id);
                 CREATE INDEX threads_by_updated ON threads (archived, updated_at, id);",
            )?;
            conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        }
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Connection>, StateError> {
        self.conn.lock().map_err(|_| StateError::Poisoned)
    }

    /// Inserts or replaces a row.
    pub fn upsert(&self, row: &ThreadRow) -> Result<(), StateError> {
        self.upsert_all(std::slice::from_ref(row))
    }

    /// Inserts or replaces rows in one transaction.
    pub fn upsert_all(&self, rows: &[ThreadRow]) -> Result<(), StateError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO threads (id, path, archived, created_at, updated_at, preview,
                     name, cwd, model_provider, model, source, originator, cli_version,
                     forked_from_id, file_size, file_mtime_ns)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            )?;
            for row in rows {
                stmt.execute(rusqlite::params![
                    row.id,
                    row.path,
                    row.archived,
                    row.created_at,
                    row.updated_at,
                    row.preview,
                    row.name,
                    row.cwd,
                    row.model_provider,
                    row.model,
                    row.source,
                    row.originator,
                    row.cli_version,
                    row.forked_from_id,
                    row.file_size,
                    row.file_mtime_ns,
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Removes a thread's row.
    pub fn remove(&self, id: &str) -> Result<(), StateError> {
        self.conn()?
            .execute("DELETE FROM threads WHERE id = ?1", [id])?;
        Ok(())
    }

    /// A thread's row.
    pub fn get(&self, id: &str) -> Result<Option<ThreadRow>, StateError> {
        let conn = self.conn()?;
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM threads WHERE id = ?1"))?;
        Ok(stmt.query_row([id], read_row).optional()?)
    }

    /// Every indexed file with its recorded size and mtime: (path, size, mtime ns).
    pub fn files(&self) -> Result<Vec<(String, i64, i64)>, StateError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached("SELECT path, file_size, file_mtime_ns FROM threads")?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One page of threads.
    pub fn list(&self, query: &ListQuery) -> Result<Vec<ThreadRow>, StateError> {
        let column = match query.sort {
            SortKey::CreatedAt => "created_at",
            SortKey::UpdatedAt => "updated_at",
        };
        let (cmp, order) = if query.ascending {
            (">", "ASC")
        } else {
            ("<", "DESC")
        };
        let mut sql = format!("SELECT {COLUMNS} FROM threads WHERE archived = ?");
        let mut args: Vec<Value> = vec![Value::from(query.archived)];
        if let Some((value, id)) = &query.after {
            let _ = write!(sql, " AND ({column}, id) {cmp} (?, ?)");
            args.push(Value::from(*value));
            args.push(Value::from(id.clone()));
        }
        for (field, values) in [
            ("model_provider", &query.model_providers),
            ("source", &query.sources),
            ("cwd", &query.cwds),
        ] {
            if let Some(values) = values {
                let marks = vec!["?"; values.len()].join(", ");
                let _ = write!(sql, " AND {field} IN ({marks})");
                args.extend(values.iter().cloned().map(Value::from));
            }
        }
        if let Some(term) = &query.search {
            sql.push_str(
                " AND (instr(lower(preview), ?) > 0 OR instr(lower(coalesce(name, '')), ?) > 0)",
            );
            let term = term.to_lowercase();
            args.push(Value::from(term.clone()));
            args.push(Value::from(term));
        }
        let _ = write!(sql, " ORDER BY {column} {order}, id {order} LIMIT ?");
        args.push(Value::from(i64::try_from(query.limit).unwrap_or(i64::MAX)));
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(args), read_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Whether an open failure means the file is not a usable index (corrupt, not a database, or
/// failing its integrity check), as opposed to busy or inaccessible.
fn is_damage(err: &StateError) -> bool {
    match err {
        StateError::Sqlite(rusqlite::Error::SqliteFailure(failure, _)) => matches!(
            failure.code,
            rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
        ),
        StateError::Sqlite(rusqlite::Error::InvalidQuery) => true,
        _ => false,
    }
}

const COLUMNS: &str = "id, path, archived, created_at, updated_at, preview, name, cwd, \
    model_provider, model, source, originator, cli_version, forked_from_id, file_size, file_mtime_ns";

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ThreadRow> {
    Ok(ThreadRow {
        id: row.get(0)?,
        path: row.get(1)?,
        archived: row.get(2)?,
        created_at: row.get(3)?,
        updated_at: row.get(4)?,
        preview: row.get(5)?,
        name: row.get(6)?,
        cwd: row.get(7)?,
        model_provider: row.get(8)?,
        model: row.get(9)?,
        source: row.get(10)?,
        originator: row.get(11)?,
        cli_version: row.get(12)?,
        forked_from_id: row.get(13)?,
        file_size: row.get(14)?,
        file_mtime_ns: row.get(15)?,
    })
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    fn row(id: &str, created_at: i64, updated_at: i64) -> ThreadRow {
        ThreadRow {
            id: id.into(),
            path: format!("/h/{id}.jsonl"),
            created_at,
            updated_at,
            preview: format!("preview of {id}"),
            model_provider: if id == "c" { "ollama" } else { "openai" }.into(),
            source: "vscode".into(),
            cwd: "/w".into(),
            ..ThreadRow::default()
        }
    }

    fn ids(rows: &[ThreadRow]) -> Vec<&str> {
        rows.iter().map(|r| r.id.as_str()).collect()
    }

    #[test]
    fn pages_follow_the_sort_key_with_keyset_cursors() {
        let dir = tempfile::tempdir().unwrap();
        let db = StateDb::open(&dir.path().join("s.sqlite")).unwrap();
        db.upsert_all(&[
            row("a", 1, 30),
            row("b", 2, 20),
            row("c", 3, 10),
            row("d", 3, 40),
        ])
        .unwrap();
        let mut query = ListQuery {
            limit: 2,
            ..ListQuery::default()
        };
        let first = db.list(&query).unwrap();
        assert_eq!(ids(&first), ["d", "c"]);
        query.after = Some((3, "c".into()));
        assert_eq!(ids(&db.list(&query).unwrap()), ["b", "a"]);
        query.after = None;
        query.sort = SortKey::UpdatedAt;
        assert_eq!(ids(&db.list(&query).unwrap()), ["d", "a"]);
        query.model_providers = Some(vec!["ollama".into()]);
        assert_eq!(ids(&db.list(&query).unwrap()), ["c"]);
        query.model_providers = None;
        query.search = Some("OF B".into());
        assert_eq!(ids(&db.list(&query).unwrap()), ["b"]);
    }

    #[test]
    fn a_corrupt_database_is_recreated_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        std::fs::write(&path, b"this is not sqlite at all, not even close........").unwrap();
        let db = StateDb::open(&path).unwrap();
        assert_eq!(
            db.list(&ListQuery {
                limit: 5,
                ..ListQuery::default()
            })
            .unwrap(),
            []
        );
        db.upsert(&row("a", 1, 1)).unwrap();
        assert_eq!(db.get("a").unwrap().unwrap().id, "a");
    }
}
