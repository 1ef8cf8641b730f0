//! Compose: typed items to bytes for the groupware side (the RFC 822
//! notices of M10/M11). The opposite direction of [`crate::parse`].
