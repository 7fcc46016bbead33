//! `apply_patch`: parse a patch, compute every file's new contents, then write them all, so a
//! patch that fails anywhere changes no file.
//!
//! Matching is forgiving the way models need: each chunk's old lines are looked for from the
//! previous chunk onwards, first exactly, then ignoring trailing whitespace, then ignoring
//! surrounding whitespace. Files keep their line endings (CRLF stays CRLF) and their final
//! newline.

mod parser;

use std::collections::BTreeMap;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

pub use parser::{Chunk, Operation, ParseError, Patch, parse};

/// What a patch did to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Absolute path of the file (its old path for a move).
    pub path: PathBuf,
    pub kind: ChangeKind,
    /// A unified diff (for an added file: its contents).
    pub diff: String,
}

/// The kinds of [`FileChange`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeKind {
    Add,
    Delete,
    Update { move_to: Option<PathBuf> },
}

/// Why a patch was not applied. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
}

fn file_error(path: &Path, reason: impl Into<String>) -> ApplyError {
    ApplyError::File {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// Applies `text` with relative paths resolved against `cwd`. On success every file is
/// written; on error none is.
pub fn apply(text: &str, cwd: &Path) -> Result<Vec<FileChange>, ApplyError> {
    let parsed = parse(text)?;
    let plan = plan(&parsed, cwd)?;
    write(&plan)?;
    Ok(plan.changes)
}

/// What `text` would change, relative paths resolved against `cwd`, without writing
/// anything: for showing a patch before it is approved.
pub fn preview(text: &str, cwd: &Path) -> Result<Vec<FileChange>, ApplyError> {
    let parsed = parse(text)?;
    Ok(plan(&parsed, cwd)?.changes)
}

/// The new state of every touched file, before anything is written.
struct Plan {
    /// Path → new contents (`None`: delete).
    writes: BTreeMap<PathBuf, Option<String>>,
    changes: Vec<FileChange>,
}

fn plan(parsed: &Patch, cwd: &Path) -> Result<Plan, ApplyError> {
    let mut writes: BTreeMap<PathBuf, Option<String>> = BTreeMap::new();
    let mut changes = Vec::new();
    // Files as this patch leaves them so far, so two operations on one file compose.
    let current = |writes: &BTreeMap<PathBuf, Option<String>>, path: &Path| match writes.get(path) {
        Some(contents) => Ok(contents.clone()),
        None => match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(text)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(file_error(path, err.to_string())),
        },
    };
    for operation in &parsed.operations {
        match operation {
            Operation::Add { path, contents } => {
                let path = cwd.join(path);
                if current(&writes, &path)?.is_some() {
                    return Err(file_error(&path, "cannot add a file that exists"));
                }
                writes.insert(path.clone(), Some(contents.clone()));
                changes.push(FileChange {
                    path,
                    kind: ChangeKind::Add,
                    diff: contents.clone(),
                });
            }
            Operation::Delete { path } => {
                let path = cwd.join(path);
                let Some(old) = current(&writes, &path)? else {
                    return Err(file_error(
                        &path,
                        "cannot delete a file that does not exist",
                    ));
                };
                writes.insert(path.clone(), None);
                changes.push(FileChange {
                    diff: unified_diff(&path, &old, ""),
                    path,
                    kind: ChangeKind::Delete,
                });
            }
            Operation::Update {
                path,
                move_to,
                chunks,
            } => {
                let path = cwd.join(path);
                let Some(old) = current(&writes, &path)? else {
                    return Err(file_error(
                        &path,
                        "cannot update a file that does not exist",
                    ));
                };
                let new = apply_chunks(&old, chunks).map_err(|reason| file_error(&path, reason))?;
                let target = move_to.as_ref().map(|to| cwd.join(to));
                if let Some(target) = &target {
                    if target != &path && current(&writes, target)?.is_some() {
                        return Err(file_error(target, "cannot move onto a file that exists"));
                    }
                    writes.insert(path.clone(), None);
                    writes.insert(target.clone(), Some(new.clone()));
                } else {
                    writes.insert(path.clone(), Some(new.clone()));
                }
                changes.push(FileChange {
                    diff: unified_diff(&path, &old, &new),
                    path,
                    kind: ChangeKind::Update { move_to: target },
                });
            }
        }
    }
    Ok(Plan { writes, changes })
}

/// Writes every new file to a temporary sibling first, then renames them into place and
/// removes deleted files. A failure while writing temporaries removes them and changes nothing.
fn write(plan: &Plan) -> Result<(), ApplyError> {
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let cleanup = |staged: &[(PathBuf, PathBuf)]| {
        for (temp, _) in staged {
            let _ = std::fs::remove_file(temp);
        }
    };
    for (path, contents) in &plan.writes {
        let Some(contents) = contents else { continue };
        let staged_file = stage(path, contents);
        match staged_file {
            Ok(temp) => staged.push((temp, path.clone())),
            Err(err) => {
                cleanup(&staged);
                return Err(err);
            }
        }
    }
    for (temp, path) in &staged {
        if let Err(err) = std::fs::rename(temp, path) {
            cleanup(&staged);
            return Err(file_error(path, err.to_string()));
        }
    }
    for (path, contents) in &plan.writes {
        if contents.is_none() && !plan.writes.iter().any(|(p, c)| p == path && c.is_some()) {
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => return Err(file_error(path, err.to_string())),
            }
        }
    }
    Ok(())
}

/// Writes `contents` next to `path` under a temporary name (creating parent folders).
fn stage(path: &Path, contents: &str) -> Result<PathBuf, ApplyError> {
    let parent = path
        .parent()
        .ok_or_else(|| file_error(path, "has no parent folder"))?;
    std::fs::create_dir_all(parent).map_err(|err| file_error(path, err.to_string()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = parent.join(format!(".{name}.tern-patch-{}", std::process::id()));
    // Created with the file's own mode (new files: 0644 less the umask), so a private file is
    // never readable through its temporary.
    let mode = std::fs::metadata(path).map_or(0o644, |meta| {
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777
    });
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&temp)
        .map_err(|err| file_error(path, err.to_string()))?;
    if let Err(err) = std::io::Write::write_all(&mut file, contents.as_bytes()) {
        let _ = std::fs::remove_file(&temp);
        return Err(file_error(path, err.to_string()));
    }
    Ok(temp)
}

/// Applies the chunks to a file's text, keeping its line endings and final newline.
fn apply_chunks(text: &str, chunks: &[Chunk]) -> Result<String, String> {
    let crlf = text.contains("\r\n");
    let ends_with_newline = text.ends_with('\n') || text.is_empty();
    let mut lines: Vec<String> = text
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_owned())
        .collect();
    let mut cursor = 0;
    for chunk in chunks {
        if let Some(anchor) = &chunk.anchor {
            match find(&lines, std::slice::from_ref(anchor), cursor, false) {
                Some(at) => cursor = at + 1,
                None => return Err(format!("cannot find the line `{anchor}`")),
            }
        }
        if chunk.old.is_empty() {
            // Pure insertion: at the end of the file, or where the anchor put us.
            let at = if chunk.at_end || chunk.anchor.is_none() {
                lines.len()
            } else {
                cursor
            };
            lines.splice(at..at, chunk.new.iter().cloned());
            cursor = at + chunk.new.len();
            continue;
        }
        let Some(at) = find(&lines, &chunk.old, cursor, chunk.at_end) else {
            return Err(format!(
                "cannot find the lines to change:\n{}",
                chunk.old.join("\n")
            ));
        };
        lines.splice(at..at + chunk.old.len(), chunk.new.iter().cloned());
        cursor = at + chunk.new.len();
    }
    let newline = if crlf { "\r\n" } else { "\n" };
    let mut out = lines.join(newline);
    if ends_with_newline && !lines.is_empty() {
        out.push_str(newline);
    }
    Ok(out)
}

/// Where `needle` starts in `lines` at or after `from` (at the very end when `at_end`), trying
/// exact, then trailing-whitespace-insensitive, then whitespace-insensitive comparison.
fn find(lines: &[String], needle: &[String], from: usize, at_end: bool) -> Option<usize> {
    let comparisons: [fn(&str, &str) -> bool; 3] = [
        |a, b| a == b,
        |a, b| a.trim_end() == b.trim_end(),
        |a, b| a.trim() == b.trim(),
    ];
    if needle.len() > lines.len() {
        return None;
    }
    let last_start = lines.len() - needle.len();
    for same in comparisons {
        let matches = |start: usize| {
            lines[start..start + needle.len()]
                .iter()
                .zip(needle)
                .all(|(a, b)| same(a, b))
        };
        if at_end {
            if last_start >= from && matches(last_start) {
                return Some(last_start);
            }
            continue;
        }
        if let Some(start) = (from..=last_start).find(|&start| matches(start)) {
            return Some(start);
        }
    }
    None
}

/// A unified diff of one file.
fn unified_diff(path: &Path, old: &str, new: &str) -> String {
    let name = path.display().to_string();
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&name, &name)
        .to_string()
}

#[cfg(test)]
#[path = "apply_patch_tests.rs"]
mod tests;
