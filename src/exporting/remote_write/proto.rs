//! The protobuf encoding of Prometheus remote write 1.0's `WriteRequest`, written by hand
//! into one reusable buffer (no protobuf crate: the router build stays small).
//!
//! ```text
//! WriteRequest { repeated TimeSeries timeseries = 1; }
//! TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
//! Label        { string name = 1; string value = 2; }
//! Sample       { double value = 1; int64 timestamp = 2; }
//! ```
//!
//! [`WriteRequestBuilder`] keeps what the spec asks of a label set: sorted by name (byte
//! order), no repeated names (the first one given wins), no empty names or values; and of a
//! series' samples: in timestamp order (a sample not later than the one before it is left out
//! and counted). Like any proto3 encoder it leaves out fields holding their default (a value
//! of +0.0, a timestamp of 0). A series' length is back-patched when it ends, so once the
//! buffers have grown to a batch's size nothing is allocated.

/// The value Prometheus stores as a staleness marker (a NaN no computation produces).
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The staleness marker as a sample value.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// Field 1, length-delimited (`WriteRequest.timeseries`, `TimeSeries.labels`, `Label.name`).
const TAG_1_LEN: u8 = 0x0a;
/// Field 2, length-delimited (`TimeSeries.samples`, `Label.value`).
const TAG_2_LEN: u8 = 0x12;
/// Field 1, fixed 64 bits (`Sample.value`).
const TAG_1_FIXED64: u8 = 0x09;
/// Field 2, varint (`Sample.timestamp`).
const TAG_2_VARINT: u8 = 0x10;

/// Builds one `WriteRequest`, series by series. Reuse it: [`clear`](Self::clear) keeps the
/// buffers.
#[derive(Default)]
pub struct WriteRequestBuilder {
    buf: Vec<u8>,
    /// Where the open series' body starts (after its tag), if one is open.
    open: Option<usize>,
    /// Samples in the open series, and the last one's timestamp.
    open_samples: usize,
    last_ts: i64,
    /// Label indices, sorted (reused).
    order: Vec<u32>,
    series: usize,
    samples: usize,
    out_of_order: usize,
}

impl WriteRequestBuilder {
    pub fn new() -> WriteRequestBuilder {
        WriteRequestBuilder::default()
    }

    /// Starts a series with these labels, in any order: they are sorted by name, and labels
    /// with an empty name or value, or a name given before, are left out. The samples that
    /// follow belong to it; a series that gets none is not sent.
    pub fn series(&mut self, labels: &[(&str, &str)]) -> &mut Self {
        self.close();
        self.order.clear();
        self.order.extend((0..labels.len() as u32).filter(|&i| {
            let (n, v) = labels[i as usize];
            !n.is_empty() && !v.is_empty()
        }));
        // Insertion sort, stable (the first of equal names stays first): label sets are
        // short, and the standard library's sorts would add kilobytes to the router build.
        for k in 1..self.order.len() {
            let mut j = k;
            while j > 0 && labels[self.order[j - 1] as usize].0 > labels[self.order[j] as usize].0 {
                self.order.swap(j - 1, j);
                j -= 1;
            }
        }
        self.order.dedup_by(|later, first| labels[*later as usize].0 == labels[*first as usize].0);
        self.buf.push(TAG_1_LEN);
        self.open = Some(self.buf.len());
        self.open_samples = 0;
        for &i in &self.order {
            let (name, value) = labels[i as usize];
            let body = field_len(name.len()) + field_len(value.len());
            self.buf.push(TAG_1_LEN);
            varint(&mut self.buf, body as u64);
            self.buf.push(TAG_1_LEN);
            varint(&mut self.buf, name.len() as u64);
            self.buf.extend_from_slice(name.as_bytes());
            self.buf.push(TAG_2_LEN);
            varint(&mut self.buf, value.len() as u64);
            self.buf.extend_from_slice(value.as_bytes());
        }
        self
    }

    /// Adds a sample (`ts_ms`: milliseconds since the epoch) to the open series. Without an
    /// open series, or when `ts_ms` is not later than the series' previous sample, the sample
    /// is left out and counted in [`out_of_order`](Self::out_of_order).
    pub fn sample(&mut self, value: f64, ts_ms: i64) -> &mut Self {
        if self.open.is_none() || (self.open_samples > 0 && ts_ms <= self.last_ts) {
            self.out_of_order += 1;
            return self;
        }
        let bits = value.to_bits();
        let mut body = 0;
        if bits != 0 {
            body += 9;
        }
        if ts_ms != 0 {
            body += 1 + varint_len(ts_ms as u64);
        }
        self.buf.push(TAG_2_LEN);
        self.buf.push(body as u8); // at most 20 bytes: a one-byte varint
        if bits != 0 {
            self.buf.push(TAG_1_FIXED64);
            self.buf.extend_from_slice(&bits.to_le_bytes());
        }
        if ts_ms != 0 {
            self.buf.push(TAG_2_VARINT);
            varint(&mut self.buf, ts_ms as u64);
        }
        self.open_samples += 1;
        self.last_ts = ts_ms;
        self
    }

    /// Ends the open series and gives the encoded `WriteRequest` (empty when no series got a
    /// sample). More series may follow; the bytes then grow.
    pub fn finish(&mut self) -> &[u8] {
        self.close();
        &self.buf
    }

    /// Forgets everything, keeping the buffers.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.open = None;
        self.open_samples = 0;
        self.series = 0;
        self.samples = 0;
        self.out_of_order = 0;
    }

    /// Series with at least one sample (the open one included).
    pub fn series_count(&self) -> usize {
        self.series + usize::from(self.open_samples > 0 && self.open.is_some())
    }

    /// Samples added (the open series' included).
    pub fn sample_count(&self) -> usize {
        self.samples + if self.open.is_some() { self.open_samples } else { 0 }
    }

    /// Samples left out because they came without a series or out of timestamp order.
    pub fn out_of_order(&self) -> usize {
        self.out_of_order
    }

    /// Bytes encoded so far (the open series' length prefix not yet counted).
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Writes the open series' length in front of its body (moving the body up by the
    /// varint's size), or drops the series when it has no sample.
    fn close(&mut self) {
        let Some(start) = self.open.take() else { return };
        if self.open_samples == 0 {
            self.buf.truncate(start - 1);
            return;
        }
        let len = self.buf.len() - start;
        let mut prefix = [0u8; 10];
        let n = varint_into(&mut prefix, len as u64);
        let end = self.buf.len();
        self.buf.extend_from_slice(&prefix[..n]);
        self.buf.copy_within(start..end, start + n);
        self.buf[start..start + n].copy_from_slice(&prefix[..n]);
        self.series += 1;
        self.samples += self.open_samples;
        self.open_samples = 0;
    }
}

/// The size of a length-delimited field holding `len` bytes: tag, length, bytes.
fn field_len(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

/// Bytes the varint of `v` takes.
pub(crate) fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// Appends the base-128 varint of `v`.
pub(crate) fn varint(out: &mut Vec<u8>, v: u64) {
    let mut b = [0u8; 10];
    let n = varint_into(&mut b, v);
    out.extend_from_slice(&b[..n]);
}

fn varint_into(b: &mut [u8; 10], mut v: u64) -> usize {
    let mut n = 0;
    while v >= 0x80 {
        b[n] = (v as u8) | 0x80;
        v >>= 7;
        n += 1;
    }
    b[n] = v as u8;
    n + 1
}

#[cfg(test)]
mod tests;
