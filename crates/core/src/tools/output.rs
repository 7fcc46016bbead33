//! How tool results are worded for the model, and how long output is cut to fit.
//!
//! Tokens are estimated at four bytes each (what matters is a stable, cheap bound, not the
//! model's exact count). Long output keeps its head and tail with a marker between, as the
//! start (the command's first errors) and the end (its summary) matter most.

use std::fmt::Write as _;
use std::time::Duration;

/// Bytes per estimated token.
const BYTES_PER_TOKEN: usize = 4;

/// Output tokens returned to the model when the call does not say.
pub const DEFAULT_MAX_OUTPUT_TOKENS: usize = 10_000;

/// Output a command item keeps for clients: its head and tail, half each.
pub const ITEM_OUTPUT_CAP: usize = 1024 * 1024;

/// Estimated tokens of `bytes` bytes of text.
pub fn approx_tokens(bytes: usize) -> usize {
    bytes.div_ceil(BYTES_PER_TOKEN)
}

/// `text` cut to about `max_tokens`, keeping its head and tail around a marker naming how many
/// tokens were left out.
pub fn truncate_middle(text: &str, max_tokens: usize) -> String {
    let max_bytes = max_tokens.saturating_mul(BYTES_PER_TOKEN);
    if text.len() <= max_bytes {
        return text.to_owned();
    }
    let head_end = floor_char_boundary(text, max_bytes / 2);
    let tail_start = ceil_char_boundary(text, text.len() - (max_bytes - max_bytes / 2));
    let removed = approx_tokens(tail_start - head_end);
    format!(
        "{}…{removed} tokens truncated…{}",
        &text[..head_end],
        &text[tail_start..]
    )
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn ceil_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index += 1;
    }
    index
}

/// A command's output as an item keeps it: everything up to [`ITEM_OUTPUT_CAP`], past that
/// the head and the tail with the number of bytes left out between.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HeadTail {
    head: Vec<u8>,
    tail: std::collections::VecDeque<u8>,
    omitted: usize,
    total: usize,
}

impl HeadTail {
    pub fn push(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len();
        let half = ITEM_OUTPUT_CAP / 2;
        let room = half.saturating_sub(self.head.len());
        let (head, rest) = bytes.split_at(room.min(bytes.len()));
        self.head.extend_from_slice(head);
        bytes = rest;
        self.tail.extend(bytes);
        let excess = self.tail.len().saturating_sub(half);
        if excess > 0 {
            self.tail.drain(..excess);
            self.omitted += excess;
        }
    }

    /// All bytes pushed, kept or not.
    pub fn total(&self) -> usize {
        self.total
    }

    /// The kept text (invalid UTF-8 replaced), with the omission marked.
    pub fn text(&self) -> String {
        let mut text = String::from_utf8_lossy(&self.head).into_owned();
        if self.omitted > 0 {
            let _ = write!(text, "\n... {} bytes omitted ...\n", self.omitted);
        }
        let tail: Vec<u8> = self.tail.iter().copied().collect();
        text.push_str(&String::from_utf8_lossy(&tail));
        text
    }
}

/// What `exec_command` and `write_stdin` tell the model: a header, then the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecReport<'a> {
    pub chunk_id: &'a str,
    pub wall_time: Duration,
    /// Set once the command ended.
    pub exit_code: Option<i32>,
    /// Set while the command keeps running (poll it with `write_stdin`).
    pub session_id: Option<i32>,
    pub output: &'a str,
    /// Bytes the output had before it was cut for the item.
    pub original_bytes: usize,
    pub max_output_tokens: usize,
}

impl ExecReport<'_> {
    pub fn render(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "Chunk ID: {}", self.chunk_id);
        let _ = writeln!(
            text,
            "Wall time: {:.4} seconds",
            self.wall_time.as_secs_f64()
        );
        if let Some(code) = self.exit_code {
            let _ = writeln!(text, "Process exited with code {code}");
        }
        if let Some(id) = self.session_id {
            let _ = writeln!(text, "Process running with session ID {id}");
        }
        let tokens = approx_tokens(self.original_bytes);
        let _ = writeln!(text, "Original token count: {tokens}");
        text.push_str("Output:\n");
        if tokens > self.max_output_tokens {
            let _ = writeln!(
                text,
                "Warning: truncated output (original token count: {tokens})"
            );
        }
        text.push_str(&truncate_middle(self.output, self.max_output_tokens));
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_output_is_kept_whole() {
        assert_eq!(truncate_middle("hello", 10), "hello");
    }

    #[test]
    fn long_output_keeps_head_and_tail() {
        let text = format!("{}{}{}", "a".repeat(100), "b".repeat(1000), "c".repeat(100));
        let cut = truncate_middle(&text, 50);
        assert!(cut.starts_with(&"a".repeat(100)), "{cut}");
        assert!(cut.ends_with(&"c".repeat(100)), "{cut}");
        assert!(cut.contains("…250 tokens truncated…"), "{cut}");
    }

    #[test]
    fn cuts_fall_on_character_boundaries() {
        let text = "é".repeat(1000);
        let cut = truncate_middle(&text, 11);
        assert!(cut.contains("tokens truncated"));
    }

    #[test]
    fn items_keep_a_head_and_a_tail_of_big_output() {
        let mut kept = HeadTail::default();
        for _ in 0..3 {
            kept.push(&vec![b'x'; ITEM_OUTPUT_CAP / 2]);
        }
        kept.push(b"end");
        let text = kept.text();
        assert_eq!(kept.total(), ITEM_OUTPUT_CAP / 2 * 3 + 3);
        assert!(text.ends_with("xend"));
        assert!(text.contains(&format!(
            "\n... {} bytes omitted ...\n",
            ITEM_OUTPUT_CAP / 2 + 3
        )));
    }

    #[test]
    fn reports_name_the_exit_or_the_session() {
        let report = ExecReport {
            chunk_id: "ab12",
            wall_time: Duration::from_millis(1500),
            exit_code: Some(3),
            session_id: None,
            output: "boom\n",
            original_bytes: 5,
            max_output_tokens: 100,
        };
        assert_eq!(
            report.render(),
            "Chunk ID: ab12\nWall time: 1.5000 seconds\nProcess exited with code 3\n\
             Original token count: 2\nOutput:\nboom\n"
        );
        let running = ExecReport {
            exit_code: None,
            session_id: Some(1000),
            ..report
        };
        assert!(
            running
                .render()
                .contains("Process running with session ID 1000\n")
        );
    }
}
