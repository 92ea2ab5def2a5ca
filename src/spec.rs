//! The resolved plan of one container.
