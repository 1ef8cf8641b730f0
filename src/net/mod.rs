//! Network plumbing shared by every back end: TLS settings (X11) and the
//! HTTP client used for CalDAV, CardDAV and REST.

pub mod http;
pub mod tls;
