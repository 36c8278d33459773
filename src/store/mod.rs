//! The report store: the only module with SQL (SQLite and PostgreSQL).
