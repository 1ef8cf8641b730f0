//! State: the activities tables (issue 14). Every SQL statement lives in state/.
