//! A static file on its way to a client, in pieces: the event loop asks for the next piece
//! when the previous one has left, so a file costs one piece of memory
//! ([`PIECE`] bytes) however large it is, and a turn of the loop reads and compresses at
//! most one piece per connection before it serves the others.
//!
//! Plain: exactly the `Content-Length` announced (the size when the file was opened); a
//! file that shrinks meanwhile ends the connection (the client sees a short body, never a
//! wrong one). gzip: `Transfer-Encoding: chunked`, one chunk per piece, the pieces
//! compressed one after the other by the loop's one [`gzip::Pieces`] compressor.

use std::fs::File;
use std::io::{self, Read};

use crate::web::gzip;

/// Bytes of file read per piece.
pub const PIECE: usize = 64 * 1024;

/// An opened file to send.
#[derive(Debug)]
pub struct FileBody {
    file: File,
    /// The size announced (at open).
    size: u64,
    /// Bytes of the file read so far.
    read: u64,
    compressible: bool,
    /// `Some(crc of what was read)` when sent gzip-compressed.
    gzip: Option<u32>,
    done: bool,
}

/// What the loop lends every [`FileBody::fill`]: the compressor and two reusable buffers.
pub struct Workspace {
    pieces: gzip::Pieces,
    input: Vec<u8>,
    output: Vec<u8>,
}

impl Workspace {
    /// Compresses at `level` (1–9); allocates nothing until used.
    pub fn new(level: u8) -> Workspace {
        Workspace { pieces: gzip::Pieces::new(level), input: Vec::new(), output: Vec::new() }
    }
}

impl FileBody {
    pub(super) fn new(file: File, size: u64, compressible: bool) -> FileBody {
        FileBody { file, size, read: 0, compressible, gzip: None, done: false }
    }

    /// The size of the file when it was opened.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Whether gzip makes it smaller (text, scripts, SVG; not PNG or WOFF2).
    pub fn compressible(&self) -> bool {
        self.compressible
    }

    /// Send it gzip-compressed in chunks (before the first [`FileBody::fill`]).
    pub fn use_gzip(&mut self) {
        self.gzip = Some(0);
    }

    /// Whether everything was appended.
    pub fn done(&self) -> bool {
        self.done
    }

    /// Appends the next piece of the body to `out` (chunk-framed and compressed when gzip
    /// is on) and returns how many bytes it appended. An error (the file shrank, a read
    /// failed) means the body cannot be completed: the caller closes the connection.
    pub fn fill(&mut self, out: &mut Vec<u8>, ws: &mut Workspace) -> io::Result<usize> {
        if self.done {
            return Ok(0);
        }
        let want = (self.size - self.read).min(PIECE as u64) as usize;
        let Some(crc) = self.gzip else {
            let start = out.len();
            out.resize(start + want, 0);
            let got = read_full(&mut self.file, &mut out[start..]);
            out.truncate(start + got.as_ref().map_or(0, |&n| n));
            let got = got?;
            self.read += got as u64;
            if got < want {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the file shrank while it was sent",
                ));
            }
            self.done = self.read == self.size;
            return Ok(got);
        };
        ws.input.resize(want, 0);
        let got = read_full(&mut self.file, &mut ws.input)?;
        if got < want {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the file shrank while it was sent"));
        }
        let first = self.read == 0;
        self.read += got as u64;
        let last = self.read == self.size;
        let crc = gzip::crc32_update(crc, &ws.input[..got]);
        self.gzip = Some(crc);
        ws.output.clear();
        if first {
            ws.output.extend_from_slice(&gzip::HEADER);
        }
        ws.pieces.piece(&ws.input[..got], last, &mut ws.output);
        if last {
            ws.output.extend_from_slice(&crc.to_le_bytes());
            // ISIZE is the size modulo 2^32 (RFC 1952).
            ws.output.extend_from_slice(&((self.size & 0xffff_ffff) as u32).to_le_bytes());
        }
        let start = out.len();
        if !ws.output.is_empty() {
            out.extend_from_slice(format!("{:x}\r\n", ws.output.len()).as_bytes());
            out.extend_from_slice(&ws.output);
            out.extend_from_slice(b"\r\n");
        }
        if last {
            out.extend_from_slice(b"0\r\n\r\n");
            self.done = true;
        }
        if ws.input.capacity() > PIECE {
            ws.input.shrink_to(PIECE);
        }
        Ok(out.len() - start)
    }
}

/// Reads until `buf` is full or the file ends; the count read.
fn read_full(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
