//! TEMPORARY stub: replaced by the host walker (branch wt-rwhosts).

use crate::db::StorageNumber;
use crate::exporting::format::{Batch as Export, FormatOptions};
use crate::rrd::Hosts;

pub fn write_batch(
    _rw: &mut super::Batch,
    _hosts: &Hosts,
    _batch: &Export<'_>,
    _options: &FormatOptions,
    _raw: &mut Vec<(i64, StorageNumber)>,
) -> usize {
    0
}
