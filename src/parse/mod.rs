//! Bytes to typed items: directory files (CSV, vCard) for `crm import`.
//! Mail and iCalendar parsing join here as their commands arrive.

#[doc(hidden)]
pub mod ical;
pub mod mail;
pub mod records;
pub mod vcard;
