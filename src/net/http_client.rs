//! A small blocking HTTP/1.1 client (placeholder, filled below).
