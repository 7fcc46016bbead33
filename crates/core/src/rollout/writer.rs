//! Appending to a rollout.
//!
//! Every line is written whole with one `write_all` of a buffer holding it, so a crash can tear
//! at most the last line, which readers skip. A writer that finds a torn tail (reopening after
//! a crash) or fails a write ends the partial line first, so the next line is never glued to
//! it. Lines are written as items complete (the flush at item boundaries) and the file is
//! fsynced at turn end.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::line::LineOut;
use crate::time::{Utc, now_ms};

/// Whether the file's last byte is not a newline (a line torn by a crash).
fn ends_mid_line(file: &mut File) -> io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    if file.metadata()?.len() == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0_u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// An open rollout.
#[derive(Debug)]
pub struct RolloutWriter {
    path: PathBuf,
    file: File,
    next_ordinal: u64,
}

impl RolloutWriter {
    /// Creates a new rollout (and its directories); fails if the file exists.
    pub fn create(path: &Path) -> io::Result<Self> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        Ok(Self {
            path: path.to_owned(),
            file,
            next_ordinal: 0,
        })
    }

    /// Opens an existing rollout to append after `next_ordinal - 1`.
    pub fn append_to(path: &Path, next_ordinal: u64) -> io::Result<Self> {
        let mut file = OpenOptions::new().read(true).append(true).open(path)?;
        if ends_mid_line(&mut file)? {
            file.write_all(b"\n")?;
        }
        Ok(Self {
            path: path.to_owned(),
            file,
            next_ordinal,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line of type `kind`.
    pub fn append<T: Serialize>(&mut self, kind: &'static str, payload: &T) -> io::Result<()> {
        let line = LineOut {
            timestamp: Utc::from_ms(now_ms()).iso8601(),
            ordinal: self.next_ordinal,
            kind,
            payload,
        };
        let mut bytes = serde_json::to_vec(&line)?;
        bytes.push(b'\n');
        if let Err(err) = self.file.write_all(&bytes) {
            // Part of the line may be out; end it so the next line starts clean.
            let _ = self.file.write_all(b"\n");
            return Err(err);
        }
        self.next_ordinal += 1;
        Ok(())
    }

    /// Makes everything appended so far durable.
    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }
}
