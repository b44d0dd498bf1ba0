//! Process-level chores of the daemon: the machine GUID file, the pid file, signal handling
//! for the main thread, directories, the hostname, going to the background and dropping root.
//!
//! Each is a small function over the OS (its C calls are in `crate::sys`) so `main` stays a
//! list of steps.

pub mod daemonize;
pub mod dirs;
pub mod groups;
pub mod guid;
pub mod pidfile;
pub mod signals;
pub mod sysinfo;
pub mod user;

pub use daemonize::daemonize;
pub use dirs::{ensure_dir, hostname};
pub use pidfile::PidFile;
pub use signals::Signal;
