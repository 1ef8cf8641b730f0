//! State: the unknown tables (issue 14). Every SQL statement lives in state/.
