//! Newline-delimited framing with a fixed cap on line length.
//!
//! A client that sends an endless line must not make the server buffer it: past
//! [`MAX_LINE_BYTES`] the rest of the line is read and thrown away, and the caller is told how
//! long it was so it can answer with an error. Memory stays bounded by the cap.

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// The longest line (one JSON-RPC message) the server accepts: 32 MiB. Large enough for a turn
/// carrying inline base64 images, small enough to keep a misbehaving client from exhausting
/// memory.
pub const MAX_LINE_BYTES: usize = 32 * 1024 * 1024;

/// One frame read from the stream.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Frame {
    /// A complete line, without its `\n` (or `\r\n`).
    Line(String),
    /// A line that is not UTF-8.
    NotUtf8,
    /// A line longer than the cap; it was discarded. Holds its length in bytes.
    TooLong(usize),
}

/// Reads capped lines from a buffered reader.
pub(crate) struct LineReader<R> {
    reader: R,
    max_bytes: usize,
    buf: Vec<u8>,
}

impl<R: AsyncBufRead + Unpin> LineReader<R> {
    pub(crate) fn new(reader: R, max_bytes: usize) -> Self {
        Self {
            reader,
            max_bytes,
            buf: Vec::new(),
        }
    }

    /// The next non-empty frame, or `None` at end of input. A final line without a newline is
    /// still returned.
    pub(crate) async fn next_frame(&mut self) -> std::io::Result<Option<Frame>> {
        loop {
            let mut length = 0_usize;
            let mut saw_newline = false;
            self.buf.clear();
            loop {
                let available = self.reader.fill_buf().await?;
                if available.is_empty() {
                    break;
                }
                let (chunk, consumed) = match available.iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        saw_newline = true;
                        (&available[..i], i + 1)
                    }
                    None => (available, available.len()),
                };
                length += chunk.len();
                if length <= self.max_bytes {
                    self.buf.extend_from_slice(chunk);
                } else if !self.buf.is_empty() {
                    // Over the cap: give the memory back and only count from here on.
                    self.buf = Vec::new();
                }
                self.reader.consume(consumed);
                if saw_newline {
                    break;
                }
            }
            if !saw_newline && length == 0 {
                return Ok(None);
            }
            if length > self.max_bytes {
                return Ok(Some(Frame::TooLong(length)));
            }
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let bytes = std::mem::take(&mut self.buf);
            return Ok(Some(match String::from_utf8(bytes) {
                Ok(line) => Frame::Line(line),
                Err(_) => Frame::NotUtf8,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;
    use tokio::io::BufReader;

    use super::*;

    async fn frames(input: &[u8], max: usize) -> Vec<Frame> {
        // A tiny buffer makes lines span many fill_buf calls.
        let mut reader = LineReader::new(BufReader::with_capacity(3, input), max);
        let mut out = Vec::new();
        while let Some(frame) = reader.next_frame().await.unwrap() {
            out.push(frame);
        }
        out
    }

    #[tokio::test]
    async fn splits_lines_and_skips_blank_ones() {
        assert_eq!(
            frames(b"{\"a\":1}\n\n  \r\n{\"b\":2}\r\nlast", 100).await,
            [
                Frame::Line("{\"a\":1}".into()),
                Frame::Line("{\"b\":2}".into()),
                Frame::Line("last".into()),
            ]
        );
    }

    #[tokio::test]
    async fn lines_over_the_cap_are_discarded_and_measured() {
        assert_eq!(
            frames(b"0123456789\nok\n0123456789", 5).await,
            [
                Frame::TooLong(10),
                Frame::Line("ok".into()),
                Frame::TooLong(10)
            ]
        );
    }

    #[tokio::test]
    async fn non_utf8_lines_are_reported() {
        assert_eq!(
            frames(b"\xff\xfe\nok\n", 100).await,
            [Frame::NotUtf8, Frame::Line("ok".into())]
        );
    }
}
