//! The resolve engine (issue 14).
