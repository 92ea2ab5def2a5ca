//! Exit codes, as Docker uses them.

/// coracle itself failed (bad flags, setup error).
pub const EXIT_CORACLE: i32 = 125;
/// The command was found but could not be executed.
pub const EXIT_CANNOT_EXEC: i32 = 126;
/// The command was not found.
pub const EXIT_NOT_FOUND: i32 = 127;

/// An error that carries the exit status coracle should end with.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ExitError {
    pub code: i32,
    pub message: String,
}

impl ExitError {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}
