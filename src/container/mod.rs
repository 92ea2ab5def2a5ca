//! Container state on disk.
