//! The calendar engine (issue 14).
