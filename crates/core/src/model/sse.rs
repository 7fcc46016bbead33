//! A Server-Sent Events decoder: bytes in, `(event, data)` pairs out.
//!
//! Implements the parts of the SSE format model providers use: `event:` and `data:` fields
//! (multi-line data joined with `\n`), comments (`:`), `\n`, `\r\n` or `\r` line ends, and an
//! event dispatched at each blank line. `id:` and `retry:` are ignored.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The `event:` field; `message` when absent, as the format specifies.
    pub(crate) event: String,
    pub(crate) data: String,
}

/// Incremental decoder; feed it chunks as they arrive.
#[derive(Debug, Default)]
pub(crate) struct SseDecoder {
    buf: Vec<u8>,
    event: Option<String>,
    data: Option<String>,
}

impl SseDecoder {
    /// Decodes what `chunk` completes; partial lines wait for the next chunk.
    pub(crate) fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) {
        self.buf.extend_from_slice(chunk);
        let mut start = 0;
        while let Some(offset) = self.buf[start..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
        {
            let end = start + offset;
            let line = String::from_utf8_lossy(&self.buf[start..end]).into_owned();
            // `\r\n` is one line end.
            let mut next = end + 1;
            if self.buf[end] == b'\r' {
                if next == self.buf.len() {
                    // The `\n` may be in the next chunk; decide then.
                    break;
                }
                if self.buf[next] == b'\n' {
                    next += 1;
                }
            }
            start = next;
            self.line(&line, out);
        }
        self.buf.drain(..start);
    }

    fn line(&mut self, line: &str, out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            if let Some(data) = self.data.take() {
                out.push(SseEvent {
                    event: self.event.take().unwrap_or_else(|| "message".to_owned()),
                    data,
                });
            }
            self.event = None;
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    fn decode(chunks: &[&[u8]]) -> Vec<(String, String)> {
        let mut decoder = SseDecoder::default();
        let mut out = Vec::new();
        for chunk in chunks {
            decoder.feed(chunk, &mut out);
        }
        out.into_iter().map(|e| (e.event, e.data)).collect()
    }

    #[test]
    fn events_split_across_chunks_and_line_endings() {
        assert_eq!(
            decode(&[
                b"event: a\ndata: {\"x\"",
                b":1}\n\n: comment\r",
                b"\ndata: b1\r\ndata: b2\r\n\r\n"
            ]),
            [
                ("a".to_owned(), "{\"x\":1}".to_owned()),
                ("message".to_owned(), "b1\nb2".to_owned()),
            ]
        );
    }

    #[test]
    fn an_unfinished_event_is_not_dispatched() {
        assert_eq!(decode(&[b"data: partial\n"]), []);
        assert_eq!(decode(&[b"event: x\n\n"]), []);
    }
}
