//! Exporting.

pub mod remote_write;
