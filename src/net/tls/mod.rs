//! TLS (rustls with the ring provider) for both directions: [`client_config`] for `:SSL`
//! destinations (streaming to a parent, exporting) and [`server_config`] for the web
//! server's `^SSL=` listeners. The connections themselves run inside
//! [`crate::net::Transport`].

mod client;
mod server;

pub use client::{client_config, describe_failure, server_name, ClientConfig, TlsSettings, CERTIFICATE_HINT};
pub use rustls::ServerConfig;
pub use server::server_config;
