//! Configuration: TOML → validated [`Config`].
