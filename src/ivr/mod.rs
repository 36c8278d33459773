//! Dialplans as data and their sans-IO interpreter: collect digits, validate, confirm, branch.
