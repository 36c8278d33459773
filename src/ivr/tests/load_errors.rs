//! The dialplan checker on the shipped dialplans and on broken fixtures.
