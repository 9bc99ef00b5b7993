//! Decoder for the framed stream that a batch script writes to its stdout.
//!
//! Every command's output goes to files first; the script then writes one header line and
//! exactly the announced number of bytes:
//!
//! ```text
//! <nonce> <id> <status> <stdout-len> <stdout-sent> <stderr-len> <stderr-sent> <start> <end>\n
//! <stdout-sent bytes of stdout><stderr-sent bytes of stderr>
//! ```
//!
//! Because the decoder takes payloads by length, output that contains newlines, binary data or
//! text that looks like a header cannot end a record early or fake one. A random nonce, new for
//! every suite, opens every header, so stray bytes that reach stdout outside a record are detected.
//! `<status>` is an exit status, `T` for a command killed after its timeout or `W` for a working
//! directory that could not be entered. `<start>` and `<end>` are `/proc/uptime` readings in
//! seconds with two decimals (`0` where `/proc` is missing). The stream ends with `<nonce> end`;
//! `<nonce> fatal` means the script could not set itself up and reported why on stderr.

use std::time::Duration;

use crate::facts::RawOutput;
use crate::report::model::CommandOutput;

/// Maximum header line length in bytes. Real headers are under 120 bytes.
const MAX_HEADER: usize = 512;

/// A decoded unit of the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    Record { id: usize, output: RawOutput },
    End,
    Fatal,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FramingError {
    #[error("malformed record header at byte {offset}: {header:?}")]
    BadHeader { offset: u64, header: String },
    #[error("the stream ended inside a record at byte {offset}")]
    Truncated { offset: u64 },
}

#[derive(Debug)]
struct Header {
    id: usize,
    status: Status,
    stdout_len: u64,
    stdout_sent: usize,
    stderr_len: u64,
    stderr_sent: usize,
    duration: Duration,
}

#[derive(Debug)]
enum Status {
    Exited(i64),
    TimedOut,
    WorkdirFailed,
}

/// Incremental decoder: feed it chunks as the exec streams them.
#[derive(Debug)]
pub struct Decoder {
    nonce: String,
    buffer: Vec<u8>,
    /// Stream offset of `buffer[0]`, for error messages.
    offset: u64,
    pending: Option<Header>,
}

impl Decoder {
    pub fn new(nonce: &str) -> Self {
        Decoder { nonce: nonce.to_owned(), buffer: Vec::new(), offset: 0, pending: None }
    }

    /// Appends `data` and returns every frame that is now complete.
    pub fn push(&mut self, data: &[u8]) -> Result<Vec<Frame>, FramingError> {
        self.buffer.extend_from_slice(data);
        let mut frames = Vec::new();
        let mut consumed = 0;
        loop {
            let available = &self.buffer[consumed..];
            if let Some(header) = &self.pending {
                let total = header.stdout_sent + header.stderr_sent;
                if available.len() < total {
                    break;
                }
                let header = self.pending.take().expect("pending header checked above");
                frames.push(record(header, available));
                consumed += total;
                continue;
            }
            let Some(newline) = available.iter().position(|&byte| byte == b'\n') else {
                if available.len() > MAX_HEADER {
                    return Err(self.bad_header(consumed, available));
                }
                break;
            };
            let line = &available[..newline];
            let header_offset = consumed;
            consumed += newline + 1;
            match self.parse_header(line) {
                Some(HeaderLine::Record(header)) => self.pending = Some(header),
                Some(HeaderLine::End) => frames.push(Frame::End),
                Some(HeaderLine::Fatal) => frames.push(Frame::Fatal),
                None => return Err(self.bad_header(header_offset, line)),
            }
        }
        self.buffer.drain(..consumed);
        self.offset += consumed as u64;
        Ok(frames)
    }

    /// Checks that the stream did not stop inside a record.
    pub fn finish(&self) -> Result<(), FramingError> {
        if self.pending.is_some() || !self.buffer.is_empty() {
            return Err(FramingError::Truncated { offset: self.offset });
        }
        Ok(())
    }

    fn bad_header(&self, position: usize, bytes: &[u8]) -> FramingError {
        let shown = &bytes[..bytes.len().min(MAX_HEADER)];
        FramingError::BadHeader {
            offset: self.offset + position as u64,
            header: String::from_utf8_lossy(shown).into_owned(),
        }
    }

    fn parse_header(&self, line: &[u8]) -> Option<HeaderLine> {
        let line = std::str::from_utf8(line).ok()?;
        let mut fields = line.split(' ');
        if fields.next()? != self.nonce {
            return None;
        }
        let id = fields.next()?;
        match id {
            "end" => return Some(HeaderLine::End),
            "fatal" => return Some(HeaderLine::Fatal),
            _ => {}
        }
        let id = id.parse().ok()?;
        let status = match fields.next()? {
            "T" => Status::TimedOut,
            "W" => Status::WorkdirFailed,
            code => Status::Exited(code.parse().ok()?),
        };
        let stdout_len = fields.next()?.parse().ok()?;
        let stdout_sent: usize = fields.next()?.parse().ok()?;
        let stderr_len = fields.next()?.parse().ok()?;
        let stderr_sent: usize = fields.next()?.parse().ok()?;
        let start = centiseconds(fields.next()?)?;
        let end = centiseconds(fields.next()?)?;
        if fields.next().is_some() || stdout_sent as u64 > stdout_len || stderr_sent as u64 > stderr_len {
            return None;
        }
        let duration = Duration::from_millis(end.saturating_sub(start) * 10);
        Some(HeaderLine::Record(Header { id, status, stdout_len, stdout_sent, stderr_len, stderr_sent, duration }))
    }
}

enum HeaderLine {
    Record(Header),
    End,
    Fatal,
}

fn record(header: Header, payload: &[u8]) -> Frame {
    let stdout = payload[..header.stdout_sent].to_vec();
    let stderr = payload[header.stdout_sent..header.stdout_sent + header.stderr_sent].to_vec();
    let (exit_status, timed_out, workdir_failed) = match header.status {
        Status::Exited(code) => (Some(code), false, false),
        Status::TimedOut => (None, true, false),
        Status::WorkdirFailed => (None, false, true),
    };
    let output = CommandOutput {
        exit_status,
        stdout,
        stderr,
        stdout_len: header.stdout_len,
        stderr_len: header.stderr_len,
        timed_out,
    };
    Frame::Record { id: header.id, output: RawOutput { output, duration: header.duration, workdir_failed } }
}

/// Reads a `/proc/uptime` value such as `12345.67` as centiseconds.
fn centiseconds(text: &str) -> Option<u64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let whole: u64 = whole.parse().ok()?;
    let fraction: u64 = match fraction.len() {
        1 => fraction.parse::<u64>().ok()? * 10,
        2 => fraction.parse().ok()?,
        _ => return None,
    };
    Some(whole * 100 + fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE: &str = "n0nce";

    fn decode_all(stream: &[u8]) -> Vec<Frame> {
        let mut decoder = Decoder::new(NONCE);
        let frames = decoder.push(stream).unwrap();
        decoder.finish().unwrap();
        frames
    }

    fn record_bytes(id: usize, status: &str, stdout: &[u8], stderr: &[u8]) -> Vec<u8> {
        let mut bytes = format!(
            "{NONCE} {id} {status} {} {} {} {} 100.00 100.25\n",
            stdout.len(),
            stdout.len(),
            stderr.len(),
            stderr.len()
        )
        .into_bytes();
        bytes.extend_from_slice(stdout);
        bytes.extend_from_slice(stderr);
        bytes
    }

    fn output_of(frame: &Frame) -> &RawOutput {
        match frame {
            Frame::Record { output, .. } => output,
            other => panic!("expected a record, got {other:?}"),
        }
    }

    #[test]
    fn decodes_records_and_end() {
        let mut stream = record_bytes(0, "0", b"hello\n", b"");
        stream.extend(record_bytes(1, "3", b"", b"oops\n"));
        stream.extend(format!("{NONCE} end\n").into_bytes());
        let frames = decode_all(&stream);
        assert_eq!(frames.len(), 3);
        assert_eq!(output_of(&frames[0]).output.stdout, b"hello\n");
        assert_eq!(output_of(&frames[0]).duration, Duration::from_millis(250));
        assert_eq!(output_of(&frames[1]).output.exit_status, Some(3));
        assert_eq!(output_of(&frames[1]).output.stderr, b"oops\n");
        assert_eq!(frames[2], Frame::End);
    }

    #[test]
    fn output_that_mimics_headers_stays_payload() {
        let forged = format!("{NONCE} end\n{NONCE} 7 0 0 0 0 0 1.00 2.00\n");
        let mut stream = record_bytes(0, "0", forged.as_bytes(), b"");
        stream.extend(format!("{NONCE} end\n").into_bytes());
        let frames = decode_all(&stream);
        assert_eq!(frames.len(), 2);
        assert_eq!(output_of(&frames[0]).output.stdout, forged.as_bytes());
    }

    #[test]
    fn binary_crlf_and_missing_newline_survive() {
        let stdout = b"\x00\xff\xfeline\r\nlast";
        let frames = decode_all(&record_bytes(4, "0", stdout, b"\r"));
        assert_eq!(output_of(&frames[0]).output.stdout, stdout);
        assert_eq!(output_of(&frames[0]).output.stderr, b"\r");
    }

    #[test]
    fn byte_at_a_time_gives_same_frames() {
        let mut stream = record_bytes(0, "0", b"a\nb", b"c");
        stream.extend(record_bytes(1, "T", b"", b""));
        let mut decoder = Decoder::new(NONCE);
        let mut frames = Vec::new();
        for byte in &stream {
            frames.extend(decoder.push(std::slice::from_ref(byte)).unwrap());
        }
        decoder.finish().unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!(output_of(&frames[0]).output.stdout, b"a\nb");
        assert!(output_of(&frames[1]).output.timed_out);
        assert_eq!(output_of(&frames[1]).output.exit_status, None);
    }

    #[test]
    fn capped_output_keeps_full_length() {
        let stream = format!("{NONCE} 2 0 5000 3 0 0 1.5 2.0\nabc").into_bytes();
        let frames = decode_all(&stream);
        let output = &output_of(&frames[0]).output;
        assert_eq!(output.stdout, b"abc");
        assert_eq!(output.stdout_len, 5000);
        assert!(output.stdout_truncated());
        assert_eq!(output_of(&frames[0]).duration, Duration::from_millis(500));
    }

    #[test]
    fn workdir_status_and_fatal() {
        let mut stream = record_bytes(3, "W", b"", b"cd: /nope: No such file\n");
        stream.extend(format!("{NONCE} fatal\n").into_bytes());
        let frames = decode_all(&stream);
        assert!(output_of(&frames[0]).workdir_failed);
        assert_eq!(frames[1], Frame::Fatal);
    }

    #[test]
    fn wrong_nonce_is_rejected() {
        let mut decoder = Decoder::new(NONCE);
        let error = decoder.push(b"other 0 0 0 0 0 0 1 1\n").unwrap_err();
        assert!(matches!(error, FramingError::BadHeader { offset: 0, .. }));
    }

    #[test]
    fn stray_output_is_rejected() {
        let mut decoder = Decoder::new(NONCE);
        assert!(decoder.push(b"stray text\n").is_err());
        let mut decoder = Decoder::new(NONCE);
        assert!(decoder.push(&[b'x'; MAX_HEADER + 1]).is_err());
    }

    #[test]
    fn stream_cut_inside_record_is_truncated() {
        let mut decoder = Decoder::new(NONCE);
        decoder.push(format!("{NONCE} 0 0 10 10 0 0 1.00 1.00\nabc").as_bytes()).unwrap();
        assert!(matches!(decoder.finish(), Err(FramingError::Truncated { .. })));
    }

    #[test]
    fn sent_larger_than_length_is_rejected() {
        let mut decoder = Decoder::new(NONCE);
        assert!(decoder.push(format!("{NONCE} 0 0 1 2 0 0 1.00 1.00\n").as_bytes()).is_err());
    }
}
