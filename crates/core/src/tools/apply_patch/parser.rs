//! Parsing the patch format models write for `apply_patch`.
//!
//! ```text
//! *** Begin Patch
//! *** Add File: path/new.txt
//! +first line
//! *** Delete File: path/old.txt
//! *** Update File: path/file.rs
//! *** Move to: path/renamed.rs
//! @@ fn anchor()
//!  context
//! -removed
//! +added
//! *** End of File
//! *** End Patch
//! ```
//!
//! An update is a list of chunks, each started by `@@` (optionally followed by a line to seek
//! to) and holding context (` `), removed (`-`) and added (`+`) lines; `*** End of File` pins the
//! chunk to the end of the file. The first chunk may omit its `@@`. Parsing never panics: any
//! input either parses or gives a [`ParseError`] naming the line.

/// A parsed patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    pub operations: Vec<Operation>,
}

/// One file operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    Add {
        path: String,
        contents: String,
    },
    Delete {
        path: String,
    },
    Update {
        path: String,
        move_to: Option<String>,
        chunks: Vec<Chunk>,
    },
}

/// A run of changes in an updated file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chunk {
    /// The text after `@@`, a line to find before matching `old`.
    pub anchor: Option<String>,
    /// Context and removed lines, in order: what must be in the file.
    pub old: Vec<String>,
    /// Context and added lines, in order: what replaces it.
    pub new: Vec<String>,
    /// `*** End of File`: `old` must end the file.
    pub at_end: bool,
}

/// Why a patch does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid patch at line {line}: {reason}")]
pub struct ParseError {
    /// 1-based.
    pub line: usize,
    pub reason: String,
}

const BEGIN: &str = "*** Begin Patch";
const END: &str = "*** End Patch";
const ADD: &str = "*** Add File: ";
const DELETE: &str = "*** Delete File: ";
const UPDATE: &str = "*** Update File: ";
const MOVE: &str = "*** Move to: ";
const END_OF_FILE: &str = "*** End of File";

/// Parses a whole patch (leading and trailing blank lines allowed).
pub fn parse(text: &str) -> Result<Patch, ParseError> {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let first = lines.iter().position(|l| !l.trim().is_empty()).unwrap_or(0);
    let last = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .unwrap_or(0);
    let error = |line: usize, reason: &str| ParseError {
        line: line + 1,
        reason: reason.to_owned(),
    };
    if lines.get(first).map(|l| l.trim()) != Some(BEGIN) {
        return Err(error(first, "a patch starts with `*** Begin Patch`"));
    }
    if last <= first || lines[last].trim() != END {
        return Err(error(last, "a patch ends with `*** End Patch`"));
    }
    let mut operations = Vec::new();
    let mut i = first + 1;
    while i < last {
        let line = lines[i];
        if let Some(path) = line.strip_prefix(ADD) {
            let path = checked_path(path, i)?;
            i += 1;
            let mut contents = String::new();
            while i < last && !lines[i].starts_with("*** ") {
                let Some(added) = lines[i].strip_prefix('+') else {
                    return Err(error(i, "lines of an added file start with `+`"));
                };
                contents.push_str(added);
                contents.push('\n');
                i += 1;
            }
            operations.push(Operation::Add { path, contents });
        } else if let Some(path) = line.strip_prefix(DELETE) {
            operations.push(Operation::Delete {
                path: checked_path(path, i)?,
            });
            i += 1;
        } else if let Some(path) = line.strip_prefix(UPDATE) {
            let path = checked_path(path, i)?;
            i += 1;
            let mut move_to = None;
            if let Some(target) = lines.get(i).and_then(|l| l.strip_prefix(MOVE)) {
                move_to = Some(checked_path(target, i)?);
                i += 1;
            }
            let (chunks, next) = parse_chunks(&lines, i, last)?;
            if chunks.is_empty() && move_to.is_none() {
                return Err(error(i, "an updated file needs at least one change"));
            }
            operations.push(Operation::Update {
                path,
                move_to,
                chunks,
            });
            i = next;
        } else if line.trim().is_empty() {
            i += 1;
        } else {
            return Err(error(
                i,
                "expected `*** Add File:`, `*** Delete File:` or `*** Update File:`",
            ));
        }
    }
    if operations.is_empty() {
        return Err(error(first, "the patch changes nothing"));
    }
    Ok(Patch { operations })
}

/// The chunks of an update, from line `start` up to the next file operation.
fn parse_chunks(
    lines: &[&str],
    start: usize,
    end: usize,
) -> Result<(Vec<Chunk>, usize), ParseError> {
    let mut chunks = Vec::new();
    let mut current: Option<Chunk> = None;
    let mut i = start;
    while i < end {
        let line = lines[i];
        if line.starts_with("*** ") && line != END_OF_FILE {
            break;
        }
        if line == END_OF_FILE {
            let Some(chunk) = current.as_mut() else {
                return Err(ParseError {
                    line: i + 1,
                    reason: "`*** End of File` without a change before it".to_owned(),
                });
            };
            chunk.at_end = true;
        } else if let Some(anchor) = line.strip_prefix("@@") {
            if let Some(done) = current.take() {
                chunks.push(done);
            }
            let anchor = anchor.trim();
            current = Some(Chunk {
                anchor: (!anchor.is_empty()).then(|| anchor.to_owned()),
                ..Chunk::default()
            });
        } else {
            let chunk = current.get_or_insert_with(Chunk::default);
            match line.chars().next() {
                Some('+') => chunk.new.push(line[1..].to_owned()),
                Some('-') => chunk.old.push(line[1..].to_owned()),
                Some(' ') => {
                    chunk.old.push(line[1..].to_owned());
                    chunk.new.push(line[1..].to_owned());
                }
                // An empty line in a hunk is an empty context line.
                None => {
                    chunk.old.push(String::new());
                    chunk.new.push(String::new());
                }
                Some(_) => {
                    return Err(ParseError {
                        line: i + 1,
                        reason: "lines of a change start with ` `, `-` or `+`".to_owned(),
                    });
                }
            }
        }
        i += 1;
    }
    if let Some(done) = current.take() {
        chunks.push(done);
    }
    if let Some(empty) = chunks
        .iter()
        .position(|c| c.old.is_empty() && c.new.is_empty())
    {
        return Err(ParseError {
            line: start + empty + 1,
            reason: "a `@@` section without lines".to_owned(),
        });
    }
    Ok((chunks, i))
}

/// A path from a header: not empty.
fn checked_path(path: &str, line: usize) -> Result<String, ParseError> {
    let path = path.trim();
    if path.is_empty() {
        return Err(ParseError {
            line: line + 1,
            reason: "the file path is empty".to_owned(),
        });
    }
    Ok(path.to_owned())
}
