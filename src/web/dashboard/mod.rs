//! The dashboard: one self-contained page (HTML, CSS and canvas code, no CDN) embedded in
//! the binary, gzip-compressed at build time by `build.rs`.

use crate::web::http::{Response, Status};

/// `index.html`, gzip-compressed.
static PAGE_GZ: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/dashboard.html.gz"));

/// A small SVG icon.
pub static FAVICON: &[u8] = b"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'><rect width='16' height='16' rx='3' fill='#1c6e4c'/><path d='M2 11l3-4 3 3 3-6 3 5' stroke='#fff' stroke-width='1.6' fill='none'/></svg>";

/// The page; the server sends it compressed or inflates it for clients without gzip.
pub fn page() -> Response {
    let mut r = Response::new(Status::Ok, "text/html; charset=utf-8", PAGE_GZ);
    r.gzipped = true;
    r
}

/// Size of the compressed page (reported by tests and the README).
pub fn compressed_size() -> usize {
    PAGE_GZ.len()
}
