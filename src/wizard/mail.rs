//! The mail wizard (issue 14).
