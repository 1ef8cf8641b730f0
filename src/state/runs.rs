//! State: the runs tables (issue 14). Every SQL statement lives in state/.
