//! Staff HTTP API, staff page and metrics.
