//! The vocabulary every stage shares (issue 14): the types a planner
//! produces and the state file, the CRM back ends and the reports consume.
//! Nothing here does I/O, and this module imports no other stage.
