//! The mail engine (issue 14).
