//! State: the directory tables (issue 14). Every SQL statement lives in state/.
