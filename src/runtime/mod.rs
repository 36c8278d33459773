//! The I/O shell: sockets, tokio tasks, timers and shutdown.
