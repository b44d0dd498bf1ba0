//! Safe wrappers over the operating system (threads, and the libc calls).

pub mod thread;
