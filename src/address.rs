//! Address normalisation: how an e-mail address or a domain is compared
//! (lower-cased, trimmed) everywhere crmsync matches, stores or reports one.
//! This module imports no other stage.
