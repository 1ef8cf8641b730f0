//! The CRM side. Its directory (users, companies, persons) lives in the
//! state file: for the embedded back end (B1) those tables are the CRM; a
//! REST back end (B2) refreshes them as its cache, so matching and listing
//! read the same tables for both.

pub mod activities;
pub mod activity;
pub mod calendar;
pub mod directory;
pub mod remote;
pub mod rest;

use serde::Serialize;

/// A company as `crm import`/`crm export` see it (SPEC 8 layout).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Company {
    /// The caller's id (kept as external id).
    pub id: String,
    pub name: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub domains: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rep: Option<String>,
    pub sales_groups: Vec<String>,
}

/// A person as `crm import`/`crm export` see it (SPEC 8 layout).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Person {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    /// The first is primary.
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    /// External id of the company.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rep: Option<String>,
    pub sales_groups: Vec<String>,
    pub favorite_of: Vec<String>,
}

impl Person {
    /// "First Last", or the primary address when there is no name.
    pub fn display_name(&self) -> String {
        let n = format!("{} {}", self.first_name, self.last_name);
        let n = n.trim();
        if n.is_empty() {
            self.emails.first().cloned().unwrap_or_default()
        } else {
            n.to_string()
        }
    }
}

/// The allowed company kinds (SPEC 1).
pub const COMPANY_KINDS: &[&str] = &["customer", "lead", "partner", "other"];
