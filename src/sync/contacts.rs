//! The contacts engine (issue 14).
