//! State: the items tables (issue 14). Every SQL statement lives in state/.
