//! U3 as a pure planner (issue 14).
