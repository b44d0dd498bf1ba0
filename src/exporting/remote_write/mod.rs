//! Prometheus remote write (placeholder in this branch; the remote-write branch brings it).
