//! Whole calls through call::Session on a manual clock.
