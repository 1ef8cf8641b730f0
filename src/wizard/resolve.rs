//! The resolve wizard (issue 14).
