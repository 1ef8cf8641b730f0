//! The last stage: what a run tells people (tables) and scripts (JSON), and
//! the exit code it ends with.

pub mod output;
