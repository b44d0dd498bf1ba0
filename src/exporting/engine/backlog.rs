//! The batches of one instance that are made and not yet accepted by the backend.
//!
//! A batch stays here from the moment it is made until the backend accepted it (HTTP 2xx;
//! for TCP connectors, written and flushed) or refused it for good (another 4xx). While the
//! backend is away the backlog holds at most `buffer on failures` batches (at least one):
//! when a new batch finds it full, the **oldest** is dropped and counted as lost, as in
//! Netdata. Batches that wait are kept LZ4-compressed ([`Backlog::compact`]) unless their
//! format is compressed already (remote write is snappy), so a backlog of line formats costs
//! a fraction of its text.
//!
//! On a clean stop the backlog can be written to a spool file and read back by the next
//! start ([`Backlog::save`], [`Backlog::load`]), with the time of the last export, so a
//! restart of the node during an outage loses nothing and the next start exports from where
//! this one stopped. The file is bounded ([`MAX_SPOOL_BYTES`]), every record is checked
//! (length, checksum, the decompressed size), and a file that was made for another
//! connector type or is damaged is set aside with a log line: bad bytes from the disk end
//! only that file.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::path::Path;

/// One batch: its bytes as they go on the wire (or LZ4 of them).
pub struct Entry {
    data: Vec<u8>,
    /// `data` is LZ4 (block, size not prepended) of `raw_len` bytes.
    compressed: bool,
    raw_len: usize,
    /// Dimension samples in the batch.
    pub metrics: usize,
    /// When the batch was made (seconds since the epoch).
    pub made: i64,
}

impl Entry {
    /// An entry of the batch in `data`. Its growth room is kept: a batch delivered at once
    /// gives its buffer back for the next one ([`Entry::into_buffer`]); one that waits is
    /// shrunk or compressed by [`Backlog::compact`].
    pub fn new(data: Vec<u8>, metrics: usize, made: i64) -> Entry {
        let raw_len = data.len();
        Entry { data, compressed: false, raw_len, metrics, made }
    }

    /// The entry's buffer, to write the next batch into (its pages are in memory already:
    /// a fresh buffer of a large batch costs a page fault per 4 KiB); `None` when compressed.
    pub fn into_buffer(self) -> Option<Vec<u8>> {
        (!self.compressed).then_some(self.data)
    }

    /// The bytes that go on the wire.
    pub fn len(&self) -> usize {
        self.raw_len
    }

    pub fn is_empty(&self) -> bool {
        self.raw_len == 0
    }

    /// The wire bytes: the entry's own, or decompressed into `scratch`.
    pub fn bytes<'a>(&'a self, scratch: &'a mut Vec<u8>) -> io::Result<&'a [u8]> {
        if !self.compressed {
            return Ok(&self.data);
        }
        scratch.clear();
        scratch.resize(self.raw_len, 0);
        let n = lz4_flex::block::decompress_into(&self.data, scratch)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("backlog entry: {e}")))?;
        if n != self.raw_len {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "backlog entry: short"));
        }
        Ok(&scratch[..n])
    }

    /// The wire bytes in their buffer, when not compressed (for [`super::deliver::Delivery::send_owned`],
    /// which may exchange the buffer for another: the entry is then removed).
    pub fn buffer_mut(&mut self) -> Option<&mut Vec<u8>> {
        (!self.compressed).then_some(&mut self.data)
    }

    /// Memory the entry holds.
    fn held(&self) -> usize {
        self.data.capacity()
    }
}

/// The batches waiting for the backend, oldest first.
pub struct Backlog {
    entries: VecDeque<Entry>,
    capacity: usize,
    /// Compress waiting entries (not for formats that are compressed already).
    compress: bool,
}

/// What [`Backlog::push`] dropped to make room.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    pub batches: usize,
    pub metrics: usize,
    pub bytes: usize,
}

/// The most a spool file may be; a larger one is not read.
pub const MAX_SPOOL_BYTES: u64 = 256 << 20;
/// The most one batch may be once decompressed from the spool.
const MAX_ENTRY_BYTES: usize = 1 << 30;
const MAGIC: &[u8; 8] = b"NDXSPL1\n";

impl Backlog {
    /// `buffer_on_failures` batches at most (0 is taken as 1: the batch being delivered).
    pub fn new(buffer_on_failures: u32, compress: bool) -> Backlog {
        let capacity = (buffer_on_failures as usize).max(1);
        Backlog { entries: VecDeque::new(), capacity, compress }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn front(&self) -> Option<&Entry> {
        self.entries.front()
    }

    pub fn front_mut(&mut self) -> Option<&mut Entry> {
        self.entries.front_mut()
    }

    /// Removes the oldest batch (delivered, or refused for good).
    pub fn pop(&mut self) -> Option<Entry> {
        self.entries.pop_front()
    }

    /// Adds a new batch; when full, the oldest go first.
    pub fn push(&mut self, entry: Entry) -> Dropped {
        let mut dropped = Dropped::default();
        while self.entries.len() >= self.capacity {
            let Some(old) = self.entries.pop_front() else { break };
            dropped.batches += 1;
            dropped.metrics += old.metrics;
            dropped.bytes += old.raw_len;
        }
        self.entries.push_back(entry);
        dropped
    }

    /// Compresses the entries that wait (every one but the oldest, which is retried first),
    /// when this backlog compresses, and drops the growth room of those left uncompressed:
    /// what waits holds its bytes. Called after a failed delivery.
    pub fn compact(&mut self) {
        for e in self.entries.iter_mut().skip(1).filter(|e| !e.compressed) {
            if self.compress && !e.data.is_empty() {
                let packed = lz4_flex::block::compress(&e.data);
                if packed.len() < e.data.len() {
                    e.data = packed;
                    e.compressed = true;
                    continue;
                }
            }
            e.data.shrink_to_fit();
        }
    }

    /// Metrics waiting.
    pub fn metrics(&self) -> usize {
        self.entries.iter().map(|e| e.metrics).sum()
    }

    /// Wire bytes waiting.
    pub fn bytes(&self) -> usize {
        self.entries.iter().map(|e| e.raw_len).sum()
    }

    /// Memory the waiting batches hold.
    pub fn held(&self) -> usize {
        self.entries.iter().map(Entry::held).sum()
    }

    /// Writes the backlog and `last_export` (seconds) to `path`, through a temporary file
    /// renamed over it, tagged with `kind` (the connector type and data source, so another
    /// configuration does not send it). Returns the batches written.
    pub fn save(&self, path: &Path, kind: &str, last_export: i64) -> io::Result<usize> {
        let tmp = path.with_extension("tmp");
        let mut out = io::BufWriter::new(std::fs::File::create(&tmp)?);
        out.write_all(MAGIC)?;
        write_field(&mut out, kind.as_bytes())?;
        out.write_all(&last_export.to_le_bytes())?;
        let mut written = MAGIC.len() as u64;
        let mut kept = 0;
        // The newest batches are the ones worth keeping when the file must stop short.
        let skip = self.entries.len() - self.spooled_count();
        for e in self.entries.iter().skip(skip) {
            let mut head = [0u8; 25];
            head[0] = u8::from(e.compressed);
            head[1..9].copy_from_slice(&(e.raw_len as u64).to_le_bytes());
            head[9..17].copy_from_slice(&(e.metrics as u64).to_le_bytes());
            head[17..25].copy_from_slice(&e.made.to_le_bytes());
            out.write_all(&head)?;
            write_field(&mut out, &e.data)?;
            written += 25 + 8 + e.data.len() as u64;
            kept += 1;
        }
        debug_assert!(written <= MAX_SPOOL_BYTES + 64 * 1024);
        out.into_inner().map_err(io::IntoInnerError::into_error)?.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(kept)
    }

    /// How many of the newest entries fit in a spool file.
    fn spooled_count(&self) -> usize {
        let mut total = MAGIC.len() as u64 + 1024;
        let mut n = 0;
        for e in self.entries.iter().rev() {
            total += 33 + e.data.len() as u64;
            if total > MAX_SPOOL_BYTES {
                break;
            }
            n += 1;
        }
        n
    }

    /// Reads a spool file written by [`Backlog::save`] for the same `kind` into this
    /// backlog (oldest dropped if it holds more than the capacity), then removes it.
    /// Returns the batches read and the time of the last export (`None`: no file). A damaged
    /// file or one for another kind is removed and reported as an error (what was read
    /// before the damage is kept).
    pub fn load(&mut self, path: &Path, kind: &str) -> io::Result<(usize, Option<i64>)> {
        let bad = |why: String| io::Error::new(io::ErrorKind::InvalidData, why);
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((0, None)),
            Err(e) => return Err(e),
        };
        if meta.len() > MAX_SPOOL_BYTES + 64 * 1024 {
            let _ = std::fs::remove_file(path);
            return Err(bad(format!("{} bytes, more than a spool file may be", meta.len())));
        }
        let data = std::fs::read(path)?;
        let _ = std::fs::remove_file(path);
        let spool = parse(&data, kind);
        let n = spool.entries.len();
        for e in spool.entries {
            self.push(e);
        }
        spool.result.map(|()| (n, spool.last_export)).map_err(bad)
    }
}

fn write_field(out: &mut impl Write, data: &[u8]) -> io::Result<()> {
    out.write_all(&(data.len() as u64).to_le_bytes())?;
    out.write_all(data)
}

/// What a spool file holds.
pub struct Spool {
    pub entries: Vec<Entry>,
    pub last_export: Option<i64>,
    /// Why reading stopped early, if it did.
    pub result: Result<(), String>,
}

/// Reads a spool file's bytes.
pub fn parse(data: &[u8], kind: &str) -> Spool {
    let mut entries = Vec::new();
    let mut last_export = None;
    let mut r = Reader { data, pos: 0 };
    let result = (|| {
        if r.take(MAGIC.len())? != MAGIC {
            return Err("not a spool file".to_string());
        }
        let written_for = r.field()?;
        if written_for != kind.as_bytes() {
            return Err(format!(
                "written for '{}', not for '{kind}'",
                String::from_utf8_lossy(&written_for[..written_for.len().min(200)])
            ));
        }
        let mut t = [0u8; 8];
        t.copy_from_slice(r.take(8)?);
        last_export = Some(i64::from_le_bytes(t));
        while r.pos < data.len() {
            let head = r.take(25)?;
            let compressed = match head[0] {
                0 => false,
                1 => true,
                b => return Err(format!("bad record flag {b}")),
            };
            let u64_at = |i: usize| {
                let mut b = [0u8; 8];
                b.copy_from_slice(&head[i..i + 8]);
                u64::from_le_bytes(b)
            };
            let raw_len = usize::try_from(u64_at(1)).unwrap_or(usize::MAX);
            let metrics = usize::try_from(u64_at(9)).unwrap_or(usize::MAX);
            let made = u64_at(17) as i64;
            let body = r.field()?;
            if raw_len > MAX_ENTRY_BYTES || (!compressed && raw_len != body.len()) {
                return Err(format!("record of {raw_len} bytes does not match its {} bytes", body.len()));
            }
            if compressed {
                // Checked now, so a damaged record is never sent.
                let mut out = vec![0u8; raw_len];
                match lz4_flex::block::decompress_into(body, &mut out) {
                    Ok(n) if n == raw_len => {}
                    _ => return Err("a compressed record does not decompress".to_string()),
                }
            }
            entries.push(Entry { data: body.to_vec(), compressed, raw_len, metrics, made });
        }
        Ok(())
    })();
    Spool { entries, last_export, result }
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len()).ok_or("truncated")?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn field(&mut self) -> Result<&'a [u8], String> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        let n = usize::try_from(u64::from_le_bytes(b)).map_err(|_| "field too long")?;
        self.take(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(text: &str, metrics: usize) -> Entry {
        Entry::new(text.as_bytes().to_vec(), metrics, 1_700_000_000)
    }

    fn text(e: &Entry) -> String {
        let mut scratch = Vec::new();
        String::from_utf8(e.bytes(&mut scratch).unwrap().to_vec()).unwrap()
    }

    #[test]
    fn a_full_backlog_drops_the_oldest_and_says_what() {
        let mut b = Backlog::new(2, false);
        assert_eq!(b.push(entry("a", 1)), Dropped::default());
        assert_eq!(b.push(entry("bb", 2)), Dropped::default());
        assert_eq!(b.push(entry("ccc", 3)), Dropped { batches: 1, metrics: 1, bytes: 1 });
        assert_eq!((b.len(), b.metrics(), b.bytes()), (2, 5, 5));
        assert_eq!(text(b.front().unwrap()), "bb");
        // Zero is one: the batch being delivered.
        let mut one = Backlog::new(0, false);
        one.push(entry("x", 1));
        assert_eq!(one.push(entry("y", 1)).batches, 1);
        assert_eq!(text(&one.pop().unwrap()), "y");
    }

    #[test]
    fn waiting_entries_are_compressed_and_come_back_whole() {
        let line = "netdata.host.system.cpu.user 1.0000000 1700000000\n".repeat(200);
        let mut b = Backlog::new(10, true);
        for _ in 0..3 {
            b.push(Entry::new(line.clone().into_bytes(), 200, 0));
        }
        let before = b.held();
        b.compact();
        // The oldest stays as it is (it is retried first), the two behind it shrink.
        assert!(b.held() < before * 2 / 5, "{} of {before}", b.held());
        assert_eq!(b.bytes(), 3 * line.len(), "wire bytes are counted uncompressed");
        while let Some(e) = b.pop() {
            assert_eq!(text(&e), line);
        }
        // A backlog of a compressed format leaves its entries alone.
        let mut rw = Backlog::new(10, false);
        rw.push(Entry::new(line.clone().into_bytes(), 1, 0));
        rw.push(Entry::new(line.clone().into_bytes(), 1, 0));
        rw.compact();
        assert!(rw.held() >= 2 * line.len());
    }

    #[test]
    fn the_spool_round_trips_and_refuses_other_kinds_and_damage() {
        let dir = std::env::temp_dir().join(format!("nanodata-spool-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("g.spool");
        let mut b = Backlog::new(10, true);
        let long = "put netdata.system.cpu.user 1700000000 1 host=a\n".repeat(50);
        b.push(entry("first\n", 1));
        b.push(Entry::new(long.clone().into_bytes(), 50, 5));
        b.push(entry("third\n", 3));
        b.compact();
        assert_eq!(b.save(&path, "opentsdb average", 1_700_000_010).unwrap(), 3);

        let mut other = Backlog::new(10, true);
        let e = other.load(&path, "graphite average").unwrap_err();
        assert!(e.to_string().contains("written for 'opentsdb average'"), "{e}");
        assert!(!path.exists(), "a refused file is set aside");
        assert_eq!(other.load(&path, "graphite average").unwrap(), (0, None), "no file, nothing");

        b.save(&path, "opentsdb average", 1_700_000_010).unwrap();
        let mut again = Backlog::new(2, true);
        assert_eq!(again.load(&path, "opentsdb average").unwrap(), (3, Some(1_700_000_010)));
        assert_eq!(again.len(), 2, "the capacity still holds, oldest dropped");
        assert_eq!(text(again.front().unwrap()), long);
        assert_eq!(again.front().unwrap().made, 5);
        assert!(!path.exists(), "read once");

        // Every truncation ends the file cleanly, with the whole records before it.
        b.save(&path, "k", 7).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        for cut in 0..bytes.len() {
            assert!(parse(&bytes[..cut], "k").entries.len() < 3, "cut at {cut}");
        }
        assert_eq!(parse(&bytes[..bytes.len() - 1], "k").result, Err("truncated".to_string()));
        let whole = parse(&bytes, "k");
        assert_eq!((whole.entries.len(), whole.last_export, whole.result), (3, Some(7), Ok(())));
        // An empty backlog still keeps the time of the last export.
        Backlog::new(1, false).save(&path, "k", 9).unwrap();
        assert_eq!(Backlog::new(1, false).load(&path, "k").unwrap(), (0, Some(9)));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
